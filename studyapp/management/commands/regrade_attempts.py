from django.core.management.base import BaseCommand, CommandError

from studyapp.models import Attempt, Question
from studyapp.quiz import attempts_regrade


class Command(BaseCommand):
    help = ("Grade finished quiz attempts again against each question's current version. "
            "A dry run (the default) lists what would change; --apply writes it.")

    def add_arguments(self, parser):
        parser.add_argument("--question", action="append", default=[], metavar="SLUG",
                            help="only attempts that asked this question (repeatable)")
        parser.add_argument("--apply", action="store_true", help="write the new grades")

    def handle(self, *args, **options):
        attempts = Attempt.objects.all()
        for slug in options["question"]:
            if not Question.objects.filter(slug=slug).exists():
                raise CommandError(f"no question with slug {slug!r}")
        if options["question"]:
            attempts = attempts.filter(
                responses__item__version__question__slug__in=options["question"]).distinct()
        changes = attempts_regrade(attempts=attempts, dry_run=not options["apply"])
        for c in changes:
            line = f"{c.attempt.pk} #{c.position + 1} {c.question}: {c.old_status} -> {c.new_status}"
            if c.old_expected != c.new_expected:
                line += f" (answer {c.old_expected} -> {c.new_expected})"
            if c.note:
                line += f" [{c.note}]"
            self.stdout.write(line)
        verb = "changed" if options["apply"] else "would change (dry run; --apply to write)"
        self.stdout.write(self.style.SUCCESS(f"{len(changes)} response(s) {verb}"))
