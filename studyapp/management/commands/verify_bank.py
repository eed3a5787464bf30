import json

from django.core.management.base import BaseCommand, CommandError

from studyapp.services import bank_verify


class Command(BaseCommand):
    help = ("Recompute every numeric item (canonical example and N variants) and every source "
            "claim with the engine; exit non-zero on any disagreement or broken binding.")

    def add_arguments(self, parser):
        parser.add_argument("--variants", type=int, default=0, help="seeded variants per item")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        if options["variants"] < 0:
            raise CommandError("--variants must be zero or more")
        report = bank_verify(variants=options["variants"])
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        else:
            errata = [c for c in report["claims"] if c["status"] == "erratum"]
            self.stdout.write(f"{report['items']} numeric items, {len(report['claims'])} source "
                              f"claims ({len(errata)} errata in the sources)")
            for c in errata:
                self.stdout.write(f"  erratum {c['question']}: {c['source']}: "
                                  f"stated {c['stated']!r}, computed {c['computed']}")
            for p in report["problems"]:
                self.stdout.write(self.style.ERROR(f"  DISAGREEMENT {p}"))
        if report["disagreements"]:
            raise CommandError(f"{report['disagreements']} disagreement(s)")
