"""The navigation: each entry shows only to users holding its permission.

Apps add their entries to ``NAVIGATION`` as they are built.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    permission: str | None = None  # None: every signed-in user
    section: str | Promise = ""


NAVIGATION: list[NavItem] = [
    NavItem(_("Home"), "home"),
    NavItem(_("All complaints"), "complaint_list", "complaints.view_complaint", _("Complaints")),
    NavItem(_("Register a complaint"), "complaint_create", "complaints.add_complaint", _("Complaints")),
    NavItem(_("My complaints"), "complaint_mine", "complaints.change_complaint", _("Complaints")),
    NavItem(_("Overdue complaints"), "complaint_overdue", "complaints.view_complaint", _("Complaints")),
    NavItem(_("Monthly complaint analysis"), "complaint_analysis", "complaints.view_complaint", _("Complaints")),
    NavItem(_("Complaint deadlines"), "complaint_target_list", "complaints.view_complainttarget", _("Complaints")),
    NavItem(_("Weekly visit reports"), "weekly_report_list", "surveys.view_weeklyreport", _("Satisfaction")),
    NavItem(_("Call-backs"), "callback_list", "surveys.view_callback", _("Satisfaction")),
    NavItem(_("Survey campaigns"), "campaign_list", "surveys.view_campaign", _("Satisfaction")),
    NavItem(_("Questionnaires"), "questionnaire_list", "surveys.view_questionnaire", _("Satisfaction")),
    NavItem(_("Service catalogue"), "service_list", "sla.view_service", _("Service levels")),
    NavItem(_("Agreements"), "agreement_list", "sla.view_agreement", _("Service levels")),
    NavItem(_("Underpinning check"), "underpinning_list", "sla.view_serviceleveltarget", _("Service levels")),
    NavItem(_("Measurements"), "measurement_list", "sla.view_measurement", _("Service levels")),
    NavItem(_("Monthly SLA reports"), "sla_report_list", "sla.view_slareport", _("Service levels")),
    NavItem(_("Agreement reviews"), "review_due_list", "sla.view_agreementreview", _("Service levels")),
    NavItem(_("KPI dashboard"), "kpi_dashboard", "kpi.view_kpidefinition", _("KPIs")),
    NavItem(_("Scorecards"), "kpi_scorecards", "kpi.view_kpidefinition", _("KPIs")),
    NavItem(_("Manage KPIs"), "kpi_manage_list", "kpi.change_kpidefinition", _("KPIs")),
    NavItem(_("Improvement register"), "improvement_item_list", "improvement.view_improvementitem", _("Improvement")),
    NavItem(_("Improvement plans"), "improvement_plan_list", "improvement.view_improvementplan", _("Improvement")),
    NavItem(_("Tracking sheet"), "improvement_tracking", "improvement.view_improvementitem", _("Improvement")),
    NavItem(_("Review meetings"), "review_meeting_list", "improvement.view_reviewmeeting", _("Improvement")),
    NavItem(_("Organisations"), "organisation_list", "core.view_organisation", _("Reference data")),
    NavItem(_("Contacts"), "contact_list", "core.view_contact", _("Reference data")),
    NavItem(_("Business calendars"), "calendar_list", "core.view_calendar", _("Reference data")),
    NavItem(_("Audit trail"), "audit_list", "auditlog.view_logentry", _("Reference data")),
    NavItem(_("Notifications"), "notification_list", "core.view_notification", _("Reference data")),
    NavItem(_("API documentation"), "swagger-ui", None, _("Help")),
]


def navigation_for(user) -> list[dict]:
    """Sections of visible entries for ``user``: [{"label", "items": [{"label", "url"}]}]."""
    sections: dict[str, dict] = {}
    for item in NAVIGATION:
        if item.permission and not user.has_perm(item.permission):
            continue
        key = str(item.section)
        sections.setdefault(key, {"label": item.section, "items": []})["items"].append(
            {"label": item.label, "url": reverse(item.url_name), "url_name": item.url_name}
        )
    return list(sections.values())


@dataclass(frozen=True)
class HomeLink:
    label: str | Promise
    url_name: str
    permission: str | None = None


# What each role does here (SPEC §1), and where it starts: only what the product has today.
# Later modules add their links (and their panels, in <app>/home.py) as they are built.
ROLE_HOME: dict[str, dict] = {
    "service_desk": {
        "summary": _(
            "Log complaints from any channel, accept and respond, record ticket call-backs and weekly visits."
        ),
        "links": [
            HomeLink(_("All complaints"), "complaint_list", "complaints.view_complaint"),
            HomeLink(_("Call-backs"), "callback_list", "surveys.view_callback"),
            HomeLink(_("Weekly visit reports"), "weekly_report_list", "surveys.view_weeklyreport"),
            HomeLink(_("Contacts"), "contact_list", "core.view_contact"),
        ],
    },
    "satisfaction_owner": {
        "summary": _("Plan surveys, build questionnaires, analyse results and propose improvements."),
        "links": [
            HomeLink(_("Survey campaigns"), "campaign_list", "surveys.view_campaign"),
            HomeLink(_("New survey campaign"), "campaign_create", "surveys.add_campaign"),
            HomeLink(_("Questionnaires"), "questionnaire_list", "surveys.view_questionnaire"),
            HomeLink(_("Improvement items"), "improvement_item_list", "improvement.view_improvementitem"),
        ],
    },
    "br_manager": {
        "summary": _(
            "Run the relationship from the KPI dashboard, own escalated complaints, approve survey campaigns "
            "and service improvement plans, and run the review meetings."
        ),
        "links": [
            HomeLink(_("KPI dashboard"), "kpi_dashboard", "kpi.view_kpidefinition"),
            HomeLink(_("My complaints"), "complaint_mine", "complaints.change_complaint"),
            HomeLink(_("Survey campaigns"), "campaign_list", "surveys.view_campaign"),
            HomeLink(_("Improvement items"), "improvement_item_list", "improvement.view_improvementitem"),
            HomeLink(_("Improvement plans"), "improvement_plan_list", "improvement.view_improvementplan"),
            HomeLink(_("Review meetings"), "review_meeting_list", "improvement.view_reviewmeeting"),
            HomeLink(_("Organisations"), "organisation_list", "core.view_organisation"),
        ],
    },
    "department_head": {
        "summary": _(
            "Take the complaints escalated to the second level and see them through to closure; approve your "
            "department's improvement plans; follow your department's KPIs and scorecard."
        ),
        "links": [
            HomeLink(_("My complaints"), "complaint_mine", "complaints.change_complaint"),
            HomeLink(_("Monthly complaint analysis"), "complaint_analysis", "complaints.view_complaint"),
            HomeLink(_("KPI dashboard"), "kpi_dashboard", "kpi.view_kpidefinition"),
            HomeLink(_("Improvement plans"), "improvement_plan_list", "improvement.view_improvementplan"),
        ],
    },
    "management_rep": {
        "summary": _(
            "Take the complaints escalated to the third level; every major complaint is reported to you "
            "when it is registered."
        ),
        "links": [
            HomeLink(_("My complaints"), "complaint_mine", "complaints.change_complaint"),
            HomeLink(_("Monthly complaint analysis"), "complaint_analysis", "complaints.view_complaint"),
            HomeLink(_("KPI dashboard"), "kpi_dashboard", "kpi.view_kpidefinition"),
        ],
    },
    "process_owner": {
        "summary": _(
            "See everything that is overdue, keep the KPIs and their targets, set the complaint deadlines and "
            "business calendars, read the audit trail."
        ),
        "links": [
            HomeLink(_("KPI dashboard"), "kpi_dashboard", "kpi.view_kpidefinition"),
            HomeLink(_("Complaint deadlines"), "complaint_target_list", "complaints.view_complainttarget"),
            HomeLink(_("Business calendars"), "calendar_list", "core.view_calendar"),
            HomeLink(_("Audit trail"), "audit_list", "auditlog.view_logentry"),
            HomeLink(_("Notifications"), "notification_list", "core.view_notification"),
        ],
    },
    "service_level_manager": {
        "summary": _("Keep the service catalogue, SLA / OLA / UC agreements, targets, measurements and reviews."),
        "links": [
            HomeLink(_("Service catalogue"), "service_list", "sla.view_service"),
            HomeLink(_("Agreements"), "agreement_list", "sla.view_agreement"),
            HomeLink(_("Measurements"), "measurement_list", "sla.view_measurement"),
            HomeLink(_("Monthly SLA reports"), "sla_report_list", "sla.view_slareport"),
        ],
    },
    "quality_manager": {
        "summary": _(
            "Follow the company-level satisfaction surveys and their results, and the KPIs; run the monthly "
            "quality analysis meeting and keep the improvement tracking sheet."
        ),
        "links": [
            HomeLink(_("Survey campaigns"), "campaign_list", "surveys.view_campaign"),
            HomeLink(_("Review meetings"), "review_meeting_list", "improvement.view_reviewmeeting"),
            HomeLink(_("Tracking sheet"), "improvement_tracking", "improvement.view_improvementitem"),
            HomeLink(_("KPI dashboard"), "kpi_dashboard", "kpi.view_kpidefinition"),
            HomeLink(_("Monthly complaint analysis"), "complaint_analysis", "complaints.view_complaint"),
        ],
    },
    "auditor": {
        "summary": _("Read every record and its history, and export the audit trail."),
        "links": [
            HomeLink(_("Audit trail"), "audit_list", "auditlog.view_logentry"),
            HomeLink(_("All complaints"), "complaint_list", "complaints.view_complaint"),
            HomeLink(_("Agreements"), "agreement_list", "sla.view_agreement"),
            HomeLink(_("Tracking sheet"), "improvement_tracking", "improvement.view_improvementitem"),
        ],
    },
}


def home_sections_for(user, roles: list[str]) -> list[dict]:
    """One section per role of ``user``: its summary and the links it may follow."""
    sections = []
    for role in roles:
        spec = ROLE_HOME.get(role)
        if spec is None:
            continue
        links = [
            {"label": link.label, "url": reverse(link.url_name)}
            for link in spec["links"]
            if link.permission is None or user.has_perm(link.permission)
        ]
        sections.append({"role": role, "summary": spec["summary"], "links": links})
    return sections
