"""Send a test mail through the notification service (checks EMAIL_URL end to end)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from itsm.core.choices import Language
from itsm.core.notifications import Recipient, notification_queue


class Command(BaseCommand):
    help = "Queue a test mail to ADDRESS (urgent: sent at once, not held to working hours)."

    def add_arguments(self, parser):
        parser.add_argument("address")
        parser.add_argument("--language", choices=Language.values, default=Language.ZH_HANS)

    def handle(self, *args, address, language, **options):
        notification = notification_queue(
            key=f"test-mail:{address}:{timezone.now().isoformat()}",
            template="core/email/test_message",
            recipient=Recipient(email=address, name=address, language=language),
            context={"sent_at": timezone.now()},
            urgent=True,
        )
        notification.refresh_from_db()
        self.stdout.write(f"Notification {notification.pk} to {address}: {notification.get_status_display()}.")
