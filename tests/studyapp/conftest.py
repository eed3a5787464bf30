import shutil
from pathlib import Path

import pytest

from studyapp.services import DEFAULT_BANK_DIR


@pytest.fixture
def bank_dir(tmp_path) -> Path:
    """A small copy of the real bank (the areas and one area's questions), free to edit."""
    target = tmp_path / "bank"
    target.mkdir()
    for name in ("areas.yaml", "prop.yaml"):
        shutil.copy(DEFAULT_BANK_DIR / name, target / name)
    return target
