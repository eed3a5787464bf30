"""Read and validate the question-bank files in ``fixtures/bank/``.

Parsing is separate from loading: every file is read and checked as a whole
before anything touches the database, so a malformed file is rejected with
its name and the bad entry, and nothing is half-loaded.
"""

from __future__ import annotations

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
    entries: list[AreaEntry] = []
    seen: set[str] = set()
    for position, raw in enumerate(data["areas"]):
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
