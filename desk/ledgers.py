"""Excel ledgers (台账): one sheet per ledger plus a summary, as offices hand them in.

Chinese headers, a title row, a frozen header row with filters, widths that fit, dates as real dates in
Beijing time and rates as percentages, so a clerk can sort, filter and total without retyping anything.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from domain.cases.stats import Rates
from domain.kernel.i18n import WORDS_DIR, Catalogue
from domain.kernel.text import clean
from domain.kernel.time import local
from domain.org.model import Unit
from domain.reporting.ledgers import LedgerService

TEXTS = Catalogue(Path(__file__).parent / "locales", WORDS_DIR)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
MAX_WIDTH = 60


def text(key: str, locale: str, **params: object) -> str:
    """A desk text (or domain word) in a locale."""
    template = TEXTS.template(key, locale) or key
    return template.format(**params) if params else template


def plain_word(key: str, locale: str) -> str:
    """A domain word without its leading emoji (a spreadsheet cell is sorted and filtered as text)."""
    word = text(key, locale)
    while word and not unicodedata.category(word[0]).startswith(("L", "N")):
        word = word[1:]
    return word.strip() or text(key, locale)


@dataclass(frozen=True)
class Column:
    """One column: its header key, how a cell is written, and its format."""

    key: str
    value: Callable[[Any], object]
    number_format: str | None = None
    width: int | None = None


@dataclass
class Sheet:
    """A titled table."""

    name: str
    title: str
    headers: list[str]
    rows: list[list[object]]
    formats: list[str | None]
    widths: list[int | None]


def cell(value: object) -> object:
    """A value as a spreadsheet cell holds it (aware datetimes as Beijing wall time)."""
    # openpyxl refuses aware datetimes: Beijing wall time is what a clerk reads.
    if isinstance(value, datetime):
        return local(value).replace(tzinfo=None, microsecond=0)
    return value


def table(name: str, title: str, columns: Sequence[Column], items: Sequence[Any], locale: str) -> Sheet:
    """A sheet of items, one row each, by the columns."""
    return Sheet(
        name,
        title,
        [text(f"ledger.col.{c.key}", locale) for c in columns],
        [[cell(c.value(item)) for c in columns] for item in items],
        [c.number_format for c in columns],
        [c.width for c in columns],
    )


def _yes_no(locale: str) -> Callable[[bool | None], str]:
    def render(value: bool | None) -> str:
        if value is None:
            return text("ledger.none", locale)
        return text("ledger.answer_yes" if value else "ledger.answer_no", locale)

    return render


def case_columns(locale: str) -> list[Column]:
    """The 案件台账 columns."""
    yes_no = _yes_no(locale)
    return [
        Column("number", lambda c: c.number, width=18),
        Column("received_at", lambda c: c.received_at, DATETIME_FORMAT, 17),
        Column("category", lambda c: plain_word(f"category.{c.category}", locale)),
        Column("description", lambda c: c.description, width=40),
        Column("address", lambda c: c.address or ""),
        Column("lat", lambda c: c.lat, "0.000000"),
        Column("lon", lambda c: c.lon, "0.000000"),
        Column("origin_unit", lambda c: c.origin_unit),
        Column("unit", lambda c: c.unit),
        Column("state", lambda c: plain_word(f"state.{c.state}", locale)),
        Column("urgent", lambda c: yes_no(c.urgent)),
        Column("reporter_role", lambda c: plain_word(f"role.{c.reporter_role}", locale)),
        Column("claimed_at", lambda c: c.claimed_at, DATETIME_FORMAT, 17),
        Column("claimed_by", lambda c: c.claimed_by or ""),
        Column("resolved_at", lambda c: c.resolved_at, DATETIME_FORMAT, 17),
        Column("resolved_by", lambda c: c.resolved_by or ""),
        Column("resolve_due", lambda c: c.resolve_due, DATETIME_FORMAT, 17),
        Column("on_time", lambda c: yes_no(c.on_time)),
        Column("rating", lambda c: plain_word(f"rating.{c.rating}", locale) if c.rating else ""),
        Column("reopen_count", lambda c: c.reopen_count, "0"),
        Column("escalated", lambda c: yes_no(c.escalated)),
        Column("departments", lambda c: "、".join(c.departments)),
        Column("followers", lambda c: c.followers, "0"),
        Column(
            "close_reason", lambda c: text(f"ledger.close_reason.{c.close_reason}", locale) if c.close_reason else ""
        ),
    ]


def rate_columns() -> list[Column]:
    """The 三率 columns of a unit's row."""
    return [
        Column("name", lambda r: r.name, width=20),
        Column("received", lambda r: r.received, "0"),
        Column("reports", lambda r: r.reports, "0"),
        Column("response_rate", lambda r: r.response_rate, PERCENT_FORMAT),
        Column("on_time_rate", lambda r: r.on_time_rate, PERCENT_FORMAT),
        Column("resolution_rate", lambda r: r.resolution_rate, PERCENT_FORMAT),
        Column("satisfaction_rate", lambda r: r.satisfaction_rate, PERCENT_FORMAT),
        Column("reopened", lambda r: r.reopened, "0"),
        Column("overdue_now", lambda r: r.overdue_now, "0"),
        Column("escalated", lambda r: r.escalated, "0"),
        Column("departments_n", lambda r: r.department_cases, "0"),
    ]


