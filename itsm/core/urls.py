from django.contrib.auth import views as auth_views
from django.urls import path

from . import pickers
from .models import Calendar, Contact, Organisation
from .views import notifications, pages
from .views.generic import ObjectHistoryView

urlpatterns = [
    path("", pages.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organisations/", pages.OrganisationListView.as_view(), name="organisation_list"),
    path("organisations/new/", pages.OrganisationEditView.as_view(), name="organisation_create"),
    path("organisations/<int:pk>/", pages.OrganisationDetailView.as_view(), name="organisation_detail"),
    path("organisations/<int:pk>/edit/", pages.OrganisationEditView.as_view(), name="organisation_edit"),
    path(
        "organisations/<int:pk>/history/",
        ObjectHistoryView.as_view(model=Organisation),
        name="organisation_history",
    ),
    path("departments/new/", pages.DepartmentEditView.as_view(), name="department_create"),
    path("departments/<int:pk>/edit/", pages.DepartmentEditView.as_view(), name="department_edit"),
    path("contacts/", pages.ContactListView.as_view(), name="contact_list"),
    path("contacts/new/", pages.ContactEditView.as_view(), name="contact_create"),
    path("contacts/<int:pk>/", pages.ContactDetailView.as_view(), name="contact_detail"),
    path("contacts/<int:pk>/edit/", pages.ContactEditView.as_view(), name="contact_edit"),
    path("contacts/<int:pk>/history/", ObjectHistoryView.as_view(model=Contact), name="contact_history"),
    path("calendars/", pages.CalendarListView.as_view(), name="calendar_list"),
    path("calendars/new/", pages.CalendarEditView.as_view(), name="calendar_create"),
    path("calendars/<int:pk>/", pages.CalendarDetailView.as_view(), name="calendar_detail"),
    path("calendars/<int:pk>/edit/", pages.CalendarEditView.as_view(), name="calendar_edit"),
    path("calendars/<int:pk>/history/", ObjectHistoryView.as_view(model=Calendar), name="calendar_history"),
    path(
        "calendars/<int:calendar_pk>/overrides/<int:pk>/delete/",
        pages.calendar_override_remove,
        name="calendar_override_delete",
    ),
    path("audit/", pages.AuditListView.as_view(), name="audit_list"),
    path("notifications/", notifications.notification_list_view, name="notification_list"),
    path("notifications/send-held/", notifications.notification_send_held, name="notification_send_held"),
    path("notifications/<int:pk>/", notifications.notification_detail, name="notification_detail"),
    path("notifications/<int:pk>/send-now/", notifications.notification_send_now, name="notification_send_now"),
    # type-ahead pickers (JSON): /pick/organisations/, /pick/contacts/, …
    *pickers.urlpatterns,
]
