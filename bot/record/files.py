"""Write an :class:`~bot.record.hms.HmsRecord` as PDF (to file in the internkontroll), CSV (for a
spreadsheet) or JSON (for other systems).

The PDF is made with fpdf2, a well-kept pure-Python library, in DejaVu Sans: the font ships inside
matplotlib (already a dependency), covers æøå and the bot's punctuation (– « » …), and needs no fonts on
the machine. The check-in trend is drawn with the weekly summary's chart code and embedded.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import asdict
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

from bot.course.checkin import INDICATORS
from bot.course.privacy import MIN_GROUP_SIZE
from bot.i18n import Translator, decimal
from bot.record.hms import HmsRecord, WeekRecord

Format = Literal["pdf", "csv", "json"]
FORMATS: tuple[Format, ...] = ("pdf", "csv", "json")


def write(record: HmsRecord, fmt: Format, path: Path) -> Path:
    if fmt == "json":
        return write_json(record, path)
    if fmt == "csv":
        return write_csv(record, path)
    return write_pdf(record, path)


def write_json(record: HmsRecord, path: Path) -> Path:
    path.write_text(json.dumps(asdict(record), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def _means(tr: Translator, week: WeekRecord, separator: str) -> str:
    """Each indicator's mean with a decimal comma in Norwegian; "–" where too few answered."""
    return separator.join(
        f"{tr(f'checkin.indicators.{i}')} {decimal(tr.language, week.means.get(i) if week.means else None)}"
        for i in INDICATORS
    )


def write_csv(record: HmsRecord, path: Path) -> Path:
    # The BOM makes Excel read æøå right.
    path.write_text(csv_text(record), encoding="utf-8-sig", newline="")
    return path


def csv_text(record: HmsRecord) -> str:
    """One table: a row per case, action, meeting and check-in week; the first column says which."""
    tr = Translator(record.language)
    kinds = {k: tr(f"record.csv.kinds.{k}") for k in ("case", "action", "meeting", "checkin")}
    with io.StringIO(newline="") as fh:
        out = csv.writer(fh, delimiter=";")  # Norwegian spreadsheets use the comma as decimal mark
        columns = ("kind", "ref", "title", "detail", "who", "when", "status")
        out.writerow([tr(f"record.csv.columns.{c}") for c in columns])
        for case in record.cases:
            row = [kinds["case"], case.number, case.title, case.statement, "", case.started, case.status]
            out.writerow(row)
            for a in case.actions:
                status = tr("record.done") if a.done else tr("record.open")
                out.writerow([kinds["action"], case.number, a.text, a.indicator, a.owner, a.due_iso, status])
        for m in record.meetings:
            # The meeting's kind (personalmøte, partsmøte …) says who it was for: the "who" column.
            out.writerow([kinds["meeting"], m.number, m.purpose, m.desired_result, m.kind, m.when, m.result])
        for w in record.checkins:
            means = _means(tr, w, ", ")
            out.writerow([kinds["checkin"], w.week, f"{w.answers}/{w.asked}", means, "", "", ""])
        return fh.getvalue()


def _font_dir() -> Path:
    spec = find_spec("matplotlib")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib is not installed; it carries the PDF's font")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


def write_pdf(record: HmsRecord, path: Path) -> Path:
    path.write_bytes(pdf_bytes(record))
    return path


