"""Grading: read what a candidate typed and compare it with the stored answer.

Pure functions, no database, shared by quizzes and flashcards.

A numeric answer is read from text: numbers in decimal or scientific notation
(``1.5e-3``, ``1.5×10^-3``), fractions (``3/8``), lists (``0.1, 0.2, 0.7`` or
``[0.1, 0.2, 0.7]``) and matrices (``[[1, 2], [3, 4]]`` or rows separated by
``;``). Full-width punctuation and the Unicode minus are accepted. Text that
cannot be read raises :class:`AnswerFormatError` with the reason: it is never
marked wrong.

Reals agree element-wise when ``|given - expected| <= atol + rtol * |expected|``
(defaults ``rtol = 1e-2``, ``atol = 1e-8``); integers and shapes must be exact.
A wrong number that matches what a named engine misconception produces is
reported with that misconception.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext as _

DEFAULT_RTOL = 1e-2
DEFAULT_ATOL = 1e-8
MAX_NUMBERS = 1000
MAX_TEXT = 20_000


class AnswerFormatError(ValueError):
    """The text is not a readable answer (the message says why)."""


class Status:
    CORRECT = "correct"
    INCORRECT = "incorrect"
    UNANSWERED = "unanswered"
    UNREADABLE = "unreadable"
    PENDING = "pending"  # self-graded, not yet marked


@dataclass
class Grade:
    """The outcome of grading one answer. ``score`` is None while it awaits a self-grade."""

    status: str
    score: float | None
    message: str = ""
    misconception: dict[str, str] | None = None
    given: Any = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "score": self.score, "message": self.message,
                "misconception": self.misconception, "given": self.given, **self.details}


# -- reading numbers ----------------------------------------------------------------------

_TRANSLATE = str.maketrans({
    "，": ",", "；": ";", "（": "(", "）": ")", "【": "[", "】": "]", "［": "[", "］": "]",
    "−": "-", "–": "-", "－": "-", "＋": "+", "／": "/", "．": ".", "　": " ", "\u00a0": " ",
    "(": "[", ")": "]",
})
_POWER_OF_TEN = re.compile(r"\s*[×x*·]\s*10\s*(?:\^|\*\*)\s*\{?\s*([+-]?\d+)\s*\}?", re.IGNORECASE)
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_TOKEN = re.compile(
    rf"\s*(?:(?P<num>{_NUMBER}(?:\s*/\s*{_NUMBER})?)(?=[\s\[\],;]|$)|(?P<punct>[\[\],;]))")


def _number(text: str) -> float:
    """One number token: ``2``, ``-1.5e-3`` or a fraction ``3/8``."""
    top, slash, bottom = text.partition("/")
    value = float(top)
    if slash:
        denominator = float(bottom)
        if denominator == 0:
            raise AnswerFormatError(_("“%(text)s” divides by zero.") % {"text": text.strip()})
        value = float(Fraction(top.strip()) / Fraction(bottom.strip()))
    if not math.isfinite(value):
        raise AnswerFormatError(_("“%(text)s” is too large.") % {"text": text.strip()})
    return value


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            bad = text[pos:].strip().split()[0][:20]
            raise AnswerFormatError(_("“%(text)s” is not a number. Write numbers like 0.25, 1/4 or 2.5e-3.") % {"text": bad})
        kind = "num" if match.group("num") else match.group("punct")
        out.append((kind, match.group("num") or match.group("punct")))
        pos = match.end()
    return out


def _nested(tokens: list[tuple[str, str]]) -> Any:
    """A bracketed value: ``[a, b]``, ``[[a, b], [c, d]]`` (commas optional)."""
    pos = 0

    def value() -> Any:
        nonlocal pos
        if pos >= len(tokens):
            raise AnswerFormatError(_("The answer ends too early: a closing bracket is missing."))
        kind, text = tokens[pos]
        pos += 1
        if kind == "num":
            return _number(text)
        if kind != "[":
            raise AnswerFormatError(_("Unexpected “%(text)s”.") % {"text": text})
        items = []
        while pos < len(tokens) and tokens[pos][0] != "]":
            if tokens[pos][0] in ",;":
                pos += 1
                continue
            items.append(value())
        if pos >= len(tokens):
            raise AnswerFormatError(_("A closing bracket “]” is missing."))
        pos += 1
        return items

    result = value()
    if pos != len(tokens):
        raise AnswerFormatError(_("Unexpected “%(text)s” after the closing bracket.") % {"text": tokens[pos][1]})
    return result


def read_numbers(text: str) -> Any:
    """The number or nested list of numbers written in ``text``.

    Raises AnswerFormatError naming the problem; an empty text is an error too
    (callers treat blank as unanswered before calling this).
    """
    if len(text) > MAX_TEXT:
        raise AnswerFormatError(_("The answer is too long (%(n)d characters).") % {"n": len(text)})
    text = _POWER_OF_TEN.sub(r"e\1", text.translate(_TRANSLATE)).strip()
    if not text:
        raise AnswerFormatError(_("The answer is empty."))
    tokens = _tokens(text)
    if sum(kind == "num" for kind, _ in tokens) > MAX_NUMBERS:
        raise AnswerFormatError(_("The answer has more than %(n)d numbers.") % {"n": MAX_NUMBERS})
    if tokens[0][0] == "[":
        value = _nested(tokens)
    else:
        if any(kind in "[]" for kind, _ in tokens):
            raise AnswerFormatError(_("Brackets must enclose the whole answer."))
        rows = [[]]
        for kind, tok in tokens:
            if kind == ";":
                rows.append([])
            elif kind == "num":
                rows[-1].append(_number(tok))
        rows = [r for r in rows if r]
        if len(rows) > 1:
            if len({len(r) for r in rows}) != 1:
                raise AnswerFormatError(_("Every row of a matrix needs the same number of entries."))
            value = rows
        else:
            value = rows[0] if len(rows[0]) != 1 else rows[0][0]
    return value


def shape_of(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        return ()
    if not value:
        return (0,)
    inner = {shape_of(v) for v in value}
    if len(inner) != 1:
        raise AnswerFormatError(_("The rows have different lengths."))
    return (len(value), *inner.pop())


def _flatten(value: Any) -> list[float]:
    return [x for v in value for x in _flatten(v)] if isinstance(value, list) else [value]


def _reshape(flat: list[float], shape: tuple[int, ...]) -> Any:
    if not shape:
        return flat[0]
    step = len(flat) // shape[0]
    return [_reshape(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def describe_shape(shape: tuple[int, ...]) -> str:
    if not shape:
        return _("one number")
    if len(shape) == 1:
        return _("%(n)d numbers") % {"n": shape[0]}
    return _("%(n)d numbers (a %(shape)s array)") % {"n": math.prod(shape),
                                                     "shape": "×".join(map(str, shape))}


def read_answer(text: str, expected: Any) -> Any:
    """``text`` read as a value shaped like ``expected``.

    Numbers may be written flat for a matrix (row-major) or with brackets; a
    different count of numbers is a format error, not a wrong answer.
    """
    value = read_numbers(text)
    want, got = shape_of(expected), shape_of(value)
    if got == want:
        return value
    flat = _flatten(value)
    if len(flat) != math.prod(want):
        raise AnswerFormatError(_("Expected %(shape)s, got %(n)d.") % {"shape": describe_shape(want), "n": len(flat)})
    return _reshape(flat, want)


# -- grading -------------------------------------------------------------------------------

def tolerance_band(expected: Any, *, rtol: float, atol: float, exact_match: bool) -> list[list[float]]:
    """``[low, high]`` per element: the answers accepted for each expected number."""
    if exact_match:
        return [[x, x] for x in _flatten(expected)]
    return [[x - (atol + rtol * abs(x)), x + (atol + rtol * abs(x))] for x in _flatten(expected)]


def grade_numeric(text: str, expected: Any, *, rtol: float | None = None, atol: float | None = None,
                  exact_match: bool = False, misconceptions: list[dict[str, Any]] = ()) -> Grade:
    """Grade typed ``text`` against ``expected``; name the misconception a wrong answer matches.

    ``misconceptions`` are ``{"key", "label", "label_zh", "value"}`` with ``value`` the
    asked answer that mistake produces.
    """
    from engine.compare import compare, exact  # the engine's one comparison rule (imports torch)

    rtol = DEFAULT_RTOL if rtol is None else rtol
    atol = DEFAULT_ATOL if atol is None else atol
    if not text.strip():
        return Grade(Status.UNANSWERED, 0.0)
    try:
        given = read_answer(text, expected)
    except AnswerFormatError as exc:
        return Grade(Status.UNREADABLE, 0.0, message=str(exc))

    def agrees(value: Any, reference: Any) -> bool:
        if exact_match:
            return exact(value, reference)
        return compare(value, reference, rtol=rtol, atol=atol)[1]

    if agrees(given, expected):
        return Grade(Status.CORRECT, 1.0, given=given)
    for m in misconceptions:
        try:
            if agrees(given, m["value"]) and not agrees(m["value"], expected):
                return Grade(Status.INCORRECT, 0.0, given=given,
                             misconception={k: m[k] for k in ("key", "label", "label_zh")})
        except (ValueError, TypeError):
            continue  # a misconception of another shape cannot match
    return Grade(Status.INCORRECT, 0.0, given=given)


def read_choices(text: str, *, options: int, single: bool) -> list[int]:
    """Selected option indices from ``"0"`` or ``"0,2"``; AnswerFormatError when invalid."""
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    try:
        picked = sorted({int(p) for p in parts})
    except ValueError:
        raise AnswerFormatError(_("Choose one of the options.")) from None
    if any(not 0 <= p < options for p in picked):
        raise AnswerFormatError(_("Choose one of the options shown."))
    if single and len(picked) > 1:
        raise AnswerFormatError(_("Choose exactly one option."))
    return picked


def grade_choice(text: str, correct: list[int], *, options: int, single: bool) -> Grade:
    """All-or-nothing: the selected set must equal the set of correct options."""
    if not text.strip():
        return Grade(Status.UNANSWERED, 0.0)
    try:
        picked = read_choices(text, options=options, single=single)
    except AnswerFormatError as exc:
        return Grade(Status.UNREADABLE, 0.0, message=str(exc))
    ok = picked == sorted(correct)
    return Grade(Status.CORRECT if ok else Status.INCORRECT, 1.0 if ok else 0.0, given=picked)


def grade_self(text: str, self_grade: bool | None) -> Grade:
    """A free-text answer the candidate marks right or wrong after seeing the model answer."""
    if self_grade is None:
        return Grade(Status.PENDING, None) if text.strip() else Grade(Status.UNANSWERED, 0.0)
    return Grade(Status.CORRECT if self_grade else Status.INCORRECT, 1.0 if self_grade else 0.0)
