"""The weekly check-in "En bra dag på jobb": six indicators on 1–5 and an optional comment, anonymous.

A round belongs to a unit and an ISO week. It opens at the unit's check-in moment (Thursday 13:00 by
default, moved out of quiet time; a week without a working day has no round) or earlier when someone asks
with ``/parts sjekkinn``, reminds those who have not answered once, privately, a working day later, and
closes when the next weekly summary is made. Results are shown for closed rounds only and never below the
minimum group size (see :mod:`bot.course.survey` for how answers are kept without a link to the person).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.chat.context import HandlerContext
from bot.chat.model import Button, Buttons, Effect, Header, Note, Reply, Text
from bot.course import survey
from bot.course.audience import direct, language_of, members_of, organisation_of
from bot.course.jobs import Job, Skip, already_sent
from bot.course.models import CheckinRound
from bot.course.privacy import MIN_GROUP_SIZE
from bot.course.runs import running_runs
from bot.course.unitcal import (
    latest_weekly,
    local_week,
    next_summary_after,
    parse_hhmm,
    settings_for,
    week_label,
    window_for,
)
from bot.dates.calendar import DeliveryWindow, local_at, next_allowed
from bot.i18n import t
from bot.storage.models import Unit

INDICATORS = ("arbeidsflyt", "motivasjon", "engasjement", "involvering", "tillit", "trygghet")
TREND_WEEKS = 8


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def occurrence_in_week(monday: date, weekday: int, at: time, window: DeliveryWindow) -> datetime | None:
    """The check-in moment of the week starting ``monday``, or None when quiet time pushes it out of the week
    (fellesferie, a week of holidays): a check-in belongs to its week."""
    moment = next_allowed(local_at(monday + timedelta(days=weekday), at, window.zone), window)
    return moment if local_week(moment, window) == week_label(monday) else None


def latest_occurrence(session: Session, unit: Unit, now: datetime) -> datetime | None:
    window = window_for(session, unit)
    row = settings_for(session, unit.id)
    at = parse_hhmm(row.checkin_time) or time(13, 0)
    return latest_weekly(
        now, window, lambda monday: occurrence_in_week(monday, row.checkin_weekday, at, window)
    )


def find_round(session: Session, unit_id: int, week: str) -> CheckinRound | None:
    return session.scalar(
        select(CheckinRound).where(CheckinRound.unit_id == unit_id, CheckinRound.week == week)
    )


def open_round(session: Session, unit: Unit, now: datetime) -> CheckinRound:
    """This week's round (in the unit's zone), opened now if it does not exist yet."""
    window = window_for(session, unit)
    week = local_week(now, window)
    found = find_round(session, unit.id, week)
    if found is not None:
        return found
    closes = next_summary_after(session, unit, now)
    remind = next_allowed(now + timedelta(days=1), window)
    round_ = CheckinRound(
        unit_id=unit.id,
        week=week,
        opened_at=now,
        closes_at=closes,
        remind_at=remind if _utc(remind) < _utc(closes) else closes,
        member_count=len(members_of(session, unit.id)),
        answer_count=0,
        comments=[],
    )
    session.add(round_)
    session.flush()
    survey.create_tallies(session, round_, INDICATORS)
    return round_


def current_round(session: Session, unit: Unit, now: datetime) -> CheckinRound | None:
    """The round people can answer now, if any."""
    week = local_week(now, window_for(session, unit))
    round_ = find_round(session, unit.id, week)
    if round_ is None or not is_open(round_, now):
        return None
    return round_


def is_open(round_: CheckinRound, now: datetime) -> bool:
    return _utc(round_.opened_at) <= _utc(now) < _utc(round_.closes_at)


def answer(ctx: HandlerContext, round_: CheckinRound, scores: dict[str, int], comment: str) -> None:
    """The person's marker now, their answer in a transaction of its own (see :mod:`bot.course.survey`)."""
    survey.answer(ctx, round_, scores, comment)


# Results -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekResult:
    week: str
    answers: int
    asked: int
    means: dict[str, float] | None  # None: hidden below the minimum group size
    comments: list[str]
    # Indicators everyone scored alike: shown as a band, never as the score each of them gave.
    bands: dict[str, tuple[int, int]] = field(default_factory=dict)


def closed_rounds(
    session: Session, unit_id: int, now: datetime, limit: int = TREND_WEEKS
) -> list[CheckinRound]:
    rows = session.scalars(
        select(CheckinRound).where(CheckinRound.unit_id == unit_id).order_by(CheckinRound.week.desc())
    ).all()
    closed = [r for r in rows if _utc(r.closes_at) <= _utc(now)]
    return list(reversed(closed[:limit]))


