"""The home page's work queues: each app registers its panels, the core shows them.

A panel is a queue one or more roles work from — its count and the first few items with their
deadlines ("complaints awaiting acceptance: 3, the first due in 2.5 working hours"), and a link
to the whole queue. Apps register theirs in ``<app>/home.py`` (imported by the app's
``AppConfig.ready``), like the periodic checks; the core never imports an app to find them.
A home action is a primary button ("Register a complaint").

Each panel's ``build`` runs a fixed number of queries (typically a count and the first items),
so the home page costs the same whatever the size of the queues. A superuser sees every panel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise

from .roles import roles_of

HOME_ITEMS = 5  # the first items a panel shows


@dataclass
class PanelItem:
    """One row of a queue: what it is, where it goes, and when it is due."""

    label: str
    url: str = ""
    detail: str = ""  # second line: the customer, the state
    due: datetime | date | None = None
    due_text: str = ""  # "2.5 working hours left", "overdue by 3 days"
    overdue: bool = False
    badge: str = ""  # a figure beside the label: a response rate, a level


@dataclass
class PanelContent:
    count: int
    items: list[PanelItem] = field(default_factory=list)
    url: str = ""  # the whole queue
    note: str | Promise = ""  # one line under the title (what the count counts)


@dataclass(frozen=True)
class HomePanel:
    key: str
    title: str | Promise
    roles: frozenset[str]
    build: Callable[[Any], PanelContent]  # called with the user
    permission: str | None = None
    empty: str | Promise = ""
    order: int = 100


@dataclass(frozen=True)
class HomeAction:
    key: str
    label: str | Promise
    url_name: str
    roles: frozenset[str]
    permission: str | None = None
    order: int = 100


PANELS: dict[str, HomePanel] = {}
ACTIONS: dict[str, HomeAction] = {}


def register_panel(
    key: str,
    title: str | Promise,
    *,
    roles: Iterable[str],
    build: Callable[[Any], PanelContent],
    permission: str | None = None,
    empty: str | Promise = "",
    order: int = 100,
) -> HomePanel:
    """Register (or replace, on reload) the panel ``key`` for ``roles``."""
    panel = HomePanel(key, title, frozenset(roles), build, permission, empty, order)
    PANELS[key] = panel
    return panel


def register_action(
    key: str,
    label: str | Promise,
    url_name: str,
    *,
    roles: Iterable[str],
    permission: str | None = None,
    order: int = 100,
) -> HomeAction:
    action = HomeAction(key, label, url_name, frozenset(roles), permission, order)
    ACTIONS[key] = action
    return action


def _visible(user, roles: set[str], spec: HomePanel | HomeAction) -> bool:
    if spec.permission and not user.has_perm(spec.permission):
        return False
    return user.is_superuser or bool(roles & spec.roles)


def panels_for(user) -> list[dict[str, Any]]:
    """The panels ``user`` works from, built, in order: [{"panel", "content"}]."""
    roles = set(roles_of(user))
    shown = sorted((p for p in PANELS.values() if _visible(user, roles, p)), key=lambda p: (p.order, p.key))
    return [{"panel": panel, "content": panel.build(user)} for panel in shown]


def actions_for(user) -> list[dict[str, Any]]:
    roles = set(roles_of(user))
    shown = sorted((a for a in ACTIONS.values() if _visible(user, roles, a)), key=lambda a: (a.order, a.key))
    return [{"action": action, "url": reverse(action.url_name)} for action in shown]
