"""factory_boy factories for the core records. Apps add theirs in tests/<app>/factories.py."""

import factory
from django.utils import timezone

from itsm.core.choices import Language, OrganisationKind
from itsm.core.models import Calendar, CalendarOverride, Contact, Department, Notification, Organisation, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@staff.example")
    first_name = factory.Faker("first_name")
    preferred_language = Language.ZH_HANS
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-123")

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    code = factory.Sequence(lambda n: f"org-{n}")
    kind = OrganisationKind.CUSTOMER


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Department {n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    preferred_language = Language.ZH_HANS


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Calendar

    name = factory.Sequence(lambda n: f"Calendar {n}")


class CalendarOverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarOverride

    calendar = factory.SubFactory(CalendarFactory)
    is_working_day = False
    reason = "company day off"


class NotificationFactory(factory.django.DjangoModelFactory):
    """A recorded mail, due now and pending unless told otherwise (written directly: the
    queue's own behaviour is tested through ``notification_queue``)."""

    class Meta:
        model = Notification

    key = factory.Sequence(lambda n: f"test:{n}")
    recipient_email = factory.Sequence(lambda n: f"person{n}@customer.example")
    # Not Faker: a random "Wang" or "王" would match the recipient filter's tests by chance.
    recipient_name = factory.Sequence(lambda n: f"Person {n}")
    language = Language.ZH_HANS
    template = "core/email/test_message"
    subject = factory.Sequence(lambda n: f"测试邮件 {n}")
    body_text = "您好，这是一封测试邮件。"
    send_after = factory.LazyFunction(timezone.now)