def results(
    session: Session, unit_id: int, now: datetime, limit: int = TREND_WEEKS, min_group: int = MIN_GROUP_SIZE
) -> list[WeekResult]:
    """Closed rounds, oldest first, with means shown only from ``min_group`` answers."""
    return [
        WeekResult(
            week=r.week,
            answers=r.answer_count,
            asked=max(r.member_count, r.answer_count),
            means=survey.means(session, r, INDICATORS, min_group),
            comments=survey.visible_comments(r),
            bands=survey.bands(session, r, INDICATORS, min_group),
        )
        for r in closed_rounds(session, unit_id, now, limit)
    ]


# Scheduled invitations and reminders --------------------------------------------------------------------


def invitation(language: str, round_: CheckinRound, reminder: bool) -> Reply:
    title = t(language, "checkin.title")
    text = t(language, "checkin.reminder" if reminder else "checkin.invite")
    return Reply(
        fallback=f"{title}: {text}",
        blocks=(
            Header(title),
            Text(text),
            Buttons(
                (Button(t(language, "checkin.answer_button"), "checkin.open", str(round_.id), "primary"),)
            ),
            Note(t(language, "checkin.anonymous_note", min=MIN_GROUP_SIZE)),
        ),
    )


def _to_non_respondents(session: Session, unit: Unit, round_: CheckinRound, reminder: bool) -> list[Effect]:
    done = survey.respondents(session, round_)
    org = organisation_of(session, unit)
    return [
        direct(org, m, invitation(language_of(m, unit), round_, reminder))
        for m in members_of(session, unit.id)
        if m.id not in done
    ]


def _invite(unit_id: int) -> Callable[[Session, datetime], list[Effect]]:
    def make(session: Session, now: datetime) -> list[Effect]:
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise Skip
        round_ = open_round(session, unit, now)
        if not is_open(round_, now):
            raise Skip
        round_.member_count = max(round_.member_count, len(members_of(session, unit.id)))
        # A round opened early by someone's /parts sjekkinn reminds a working day after the invitation.
        remind = next_allowed(now + timedelta(days=1), window_for(session, unit))
        round_.remind_at = remind if _utc(remind) < _utc(round_.closes_at) else round_.closes_at
        return _to_non_respondents(session, unit, round_, reminder=False)

    return make


def _remind(round_id: int) -> Callable[[Session, datetime], list[Effect]]:
    def make(session: Session, now: datetime) -> list[Effect]:
        round_ = session.get(CheckinRound, round_id)
        unit = session.get(Unit, round_.unit_id) if round_ else None
        if round_ is None or unit is None or not is_open(round_, now):
            raise Skip
        return _to_non_respondents(session, unit, round_, reminder=True)

    return make


def invite_key(unit_id: int, week: str) -> str:
    return f"checkin:{unit_id}:{week}"


def due_jobs(session: Session, now: datetime) -> list[Job]:
    jobs: list[Job] = []
    for run in running_runs(session, now):
        unit = session.get(Unit, run.unit_id)
        if unit is None:
            continue
        moment = latest_occurrence(session, unit, now)
        if moment is not None and _utc(moment) >= _utc(run.created_at):
            week = local_week(moment, window_for(session, unit))
            round_ = find_round(session, unit.id, week)
            key = invite_key(unit.id, week)
            if (round_ is None or is_open(round_, now)) and not already_sent(session, [key]):
                jobs.append(Job(key, unit.id, _invite(unit.id)))
        for round_ in session.scalars(
            select(CheckinRound).where(CheckinRound.unit_id == unit.id, CheckinRound.remind_at <= now)
        ):
            key = f"checkin-reminder:{unit.id}:{round_.week}"
            # Only rounds that were announced get a reminder, and only while they are open.
            invited = already_sent(session, [invite_key(unit.id, round_.week)])
            if invited and is_open(round_, now) and not already_sent(session, [key]):
                jobs.append(Job(key, unit.id, _remind(round_.id)))
    return jobs


def next_at(session: Session, now: datetime) -> datetime | None:
    """The next check-in invitation or reminder moment after ``now`` of any running unit."""
    found: list[datetime] = []
    for run in running_runs(session, now):
        unit = session.get(Unit, run.unit_id)
        if unit is None:
            continue
        window = window_for(session, unit)
        row = settings_for(session, unit.id)
        at = parse_hhmm(row.checkin_time) or time(13, 0)
        today = now.astimezone(window.zone).date()
        monday = today - timedelta(days=today.weekday())
        for weeks in range(3):
            moment = occurrence_in_week(monday + timedelta(weeks=weeks), row.checkin_weekday, at, window)
            if moment is not None and _utc(moment) > _utc(now):
                found.append(moment)
                break
        reminder = session.scalar(
            select(func.min(CheckinRound.remind_at)).where(
                CheckinRound.unit_id == unit.id, CheckinRound.remind_at > now, CheckinRound.closes_at > now
            )
        )
        if reminder is not None:
            found.append(reminder)
    return min(found, key=_utc) if found else None
