"""Outgoing rate limits per Teams conversation, kept by the sender instead of learned from 429s.

The Bot Framework allows a bot, per conversation: 7 messages a second, 8 in 2 s, 60 in 30 s, 1800 an hour.
A burst (a round opening with its question posts, a batch of anonymous questions released at once) would
otherwise run into 429s. Short waits happen here; a wait longer than ``max_wait`` is handed back to the
outbox as a retryable failure, so one busy channel never holds up the whole delivery loop for long.

The windows are counted per process: several replicas sending into one conversation can together exceed
them, and then Teams' 429 answers (retried by the messenger) are the safety net.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

WINDOWS: tuple[tuple[int, float], ...] = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
# How often idle conversations are dropped from memory (every this many sends).
SWEEP_EVERY = 1000


class RateLimited(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(f"conversation rate limit: next send in {wait:.1f}s")
        self.wait = wait


class ConversationRateLimiter:
    def __init__(
        self,
        windows: tuple[tuple[int, float], ...] = WINDOWS,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_wait: float = 10.0,
    ) -> None:
        self.windows = windows
        self.monotonic = monotonic
        self.sleep = sleep
        self.max_wait = max_wait
        self._horizon = max(period for _, period in windows)
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._acquired = 0

    def _wait(self, sent: deque[float], now: float) -> float:
        while sent and sent[0] <= now - self._horizon:
            sent.popleft()
        wait = 0.0
        for limit, period in self.windows:
            in_window = [t for t in sent if t > now - period] if len(sent) >= limit else []
            if len(in_window) >= limit:
                # The send that leaves the window first makes room for the next one.
                wait = max(wait, in_window[-limit] + period - now)
        return wait

    async def acquire(self, conversation: str) -> None:
        """Wait until one more message may go to ``conversation``; raise :class:`RateLimited` if too long."""
        self._acquired += 1
        if self._acquired % SWEEP_EVERY == 0:
            self.forget_idle()
        lock = self._locks.setdefault(conversation, asyncio.Lock())
        async with lock:  # senders to one conversation queue up in order
            sent = self._sent.setdefault(conversation, deque())
            while True:
                now = self.monotonic()
                wait = self._wait(sent, now)
                if wait <= 0:
                    sent.append(now)
                    return
                if wait > self.max_wait:
                    raise RateLimited(wait)
                await self.sleep(wait)

    def forget_idle(self) -> None:
        """Drop conversations with nothing left in any window (bounded memory on a long-running server)."""
        now = self.monotonic()
        for conversation in list(self._sent):
            sent = self._sent[conversation]
            lock = self._locks.get(conversation)
            if (not sent or sent[-1] <= now - self._horizon) and not (lock and lock.locked()):
                del self._sent[conversation]
                self._locks.pop(conversation, None)
