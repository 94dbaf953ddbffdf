"""Django admin for administrators. The audit trail is read-only here too."""

from auditlog.admin import LogEntryAdmin as AuditlogLogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from knox.admin import AuthTokenAdmin
from knox.models import AuthToken

from .mail_links import for_display
from .models import (
    AccessToken,
    ApiToken,
    Calendar,
    CalendarOverride,
    Contact,
    Department,
    Notification,
    Organisation,
    PeriodicCheckRun,
    User,
)
from .services import calendar_touch


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (*(DjangoUserAdmin.fieldsets or ()), (_("Preferences"), {"fields": ("phone", "preferred_language")}))


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "is_key_customer", "is_active")
    list_filter = ("kind", "is_key_customer", "is_active")
    search_fields = ("name", "code")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation")
    list_select_related = ("organisation",)
    search_fields = ("name", "organisation__name")


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "email", "phone", "is_vip", "unsubscribed")
    list_filter = ("is_vip", "unsubscribed", "preferred_language")
    list_select_related = ("organisation",)
    search_fields = ("name", "email", "phone")


class CalendarOverrideInline(admin.TabularInline):
    model = CalendarOverride
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "country", "time_zone", "work_start", "work_end", "always_open", "is_default")
    inlines = [CalendarOverrideInline]

    # Edits here bypass the services' forms, not their consequence: every change of a calendar
    # or its overrides bumps the version and recomputes due dates, as on the calendar page.
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        calendar_touch(form.instance)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The mail queue, read-only. The bodies are shown with each personal link as its
    placeholder; the encrypted links (``secret_context``) are never shown."""

    list_display = ("created_at", "recipient_email", "subject", "status", "urgent", "send_after", "sent_at")
    list_filter = ("status", "urgent", "language")
    search_fields = ("recipient_email", "subject", "key")
    fields = (
        "key",
        "recipient_email",
        "recipient_name",
        "language",
        "template",
        "subject",
        "text_body",
        "html_body",
        "urgent",
        "send_after",
        "status",
        "attempts",
        "last_error",
        "claimed_at",
        "sent_at",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("text body"))
    def text_body(self, obj: Notification) -> str:
        return for_display(obj.body_text)

    @admin.display(description=_("HTML body"))
    def html_body(self, obj: Notification) -> str:
        return for_display(obj.body_html)


@admin.register(PeriodicCheckRun)
class PeriodicCheckRunAdmin(ReadOnlyAdmin):
    list_display = ("name", "last_started_at", "last_finished_at", "last_result")


@admin.register(AccessToken)
class AccessTokenAdmin(ReadOnlyAdmin):
    """Who was sent which personal link and what became of it. Never the token or its hash:
    neither opens anything, but neither is anyone's business here."""

    list_display = ("created_at", "purpose", "content_type", "object_id", "expires_at", "used_at", "revoked_at")
    list_filter = ("purpose", ("content_type", admin.RelatedOnlyFieldListFilter))
    fields = (
        "purpose",
        "content_type",
        "object_id",
        "created_at",
        "expires_at",
        "last_seen_at",
        "used_at",
        "revoked_at",
    )
    readonly_fields = fields
    list_select_related = ("content_type",)


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class LogEntryAdmin(AuditlogLogEntryAdmin):
    """auditlog's admin, with deletion closed as well: history is never removed."""

    def has_delete_permission(self, request, obj=None):
        return False


# The admin in the product's words: its title, and knox's tokens as "API tokens".
admin.site.site_header = _("itsm administration")
admin.site.site_title = _("itsm administration")
admin.site.index_title = _("Administration")
admin.site.unregister(AuthToken)
admin.site.register(ApiToken, AuthTokenAdmin)

# Model names of django-axes, which ships no Chinese: kept here so makemessages keeps their
# translations in our catalogue (gettext finds them whatever app asks).
THIRD_PARTY_LABELS = (
    _("access attempt"),
    _("access attempts"),
    _("access failure"),
    _("access failures"),
    _("access log"),
    _("access logs"),
    _("access attempt expiration"),
    _("access attempt expirations"),
)
