"""Writes of KPIs, by area: computed values (``values``), the process owner's definitions and
targets (``definitions``), manual KPIs' values (``manual``). The main ones:

* ``kpi_compute(definition, period)`` computes the running period's values (overall and each
  breakdown the definition asks for) from its source and stores them; run again it updates
  them in place (idempotent).
* ``kpi_close(definition, period)`` computes once more and freezes: the values are marked
  closed with the ids of the records behind them, and never change again.
* ``kpi_revise(definition, period, actor=, reason=)`` recomputes a closed period for a process
  owner who gives a reason: a new revision of every value, the earlier one kept (not current).
* ``rag(value, target, direction, tolerance)``: green when the target is met, amber within the
  tolerance, red beyond; no value is "no data".
* ``definition_create`` / ``definition_update`` / ``target_set`` / ``target_end``: the process
  owner's KPIs and targets, audited, with the rules that keep a KPI's history meaning one thing.
* ``manual_value_set`` / ``manual_values_import`` (all or nothing) / ``kpi_close_manual``.
"""

from .definitions import (
    BREAKDOWN_KINDS,
    DEFINITION_FIELDS,
    MANUAL_KINDS,
    MEANING_FIELDS,
    definition_create,
    definition_update,
    supported_breakdowns,
    target_end,
)
from .manual import (
    IMPORT_MAX_BYTES,
    IMPORT_MAX_ROWS,
    MANUAL_CSV_COLUMNS,
    ImportResult,
    RowError,
    kpi_close_manual,
    manual_periods_due,
    manual_value_set,
    manual_values_import,
)
from .values import (
    element_labels,
    kpi_close,
    kpi_compute,
    kpi_revise,
    rag,
    target_for,
    target_set,
)

__all__ = [
    "BREAKDOWN_KINDS",
    "DEFINITION_FIELDS",
    "IMPORT_MAX_BYTES",
    "IMPORT_MAX_ROWS",
    "ImportResult",
    "MANUAL_CSV_COLUMNS",
    "MANUAL_KINDS",
    "MEANING_FIELDS",
    "RowError",
    "definition_create",
    "definition_update",
    "element_labels",
    "kpi_close",
    "kpi_close_manual",
    "kpi_compute",
    "kpi_revise",
    "manual_periods_due",
    "manual_value_set",
    "manual_values_import",
    "rag",
    "supported_breakdowns",
    "target_end",
    "target_for",
    "target_set",
]