def hours_columns(locale: str) -> list[Column]:
    """The 志愿服务时长 columns."""
    return [
        Column("at", lambda h: h.at, DATETIME_FORMAT, 17),
        Column("person", lambda h: h.person),
        Column("community", lambda h: h.community or ""),
        Column("activity", lambda h: h.activity or "", width=30),
        Column("hours", lambda h: h.hours, "0.00"),
        Column("kind", lambda h: text(f"ledger.hours_kind.{h.kind}", locale)),
        Column("operator", lambda h: h.operator or ""),
    ]


def points_columns(locale: str) -> list[Column]:
    """The 积分台账 columns."""
    return [
        Column("at", lambda p: p.at, DATETIME_FORMAT, 17),
        Column("person", lambda p: p.person),
        Column("community", lambda p: p.community or ""),
        Column("kind", lambda p: text(f"ledger.points_kind.{p.kind}", locale)),
        Column("amount", lambda p: p.amount, "0"),
        Column("reason", lambda p: p.reason, width=30),
        Column("operator", lambda p: p.operator or ""),
    ]


def redemption_columns(locale: str) -> list[Column]:
    """The 兑换台账 columns."""
    return [
        Column("at", lambda r: r.at, DATETIME_FORMAT, 17),
        Column("code", lambda r: r.code),
        Column("item", lambda r: r.item),
        Column("price", lambda r: r.price, "0"),
        Column("person", lambda r: r.person),
        Column("community", lambda r: r.community),
        Column("state", lambda r: text(f"ledger.order_state.{r.state}", locale)),
        Column("closed_at", lambda r: r.closed_at, DATETIME_FORMAT, 17),
        Column("closed_by", lambda r: r.closed_by or ""),
    ]


def activity_columns(locale: str) -> list[Column]:
    """The 志愿活动台账 columns: each activity with its attendance."""
    return [
        Column("start", lambda a: a.start, DATETIME_FORMAT, 17),
        Column("title", lambda a: a.title, width=24),
        Column("community", lambda a: a.community),
        Column("place", lambda a: a.place, width=20),
        Column("team", lambda a: a.team or ""),
        Column("capacity", lambda a: a.capacity, "0"),
        Column("signed_up", lambda a: a.signed_up, "0"),
        Column("waitlisted", lambda a: a.waitlisted, "0"),
        Column("attended", lambda a: a.attended, "0"),
        Column("no_show", lambda a: a.no_show, "0"),
        Column("hours", lambda a: a.hours, "0.00"),
    ]


def team_columns(locale: str) -> list[Column]:
    """The 志愿队伍台账 columns."""
    return [
        Column("community", lambda t: t.community),
        Column("team", lambda t: t.name, width=20),
        Column("leader", lambda t: t.leader or ""),
        Column("members", lambda t: t.members, "0"),
        Column("activities", lambda t: t.activities, "0"),
        Column("hours", lambda t: t.hours, "0.00"),
    ]


# Each line ledger: how it is read, and its columns (the workbook and the console's tables share both).
LINE_LEDGERS: dict[str, tuple[Callable[[LedgerService], Callable[[Unit, str], Awaitable[list[Any]]]],
                              Callable[[str], list[Column]]]] = {
    "cases": (lambda s: s.case_lines, case_columns),
    "activities": (lambda s: s.activities, activity_columns),
    "teams": (lambda s: s.teams, team_columns),
    "hours": (lambda s: s.hours, hours_columns),
    "points": (lambda s: s.points, points_columns),
    "redemptions": (lambda s: s.redemptions, redemption_columns),
}  # fmt: skip


