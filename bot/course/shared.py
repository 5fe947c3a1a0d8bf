"""The course's shared results: the figures that pass the thresholds, for everyone who took part.

Until module 6 the figures are the trio's working material (the weekly summary). At module 6, and again
when the evaluation after the course has closed, every member of the unit gets them: the check-in from
the first shown week to the latest, the module evaluations and the before/after of the course evaluation.
Only what the thresholds allow (:mod:`bot.course.privacy`): a week, a module or a comparison with too few
answers is named as hidden, never shown; unanimous indicators are left out (their mean would be every
person's answer); comments and anything from cases are never part of it. The module 6 exchange page
(:mod:`bot.course.exchange`) drafts its figures from the same lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.chat.model import Block, Header, Note, Reply, Text
from bot.course import checkin, evaluation
from bot.course.models import CourseRun
from bot.course.privacy import MIN_GROUP_SIZE
from bot.course.unitcal import week_number
from bot.i18n import decimal, t


@dataclass(frozen=True)
class Figures:
    checkin_lines: tuple[str, ...]
    module_lines: tuple[str, ...]
    comparison_lines: tuple[str, ...]


def checkin_lines(session: Session, unit_id: int, now: datetime, language: str) -> list[str]:
    """First shown week → latest shown week per indicator (both from at least the minimum group)."""
    weeks = [w for w in checkin.results(session, unit_id, now, limit=52) if w.means]
    if len(weeks) < 2:
        return []
    first, last = weeks[0], weeks[-1]
    assert first.means is not None and last.means is not None
    lines = [
        t(
            language,
            "shared.checkin_head",
            first=week_number(first.week),
            last=week_number(last.week),
        )
    ]
    for indicator in checkin.INDICATORS:
        if indicator in first.means and indicator in last.means:
            lines.append(
                t(
                    language,
                    "shared.checkin_line",
                    indicator=t(language, f"checkin.indicators.{indicator}"),
                    before=decimal(language, first.means[indicator]),
                    after=decimal(language, last.means[indicator]),
                )
            )
    return lines if len(lines) > 1 else []


def module_lines(
    session: Session, run_id: int, now: datetime, language: str, hidden: bool = True
) -> list[str]:
    """Each closed module evaluation's means; with ``hidden``, a line for each one with too few answers."""
    lines = []
    for number, means in evaluation.module_results(session, run_id, now).items():
        if not means:
            if hidden:
                lines.append(t(language, "shared.module_hidden", module=number, min=MIN_GROUP_SIZE))
            continue
        values = ", ".join(
            f"{t(language, f'evaluation.short.{q}')} {decimal(language, v)}" for q, v in means.items()
        )
        lines.append(t(language, "shared.module_line", module=number, values=values))
    return lines


def comparison_lines(
    session: Session, run_id: int, now: datetime, language: str, hidden: bool = True
) -> list[str]:
    comparison = evaluation.compare(session, run_id, now)
    if comparison.reason == "not_yet":
        return []
    if comparison.reason == "too_few":
        return [t(language, "shared.comparison_hidden", min=MIN_GROUP_SIZE)] if hidden else []
    lines = []
    for question, before, after in comparison.rows:
        label = t(language, f"evaluation.short.{question}")
        if before is None:
            lines.append(t(language, "evaluation.after_only", question=label, after=decimal(language, after)))
        else:
            lines.append(
                t(
                    language,
                    "evaluation.before_after",
                    question=label,
                    before=decimal(language, before),
                    after=decimal(language, after),
                )
            )
    return lines


def figures(session: Session, run: CourseRun, now: datetime, language: str) -> Figures:
    return Figures(
        tuple(checkin_lines(session, run.unit_id, now, language)),
        tuple(module_lines(session, run.id, now, language)),
        tuple(comparison_lines(session, run.id, now, language)),
    )


def render(session: Session, run: CourseRun, unit_name: str, now: datetime, language: str) -> Reply:
    found = figures(session, run, now, language)
    title = t(language, "shared.title", unit=unit_name)
    blocks: list[Block] = [Header(title), Text(t(language, "shared.intro"))]
    sections = (
        ("shared.checkin_title", found.checkin_lines),
        ("shared.modules_title", found.module_lines),
        ("shared.comparison_title", found.comparison_lines),
    )
    for key, lines in sections:
        if lines:
            blocks.append(Text("\n".join([f"*{t(language, key)}*", *lines])))
    if not any(lines for _, lines in sections):
        blocks.append(Text(t(language, "shared.nothing", min=MIN_GROUP_SIZE)))
    blocks.append(Note(t(language, "shared.note", min=MIN_GROUP_SIZE)))
    return Reply(fallback=title, blocks=tuple(blocks))
