"""What the scheduler sends: jobs with a ledger key, found by sources (nudges, check-ins, summaries, …).

A source looks at the database and the time and says which messages are due, as :class:`Job` values. The
scheduler runs each job's ``make`` inside the transaction that also writes the job's ledger row and its
outbox items, so a job either happens completely, once, or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat.model import Effect
from bot.course.models import SendLedger


class Skip(Exception):
    """Raised by ``make`` when the job turned out not to be due after all (changed meanwhile): nothing is
    written, no ledger row either, so a later tick may still send it if it becomes due again."""


@dataclass(frozen=True)
class Job:
    key: str
    unit_id: int
    make: Callable[[Session, datetime], list[Effect]]
    # Slow work ``make`` asked for that needs no database (drawing a chart): run after the transaction has
    # committed, so the ledger's write lock is not held while matplotlib draws.
    after_commit: list[Callable[[], object]] = field(default_factory=list)


JobSource = Callable[[Session, datetime], list[Job]]


def already_sent(session: Session, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(SendLedger.key).where(SendLedger.key.in_(keys))))
