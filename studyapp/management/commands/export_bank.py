import json

import yaml
from django.core.management.base import BaseCommand

from studyapp.selectors import bank_export


class Command(BaseCommand):
    help = "Write the whole published bank to stdout (JSON or YAML); load_bank --file reads it back."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "yaml"], default="json")

    def handle(self, *args, **options):
        data = bank_export()
        if options["format"] == "yaml":
            self.stdout.write(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100),
                              ending="")
        else:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
