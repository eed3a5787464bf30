"""Read and validate the question-bank files in ``fixtures/bank/``.

Parsing is separate from loading: every file is read and checked as a whole
before anything touches the database, so a malformed file is rejected with
its name and the bad entry, and nothing is half-loaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LANGS = ("zh-hans", "en")
AREAS_FILE = "areas.yaml"


class BankFileError(ValueError):
    """A bank file is malformed; the message names the file, the entry and the field."""

    def __init__(self, path: Path | str, entry: str, message: str) -> None:
        self.path = Path(path)
        self.entry = entry
        super().__init__(f"{self.path.name}: {entry}: {message}")


@dataclass(frozen=True)
class AreaEntry:
    slug: str
    code: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    position: int


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise BankFileError(path, "file", f"not valid YAML ({exc})") from exc
    except OSError as exc:
        raise BankFileError(path, "file", f"cannot be read ({exc.strerror})") from exc


def _bilingual(path: Path, entry: str, raw: dict, field: str, *, required: bool) -> dict[str, str]:
    value = raw.get(field, {} if not required else None)
    if value is None:
        raise BankFileError(path, entry, f"missing field '{field}'")
    if not isinstance(value, dict):
        raise BankFileError(path, entry, f"field '{field}' must map languages {LANGS} to text")
    out = {}
    for lang in LANGS:
        text = value.get(lang, "")
        if not isinstance(text, str):
            raise BankFileError(path, entry, f"field '{field}.{lang}' must be text")
        if required and not text.strip():
            raise BankFileError(path, entry, f"field '{field}.{lang}' is empty")
        out[lang] = text.strip()
    unknown = set(value) - set(LANGS)
    if unknown:
        raise BankFileError(path, entry, f"field '{field}' has unknown languages {sorted(unknown)}")
    return out


def read_areas(bank_dir: Path) -> list[AreaEntry]:
    """Parse ``areas.yaml``; raise :class:`BankFileError` on the first problem."""
    path = bank_dir / AREAS_FILE
    data = _read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("areas"), list):
        raise BankFileError(path, "file", "expected a mapping with a list under 'areas'")
    return _parse_areas(path, data["areas"])


def _parse_areas(path: Path, raw_areas: list) -> list[AreaEntry]:
    entries: list[AreaEntry] = []
    seen: set[str] = set()
    for position, raw in enumerate(raw_areas):
        entry = f"areas[{position}]"
        if not isinstance(raw, dict):
            raise BankFileError(path, entry, "each area must be a mapping")
        slug, code = raw.get("slug"), raw.get("code")
        if not isinstance(slug, str) or not slug.isascii() or not slug.islower() or not slug:
            raise BankFileError(path, entry, f"'slug' must be lower-case ASCII, got {slug!r}")
        entry = f"area '{slug}'"
        if slug in seen:
            raise BankFileError(path, entry, "duplicate slug")
        seen.add(slug)
        if not isinstance(code, str) or code.lower() != slug:
            raise BankFileError(path, entry, f"'code' must be the upper-case slug, got {code!r}")
        name = _bilingual(path, entry, raw, "name", required=True)
        description = _bilingual(path, entry, raw, "description", required=False)
        entries.append(
            AreaEntry(
                slug=slug,
                code=code,
                name_zh=name["zh-hans"],
                name_en=name["en"],
                description_zh=description["zh-hans"],
                description_en=description["en"],
                position=position,
            )
        )
    return entries


# -- questions -------------------------------------------------------------------

ITEM_TYPES = ("numeric", "single_choice", "multiple_choice", "self_graded")
AUTO_GRADED = ("numeric", "single_choice", "multiple_choice")
QUESTION_KEYS = {"slug", "area", "importance", "difficulty", "tags", "sources", "title", "prompt",
                 "answer", "items", "claims"}
ITEM_KEYS = {"type", "prompt", "kind", "params", "vary", "fixed", "answer_key", "rtol", "atol",
             "options", "explanation"}
CLAIM_KEYS = {"source", "stated", "value", "kind", "params", "answer_key", "underspecified",
              "explanation", "computed", "status"}


@dataclass(frozen=True)
class QuestionEntry:
    """One question as the bank file gives it; ``content`` is what a version stores."""

    slug: str
    area: str
    position: int
    importance: int
    difficulty: int
    tags: tuple[str, ...]
    content: dict[str, Any]


class _Entry:
    """Error helper bound to one file entry."""

    def __init__(self, path: Path, entry: str) -> None:
        self.path, self.entry = path, entry

    def fail(self, field: str, message: str) -> BankFileError:
        return BankFileError(self.path, self.entry, f"{field}: {message}" if field else message)


def _text_pair(where: _Entry, raw: dict, field: str, *, required: bool) -> dict[str, str]:
    value = raw.get(field)
    if value is None:
        if required:
            raise where.fail(field, "missing")
        return {"zh-hans": "", "en": ""}
    if not isinstance(value, dict) or set(value) - set(LANGS):
        raise where.fail(field, f"must map the languages {', '.join(LANGS)} to text")
    out = {}
    for lang in LANGS:
        text = value.get(lang, "")
        if not isinstance(text, str):
            raise where.fail(f"{field}.{lang}", "must be text")
        if required and not text.strip():
            raise where.fail(f"{field}.{lang}", "is empty")
        out[lang] = text.strip()
    return out


def _sources(where: _Entry, raw: Any, field: str) -> list[dict[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise where.fail(field, "must be a list of {seed, section}")
    out = []
    for i, src in enumerate(raw):
        if not isinstance(src, dict) or not isinstance(src.get("seed"), str) or not src["seed"]:
            raise where.fail(f"{field}[{i}]", "must be a mapping with a 'seed' file name")
        out.append({"seed": src["seed"], "section": str(src.get("section", ""))})
    return out


class BindingError(ValueError):
    """A numeric binding the engine refuses; ``field`` is kind, params or answer_key."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


