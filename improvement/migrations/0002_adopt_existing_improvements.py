"""The register adopts what pointed at improvements before it existed, and its histories are
append-only in the database.

* Every survey improvement item (``surveys.ImprovementItem``) becomes a register item with its
  source kept — the campaign, and the question where it had one (kind ``survey_question``) —,
  its title, description, priority, owner, author and dates. Statuses map proposed / accepted →
  open, in plan → planned, done → done, rejected → dismissed.
* A free-text plan reference (a survey item's ``plan_ref``, a complaint's
  ``improvement_plan_ref``) names a plan: the plan whose reference it is, else a draft plan made
  for it (title and earlier reference = the text), so the complaint and the item keep their link.
  Each complaint with a reference gets a planned register item from it (kind ``complaint``).
* Each line of an agreement review's free-text "improvement items" becomes an open item whose
  source is the review.

The removal of the old fields follows in each app's next migration.
"""

from django.db import migrations
from django.utils import timezone

from itsm.core.audit import create_append_only_triggers, drop_append_only_triggers

TABLES = ("improvement_improvementitemevent", "improvement_improvementplanevent")
STATUS = {"proposed": "open", "accepted": "open", "in_plan": "planned", "done": "done", "rejected": "dismissed"}


def _triggers(apps, schema_editor):
    for table in TABLES:
        create_append_only_triggers(table, schema_editor.connection)


def _drop_triggers(apps, schema_editor):
    for table in TABLES:
        drop_append_only_triggers(table, schema_editor.connection)


class _Numbers:
    """References in the new records' own years, continuing after any taken."""

    def __init__(self, model, prefix, width):
        self.model, self.prefix, self.width, self.last = model, prefix, width, {}

    def next(self, moment):
        year = timezone.localtime(moment).year if timezone.is_aware(moment) else moment.year
        if year not in self.last:
            start = f"{self.prefix}-{year}-"
            taken = self.model.objects.filter(reference__startswith=start).values_list("reference", flat=True)
            self.last[year] = max((int(r[len(start) :]) for r in taken if r[len(start) :].isdigit()), default=0)
        self.last[year] += 1
        return f"{self.prefix}-{year}-{self.last[year]:0{self.width}d}"


def _adopt(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Plan = apps.get_model("improvement", "ImprovementPlan")
    PlanEvent = apps.get_model("improvement", "ImprovementPlanEvent")
    Item = apps.get_model("improvement", "ImprovementItem")
    ItemEvent = apps.get_model("improvement", "ImprovementItemEvent")
    SurveyItem = apps.get_model("surveys", "ImprovementItem")
    Complaint = apps.get_model("complaints", "Complaint")
    Review = apps.get_model("sla", "AgreementReview")

    def content_type(app_label, model):
        return ContentType.objects.get_or_create(app_label=app_label, model=model)[0]

    plans = _Numbers(Plan, "SIP", 4)
    items = _Numbers(Item, "IMP", 5)
    by_text: dict[str, object] = {}

    def plan_for(text, owner_id, moment):
        text = text.strip()
        if text in by_text:
            return by_text[text]
        plan = Plan.objects.filter(reference=text).first() or Plan.objects.filter(legacy_ref=text).first()
        if plan is None:
            plan = Plan.objects.create(
                reference=plans.next(moment),
                title=text[:200],
                goal=text,
                legacy_ref=text[:100],
                owner_id=owner_id,
                status="draft",
            )
            PlanEvent.objects.create(
                plan=plan,
                action="created",
                to_status="draft",
                actor_label="system",
                note=f"Made for the reference “{text}” when plans became records.",
            )
        by_text[text] = plan
        return plan

    def new_item(*, moment, kind, source_ct, source_id, part_id=None, status, **fields):
        item = Item.objects.create(
            reference=items.next(moment),
            source_kind=kind,
            source_type=source_ct,
            source_id=source_id,
            source_part_id=part_id,
            status=status,
            closed_at=moment if status in ("done", "dismissed") else None,
            **fields,
        )
        # auto_now_add stamped today: keep when the item was really raised.
        Item.objects.filter(pk=item.pk).update(created_at=moment)
        ItemEvent.objects.create(
            item=item,
            action="created",
            to_status=status,
            actor_id=fields.get("created_by_id"),
            actor_label="" if fields.get("created_by_id") else "system",
            note="Moved into the improvement register.",
            data={"source": kind, "source_id": source_id},
        )
        return item

    campaign_ct = content_type("surveys", "campaign")
    for old in SurveyItem.objects.order_by("created_at", "pk"):
        status = STATUS.get(old.status, "open")
        plan = plan_for(old.plan_ref, old.owner_id, old.created_at) if old.plan_ref.strip() else None
        if status == "planned" and plan is None:
            status = "open"
        new_item(
            moment=old.created_at,
            kind="survey_question" if old.question_id else "survey_campaign",
            source_ct=campaign_ct,
            source_id=old.campaign_id,
            part_id=old.question_id,
            status=status,
            title=old.title,
            description=old.description,
            priority=old.priority,
            owner_id=old.owner_id,
            created_by_id=old.created_by_id,
            plan=plan if status in ("planned", "done") else None,
            resolution="Rejected before the register existed." if status == "dismissed" else "",
        )

    complaint_ct = content_type("complaints", "complaint")
    for complaint in Complaint.objects.exclude(improvement_plan_ref="").order_by("received_at", "pk"):
        plan = plan_for(complaint.improvement_plan_ref, complaint.owner_id, complaint.received_at)
        new_item(
            moment=complaint.received_at,
            kind="complaint",
            source_ct=complaint_ct,
            source_id=complaint.pk,
            status="planned",
            title=f"{complaint.reference} {complaint.title}"[:200],
            description=complaint.root_cause,
            priority="high" if complaint.severity == "major" else "medium",
            owner_id=complaint.owner_id,
            created_by_id=None,
            plan=plan,
        )

    review_ct = content_type("sla", "agreementreview")
    for review in Review.objects.exclude(improvement_items="").order_by("created_at", "pk"):
        for line in review.improvement_items.splitlines():
            text = line.strip().lstrip("-•*·").strip()
            if not text:
                continue
            new_item(
                moment=review.created_at,
                kind="agreement_review",
                source_ct=review_ct,
                source_id=review.pk,
                status="open",
                title=text[:200],
                description=text if len(text) > 200 else "",
                priority="medium",
                owner_id=review.recorded_by_id,
                created_by_id=review.recorded_by_id,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("improvement", "0001_register_plans_meetings"),
        ("surveys", "0009_ticket_close_time"),
        ("complaints", "0008_complaint_diagnosis"),
        ("sla", "0003_events_on_workflow_event"),
    ]

    operations = [
        migrations.RunPython(_triggers, _drop_triggers),
        migrations.RunPython(_adopt, migrations.RunPython.noop),
    ]
