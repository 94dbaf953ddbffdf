from django.contrib.auth import views as auth_views
from django.urls import path

from . import notification_views, pickers, views
from .generic_views import ObjectHistoryView
from .models import Calendar, Contact, Organisation

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("organisations/", views.OrganisationListView.as_view(), name="organisation_list"),
    path("organisations/new/", views.OrganisationEditView.as_view(), name="organisation_create"),
    path("organisations/<int:pk>/", views.OrganisationDetailView.as_view(), name="organisation_detail"),
    path("organisations/<int:pk>/edit/", views.OrganisationEditView.as_view(), name="organisation_edit"),
    path(
        "organisations/<int:pk>/history/",
        ObjectHistoryView.as_view(model=Organisation),
        name="organisation_history",
    ),
    path("departments/new/", views.DepartmentEditView.as_view(), name="department_create"),
    path("departments/<int:pk>/edit/", views.DepartmentEditView.as_view(), name="department_edit"),
    path("contacts/", views.ContactListView.as_view(), name="contact_list"),
    path("contacts/new/", views.ContactEditView.as_view(), name="contact_create"),
    path("contacts/<int:pk>/", views.ContactDetailView.as_view(), name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.ContactEditView.as_view(), name="contact_edit"),
    path("contacts/<int:pk>/history/", ObjectHistoryView.as_view(model=Contact), name="contact_history"),
    path("calendars/", views.CalendarListView.as_view(), name="calendar_list"),
    path("calendars/new/", views.CalendarEditView.as_view(), name="calendar_create"),
    path("calendars/<int:pk>/", views.CalendarDetailView.as_view(), name="calendar_detail"),
    path("calendars/<int:pk>/edit/", views.CalendarEditView.as_view(), name="calendar_edit"),
    path("calendars/<int:pk>/history/", ObjectHistoryView.as_view(model=Calendar), name="calendar_history"),
    path(
        "calendars/<int:calendar_pk>/overrides/<int:pk>/delete/",
        views.calendar_override_remove,
        name="calendar_override_delete",
    ),
    path("audit/", views.AuditListView.as_view(), name="audit_list"),
    path("notifications/", notification_views.notification_list_view, name="notification_list"),
    path("notifications/send-held/", notification_views.notification_send_held, name="notification_send_held"),
    path("notifications/<int:pk>/", notification_views.notification_detail, name="notification_detail"),
    path("notifications/<int:pk>/send-now/", notification_views.notification_send_now, name="notification_send_now"),
    # type-ahead pickers (JSON): /pick/organisations/, /pick/contacts/, …
    *pickers.urlpatterns,
]
