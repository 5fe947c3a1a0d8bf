"""Placeholder: module 6's drafted exchange page (filled in by bot/course/exchange.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.chat.model import Effect
from bot.course.models import CourseRun
from bot.storage.models import Unit


def nudge_effects(session: Session, run: CourseRun, unit: Unit, now: datetime) -> list[Effect]:
    return []
