from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studyapp.bankfile import BankFileError
from studyapp.services import DEFAULT_BANK_DIR, DEFAULT_QUIZZES_FILE, bank_load, quizzes_load


class Command(BaseCommand):
    help = "Load the question bank from fixtures/bank/ (idempotent: re-running changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir", type=Path, default=DEFAULT_BANK_DIR, help="bank folder (default: fixtures/bank)"
        )
        parser.add_argument(
            "--file", type=Path, help="load one exported bank file (JSON or YAML) instead"
        )
        parser.add_argument(
            "--quizzes", type=Path, default=DEFAULT_QUIZZES_FILE,
            help="ready-made quizzes to create or update (default: fixtures/quizzes.yaml)",
        )

    def handle(self, *args, **options):
        try:
            report = bank_load(bank_dir=options["dir"], file=options["file"])
        except BankFileError as exc:
            raise CommandError(f"bank not loaded, nothing changed: {exc}") from exc
        for bucket in ("created", "updated", "unchanged"):
            counts = getattr(report, bucket)
            summary = ", ".join(
                f"{n} {model}{'' if n == 1 else 's'}" for model, n in sorted(counts.items())
            ) or "nothing"
            self.stdout.write(f"{bucket}: {summary}")
        if options["quizzes"] and options["quizzes"].exists():
            try:
                count = quizzes_load(path=options["quizzes"])
            except BankFileError as exc:
                raise CommandError(f"quizzes not loaded: {exc}") from exc
            self.stdout.write(f"quizzes: {count} ready-made")
        if not report.changed:
            self.stdout.write(self.style.SUCCESS("bank already up to date"))
        else:
            self.stdout.write(self.style.SUCCESS("bank loaded"))
