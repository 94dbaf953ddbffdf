"""The registry of improvement sources and intake rules (the shape of ``itsm.core.periodic``).

**Sources.** Every app whose records can prompt an improvement registers the kinds of source
it offers in its own ``improvements.py`` with ``register_source(...)``: the kind's key (stored
on the item), its label, the model of the source record, optionally the model of a part of it
(a question of a campaign's results), how to name and link a source, and what a new item from
it is pre-filled with. The improvement app never imports another app to find them; a new kind
(an audit finding) is one more registration, no migration.

**Intake rules.** An app may also register ``@intake_rule(name)`` functions that find what
should be suggested to the register without anyone asking (a KPI period that closed red, an
SLA target breached two months running, a survey question below the KPI target). A rule
returns ``Suggestion`` rows; the periodic check ``improvement.intake`` turns each into a
*suggested* item unless one with the same ``key`` exists — so a rule may return the same
finding every time it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules

# (source, part) → what is shown / linked / pre-filled.
Describe = Callable[[Any, Any], str]
Prefill = Callable[[Any, Any], dict[str, Any]]


def _default_url(source: Any, part: Any) -> str:
    return source.get_absolute_url() if hasattr(source, "get_absolute_url") else ""


def _default_prefill(source: Any, part: Any) -> dict[str, Any]:
    return {"title": str(part or source)[:200]}


@dataclass(frozen=True)
class ImprovementSource:
    kind: str
    label: str | Promise
    # ``app_label.model`` of the source record, and of the part of it a kind may name.
    model: str
    part_model: str = ""
    describe: Describe = lambda source, part: str(part or source)  # noqa: E731
    url: Describe = _default_url
    prefill: Prefill = _default_prefill
    # The source records' queryset a picker or a check reads (``select_related`` for ``describe``).
    queryset: Callable[[], models.QuerySet] | None = None
    # Whether a person raises items from it (False: only the system's intake does).
    manual: bool = True
    # Why a source cannot take items now ("" when it can): a campaign's results before its close.
    refuses: Callable[[Any], str] | None = None

    @property
    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    @property
    def part_class(self) -> type[models.Model] | None:
        return apps.get_model(self.part_model) if self.part_model else None

    def readable_by(self, user: Any) -> bool:
        """Whether ``user`` may read records of this kind (and so raise items from them)."""
        opts = self.model_class._meta
        return bool(user.is_authenticated and user.has_perm(f"{opts.app_label}.view_{opts.model_name}"))

    def refusal(self, source: Any) -> str:
        return self.refuses(source) if self.refuses is not None else ""

    def records(self) -> models.QuerySet:
        return self.queryset() if self.queryset is not None else self.model_class._default_manager.all()


_sources: dict[str, ImprovementSource] = {}


def register_source(source: ImprovementSource) -> ImprovementSource:
    """Register a kind of source (from an app's ``improvements.py``)."""
    existing = _sources.get(source.kind)
    if existing is not None and existing != source:
        raise ValueError(f"Improvement source {source.kind!r} is registered twice.")
    _sources[source.kind] = source
    return source


def sources() -> dict[str, ImprovementSource]:
    """Every registered kind, in registration order (imports each app's ``improvements`` first)."""
    autodiscover_modules("improvements")
    return _sources


def source_for(kind: str) -> ImprovementSource | None:
    return sources().get(kind)


def source_choices() -> list[tuple[str, str]]:
    """(kind, label) of every kind, for filters."""
    return [(kind, str(source.label)) for kind, source in sources().items()]


@dataclass(frozen=True)
class Suggestion:
    """One finding an intake rule makes: a suggested item unless ``key`` was suggested before."""

    key: str
    kind: str
    source: models.Model
    title: str
    description: str = ""
    priority: str = "medium"
    owner: Any = None
    part: models.Model | None = None


@dataclass(frozen=True)
class IntakeRule:
    name: str
    func: Callable[[], Iterable[Suggestion]]
    description: str = field(default="")


_rules: dict[str, IntakeRule] = {}


def intake_rule(name: str) -> Callable[[Callable[[], Iterable[Suggestion]]], Callable[[], Iterable[Suggestion]]]:
    """Register the decorated function as the intake rule ``name``."""

    def register(func: Callable[[], Iterable[Suggestion]]) -> Callable[[], Iterable[Suggestion]]:
        if name in _rules and _rules[name].func is not func:
            raise ValueError(f"Intake rule {name!r} is registered twice.")
        _rules[name] = IntakeRule(name=name, func=func, description=(func.__doc__ or "").strip())
        return func

    return register


def intake_rules() -> list[IntakeRule]:
    autodiscover_modules("improvements")
    return sorted(_rules.values(), key=lambda rule: rule.name)
