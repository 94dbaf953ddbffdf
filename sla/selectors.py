"""Reads of the service catalogue and the agreements that are more than a ``get``.

Querysets are scoped with ``visible_to(user)`` and carry what their pages show (related rows
joined, counts as subqueries), so a page runs the same number of queries whatever the rows.
Also here: an agreement's content as a frozen version stores it (``agreement_content``), the
comparison of two versions (``agreement_versions_diff``) and the rendering of the content
sections, which are Markdown, to sanitised HTML (``rich_text``).
"""

from __future__ import annotations

import difflib
import importlib
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import markdown
import nh3
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .choices import AgreementStatus, Metric, Priority, TargetUnit
from .models import AGREEMENT_SECTIONS, Agreement, AgreementVersion, Service, ServiceLevelTarget

_HEADING = re.compile(r"<(/?)h([1-6])>")
SECTION_NAMES = tuple(name for name, _label in AGREEMENT_SECTIONS)
EXPIRING_WITHIN_DAYS = 60

# What the Markdown of a section may become: text structure, tables and links; nothing active.
_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "u", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a",
}  # fmt: skip


def rich_text(text: str) -> SafeString:
    """A section's Markdown as sanitised HTML. Headings become h5 / h6: on the page a section
    sits under its own h3 title."""
    if not text.strip():
        return mark_safe("")  # noqa: S308  (empty)
    html = markdown.markdown(text, extensions=["tables", "sane_lists", "nl2br"], output_format="html")
    html = _HEADING.sub(lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + 4, 6)}>", html)
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308  (sanitised by nh3 just above)


# --- the catalogue ----------------------------------------------------------------------------


def _count(queryset: QuerySet, name: str = "n") -> Coalesce:
    return Coalesce(Subquery(queryset.order_by().values(name)[:1], output_field=IntegerField()), 0)


def service_list(user: Any) -> QuerySet[Service]:
    """Services ``user`` may see, grouped (ordered) by category, each with ``agreement_count``."""
    covering = (
        Agreement.services.through.objects.filter(service_id=OuterRef("pk"))
        .values("service_id")
        .annotate(n=Count("pk"))
    )
    return (
        Service.objects.visible_to(user)
        .select_related("owner", "calendar")
        .annotate(agreement_count=_count(covering))
        .order_by("category", "name", "pk")
    )


def service_agreements(service: Service, user: Any) -> QuerySet[Agreement]:
    """The agreements covering ``service`` that ``user`` may see, newest numbers first."""
    return (
        Agreement.objects.visible_to(user)
        .filter(services=service)
        .select_related("counterparty")
        .order_by("kind", "-number")
    )


# --- agreements -------------------------------------------------------------------------------


def agreement_list(user: Any) -> QuerySet[Agreement]:
    """Agreements ``user`` may see, with counterparty and owner, ``target_count`` and
    ``service_count`` (subqueries: no row multiplication)."""
    targets = (
        ServiceLevelTarget.objects.filter(agreement_id=OuterRef("pk")).values("agreement_id").annotate(n=Count("pk"))
    )
    services = (
        Agreement.services.through.objects.filter(agreement_id=OuterRef("pk"))
        .values("agreement_id")
        .annotate(n=Count("pk"))
    )
    return (
        Agreement.objects.visible_to(user)
        .select_related("counterparty", "owner")
        .annotate(target_count=_count(targets), service_count=_count(services))
    )


def agreement_get(user: Any, pk: int) -> Agreement:
    """One agreement ``user`` may see, with its counterparty and owner; ``Http404`` otherwise."""
    agreement = Agreement.objects.visible_to(user).select_related("counterparty", "owner").filter(pk=pk).first()
    if agreement is None:
        raise Http404
    return agreement


def expiring_soon(agreement: Agreement, today: date | None = None) -> bool:
    """Active and ending within ``EXPIRING_WITHIN_DAYS`` days."""
    today = today or timezone.localdate()
    return (
        agreement.status == AgreementStatus.ACTIVE
        and agreement.valid_to is not None
        and today <= agreement.valid_to <= today + timedelta(days=EXPIRING_WITHIN_DAYS)
    )


