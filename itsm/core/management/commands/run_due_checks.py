"""Run every registered periodic check once, now (cron users, operators, tests)."""

from django.core.management.base import BaseCommand

from itsm.core.periodic import registered_checks, run_check


class Command(BaseCommand):
    help = "Run every registered periodic check once, now. Safe to run at any time: checks are idempotent."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="Only these checks (default: all).")
        parser.add_argument("--list", action="store_true", help="List the registered checks and exit.")

    def handle(self, *args, names=(), list=False, **options):
        checks = registered_checks()
        if list:
            for check in checks:
                summary = " ".join(check.description.split())  # one line per check, however long
                self.stdout.write(f"{check.name}\t{summary}")
            return
        known = {check.name for check in checks}
        unknown = [name for name in names if name not in known]
        if unknown:
            from django.core.management.base import CommandError

            raise CommandError(f"Unknown check(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}")
        for check in checks:
            if names and check.name not in names:
                continue
            result = run_check(check.name)
            self.stdout.write(f"{check.name}: {result}")
