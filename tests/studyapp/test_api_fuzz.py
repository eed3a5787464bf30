"""Property-based fuzzing of the REST API from its own OpenAPI schema (schemathesis): whatever
the generated input, no endpoint answers with a server error."""

import pytest
import schemathesis
from django.contrib.auth.models import User
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from studyapp.services import bank_load
from studyapp.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def token(bank_dir, transactional_db):
    bank_load(bank_dir=bank_dir)
    user = User.objects.create_user("fuzz", password="pw-fuzz-12345")
    return Token.objects.create(user=user).key


@schema.parametrize()
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_input_makes_the_api_fail(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=[not_a_server_error])
