"""How the audit trail reads to people: auditors, process owners, the per-record history pages.

django-auditlog records each change as raw strings (``{"status": ["investigating",
"resolved"], "owner": ["3", "7"]}``). This module turns a page of entries into what a person
reads: field names as their translated labels, choice values as their labels, related records
by name, times in the calendar's zone to the minute, yes / no, many-to-many additions and
removals, long texts shortened with the full text kept for "show all". It also keeps the
registry of audited models: each app registers its own (``audit_register`` in its
``AppConfig.ready``), naming the page a record is shown on and the bookkeeping fields that
are not recorded at all (claim markers of the periodic checks, the paused clock).

Presenting a page costs a constant number of queries: related records are looked up in one
query per related model for the whole page, never per entry.
"""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

# Recorded by every model and meaningless to a reader: the entry has its own time and record.
ALWAYS_HIDDEN = frozenset({"id", "created_at", "updated_at"})
# Markers a periodic check sets when it claims a step ("warned", "escalated", "reminded"):
# the step itself is on the record's timeline; the marker is bookkeeping.
HIDDEN_SUFFIXES = ("_warned_at", "_escalated_at", "_notified_at", "reminder_sent_at")
SHORT_TEXT = 120
NONE = "—"

ACTION_LABELS: dict[int, Promise] = {
    LogEntry.Action.CREATE: pgettext_lazy("audit action", "Created"),
    LogEntry.Action.UPDATE: pgettext_lazy("audit action", "Changed"),
    LogEntry.Action.DELETE: pgettext_lazy("audit action", "Deleted"),
    LogEntry.Action.ACCESS: pgettext_lazy("audit action", "Viewed"),
}


@dataclass(frozen=True)
class AuditedModel:
    model: type[models.Model]
    url_name: str | None
    hidden: frozenset[str]


AUDITED: dict[type[models.Model], AuditedModel] = {}


def _is_hidden(name: str, hidden: frozenset[str]) -> bool:
    return name in ALWAYS_HIDDEN or name in hidden or name.endswith(HIDDEN_SUFFIXES)


