"""Writes that must not share the event's transaction: anonymous contributions.

Why a separate transaction: on PostgreSQL every row a transaction writes carries that transaction's id
(``xmin``), readable by anyone with ``SELECT``. The event's transaction names the person (the "has
answered" marker, the private receipt in the outbox, their member row), so an anonymous answer written in
it would be linked to them by ``xmin`` alone (security review SEC-02). A handler therefore asks for such a
write with :meth:`HandlerContext.detach`; the core runs it after the event's transaction has committed, in
a transaction of its own that writes nothing about the person, and delivers what it produced (a released
batch, a refreshed head message).

If the detached write keeps failing, ``undo`` runs in yet another transaction (for example, the survey
removes the person's marker so they can answer again) and the person is told something went wrong.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from bot.chat.context import HandlerContext
    from bot.chat.model import Effect
    from bot.storage.db import Database

log = logging.getLogger(__name__)

# Where the pending writes wait between the handler and the commit: the session's own scratch space, so
# a rolled-back handler (UserError, crash) takes them with it (the router clears them on rollback).
SESSION_KEY = "partsbot.detached"

ATTEMPTS = 3


@dataclass(frozen=True)
class DetachedWrite:
    """``write`` gets a copy of the handler's context with a fresh session and no effects; what it appends
    to ``effects`` is delivered. ``name`` is for log lines (never the content)."""

    name: str
    ctx: HandlerContext
    write: Callable[[HandlerContext], None]
    undo: Callable[[HandlerContext], None] | None = None


def pending(session: Session) -> list[DetachedWrite]:
    found: list[DetachedWrite] = session.info.setdefault(SESSION_KEY, [])
    return found


def take(session: Session) -> list[DetachedWrite]:
    """The writes a committed handler asked for (and forget them)."""
    found: list[DetachedWrite] = session.info.pop(SESSION_KEY, [])
    return found


def discard(session: Session) -> None:
    session.info.pop(SESSION_KEY, None)


def run(
    db: Database,
    item: DetachedWrite,
    now: datetime,
    enqueue: Callable[[Session, list[Effect], datetime], None],
) -> list[Effect]:
    """Run one detached write in its own transaction (retried on conflicts); undo it if that keeps failing.

    Returns the effects it produced, already stored in the outbox by ``enqueue``.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with db.transaction() as session:
                ctx = dataclasses.replace(item.ctx, session=session, effects=[], now=now)
                item.write(ctx)
                session.flush()
                # A detached write never asks for another one.
                discard(session)
                enqueue(session, ctx.effects, now)
            return ctx.effects
        except (IntegrityError, OperationalError):
            # Serialisation failures and lock timeouts. No traceback: an exception's text may quote what
            # was written (engines hide SQL parameters, but a driver message can still carry a value).
            log.warning("detached write %s conflicted (attempt %d)", item.name, attempt)
        except Exception as exc:
            log.error("detached write %s failed: %s at %s", item.name, type(exc).__name__, _where(exc))
            break
    if item.undo is None:
        log.error("detached write %s was lost", item.name)
        return []
    with db.transaction() as session:
        ctx = dataclasses.replace(item.ctx, session=session, effects=[], now=now)
        item.undo(ctx)
        session.flush()
        enqueue(session, ctx.effects, now)
    log.error("detached write %s failed and was undone", item.name)
    return ctx.effects


def _where(exc: BaseException) -> str:
    """``file:line`` of the innermost frame: enough to find the bug, without the exception's text."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "?"
