"""State changes. Views and commands call these; nothing else writes the bank."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from studyapp import bankfile
from studyapp.models import Area

DEFAULT_BANK_DIR = Path(settings.BASE_DIR) / "fixtures" / "bank"


@dataclass
class LoadReport:
    """What ``bank_load`` did, per model: created, updated and unchanged rows."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: str, model: str) -> None:
        counts = getattr(self, bucket)
        counts[model] = counts.get(model, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


@transaction.atomic
def bank_load(*, bank_dir: Path = DEFAULT_BANK_DIR) -> LoadReport:
    """Load the bank files into the database, idempotently.

    Every file is parsed and validated first (``bankfile`` raises
    ``BankFileError`` naming file and entry); the writes then run in one
    transaction, so a bad file leaves the database as it was. Rows whose
    content is unchanged are not written again.
    """
    areas = bankfile.read_areas(bank_dir)
    report = LoadReport()
    existing = {a.slug: a for a in Area.objects.all()}
    for entry in areas:
        values = asdict(entry)
        area = existing.get(entry.slug)
        if area is None:
            area = Area(**values)
            area.full_clean()
            area.save()
            report.count("created", "area")
            continue
        if all(getattr(area, k) == v for k, v in values.items()):
            report.count("unchanged", "area")
            continue
        for k, v in values.items():
            setattr(area, k, v)
        area.full_clean()
        area.save()
        report.count("updated", "area")
    return report