def pdf_bytes(record: HmsRecord) -> bytes:
    """The record as a PDF document: for a file, or for a chat that delivers it (``/parts eksport``)."""
    from fpdf import FPDF  # only when a PDF is asked for

    tr = Translator(record.language)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    fonts = _font_dir()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_title(tr("record.title", unit=record.unit))
    pdf.set_creator("Partsbot")
    pdf.add_page()

    def line(text: str, size: float = 10, bold: bool = False, gap: float = 1.5) -> None:
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.multi_cell(0, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    line(tr("record.title", unit=record.unit), 16, bold=True, gap=2)
    line(tr("record.generated", when=record.generated), 9)
    line(tr("record.scope_trio" if record.for_trio else "record.scope_staff"), 9, gap=4)

    line(tr("record.sections.cases"), 13, bold=True)
    if not record.cases:
        line(tr("record.no_cases"))
    for case in record.cases:
        mark = f" {tr('record.parties_only_mark')}" if case.parties_only else ""
        line(tr("record.case_title", number=case.number, title=case.title) + mark, 11, bold=True, gap=0.5)
        line(tr("record.case_status", step=case.step, status=case.status, started=case.started), 9)
        line(f"{tr('record.statement')}: {case.statement}")
        line(tr("record.counts", questions=case.questions, ideas=case.ideas), 9)
        if case.goal:
            line(f"{tr('record.goal')}: {case.goal}")
        for text, remedy in case.obstacles:
            line(tr("record.obstacle", text=text, remedy=remedy))
        if case.outcome:
            line(f"{tr('record.outcome')}: {case.outcome}")
        for a in case.actions:
            done = tr("record.done_mark") if a.done else ""
            line(tr("record.action", number=a.number, text=a.text, owner=a.owner, due=a.due) + done)
            if a.indicator:
                line(f"    {a.indicator}", 9)
        for answer in case.reached:
            line(f"{tr('record.reached')}: {answer}")
        line(f"{tr('record.decision')}: {case.decision}", 9, gap=4)

    line(tr("record.sections.meetings"), 13, bold=True)
    if not record.meetings:
        line(tr("record.no_meetings"))
    for m in record.meetings:
        line(tr("record.meeting_title", kind=m.kind, when=m.when, minutes=m.minutes), 11, bold=True, gap=0.5)
        line(f"{tr('record.purpose')}: {m.purpose}")
        line(f"{tr('record.desired')}: {m.desired_result}")
        for number, item in enumerate(m.items, start=1):
            line(f"{number}. {item.kind} {item.title} – {item.minutes} min")
            if item.why:
                line(f"    {tr('record.why')}: {item.why}", 9)
        result = m.result + (f" ({m.result_comment})" if m.result_comment else "")
        line(f"{tr('record.result')}: {result}", 9, gap=4)

    line(tr("record.sections.course"), 13, bold=True)
    if not record.modules:
        line(tr("summary.not_enrolled"))
    for name, when, held in record.modules:
        line(f"{'✓' if held else '·'} {name} – {when}")
    if record.evaluation:
        pdf.ln(2)
        line(tr("record.sections.evaluation"), 11, bold=True)
        for text in record.evaluation:
            line(text)
    pdf.ln(2)
    line(tr("record.sections.checkin"), 11, bold=True)
    if not record.checkins:
        line(tr("record.no_checkins"))
    else:
        line(tr("record.checkin_note", min=MIN_GROUP_SIZE), 9)
        for w in record.checkins:
            means = _means(tr, w, " · ")
            line(tr("record.week_line", week=w.week, answers=w.answers, asked=w.asked, means=means), 9)
        # A private folder (mode 0700) that is gone once the chart is embedded.
        with tempfile.TemporaryDirectory(prefix="partsbot-record-") as folder:
            chart = _chart(record, tr, Path(folder))
            if chart is not None:
                pdf.image(str(chart), w=170)
    return bytes(pdf.output())


def _chart(record: HmsRecord, tr: Translator, folder: Path) -> Path | None:
    """The check-in trend as a PNG in ``folder``; None when every week is hidden."""
    series = {
        tr(f"checkin.indicators.{i}"): [w.means.get(i) if w.means else None for w in record.checkins]
        for i in INDICATORS
    }
    if not any(v is not None for values in series.values() for v in values):
        return None
    from bot.course.chart import render_trend_chart

    weeks = [tr("summary.week_label", week=w.week) for w in record.checkins]
    return render_trend_chart(weeks, series, tr("summary.chart_title"), folder / "checkin.png")
