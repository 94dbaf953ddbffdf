"""Issue an API token for a user (e.g. the ITSM integration account); it is shown only once."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken

from itsm.core.models import User


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (only a hash is stored: copy it now)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--days", type=int, default=None, help="Lifetime in days (default: API_TOKEN_TTL_DAYS).")

    def handle(self, *args, username, days, **options):
        try:
            user = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"No active user {username!r}.") from None
        expiry = timedelta(days=days) if days else None
        instance, token = (
            AuthToken.objects.create(user=user, expiry=expiry) if expiry else AuthToken.objects.create(user=user)
        )
        self.stdout.write(f"Token for {username}, expires {instance.expiry:%Y-%m-%d %H:%M %Z}:")
        self.stdout.write(token)
