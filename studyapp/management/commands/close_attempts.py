import time

from django.core.management.base import BaseCommand

from studyapp.quiz import attempts_close_overdue


class Command(BaseCommand):
    help = ("Close quiz attempts whose deadline and grace have passed, graded on the answers saved "
            "in time (finished_at = deadline). Run it every minute (cron, systemd timer), or with "
            "--every to keep it running.")

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, metavar="SECONDS",
                            help="keep running, closing overdue attempts every SECONDS")

    def handle(self, *args, **options):
        while True:
            closed = attempts_close_overdue()
            if closed or not options["every"]:
                self.stdout.write(f"closed {closed} overdue attempt{'' if closed == 1 else 's'}")
            if not options["every"]:
                return
            time.sleep(options["every"])
