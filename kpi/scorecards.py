"""Scorecards (计分卡; reference 004 第八条, 003 §5.2(4)): one period's figures per technician,
per department or per customer organisation, side by side, for the monthly quality review
(“对相关人员进行指标考核”): the call-back ratings of 服务态度 / 服务速度 / 服务效果, satisfaction,
the share of faults fixed, complaints.

Computed live for the chosen period from the same registry as the KPIs (``kpi.registry``):
for each source on the scorecard, one grouped query for the chosen breakdown, so the number of
queries does not depend on the number of technicians. A figure whose source is the source of
an active KPI definition with a target in force also carries that KPI's status (``rag``).

What the data allow: a call-back's technician is its ticket's, its department and
organisation the requester's (a customer department); a complaint names its handler, not the
technician of a ticket complained about, so a technician's "complaints" are those made at
call-back about their tickets, beside the complaints they handled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from itsm.core.periods import Cycle, Period, period_from_label, period_of

from .models import ElementKind, KpiDefinition, Status, Unit
from .registry import Figures, KpiSource, source
from .services import element_labels, rag, target_for

# How a figure is shown: an average rating (one decimal, "/ 5"), a percentage, a count.
RATING = "rating"
PERCENT = "percent"
COUNT = "count"
# Cycles a scorecard can cover (a KPI's cycles: no weekly).
CYCLES = [c for c in Cycle if c is not Cycle.WEEKLY]


@dataclass(frozen=True)
class ScoreFigure:
    """One column: a registry source's value (or, ``show="denominator"``, how many records it
    counted) shown as a rating, a percentage or a count."""

    key: str
    label: str | Promise
    source: str
    style: str = PERCENT
    show: str = "value"
    help: str | Promise = ""


_CALLBACKS = ScoreFigure(
    "callbacks",
    _("Call-backs"),
    "surveys.callback_satisfaction",
    COUNT,
    show="denominator",
    help=_("Call-backs answered in the period."),
)
_RATINGS = [
    ScoreFigure("attitude", _("Service attitude"), "surveys.callback_rating_attitude", RATING),
    ScoreFigure("speed", _("Service speed"), "surveys.callback_rating_speed", RATING),
    ScoreFigure("effect", _("Service effect"), "surveys.callback_rating_effect", RATING),
]
_SATISFIED = ScoreFigure(
    "satisfied",
    _("Satisfied"),
    "surveys.callback_satisfaction",
    help=_("Call-backs whose customer was satisfied overall."),
)
_FIXED = ScoreFigure(
    "fixed", _("Faults fixed"), "surveys.callback_fixed_rate", help=_("Call-backs saying the fault was fixed.")
)
_CALLBACK_COMPLAINTS = ScoreFigure(
    "callback_complaints",
    _("Complaints at call-back"),
    "surveys.callback_complaints",
    COUNT,
    help=_("Call-backs in which the customer complained about the ticket."),
)
_CUSTOMER = [
    _CALLBACKS,
    *_RATINGS,
    _SATISFIED,
    _FIXED,
    _CALLBACK_COMPLAINTS,
    ScoreFigure(
        "complaints",
        _("Complaints received"),
        "complaints.count",
        COUNT,
        help=_("Complaints received in the period (withdrawn ones left out)."),
    ),
    ScoreFigure(
        "result_satisfaction",
        _("Satisfaction with complaint results"),
        "complaints.result_satisfaction",
        help=_("Results rated 4 or 5 of 5 in the period."),
    ),
    ScoreFigure(
        "service_satisfaction",
        _("Customer service satisfaction"),
        "surveys.campaign_satisfaction",
        help=_("Survey rating answers of 4 or 5 submitted in the period."),
    ),
]

SCORECARDS: dict[str, list[ScoreFigure]] = {
    ElementKind.TECHNICIAN: [
        _CALLBACKS,
        *_RATINGS,
        _SATISFIED,
        _FIXED,
        _CALLBACK_COMPLAINTS,
        ScoreFigure(
            "complaints",
            _("Complaints handled"),
            "complaints.count",
            COUNT,
            help=_("Complaints received in the period that name them as handler."),
        ),
    ],
    ElementKind.DEPARTMENT: _CUSTOMER,
    ElementKind.ORGANISATION: [
        *_CUSTOMER,
        ScoreFigure(
            "sla",
            _("SLA attainment"),
            "sla.attainment",
            help=_("SLA measurements of the period's months that met their target."),
        ),
    ],
}


# The first column's heading.
HEADINGS: dict[str, str | Promise] = {
    ElementKind.TECHNICIAN: _("Technician"),
    ElementKind.DEPARTMENT: _("Department"),
    ElementKind.ORGANISATION: _("Customer organisation"),
}


def default_period(cycle: str, today: Any) -> Period:
    """The last finished period of ``cycle`` (the last finished month for monthly)."""
    return period_of(cycle, today).previous()


def parse_period(cycle: str | None, label: str | None, today: Any) -> Period:
    """The period a scorecard covers; ``ValueError`` with a message for the reader when the
    cycle or the label is not one."""
    cycle = cycle or Cycle.MONTHLY
    if cycle not in [c.value for c in CYCLES]:
        raise ValueError(
            gettext("“%(cycle)s” is not a cycle: choose monthly, quarterly, half-yearly or yearly.") % {"cycle": cycle}
        )
    if not label:
        return default_period(cycle, today)
    try:
        return period_from_label(cycle, label.strip())
    except ValueError:
        example = {
            Cycle.MONTHLY: "2026-10",
            Cycle.QUARTERLY: "2026-Q3",
            Cycle.HALF_YEARLY: "2026-H2",
            Cycle.YEARLY: "2026",
        }[Cycle(cycle)]
        raise ValueError(
            gettext("“%(label)s” is not a %(cycle)s period: write it as %(example)s.")
            % {"label": label, "cycle": Cycle(cycle).label, "example": example}
        ) from None


@dataclass
class Cell:
    figure: ScoreFigure
    value: Decimal | None
    # How many records are behind it (the drill-down shows them when there are any).
    records: Decimal
    status: str | None = None
    target: Decimal | None = None
    # The KPI whose target the status is measured against.
    kpi: KpiDefinition | None = None

    @property
    def text(self) -> str:
        return figure_text(self.value, self.figure.style)

    @property
    def target_text(self) -> str:
        return figure_text(self.target, self.figure.style)


@dataclass
class Row:
    element_id: int
    label: str
    cells: list[Cell] = field(default_factory=list)

    def cell(self, key: str) -> Cell:
        return next(cell for cell in self.cells if cell.figure.key == key)


@dataclass
class Scorecard:
    kind: str
    period: Period
    figures: list[ScoreFigure]
    rows: list[Row]
    # The KPI each figure's status is measured by (figure key → definition), where one is.
    kpis: dict[str, KpiDefinition]
    sort: str

    @property
    def columns(self) -> list[tuple[ScoreFigure, KpiDefinition | None]]:
        """Each figure with the KPI its status is measured by (None: no status)."""
        return [(figure, self.kpis.get(figure.key)) for figure in self.figures]


def figure_text(value: Decimal | None, style: str) -> str:
    """``4.3 / 5``, ``95.0 %``, ``12``; ``—`` for no value."""
    if value is None:
        return "—"
    shown = export_value(value, PERCENT if style == RATING else style)
    if style == RATING:
        return f"{shown} / 5"
    if style == PERCENT:
        return f"{shown} %"
    return f"{shown}"


def export_value(value: Decimal | None, style: str) -> Decimal | None:
    """The figure as a spreadsheet cell: a rating to 2 places, a percentage to 1, a count whole."""
    if value is None:
        return None
    places = {RATING: Decimal("0.01"), PERCENT: Decimal("0.1")}.get(style, Decimal("1"))
    return value.quantize(places, rounding=ROUND_HALF_UP)


def _kpis(figures: list[ScoreFigure], period: Period) -> dict[str, KpiDefinition]:
    """For each figure of a value, the active KPI of its source that has a target (the first by
    order): two queries. A count is compared only with a KPI of the same cycle (twelve
    months' complaints against a monthly ceiling would say nothing); a rate or an average
    holds whatever the period's length."""
    keys = {f.source for f in figures if f.show == "value"}
    definitions = KpiDefinition.objects.filter(is_active=True, source__in=keys).prefetch_related("targets")
    by_source: dict[str, KpiDefinition] = {}
    for definition in definitions.order_by("sort_order", "code"):
        if not definition.targets.all() or definition.source in by_source:
            continue
        if definition.unit == Unit.COUNT and definition.cycle != period.cycle:
            continue
        by_source[definition.source] = definition
    return {f.key: by_source[f.source] for f in figures if f.show == "value" and f.source in by_source}


def _sort_key(sort: str, figures: list[ScoreFigure]) -> tuple[str, bool]:
    """(column, descending) of ``?sort=``; an unknown column sorts by name."""
    descending = sort.startswith("-")
    column = sort.lstrip("-")
    if column != "name" and column not in {f.key for f in figures}:
        return "name", False
    return column, descending


def sort_rows(rows: list[Row], sort: str, figures: list[ScoreFigure]) -> tuple[list[Row], str]:
    """Rows sorted by a figure's value or by name (``-`` first: descending); no value sorts
    last either way. Returns the rows and the sort applied."""
    column, descending = _sort_key(sort, figures)
    by_name = sorted(rows, key=lambda row: (row.label.casefold(), row.element_id))
    if column == "name":
        return (by_name[::-1] if descending else by_name), ("-name" if descending else "name")
    present = [row for row in by_name if row.cell(column).value is not None]
    absent = [row for row in by_name if row.cell(column).value is None]
    present.sort(key=lambda row: row.cell(column).value or Decimal(0), reverse=descending)  # stable: ties by name
    return present + absent, f"-{column}" if descending else column


def scorecard(kind: str, period: Period, *, sort: str = "name") -> Scorecard:
    """The scorecard of ``kind`` (technician, department, organisation) for ``period``: a row per
    element with any record in the period, a cell per figure. One grouped query per source,
    one for the elements' names, two for the KPIs' targets."""
    figures = SCORECARDS[kind]
    computed: dict[str, tuple[KpiSource, dict[int, Figures]]] = {}
    for figure in figures:
        if figure.source not in computed:
            kpi_source = source(figure.source)
            computed[figure.source] = (kpi_source, dict(kpi_source.compute(period, kind)))
    ids = sorted({element for _source, result in computed.values() for element in result if element})
    labels = element_labels(kind, ids)
    kpis = _kpis(figures, period)
    rows = []
    for element_id in ids:
        row = Row(element_id, labels.get(element_id, f"#{element_id}"))
        for figure in figures:
            kpi_source, result = computed[figure.source]
            figures_of = result.get(element_id)
            row.cells.append(_cell(figure, kpi_source, figures_of, kpis.get(figure.key), period, kind, element_id))
        rows.append(row)
    rows, applied = sort_rows(rows, sort, figures)
    return Scorecard(kind=kind, period=period, figures=figures, rows=rows, kpis=kpis, sort=applied)


def _cell(
    figure: ScoreFigure,
    kpi_source: KpiSource,
    figures: Figures | None,
    definition: KpiDefinition | None,
    period: Period,
    kind: str,
    element_id: int,
) -> Cell:
    if figures is None:
        # Nothing recorded: a count is 0, a rate or an average has no data.
        value, records = (Decimal(0) if figure.style == COUNT else None), Decimal(0)
    elif figure.show == "denominator":
        return Cell(figure, figures.denominator, figures.denominator)
    else:
        value = kpi_source.value(figures)
        # A count's records are its numerator (its denominator is 1), a rate's its denominator.
        records = figures.numerator if figure.style == COUNT else figures.denominator
    cell = Cell(figure, value, records, kpi=definition)
    if definition is not None:
        cell.target = target_for(definition, period.end, kind, element_id)
        if cell.target is not None:
            cell.status = rag(value, cell.target, definition.direction, definition.amber_tolerance)
    return cell


def export_columns(card: Scorecard) -> list[tuple[Any, Any]]:
    """The scorecard's columns as ``itsm.core.exports`` takes them (rows are ``Row``): the
    element, each figure, and the status of each figure measured against a KPI."""
    columns: list[tuple[Any, Any]] = [(HEADINGS[card.kind], lambda row: row.label)]
    for figure in card.figures:
        columns.append((figure.label, _value_of(figure)))
        if figure.key in card.kpis:
            columns.append((gettext("%(figure)s: status") % {"figure": figure.label}, _status_of(figure)))
    return columns


def _value_of(figure: ScoreFigure):
    return lambda row: export_value(row.cell(figure.key).value, figure.style)


def _status_of(figure: ScoreFigure):
    def status(row: Row) -> str:
        value = row.cell(figure.key).status
        return str(Status(value).label) if value else ""

    return status
