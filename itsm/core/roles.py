"""Roles (SPEC §1) and the model permissions each one holds.

A role is a Django group. ``ROLE_PERMISSIONS`` is the single table of what each role may do
with each model; ``sync_role_permissions`` makes the groups match it. It runs in the data
migration that creates the groups and again after every ``migrate`` (post_migrate), so a model
added by a later app gets its permissions without a hand-written migration.

Rules are ``"app_label.model": "view add change delete"``; the key ``"*"`` means every model of
the project's own apps (``PROJECT_APPS``). Workflow capabilities beyond CRUD are custom
permissions declared on the models and named here the same way.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

PROJECT_APPS = ("core", "complaints", "surveys", "sla", "improvement", "kpi")


class Role(models.TextChoices):
    SERVICE_DESK = "service_desk", _("Service desk")
    SATISFACTION_OWNER = "satisfaction_owner", _("Satisfaction owner")
    BR_MANAGER = "br_manager", _("Business relationship manager")
    DEPARTMENT_HEAD = "department_head", _("Department head")
    MANAGEMENT_REP = "management_rep", _("Management representative")
    PROCESS_OWNER = "process_owner", _("Process owner")
    SERVICE_LEVEL_MANAGER = "service_level_manager", _("Service level manager")
    QUALITY_MANAGER = "quality_manager", _("Quality manager")
    AUDITOR = "auditor", _("Auditor")


VIEW = "view"
EDIT = "view add change"
FULL = "view add change delete"

# Every role reads the shared reference data; what differs is who maintains it.
_READ_CORE = {
    "core.organisation": VIEW,
    "core.department": VIEW,
    "core.contact": VIEW,
    "core.calendar": VIEW,
    "core.calendaroverride": VIEW,
}

# Complaints: the desk and BR managers register and work them; heads and the management
# representative work the escalations that reach them; the workflow table says which actions.
_COMPLAINTS_READ = {
    "complaints.complaint": VIEW,
    "complaints.complaintevent": VIEW,
    "complaints.complaintattachment": VIEW,
    "complaints.complainttarget": VIEW,
}
_COMPLAINTS_WORK = {**_COMPLAINTS_READ, "complaints.complaint": EDIT, "complaints.complaintattachment": EDIT}
_COMPLAINTS_ESCALATION = {
    **_COMPLAINTS_READ,
    "complaints.complaint": "view change",
    "complaints.complaintattachment": EDIT,
}

# Satisfaction: the service desk calls back resolved tickets and records weekly visits; the
# satisfaction owner and BR managers follow them; tickets arrive through the API.
_SATISFACTION_READ = {
    "surveys.ticket": VIEW,
    "surveys.callback": VIEW,
    "surveys.weeklyreport": VIEW,
    "surveys.weeklyreportitem": VIEW,
}
_SATISFACTION_DESK = {
    **_SATISFACTION_READ,
    "surveys.ticket": EDIT,
    "surveys.callback": "view change",
    "surveys.weeklyreport": EDIT,
    "surveys.weeklyreportitem": EDIT,
}

# Surveys: satisfaction owners (and the quality department, for company-level surveys) build
# questionnaires and run campaigns; BR managers approve them (the workflow table says who may
# do which step) and own the improvement items; the others read the results.
_SURVEYS_READ = {
    "surveys.questionnaire": VIEW,
    "surveys.questionnairesection": VIEW,
    "surveys.question": VIEW,
    "surveys.questionoption": VIEW,
    "surveys.campaign": VIEW,
    "surveys.campaigndepartmentratio": VIEW,
    "surveys.campaignevent": VIEW,
    "surveys.invitation": VIEW,
    "surveys.surveyresponse": VIEW,
    "surveys.answer": VIEW,
}
_SURVEYS_PLAN = {
    **_SURVEYS_READ,
    "surveys.questionnaire": EDIT,
    "surveys.questionnairesection": FULL,
    "surveys.question": FULL,
    "surveys.questionoption": FULL,
    "surveys.campaign": FULL,
    "surveys.campaigndepartmentratio": FULL,
}
_SURVEYS_APPROVE = {**_SURVEYS_READ, "surveys.campaign": "view change"}

# Service catalogue and agreements: the service level manager keeps them; every staff role
# reads the catalogue and the agreements (complaints and surveys name the services).
_SLA_READ = {
    "sla.service": VIEW,
    "sla.serviceevent": VIEW,
    "sla.agreement": VIEW,
    "sla.agreementversion": VIEW,
    "sla.agreementevent": VIEW,
    "sla.serviceleveltarget": VIEW,
    "sla.measurement": VIEW,
    "sla.slareport": VIEW,
    "sla.agreementreview": VIEW,
}
_SLA_MANAGE = {
    **_SLA_READ,
    "sla.service": EDIT,
    "sla.agreement": EDIT,
    "sla.serviceleveltarget": FULL,
    "sla.measurement": EDIT,
    "sla.slareport": EDIT,
    "sla.agreementreview": EDIT,
}

# KPIs: every staff role reads the dashboards; the process owner keeps the definitions and
# targets, enters manual values and recomputes a closed period (a new revision, with a reason).
_KPI_READ = {
    "kpi.kpidefinition": VIEW,
    "kpi.kpitarget": VIEW,
    "kpi.kpivalue": VIEW,
    "kpi.kpivaluerecord": VIEW,
}

# Continual improvement: every staff role reads the register, the plans and the meetings and
# raises items from what it works on; the roles that propose improvements draft and run plans
# (the workflow table says who approves); BR managers, the quality department and the process
# owner run the review meetings. An action's owner records its progress whatever the role.
_IMPROVEMENT_READ = {
    "improvement.improvementitem": VIEW,
    "improvement.improvementitemevent": VIEW,
    "improvement.improvementplan": VIEW,
    "improvement.improvementplanevent": VIEW,
    "improvement.planaction": VIEW,
    "improvement.effectivenessreview": VIEW,
    "improvement.reviewmeeting": VIEW,
    "improvement.reviewmeetingevent": VIEW,
    "improvement.meetingdecision": VIEW,
}
_IMPROVEMENT_RAISE = {**_IMPROVEMENT_READ, "improvement.improvementitem": EDIT}
_IMPROVEMENT_WORK = {
    **_IMPROVEMENT_RAISE,
    "improvement.improvementplan": EDIT,
    "improvement.planaction": EDIT,
    "improvement.effectivenessreview": EDIT,
}
_IMPROVEMENT_LEAD = {
    **_IMPROVEMENT_WORK,
    "improvement.reviewmeeting": EDIT,
    "improvement.meetingdecision": EDIT,
}

ROLE_PERMISSIONS: dict[str, dict[str, str]] = {
    Role.SERVICE_DESK: {
        **_READ_CORE,
        "core.contact": EDIT,
        "core.department": EDIT,
        "core.organisation": EDIT,
        **_COMPLAINTS_WORK,
        **_SATISFACTION_DESK,
        "sla.service": VIEW,
        "sla.agreement": VIEW,
        "sla.serviceleveltarget": VIEW,
        **_KPI_READ,
        **_IMPROVEMENT_RAISE,
    },
    Role.SATISFACTION_OWNER: {
        **_READ_CORE,
        "core.contact": EDIT,
        **_COMPLAINTS_READ,
        **_SATISFACTION_READ,
        **_SURVEYS_PLAN,
        **_SLA_READ,
        **_KPI_READ,
        **_IMPROVEMENT_WORK,
    },
    Role.BR_MANAGER: {
        **_READ_CORE,
        "core.organisation": EDIT,
        "core.department": EDIT,
        "core.contact": EDIT,
        **_COMPLAINTS_WORK,
        **_SATISFACTION_READ,
        **_SURVEYS_APPROVE,
        **_SLA_READ,
        **_KPI_READ,
        **_IMPROVEMENT_LEAD,
    },
    Role.DEPARTMENT_HEAD: {
        **_READ_CORE,
        **_COMPLAINTS_ESCALATION,
        **_SURVEYS_READ,
        **_SLA_READ,
        **_KPI_READ,
        **_IMPROVEMENT_WORK,
    },
    Role.MANAGEMENT_REP: {
        **_READ_CORE,
        **_COMPLAINTS_ESCALATION,
        **_SURVEYS_READ,
        **_SLA_READ,
        **_KPI_READ,
        **_IMPROVEMENT_RAISE,
    },
    Role.PROCESS_OWNER: {
        "*": VIEW,
        "auditlog.logentry": VIEW,
        "core.organisation": FULL,
        "core.department": FULL,
        "core.contact": FULL,
        "core.calendar": EDIT,
        "core.calendaroverride": FULL,
        "complaints.complainttarget": "view change",
        # The mail queue: "change" is "send held mail now" (no other change is offered).
        "core.notification": "view change",
        "kpi.kpidefinition": EDIT,
        "kpi.kpitarget": FULL,
        "kpi.kpivalue": EDIT,
        **_IMPROVEMENT_LEAD,
    },
    Role.SERVICE_LEVEL_MANAGER: {
        **_READ_CORE,
        "core.organisation": EDIT,
        "core.department": EDIT,
        "core.contact": EDIT,
        **_COMPLAINTS_READ,
        **_SURVEYS_READ,
        **_SLA_MANAGE,
        **_KPI_READ,
        **_IMPROVEMENT_WORK,
    },
    Role.QUALITY_MANAGER: {
        **_READ_CORE,
        **_COMPLAINTS_READ,
        **_SATISFACTION_READ,
        **_SURVEYS_PLAN,
        **_SLA_READ,
        **_KPI_READ,
        **_IMPROVEMENT_LEAD,
    },
    # Reads everything, history included (the mail queue too, without "send now"); changes nothing.
    Role.AUDITOR: {"*": VIEW, "auditlog.logentry": VIEW},
}


def _expand(rules: dict[str, str], content_types) -> set[tuple[str, str]]:
    """(app_label, codename) pairs a rule table grants, given the installed content types."""
    wanted: set[tuple[str, str]] = set()
    for target, verbs in rules.items():
        if target == "*":
            models_ = [(ct.app_label, ct.model) for ct in content_types if ct.app_label in PROJECT_APPS]
        else:
            app_label, model = target.split(".")
            models_ = [(app_label, model)]
        for app_label, model in models_:
            for verb in verbs.split():
                wanted.add((app_label, verb if "_" in verb else f"{verb}_{model}"))
    return wanted


def sync_role_permissions(apps=None) -> None:
    """Create the role groups and set each one's permissions to exactly its rules."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_types = list(ContentType.objects.all())
    by_key = {(p.content_type.app_label, p.codename): p.pk for p in Permission.objects.select_related("content_type")}
    for role, rules in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=str(role))
        ids = {by_key[key] for key in _expand(rules, content_types) if key in by_key}
        current = set(group.permissions.values_list("pk", flat=True))
        if ids != current:
            group.permissions.set(ids)


def sync_role_permissions_handler(sender, **kwargs) -> None:
    """post_migrate: keep groups in step with the rule table once every app is migrated."""
    from django.apps import apps as global_apps

    # post_migrate fires once per app; run when the last app of the project is done.
    if getattr(sender, "label", None) == "kpi":
        sync_role_permissions(global_apps)


def roles_of(user) -> list[str]:
    """The role names of ``user`` (group names that are roles), in table order."""
    if not user.is_authenticated:
        return []
    names = {g.name for g in user.groups.all()}
    return [r.value for r in Role if r.value in names]