def review_overdue(agreement: Agreement, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return (
        agreement.status == AgreementStatus.ACTIVE
        and agreement.next_review_on is not None
        and agreement.next_review_on < today
    )


def agreement_sections(agreement: Agreement | dict[str, str]) -> list[dict[str, Any]]:
    """Each content section (name, label, text, html), of an agreement or a version's content."""
    texts = agreement if isinstance(agreement, dict) else {name: getattr(agreement, name) for name in SECTION_NAMES}
    return [
        {"name": name, "label": label, "text": texts.get(name, ""), "html": rich_text(texts.get(name, ""))}
        for name, label in AGREEMENT_SECTIONS
    ]


def agreement_targets(agreement: Agreement) -> list[ServiceLevelTarget]:
    """The agreement's targets in the order of the targets table (priority, metric)."""
    return list(agreement.targets.select_related("calendar").order_by("priority", "metric", "name", "pk"))


def agreement_underpinning_summary(agreement: Agreement) -> Any:
    """The underpinning check's summary for the agreement page badge, when that part is
    installed (``sla.underpinning``); None otherwise."""
    try:
        underpinning = importlib.import_module("sla.underpinning")
    except ImportError:
        return None
    summary = getattr(underpinning, "agreement_underpinning_summary", None)
    return summary(agreement) if callable(summary) else None


# --- versions ---------------------------------------------------------------------------------


def _target_content(target: ServiceLevelTarget) -> dict[str, Any]:
    return {
        "id": target.pk,
        "metric": target.metric,
        "priority": target.priority,
        "name": target.name,
        "value": f"{Decimal(target.value).normalize():f}",
        "unit": target.unit,
        "calendar": {"id": target.calendar_id, "name": target.calendar.name} if target.calendar else None,
    }


def agreement_content(agreement: Agreement) -> dict[str, Any]:
    """The agreement as a version freezes it: title, counterparty, validity, signature,
    sections, services and targets (JSON-ready)."""
    return {
        "title": agreement.title,
        "counterparty": {"id": agreement.counterparty_id, "name": agreement.counterparty.name},
        "valid_from": agreement.valid_from.isoformat() if agreement.valid_from else None,
        "valid_to": agreement.valid_to.isoformat() if agreement.valid_to else None,
        "signed_on": agreement.signed_on.isoformat() if agreement.signed_on else None,
        "signed_document": agreement.signed_document.name or "",
        "sections": {name: getattr(agreement, name) for name in SECTION_NAMES},
        "services": [{"id": s.pk, "code": s.code, "name": s.name} for s in agreement.services.order_by("code", "pk")],
        "targets": [_target_content(t) for t in agreement_targets(agreement)],
    }


def agreement_versions(agreement: Agreement) -> list[AgreementVersion]:
    return list(agreement.versions.select_related("created_by").order_by("version"))


def agreement_version(agreement: Agreement, number: int) -> AgreementVersion:
    version = agreement.versions.select_related("created_by").filter(version=number).first()
    if version is None:
        raise Http404
    return version


@dataclass
class DiffRow:
    """One line pair of a side-by-side diff: ``kind`` is equal, replace, delete or insert."""

    kind: str
    left: str
    right: str
    left_no: int | None
    right_no: int | None


@dataclass
class SectionDiff:
    name: str
    label: str
    before: str
    after: str
    unified: list[str] = field(default_factory=list)
    rows: list[DiffRow] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class TargetChange:
    """A target added (``before`` None), removed (``after`` None) or changed, by its key."""

    label: str
    before: str | None
    after: str | None

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed"


@dataclass
class VersionDiff:
    a: AgreementVersion
    b: AgreementVersion
    fields: list[FieldChange] = field(default_factory=list)
    services_added: list[str] = field(default_factory=list)
    services_removed: list[str] = field(default_factory=list)
    sections: list[SectionDiff] = field(default_factory=list)
    targets: list[TargetChange] = field(default_factory=list)

    @property
    def targets_added(self) -> list[TargetChange]:
        return [t for t in self.targets if t.kind == "added"]

    @property
    def targets_removed(self) -> list[TargetChange]:
        return [t for t in self.targets if t.kind == "removed"]

    @property
    def targets_changed(self) -> list[TargetChange]:
        return [t for t in self.targets if t.kind == "changed"]

    @property
    def changed_sections(self) -> list[SectionDiff]:
        return [s for s in self.sections if s.changed]

    @property
    def has_changes(self) -> bool:
        return bool(
            self.fields or self.services_added or self.services_removed or self.changed_sections or self.targets
        )


def side_by_side(before: str, after: str) -> list[DiffRow]:
    """Line pairs of two texts for a two-column diff (difflib opcodes)."""
    left, right = before.splitlines(), after.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs = zip(range(i1, i2), range(j1, j2), strict=True)
            rows.extend(DiffRow("equal", left[i], right[j], i + 1, j + 1) for i, j in pairs)
            continue
        width = max(i2 - i1, j2 - j1)
        for k in range(width):
            i, j = i1 + k, j1 + k
            has_left, has_right = i < i2, j < j2
            kind = "replace" if has_left and has_right else ("delete" if has_left else "insert")
            rows.append(
                DiffRow(
                    kind,
                    left[i] if has_left else "",
                    right[j] if has_right else "",
                    i + 1 if has_left else None,
                    j + 1 if has_right else None,
                )
            )
    return rows


def _unit_label(unit: str) -> str:
    try:
        return str(TargetUnit(unit).label)
    except ValueError:
        return unit


def _target_key(target: dict[str, Any]) -> tuple[str, str, str]:
    return (target.get("metric", ""), target.get("priority", ""), target.get("name", ""))


def target_key_label(target: dict[str, Any]) -> str:
    """``P1 Response time`` for a target of a version's content."""
    metric: str = str(target.get("metric", ""))
    if metric in Metric.values:
        metric = str(Metric(metric).label)
    priority = target.get("priority", "")
    if priority in Priority.values:
        priority = str(priority)
    return f"{priority} {target.get('name') or metric}".strip()


def target_value_label(target: dict[str, Any]) -> str:
    """``30 minutes, 24×7`` / ``4 hours, Business hours`` for a target of a version's content."""
    try:
        value = f"{Decimal(str(target.get('value', ''))).normalize():f}"
    except InvalidOperation:
        value = str(target.get("value", ""))
    calendar = target.get("calendar")
    where = calendar["name"] if isinstance(calendar, dict) else _("24×7")
    if target.get("unit") == TargetUnit.PERCENT:
        return f"{value} %"
    return f"{value} {_unit_label(target.get('unit', ''))}, {where}"


def _plain(value: Any) -> str:
    return "—" if value in (None, "") else str(value)


def agreement_versions_diff(agreement: Agreement, a: int, b: int) -> VersionDiff:
    """What changed from version ``a`` to version ``b`` of ``agreement``: title, counterparty,
    validity and signature; services added and removed; per section a unified diff and
    side-by-side rows; targets added, removed and changed (matched by metric, priority and
    name). Raises ``Http404`` for a version the agreement does not have."""
    versions = {v.version: v for v in agreement.versions.select_related("created_by").filter(version__in=[a, b])}
    if a not in versions or b not in versions:
        raise Http404
    old, new = versions[a], versions[b]
    before, after = old.content or {}, new.content or {}
    diff = VersionDiff(a=old, b=new)

    def counterparty(content: dict[str, Any]) -> str:
        party = content.get("counterparty")
        return party.get("name", "") if isinstance(party, dict) else _plain(party)

    def document(content: dict[str, Any]) -> str:
        return (content.get("signed_document") or "").rsplit("/", 1)[-1]

    for label, read in (
        (_("Title"), lambda c: _plain(c.get("title"))),
        (_("Counterparty"), counterparty),
        (_("Valid from"), lambda c: _plain(c.get("valid_from"))),
        (_("Valid to"), lambda c: _plain(c.get("valid_to"))),
        (_("Signed on"), lambda c: _plain(c.get("signed_on"))),
        (_("Signed document"), lambda c: _plain(document(c))),
    ):
        if read(before) != read(after):
            diff.fields.append(FieldChange(str(label), read(before), read(after)))

    def services(content: dict[str, Any]) -> dict[Any, str]:
        return {s.get("id"): f"{s.get('code', '')} {s.get('name', '')}".strip() for s in content.get("services", [])}

    old_services, new_services = services(before), services(after)
    diff.services_added = [name for pk, name in new_services.items() if pk not in old_services]
    diff.services_removed = [name for pk, name in old_services.items() if pk not in new_services]

    old_sections, new_sections = before.get("sections", {}), after.get("sections", {})
    for name, section_label in AGREEMENT_SECTIONS:
        text_a, text_b = old_sections.get(name, "") or "", new_sections.get(name, "") or ""
        section = SectionDiff(name=name, label=str(section_label), before=text_a, after=text_b)
        if section.changed:
            section.unified = list(
                difflib.unified_diff(text_a.splitlines(), text_b.splitlines(), f"v{a}", f"v{b}", lineterm="", n=2)
            )
            section.rows = side_by_side(text_a, text_b)
        diff.sections.append(section)

    old_targets = {_target_key(t): t for t in before.get("targets", [])}
    new_targets = {_target_key(t): t for t in after.get("targets", [])}
    for key in sorted(set(old_targets) | set(new_targets), key=lambda k: (k[1], k[0], k[2])):
        was, now = old_targets.get(key), new_targets.get(key)
        was_label = target_value_label(was) if was else None
        now_label = target_value_label(now) if now else None
        if was_label != now_label:
            diff.targets.append(TargetChange(target_key_label(now or was or {}), was_label, now_label))
    return diff