# Checks a numeric binding (kind, params, answer_key, fixed) against the engine; raises
# BindingError with the field and the engine's message. Supplied by
# services.py, the only module that talks to the engine.
BindingCheck = Callable[[dict[str, Any]], dict[str, Any]]


def _numeric_binding(where: _Entry, raw: dict, field: str, check: BindingCheck) -> dict[str, Any]:
    binding = {"kind": raw.get("kind"), "params": raw.get("params") or {},
               "answer_key": raw.get("answer_key"), "fixed": raw.get("fixed", [])}
    try:
        check(binding)
    except BindingError as exc:
        raise where.fail(f"{field}.{exc.field}", str(exc)) from None
    return binding


def _item(where: _Entry, raw: Any, i: int, check: BindingCheck) -> dict[str, Any]:
    field = f"items[{i}]"
    if not isinstance(raw, dict):
        raise where.fail(field, "must be a mapping")
    unknown = set(raw) - ITEM_KEYS
    if unknown:
        raise where.fail(field, f"unknown fields {sorted(unknown)}")
    kind = raw.get("type")
    if kind not in ITEM_TYPES:
        raise where.fail(f"{field}.type", f"{kind!r} is not one of {', '.join(ITEM_TYPES)}")
    item: dict[str, Any] = {
        "type": kind,
        "prompt": _text_pair(where, raw, "prompt", required=False),
        "explanation": _text_pair(where, raw, "explanation", required=False),
    }
    if kind == "numeric":
        item.update(_numeric_binding(where, raw, field, check))
        item["vary"] = bool(raw.get("vary", True))
        for tol in ("rtol", "atol"):
            value = raw.get(tol)
            if value is not None and (not isinstance(value, int | float) or value < 0):
                raise where.fail(f"{field}.{tol}", f"must be a non-negative number, got {value!r}")
            item[tol] = value
    elif kind in ("single_choice", "multiple_choice"):
        options = raw.get("options")
        if not isinstance(options, list) or len(options) < 2:
            raise where.fail(f"{field}.options", "a choice item needs at least two options")
        item["options"] = []
        for j, opt in enumerate(options):
            at = _Entry(where.path, f"{where.entry}: {field}.options[{j}]")
            if not isinstance(opt, dict):
                raise at.fail("", "must be a mapping with text, correct, explanation")
            item["options"].append({
                "text": _text_pair(at, opt, "text", required=True),
                "correct": bool(opt.get("correct", False)),
                "explanation": _text_pair(at, opt, "explanation", required=False),
            })
        correct = sum(o["correct"] for o in item["options"])
        if kind == "single_choice" and correct != 1:
            raise where.fail(f"{field}.options", f"a single-choice item needs exactly one correct "
                             f"option, got {correct}")
        if kind == "multiple_choice" and correct < 1:
            raise where.fail(f"{field}.options", "a multiple-choice item needs a correct option")
    return item


def _claim(where: _Entry, raw: Any, i: int, check: BindingCheck) -> dict[str, Any]:
    field = f"claims[{i}]"
    if not isinstance(raw, dict):
        raise where.fail(field, "must be a mapping")
    unknown = set(raw) - CLAIM_KEYS
    if unknown:
        raise where.fail(field, f"unknown fields {sorted(unknown)}")
    source = _sources(where, [raw.get("source")] if raw.get("source") else None, f"{field}.source")
    if not source:
        raise where.fail(f"{field}.source", "missing {seed, section}")
    stated = raw.get("stated")
    if not isinstance(stated, str) or not stated.strip():
        raise where.fail(f"{field}.stated", "quote what the source states")
    claim: dict[str, Any] = {
        "source": source[0],
        "stated": stated.strip(),
        "explanation": _text_pair(where, raw, "explanation", required=False),
        "underspecified": bool(raw.get("underspecified", False)),
    }
    if claim["underspecified"]:
        return claim
    value = raw.get("value")
    values = value if isinstance(value, list) else [value]
    if value is None or not all(isinstance(v, str | int | float) and not isinstance(v, bool)
                                for v in values):
        raise where.fail(f"{field}.value", "the stated number (as text, to keep its precision) "
                         "or a list of them")
    try:
        [float(v) for v in values]
    except ValueError:
        raise where.fail(f"{field}.value", f"{value!r} is not a number") from None
    claim["value"] = [str(v) for v in value] if isinstance(value, list) else str(value)
    claim.update(_numeric_binding(where, raw, field, check))
    return claim


