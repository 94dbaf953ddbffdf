"""What every state-machine table of the product is made of (complaints, survey campaigns,
services, agreements): one ``Transition`` per action, and the table drawn as a diagram.

Each app's ``workflow.py`` declares its table with these; its service reads the table and
nothing else decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class Transition:
    action: str
    label: str | Promise
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    # Inputs the action needs: "note" or fields of the record, non-blank once the inputs are applied.
    requires: tuple[str, ...] = ()
    # Fields of the record the action accepts and writes (a subset may be required).
    accepts: tuple[str, ...] = ()
    description: str | Promise = ""
    button: str = "primary"
    # May the system (a periodic check, actor=None) perform it?
    system: bool = False
    # May the record's current owner perform it whatever their role (the department head who
    # owns a complaint at level 2 takes its next steps)?
    owner_may: bool = False


def as_mermaid(
    table: Mapping[str, Transition],
    initial: str,
    finals: tuple[str, ...],
    source_names: Mapping[str, str] | None = None,
) -> str:
    """``table`` as a Mermaid state diagram (the docs pages are generated from it and kept in
    sync by tests). ``source_names`` draws an action's many sources as one named state (the
    complaints' "withdraw" from any open state)."""
    lines = ["stateDiagram-v2", f"    [*] --> {initial}"]
    for transition in table.values():
        named = (source_names or {}).get(transition.action)
        for source in [named] if named else sorted(transition.sources):
            lines.append(f"    {source} --> {transition.target}: {transition.action}")
    lines.extend(f"    {final} --> [*]" for final in finals)
    return "\n".join(lines)