@dataclass
class Ledgers:
    """What goes into one workbook: the unit, the month and the ledgers asked for."""

    unit: str
    month: str
    totals: Rates
    grids: list[Rates]
    lines: dict[str, list[Any]] = field(default_factory=dict)
    with_grids: bool = True


async def read_lines(ledgers: LedgerService, unit: Unit, month: str, kind: str) -> list[Any]:
    """One line ledger of a unit's month."""
    read, _ = LINE_LEDGERS[kind]
    return await read(ledgers)(unit, month)


async def collect(ledgers: LedgerService, unit: Unit, month: str, kinds: Sequence[str]) -> Ledgers:
    """Read what one workbook holds: the month's summary and each ledger asked for (the CLI and the console)."""
    totals, grids = await ledgers.summary(unit, month)
    data = Ledgers(unit.name, month, totals, grids, with_grids="grids" in kinds)
    for kind in LINE_LEDGERS:
        if kind in kinds:
            data.lines[kind] = await read_lines(ledgers, unit, month, kind)
    return data


def sheets(data: Ledgers, locale: str = "zh-CN") -> list[Sheet]:
    """The summary, then each ledger asked for."""

    def title(kind: str) -> str:
        return text(
            "ledger.title", locale, unit=data.unit, month=data.month, sheet=text(f"ledger.sheet.{kind}", locale)
        )

    out = [table(text("ledger.sheet.summary", locale), title("summary"), rate_columns(), [data.totals], locale)]
    if data.with_grids and data.grids:
        ranked = [Column("rank", lambda pair: pair[0], "0")] + [
            Column(c.key, (lambda f: lambda pair: f(pair[1]))(c.value), c.number_format, c.width)
            for c in rate_columns()
        ]
        out.append(
            table(text("ledger.sheet.grids", locale), title("grids"), ranked, list(enumerate(data.grids, 1)), locale)
        )
    for kind, (_, columns) in LINE_LEDGERS.items():
        if kind in data.lines:
            out.append(
                table(text(f"ledger.sheet.{kind}", locale), title(kind), columns(locale), data.lines[kind], locale)
            )
    return out


def _width(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    # A CJK character is about two Latin ones wide in Excel's default font.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


# A text cell starting with one of these could be read as a formula (OWASP's CSV-injection rule): such a cell
# is written as text with Excel's own "this is text" mark, so it never evaluates, whatever wrote it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _append(ws: Any, row: Sequence[object]) -> None:
    """A row of cells: text cleaned (stored text already is; older rows may not be), text never a formula."""
    ws.append([clean(v) if isinstance(v, str) else v for v in row])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
            cell.data_type = "s"
            cell.quotePrefix = True


def workbook(parts: list[Sheet], note: str | None = None) -> Workbook:
    """The sheets as an openpyxl workbook: a title row, a frozen, filtered header row, formats and widths."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for part in parts:
        ws = book.create_sheet(part.name[:31])
        _append(ws, [part.title])
        ws["A1"].font = Font(bold=True, size=13)
        _append(ws, part.headers)
        for cell in ws[2]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        for row in part.rows:
            _append(ws, row)
        last_row = max(2, ws.max_row)
        for i, fmt in enumerate(part.formats, start=1):
            letter = get_column_letter(i)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=3, max_row=last_row, min_col=i, max_col=i):
                    cell.number_format = fmt
            natural = max([_width(part.headers[i - 1])] + [_width(r[i - 1]) for r in part.rows[:500]])
            ws.column_dimensions[letter].width = min(MAX_WIDTH, max(6, part.widths[i - 1] or 0, natural + 2))
        ws.freeze_panes = "A3"
        ws.auto_filter.ref = f"A2:{get_column_letter(len(part.headers))}{last_row}"
        # Printed as offices file them: landscape, as wide as the page, the title and headers on every page.
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.print_title_rows = "1:2"
        if note and part is parts[0]:
            ws.cell(row=last_row + 2, column=1, value=note).font = Font(italic=True, color="666666")
    return book


def to_bytes(data: Ledgers, locale: str = "zh-CN") -> bytes:
    """The workbook as xlsx bytes (for a download)."""
    buffer = io.BytesIO()
    workbook(sheets(data, locale), text("ledger.summary_note", locale)).save(buffer)
    return buffer.getvalue()
