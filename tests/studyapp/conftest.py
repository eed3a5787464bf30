"""Fixtures shared by the app's tests."""

import pytest
from django.contrib.auth.models import User

from studyapp.services import bank_load


@pytest.fixture
def bank(bank_dir):
    """The small bank (areas and the back-propagation questions) loaded into the database."""
    bank_load(bank_dir=bank_dir)


@pytest.fixture
def ada(db):
    return User.objects.create_user("ada", password="pw-ada-12345")