def audit_register(
    model: type[models.Model],
    *,
    url_name: str | None = None,
    hidden: Iterable[str] = (),
    m2m: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> None:
    """Record ``model`` in the audit trail.

    ``url_name``: the page showing one record (reversed with its pk), linked from the trail.
    ``hidden``: bookkeeping fields, neither recorded nor shown (with ``ALWAYS_HIDDEN`` and the
    claim markers of ``HIDDEN_SUFFIXES``). ``exclude``: fields not recorded for another reason
    (secrets). Reverse relations are never recorded (auditlog would write "app.Model.None").
    """
    hidden_set = frozenset(hidden)
    concrete = [f.name for f in model._meta.get_fields() if getattr(f, "concrete", False)]
    not_recorded = {
        *exclude,
        *(name for name in concrete if _is_hidden(name, hidden_set)),
        *(f.name for f in model._meta.get_fields() if f.auto_created and not f.concrete),
    }
    auditlog.register(model, exclude_fields=sorted(not_recorded), m2m_fields=set(m2m))
    AUDITED[model] = AuditedModel(model, url_name, hidden_set | frozenset(exclude))


def audited_models() -> list[type[models.Model]]:
    return list(AUDITED)


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """One side of a change: ``text`` to show, ``full`` when ``text`` was shortened."""

    text: str
    full: str = ""

    @classmethod
    def of(cls, text: str) -> Value:
        text = text.strip()
        if not text:
            return cls(NONE)
        if len(text) > SHORT_TEXT:
            return cls(text[:SHORT_TEXT].rstrip() + "…", text)
        return cls(text)

    def __str__(self) -> str:
        return self.full or self.text


@dataclass(frozen=True)
class Change:
    label: str
    before: Value
    after: Value


@dataclass
class EntryView:
    entry: LogEntry
    when: datetime
    actor: str
    action: str
    record_type: str
    record: str
    record_url: str
    changes: list[Change] = field(default_factory=list)

    @property
    def pk(self) -> int:
        return self.entry.pk


def _parse_datetime(raw: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    # auditlog writes aware datetimes as naive UTC.
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def local_minute(moment: datetime) -> str:
    """A moment in the calendar's zone (the active time zone), to the minute."""
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def _json_text(raw: str) -> str:
    """A JSON field's value, compact and with Chinese readable (auditlog stored it as JSON
    text with ``\\u`` escapes, or as a Python repr in older entries)."""
    try:
        value = json.loads(raw)
    except ValueError:
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return raw
    return json.dumps(value, ensure_ascii=False, default=str)


class _Formatter:
    """Turns stored strings into readable ones for one page of entries."""

    def __init__(self, entries: Sequence[LogEntry]):
        self.yes, self.no = _("Yes"), _("No")
        self._names: dict[type[models.Model], dict[str, str]] = {}
        wanted: dict[type[models.Model], set[str]] = defaultdict(set)
        for entry in entries:
            model = entry.content_type.model_class()
            for name, values in _changes(entry):
                model_field = _field(model, name)
                if isinstance(model_field, models.ForeignKey) and isinstance(values, list):
                    wanted[model_field.related_model].update(v for v in values if v not in (None, "None", ""))
        for related, pks in wanted.items():
            # One query per related model for the whole page; select_related() follows the
            # non-null foreign keys that a __str__ like "organisation / department" reads.
            rows = related._default_manager.filter(pk__in=_valid_pks(related, pks)).select_related()
            self._names[related] = {str(row.pk): str(row) for row in rows}

    def value(self, model_field: models.Field | None, raw: Any) -> Value:
        if raw is None or raw == "None":
            return Value(NONE)
        raw = str(raw)
        if model_field is None:
            return Value.of(raw)
        if model_field.choices:
            labels = {str(key): str(label) for key, label in model_field.flatchoices}
            return Value.of(labels.get(raw, raw))
        if isinstance(model_field, models.BooleanField):
            return Value({"True": self.yes, "False": self.no}.get(raw, raw))
        if isinstance(model_field, models.ForeignKey):
            name = self._names.get(model_field.related_model, {}).get(raw)
            return Value.of(name if name is not None else _("#%(pk)s (no longer exists)") % {"pk": raw})
        if isinstance(model_field, models.DateTimeField):
            moment = _parse_datetime(raw)
            return Value(local_minute(moment) if moment else raw)
        if isinstance(model_field, models.FileField):
            return Value.of(PurePosixPath(raw).name)
        if isinstance(model_field, models.JSONField):
            return Value.of(_json_text(raw))
        return Value.of(raw)

    def m2m(self, values: dict) -> tuple[Value, Value]:
        names = "、".join(str(name) for name in values.get("objects", []))
        if values.get("operation") == "add":
            return Value(NONE), Value.of(_("added: %(names)s") % {"names": names})
        if values.get("operation") == "delete":
            return Value.of(_("removed: %(names)s") % {"names": names}), Value(NONE)
        return Value(NONE), Value(_("cleared"))


def _valid_pks(model: type[models.Model], pks: Iterable[str]) -> list[Any]:
    valid = []
    for pk in pks:
        try:
            valid.append(model._meta.pk.to_python(pk))
        except Exception:  # noqa: S112  (a legacy value that is no pk: shown as stored)
            continue
    return valid


def _changes(entry: LogEntry) -> Iterator[tuple[str, Any]]:
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    yield from changes.items()


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return model_field if isinstance(model_field, models.Field) and model_field.concrete else None


def _label(model: type[models.Model] | None, name: str) -> str:
    """The field's translated label (many-to-many fields included); its name when it is gone."""
    try:
        verbose_name = model._meta.get_field(name).verbose_name  # type: ignore[union-attr]
    except (FieldDoesNotExist, AttributeError):
        return name
    return capfirst(str(verbose_name))


def _shown(model: type[models.Model] | None, name: str) -> bool:
    if model is not None:
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            pass
        else:
            if not getattr(model_field, "concrete", False) and not model_field.many_to_many:
                return False  # a reverse relation an older entry recorded
    spec = AUDITED.get(model) if model is not None else None
    return not _is_hidden(name, spec.hidden if spec else frozenset())


def _actor(entry: LogEntry) -> str:
    if entry.actor is not None:
        return str(entry.actor)
    return entry.actor_email or _("system")


def _record_url(model: type[models.Model] | None, entry: LogEntry) -> str:
    spec = AUDITED.get(model) if model is not None else None
    if spec is None or spec.url_name is None or entry.action == LogEntry.Action.DELETE:
        return ""
    try:
        return reverse(spec.url_name, args=[entry.object_pk])
    except NoReverseMatch:
        return ""


def present(entries: Iterable[LogEntry]) -> list[EntryView]:
    """Readable views of ``entries`` (load them with ``actor`` and ``content_type``)."""
    entries = list(entries)
    formatter = _Formatter(entries)
    views = []
    for entry in entries:
        model = entry.content_type.model_class()
        view = EntryView(
            entry=entry,
            when=entry.timestamp,
            actor=_actor(entry),
            action=str(ACTION_LABELS.get(entry.action, entry.get_action_display())),
            record_type=capfirst(str(model._meta.verbose_name)) if model else entry.content_type.model,
            record=entry.object_repr,
            record_url=_record_url(model, entry),
        )
        for name, values in _changes(entry):
            if not _shown(model, name):
                continue
            model_field = _field(model, name)
            label = _label(model, name)
            if isinstance(values, dict):  # many-to-many: {"type": "m2m", "operation", "objects"}
                before, after = formatter.m2m(values)
            elif isinstance(values, list | tuple) and len(values) == 2:
                before, after = formatter.value(model_field, values[0]), formatter.value(model_field, values[1])
                if entry.action == LogEntry.Action.CREATE and after.text == NONE:
                    continue  # a new record's empty fields say nothing
            else:
                before, after = Value(NONE), Value.of(str(values))
            view.changes.append(Change(label, before, after))
        views.append(view)
    return views


def _plain(value: Value) -> str:
    return "" if value.text == NONE else str(value)


def change_rows(entries: Iterable[LogEntry], chunk_size: int = 500) -> Iterator[dict[str, str]]:
    """One row per changed field (an entry without visible changes gives one row), for the
    CSV / XLSX export; presented a chunk at a time so memory stays flat."""
    chunk: list[LogEntry] = []

    def flush() -> Iterator[dict[str, str]]:
        for view in present(chunk):
            base = {
                "when": local_minute(view.when),
                "actor": view.actor,
                "record_type": view.record_type,
                "record": view.record,
                "object_pk": view.entry.object_pk,
                "action": view.action,
            }
            if not view.changes:
                yield {**base, "field": "", "before": "", "after": ""}
            for change in view.changes:
                yield {**base, "field": change.label, "before": _plain(change.before), "after": _plain(change.after)}

    for entry in entries:
        chunk.append(entry)
        if len(chunk) >= chunk_size:
            yield from flush()
            chunk = []
    yield from flush()
