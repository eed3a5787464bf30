"""Anki export: the .apkg is imported into a real collection with the official ``anki`` package."""

import re
from html import escape

import genanki
import pytest

from studyapp.anki import anki_package, markdown_to_anki_html
from studyapp.models import Question
from studyapp.services import bank_load

pytestmark = pytest.mark.django_db

DECK = "DL interview::Propagation"


@pytest.fixture
def anki_collection():
    """Import ``anki`` lazily: only the tests that open a collection are skipped without it."""
    pytest.importorskip("anki")
    from anki.collection import (
        Collection,
        ImportAnkiPackageOptions,
        ImportAnkiPackageRequest,
    )

    opened = []

    def open_collection(path):
        col = Collection(str(path))
        opened.append(col)
        return col

    def import_package(col, apkg_path):
        request = ImportAnkiPackageRequest(
            package_path=str(apkg_path),
            options=ImportAnkiPackageOptions(with_scheduling=False, merge_notetypes=True),
        )
        return col.import_anki_package(request)

    yield open_collection, import_package
    for col in opened:
        col.close()


@pytest.fixture
def loaded(bank_dir):
    bank_load(bank_dir=bank_dir)
    return Question.objects.published()


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _notes(col):
    return [col.get_note(nid) for nid in col.find_notes("")]


def test_export_imports_as_one_note_per_question(tmp_path, loaded, anki_collection):
    open_collection, import_package = anki_collection
    apkg = _write(tmp_path, "en.apkg", anki_package(loaded, deck_name=DECK, language="en"))
    col = open_collection(tmp_path / "collection.anki2")
    import_package(col, apkg)

    notes = _notes(col)
    assert len(notes) == loaded.count() > 0
    assert col.decks.by_name(DECK) is not None
    assert {n.guid for n in notes} == {genanki.guid_for(q.slug, "en") for q in loaded}

    by_code = {n["Code"]: n for n in notes}
    for question in loaded.select_related("area", "current").prefetch_related("tags"):
        note = by_code[question.code]
        assert escape(question.current.title_en, quote=False) in note["Front"]
        assert question.area.slug in note.tags
        assert {t.slug for t in question.tags.all()} <= set(note.tags)
        assert note["Back"] and note["Source"]

    fields = [f for n in notes for f in n.fields]
    assert any("\\(" in f and "\\)" in f for f in fields)
    assert not any("$" in f for f in fields)


def test_chinese_and_english_exports_differ(tmp_path, loaded, anki_collection):
    open_collection, import_package = anki_collection
    exported = {}
    for language in ("zh-hans", "en"):
        apkg = _write(tmp_path, f"{language}.apkg",
                      anki_package(loaded, deck_name=DECK, language=language))
        col = open_collection(tmp_path / f"{language}.anki2")
        import_package(col, apkg)
        exported[language] = {n["Code"]: (n["Front"], n["Back"], n.guid) for n in _notes(col)}
    assert exported["zh-hans"].keys() == exported["en"].keys()
    for code, (front, back, guid) in exported["zh-hans"].items():
        en_front, en_back, en_guid = exported["en"][code]
        assert front != en_front and back != en_back and guid != en_guid
        assert re.search(r"[\u4e00-\u9fff]", front + back)


def test_reexport_updates_the_same_notes(tmp_path, loaded, anki_collection):
    open_collection, import_package = anki_collection
    col = open_collection(tmp_path / "collection.anki2")
    for name in ("a.apkg", "b.apkg"):
        data = anki_package(loaded, deck_name=DECK, language="en")
        import_package(col, _write(tmp_path, name, data))
    assert col.note_count() == loaded.count()
    names = [nt.name for nt in col.models.all_names_and_ids()]
    assert names.count("DL interview question") == 1


def test_language_is_checked(loaded):
    with pytest.raises(ValueError):
        anki_package(loaded, deck_name=DECK, language="fr")


def test_math_conversion_keeps_tex_verbatim():
    html = markdown_to_anki_html(
        "Sum $a_{ij} * b_{ij}$ over *rows* and $x_1 < y_2$; not math: \\$5 and `$c$`.\n"
        "\n"
        "$$\n"
        "\\sum_{i} w_i * x_i \\quad \\text{with } \\_\n"
        "$$\n"
        "\n"
        "Inline display $$\\frac{a_1}{b_2}$$ too."
    )
    assert "\\(a_{ij} * b_{ij}\\)" in html
    assert "\\(x_1 &lt; y_2\\)" in html
    assert "<em>rows</em>" in html
    assert html.count("<em>") == 1  # the math's underscores and asterisks made no emphasis
    assert "\\[\\sum_{i} w_i * x_i \\quad \\text{with } \\_\\]" in html
    assert "\\[\\frac{a_1}{b_2}\\]" in html
    assert "not math: $5" in html  # the escaped dollar stays a literal dollar
    assert "<code>$c$</code>" in html  # code is not math
    assert "math-inline" not in html
