"""manage.py load_bank: idempotent, updates what changed, refuses bad files whole."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from studyapp.bankfile import BankFileError
from studyapp.models import Area
from studyapp.services import bank_load

pytestmark = pytest.mark.django_db



def test_loads_every_area_of_the_catalog():
    report = bank_load()
    assert report.created["area"] == 16
    assert list(Area.objects.values_list("code", flat=True)) == [
        "FND", "PROP", "ACT", "LOSS", "MATH", "REG", "OPT", "LR",
        "NORM", "INIT", "CNN", "RNN", "GEN", "GRAD", "PRAC", "MISC",
    ]
    cnn = Area.objects.get(slug="cnn")
    assert cnn.name_zh == "卷积神经网络" and cnn.name_en == "Convolutional networks"


def test_second_load_changes_nothing():
    bank_load()
    before = list(Area.objects.values())
    report = bank_load()
    assert not report.changed
    assert report.unchanged["area"] == 16
    assert list(Area.objects.values()) == before


def test_changed_content_is_updated(bank_dir):
    bank_load(bank_dir=bank_dir)
    path = bank_dir / "areas.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("激活函数", "激活函数（新）", 1),
                    encoding="utf-8")
    report = bank_load(bank_dir=bank_dir)
    assert report.updated == {"area": 1} and report.unchanged["area"] == 15
    assert Area.objects.get(slug="act").name_zh == "激活函数（新）"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("slug: cnn", "slug: fnd"), "area 'fnd': duplicate slug"),
        (lambda t: t.replace("code: RNN", "code: XYZ"), "area 'rnn': 'code' must be the upper-case slug"),
        (lambda t: t.replace("name: {zh-hans: 激活函数,", "name: {zh-hans: '',"),
         "area 'act': field 'name.zh-hans' is empty"),
        (lambda t: t + "\n  - [not, a, mapping]\n", r"areas\[16\]: each area must be a mapping"),
        (lambda t: t.replace("areas:", "areas: [", 1), "not valid YAML"),
    ],
)
def test_malformed_file_is_named_and_nothing_is_written(bank_dir, edit, message):
    bank_load(bank_dir=bank_dir)
    before = list(Area.objects.values())
    path = bank_dir / "areas.yaml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(BankFileError, match=message) as excinfo:
        bank_load(bank_dir=bank_dir)
    assert str(excinfo.value).startswith("areas.yaml: ")
    assert list(Area.objects.values()) == before


def test_command_reports_counts_and_is_idempotent():
    out = StringIO()
    call_command("load_bank", stdout=out)
    assert "16 areas" in out.getvalue().splitlines()[0]
    out = StringIO()
    call_command("load_bank", stdout=out)
    assert "bank already up to date" in out.getvalue()


def test_command_error_names_the_file(bank_dir):
    (bank_dir / "areas.yaml").write_text("areas: 3\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nothing changed: areas.yaml: file: expected a mapping"):
        call_command("load_bank", "--dir", str(bank_dir))
    assert Area.objects.count() == 0


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="areas.yaml: file: cannot be read"):
        call_command("load_bank", "--dir", str(tmp_path / "nowhere"))
