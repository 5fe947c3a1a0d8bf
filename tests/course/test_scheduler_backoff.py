"""A scheduled send that keeps failing backs off (1, 2, 4 … minutes) instead of failing on every beat."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from bot.core import Partsbot
from bot.course import scheduler
from bot.course.jobs import Job
from tests.conftest import FakeClock


def test_a_failing_job_backs_off_and_is_tried_again_later(
    make_bot: Callable[..., Partsbot], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = make_bot()
    tries: list[datetime] = []
    broken = True

    def make(session: Session, now: datetime) -> list[object]:
        tries.append(now)
        if broken:
            raise RuntimeError("a summary that cannot be built")
        return []

    monkeypatch.setattr(scheduler, "sources", lambda _bot: [("test", lambda s, n: [Job("test:1", 0, make)])])
    failures = scheduler.FailedJobs()
    start = clock()

    def beat(after: timedelta) -> scheduler.TickReport:
        return scheduler.run_due(bot, start + after, failures)

    assert beat(timedelta()).failed == ["test:1"]
    assert beat(timedelta(seconds=30)).waiting == ["test:1"]  # the next beat leaves it alone
    assert beat(timedelta(seconds=61)).failed == ["test:1"]  # after a minute: tried again
    assert beat(timedelta(seconds=61 + 90)).waiting == ["test:1"]  # then two minutes apart
    broken = False
    assert beat(timedelta(seconds=61 + 121)).sent == ["test:1"]
    assert len(tries) == 3