def _question(path: Path, area: str, position: int, raw: Any, check: BindingCheck) -> QuestionEntry:
    where = _Entry(path, f"questions[{position}]")
    if not isinstance(raw, dict):
        raise where.fail("", "each question must be a mapping")
    slug = raw.get("slug")
    if not isinstance(slug, str) or not slug.startswith(f"{area}-") or not slug.isascii():
        raise where.fail("slug", f"must look like '{area}-01', got {slug!r}")
    where = _Entry(path, f"question '{slug}'")
    unknown = set(raw) - QUESTION_KEYS
    if unknown:
        raise where.fail("", f"unknown fields {sorted(unknown)}")
    importance, difficulty = raw.get("importance", 0), raw.get("difficulty", 2)
    if importance not in (0, 1, 2, 3):
        raise where.fail("importance", f"must be 0 to 3 stars, got {importance!r}")
    if difficulty not in (1, 2, 3):
        raise where.fail("difficulty", f"must be 1 (easy), 2 or 3 (hard), got {difficulty!r}")
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.isascii() and t for t in tags):
        raise where.fail("tags", "must be a list of ASCII slugs")
    items_raw = raw.get("items") or []
    if not isinstance(items_raw, list):
        raise where.fail("items", "must be a list")
    items = [_item(where, it, i, check) for i, it in enumerate(items_raw)]
    if not any(it["type"] in AUTO_GRADED for it in items):
        raise where.fail("items", "needs at least one automatically graded item "
                         f"({', '.join(AUTO_GRADED)})")
    claims_raw = raw.get("claims") or []
    if not isinstance(claims_raw, list):
        raise where.fail("claims", "must be a list")
    content = {
        "title": _text_pair(where, raw, "title", required=True),
        "prompt": _text_pair(where, raw, "prompt", required=True),
        "answer": _text_pair(where, raw, "answer", required=True),
        "sources": _sources(where, raw.get("sources"), "sources"),
        "items": items,
        "claims": [_claim(where, c, i, check) for i, c in enumerate(claims_raw)],
    }
    return QuestionEntry(slug=slug, area=area, position=position, importance=importance,
                         difficulty=difficulty, tags=tuple(tags), content=content)


def parse_question(raw: Any, *, area: str, check: BindingCheck, source: str = "admin") -> QuestionEntry:
    """One question entry (as in a bank file) validated on its own, e.g. from the admin's form.

    Raises BankFileError naming ``source``, the question and the field."""
    return _question(Path(source), area, 0, raw, check)


def read_questions(
    bank_dir: Path, area_slugs: set[str], check: BindingCheck
) -> list[QuestionEntry]:
    """Parse every ``<area>.yaml`` question file; BankFileError on the first problem."""
    entries: list[QuestionEntry] = []
    seen: dict[str, Path] = {}
    for path in sorted(bank_dir.glob("*.yaml")):
        if path.name == AREAS_FILE:
            continue
        data = _read_yaml(path)
        if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
            raise BankFileError(path, "file", "expected a mapping with 'area' and a 'questions' list")
        area = data.get("area")
        if area not in area_slugs:
            raise BankFileError(path, "file", f"area {area!r} is not in {AREAS_FILE}")
        entries.extend(_parse_questions(path, area, area_slugs, data["questions"], check, seen))
    return entries


def _parse_questions(path: Path, area: str | None, area_slugs: set[str], raw_list: list,
                     check: BindingCheck, seen: dict[str, Path]) -> list[QuestionEntry]:
    """Questions of one file; ``area`` is the file's area, or None when each names its own."""
    entries = []
    positions: dict[str, int] = {}
    for index, raw in enumerate(raw_list):
        own = raw.get("area", area) if isinstance(raw, dict) else area
        if own not in area_slugs or (area is not None and own != area):
            raise BankFileError(path, f"questions[{index}]", f"area: {own!r} is not a known area"
                                + (f" of this file ({area})" if area else ""))
        position = positions.get(own, 0)
        positions[own] = position + 1
        entry = _question(path, own, position, raw, check)
        if entry.slug in seen:
            raise BankFileError(path, f"question '{entry.slug}'",
                                f"slug already used in {seen[entry.slug].name}")
        seen[entry.slug] = path
        entries.append(entry)
    return entries


def read_bank_file(path: Path, check: BindingCheck) -> tuple[list[AreaEntry], list[QuestionEntry]]:
    """Parse one exported bank (JSON or YAML: ``{"areas": [...], "questions": [...]}``)."""
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BankFileError(path, "file", f"not readable JSON ({exc})") from exc
    else:
        data = _read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise BankFileError(path, "file", "expected a mapping with a 'questions' list")
    if not isinstance(data.get("areas"), list):
        raise BankFileError(path, "file", "expected the 'areas' list of an exported bank")
    areas = _parse_areas(path, data["areas"])
    questions = _parse_questions(path, None, {a.slug for a in areas}, data["questions"], check, {})
    return areas, questions
