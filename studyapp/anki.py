"""Export of the question bank as an Anki flashcard deck (``.apkg``).

One note per question: the front is the title and the prompt, the back the
answer, in one language. Markdown is rendered by the site's own renderer
(``studyapp.markdown``), so an Anki card shows the same HTML as the website.

Math: the renderer does not typeset math; it leaves the raw TeX (HTML-escaped)
in ``<span class="math-inline">`` (from ``$...$``), ``<span class="math-display">``
(from ``$$...$$`` inside a paragraph) and ``<div class="math-display">`` (from a
``$$...$$`` block). Because the dollar-math plugin tokenises math *before*
emphasis and escapes are applied, underscores, asterisks and backslashes inside
math come out untouched. This module then swaps the delimiters for Anki's MathJax
syntax: inline math becomes ``\\( ... \\)`` and display math ``\\[ ... \\]``. A
dollar sign escaped in the Markdown as ``\\$`` stays a literal ``$`` (Anki's
MathJax does not treat ``$`` as a delimiter). The TeX stays HTML-escaped
(``x &lt; y``), which is what an Anki field holds: MathJax reads the text.

Ids are stable: the note type's id and the deck's id are hashes of fixed
strings, and a note's GUID is a hash of the question slug and the language, so
importing a newer export updates the same notes (and keeps their review history)
instead of adding duplicates. The Chinese and English notes of one question are
separate notes.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import re
import sqlite3
import time
import zipfile
from collections.abc import Iterable
from html import escape

import genanki

from studyapp.markdown import render_uncached
from studyapp.models import Question

LANGUAGES = ("zh-hans", "en")

_ID_NAMESPACE = "dl-interview-study:anki"

_MATH_INLINE = re.compile(r'<span class="math-inline">(.*?)</span>', re.DOTALL)
_MATH_DISPLAY_INLINE = re.compile(r'<span class="math-display">(.*?)</span>', re.DOTALL)
_MATH_BLOCK = re.compile(r'<div class="math-display">(.*?)</div>', re.DOTALL)

_CSS = """\
.card { font-family: -apple-system, "Segoe UI", "Noto Sans SC", "PingFang SC", sans-serif;
        font-size: 18px; line-height: 1.5; text-align: left; color: #222; background: #fff; }
.nightMode .card, .card.nightMode { color: #ddd; background: #222; }
.code { font-size: 12px; color: #888; }
.title { font-weight: bold; font-size: 20px; margin-bottom: .5em; }
.source { margin-top: 1.5em; font-size: 12px; color: #888; }
table { border-collapse: collapse; } th, td { border: 1px solid #999; padding: .2em .5em; }
pre { overflow-x: auto; }
"""


def _stable_id(text: str) -> int:
    """An id in [2**30, 2**31) from ``text``: the range genanki suggests, and the same on
    every export."""
    n = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    return (1 << 30) + n % (1 << 30)


MODEL_ID = _stable_id(f"{_ID_NAMESPACE}:model:v1")

MODEL = genanki.Model(
    MODEL_ID,
    "DL interview question",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Code"}, {"name": "Source"}],
    templates=[{
        "name": "Card 1",
        "qfmt": '<div class="code">{{Code}}</div>\n{{Front}}',
        "afmt": '{{FrontSide}}\n<hr id="answer">\n{{Back}}\n'
                '{{#Source}}<div class="source">{{Source}}</div>{{/Source}}',
    }],
    css=_CSS,
)


def deck_id(deck_name: str) -> int:
    """The deck's id: fixed for a given deck name, so re-exports land in the same deck."""
    return _stable_id(f"{_ID_NAMESPACE}:deck:{deck_name}")


def markdown_to_anki_html(text: str) -> str:
    """Bank Markdown to HTML for an Anki field, with math in MathJax delimiters.

    ``$...$`` becomes ``\\(...\\)``; ``$$...$$`` becomes ``\\[...\\]`` (a display
    block keeps its ``<div>``). The math itself is passed through verbatim
    (HTML-escaped), never touched by Markdown emphasis or escapes.
    """
    html = render_uncached(text)
    html = _MATH_BLOCK.sub(lambda m: f'<div class="math-display">\\[{m[1].strip()}\\]</div>', html)
    html = _MATH_DISPLAY_INLINE.sub(lambda m: f"\\[{m[1]}\\]", html)
    html = _MATH_INLINE.sub(lambda m: f"\\({m[1]}\\)", html)
    return html


def _sources_text(sources) -> str:
    lines = []
    for source in sources or []:
        if isinstance(source, dict):
            line = " ".join(str(source[k]) for k in ("seed", "section") if source.get(k))
        else:
            line = str(source)
        if line:
            lines.append(escape(line, quote=False))
    return "<br>".join(lines)


def _tag(text: str) -> str:
    return re.sub(r"\s+", "_", text.strip())


def _note(question: Question, language: str) -> genanki.Note:
    version = question.current
    title = escape(version.text("title", language), quote=False)
    front = f'<div class="title">{title}</div>\n{markdown_to_anki_html(version.text("prompt", language))}'
    back = markdown_to_anki_html(version.text("answer", language))
    tags = [_tag(question.area.slug)] + [_tag(t.slug) for t in question.tags.all()]
    if question.importance:
        tags.append(f"importance::{question.importance}")
    return genanki.Note(
        model=MODEL,
        fields=[front, back, escape(question.code, quote=False), _sources_text(version.sources)],
        tags=tags,
        guid=genanki.guid_for(question.slug, language),
    )


def _package_bytes(package: genanki.Package) -> bytes:
    """The ``.apkg`` as bytes, built without files on disk.

    ``Package.write_to_file`` accepts a file object but builds the collection in a
    ``tempfile.mkstemp`` file it never deletes; here the collection is an in-memory
    SQLite database, serialised into the zip with the same layout (no media).
    """
    timestamp = time.time()
    conn = sqlite3.connect(":memory:")
    try:
        package.write_to_db(conn.cursor(), timestamp, itertools.count(int(timestamp * 1000)))
        conn.commit()
        collection = conn.serialize()
    finally:
        conn.close()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as apkg:
        apkg.writestr("collection.anki2", collection)
        apkg.writestr("media", json.dumps({}))
    return buffer.getvalue()


def anki_package(questions: Iterable[Question], *, deck_name: str, language: str) -> bytes:
    """An Anki package (``.apkg`` bytes) with one note per question, in ``language``.

    ``questions``: a Question queryset (or iterable); questions without a published
    version are left out. ``language``: ``"zh-hans"`` or ``"en"``. Front = title and
    prompt, Back = answer, Code = the question code (PROP-03), Source = the sources;
    tags = the area slug, the question's tag slugs and ``importance::N`` when marked.
    Math is converted to MathJax delimiters (see ``markdown_to_anki_html``).
    Reads only; writes nothing to the database.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    if hasattr(questions, "select_related"):
        questions = questions.select_related("area", "current").prefetch_related("tags")
    deck = genanki.Deck(deck_id(deck_name), deck_name)
    for question in questions:
        if question.current is not None:
            deck.add_note(_note(question, language))
    return _package_bytes(genanki.Package(deck))
