"""What the course keeps, and for how long: run on every scheduler beat (see README "Privacy").

* "Has answered" markers of check-ins and evaluations are deleted once their round has closed: they are
  needed only for reminders and to refuse a second answer, and a marker next to a round's totals is the
  one thing that says who contributed to them.
* Reflection answers are deleted when their digest is made (:mod:`bot.course.reflection`); those whose
  digest never came (the run was ended, the digest's moment passed during an outage) are deleted unread,
  with their markers, :data:`REFLECTION_STALE` after the question went out.
* Chart images of the weekly summary are deleted once no outbox item refers to them any more, i.e. once
  the summary carrying them has been delivered (or dropped). The folder is created private (mode 0700).
* Closed cases are anonymised :data:`DEFAULT_CASE_MONTHS` months after they closed
  (``PARTSBOT_CASE_RETENTION_MONTHS``): every name in them becomes "en tidligere kollega". Two years is the
  period internal-control documentation (internkontrollforskriften § 5) is usually kept; the case's content
  stays as the unit's record of what was done.
* An organisation whose app was removed is deleted when its grace period ends
  (:func:`bot.storage.personal.delete_due_organisations`).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from bot.course.models import (
    CheckinRespondent,
    CheckinRound,
    EvaluationRespondent,
    EvaluationRound,
)
from bot.course.models_exchange import ReflectionRespondent, ReflectionRound
from bot.i18n import t
from bot.settings import Settings
from bot.storage import personal
from bot.storage.models import KeyValue, OutboxItem, Unit
from bot.toolbox.models import Case

log = logging.getLogger(__name__)

# Longer than any gap between two modules: a reflection round still open after this never gets a digest.
REFLECTION_STALE = timedelta(days=60)
# A chart younger than this is kept even if no outbox item names it yet (it is being written right now).
CHART_GRACE = timedelta(minutes=10)


def forget_closed_markers(session: Session, now: datetime) -> int:
    """Delete the respondent markers of every closed round; returns how many went."""
    removed = 0
    for round_model, marker in ((CheckinRound, CheckinRespondent), (EvaluationRound, EvaluationRespondent)):
        closed = select(round_model.id).where(round_model.closes_at <= now)
        has_markers = exists().where(marker.round_id == round_model.id)
        ids = list(session.scalars(closed.where(has_markers)))
        if ids:
            result = session.execute(delete(marker).where(marker.round_id.in_(ids)))
            removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


def forget_stale_reflections(session: Session, now: datetime) -> int:
    """Reflection rounds whose digest never came: texts and markers deleted unread; returns how many."""
    stale = session.scalars(
        select(ReflectionRound).where(
            ReflectionRound.status == "open", ReflectionRound.opened_at <= now - REFLECTION_STALE
        )
    ).all()
    for round_ in stale:
        round_.status = "withheld"
        round_.answers = []
        session.execute(delete(ReflectionRespondent).where(ReflectionRespondent.round_id == round_.id))
    return len(stale)


def delete_delivered_charts(session: Session, now: datetime, folder: Path) -> int:
    """Delete chart files that no waiting outbox item refers to; returns how many went."""
    if not folder.is_dir():
        return 0
    waiting = "\n".join(session.scalars(select(OutboxItem.effect)))
    removed = 0
    for path in folder.glob("*.png"):
        try:
            # File times are the machine's, so the age is measured on its clock, not the scheduler's.
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            continue  # another replica got there first
        if age < CHART_GRACE.total_seconds() or path.name in waiting:
            continue
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


DEFAULT_CASE_MONTHS = 24
CASES_DONE_KEY = "retention.cases_closed_until"


def case_months(settings: Settings) -> int:
    raw = settings.extra.get("PARTSBOT_CASE_RETENTION_MONTHS", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_CASE_MONTHS


def anonymise_closed_cases(session: Session, now: datetime, settings: Settings) -> int:
    """Anonymise cases closed more than the retention time ago; returns how many rows changed.

    Each run remembers up to which closing time it got (``key_value``), so a beat looks only at cases that
    passed the limit since the last one, not at every old case again."""
    cutoff = now - timedelta(days=round(case_months(settings) * 30.44))
    mark = session.get(KeyValue, CASES_DONE_KEY)
    done_until = datetime.fromisoformat(mark.value) if mark is not None and mark.value else None
    query = (
        select(Case.id, Unit.organisation_id, Unit.language)
        .join(Unit, Unit.id == Case.unit_id)
        .where(Case.closed_at.is_not(None), Case.closed_at <= cutoff)
    )
    if done_until is not None:
        query = query.where(Case.closed_at > done_until)
    changed = 0
    for case_id, organisation_id, language in session.execute(query).all():
        former = t(language, "privacy.former_colleague")
        changed += personal.anonymise(session, Case.__table__, Case.id == case_id, organisation_id, former)  # type: ignore[arg-type]
    if mark is None:
        session.add(KeyValue(key=CASES_DONE_KEY, value=cutoff.isoformat()))
    elif done_until is None or cutoff > done_until:
        mark.value = cutoff.isoformat()
    return changed


def delete_removed_organisations(session: Session, now: datetime) -> int:
    return personal.delete_due_organisations(session, now)
