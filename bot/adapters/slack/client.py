"""Talking to the Slack Web API: the client with its retry handlers, errors as :class:`DeliveryError`,
pacing per channel, and remembered ``response_url``s for channels the bot is not in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.messenger import DeliveryError

DEFAULT_API_URL = "https://slack.com/api/"
# A 429 with a longer Retry-After is not waited out inside a request: the outbox retries it later, so one
# throttled workspace does not hold up delivery for the others.
MAX_INLINE_RETRY_AFTER = 10
# Errors that mean "try again later"; everything else Slack answers is permanent for this request.
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# How long a slash command's response_url stays usable (Slack: 30 minutes, 5 uses).
RESPONSE_URL_SECONDS = 25 * 60.0
RESPONSE_URL_USES = 5
# Posts one channel may get at once before the one-a-second pace applies (Slack: "short bursts").
CHANNEL_BURST = 3


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Slack's rate-limit retry, but only for short waits; longer ones go back to the outbox."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return _retry_after(response.headers) <= MAX_INLINE_RETRY_AFTER


def _retry_after(headers: Any) -> float:
    for key, value in dict(headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return 1.0
    return 1.0


def retry_handlers() -> list[AsyncRetryHandler]:
    return [AsyncConnectionErrorRetryHandler(), ShortRateLimitRetryHandler(), AsyncServerErrorRetryHandler()]


def api_url(settings_url: str) -> str:
    url = settings_url or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def web_client(
    base_url: str, token: str | None = None, *, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """Every Web API client we make: our base URL and retries on 429 and 5xx, not only connection errors;
    with ``session``, one shared connection pool instead of a new session per call."""
    return AsyncWebClient(
        token=token, base_url=api_url(base_url), retry_handlers=retry_handlers(), session=session
    )


def slack_error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        # A proxy or an outage may answer with HTML or plain text instead of Slack's JSON.
        data = exc.response.data
        error = data.get("error") if isinstance(data, dict) else None
        return str(error or f"http_{exc.response.status_code}")
    return type(exc).__name__


class SlackDeliveryError(DeliveryError):
    """A :class:`DeliveryError` that keeps Slack's error code (``not_in_channel``…) for fallbacks."""

    def __init__(self, message: str, *, code: str, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message, retryable=retryable, retry_after=retry_after)
        self.code = code


def to_delivery_error(exc: Exception, what: str) -> SlackDeliveryError:
    """Whether trying again later can help: outages and rate limits yes, a refused request no."""
    error = slack_error(exc)
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        if status == 429 or error in ("ratelimited", "rate_limited"):
            wait = _retry_after(exc.response.headers)
            return SlackDeliveryError(
                f"{what}: rate limited by Slack", code=error, retryable=True, retry_after=wait
            )
        if status >= 500 or error in RETRYABLE_ERRORS:
            return SlackDeliveryError(f"{what}: Slack answered {status} {error}", code=error, retryable=True)
        return SlackDeliveryError(f"{what}: Slack refused it ({error})", code=error, retryable=False)
    if isinstance(exc, aiohttp.ClientError | TimeoutError | OSError | SlackRequestError):
        return SlackDeliveryError(
            f"{what}: Slack unreachable ({type(exc).__name__}: {exc})", code=error, retryable=True
        )
    if isinstance(exc, SlackClientError):
        return SlackDeliveryError(f"{what}: {exc}", code=error, retryable=False)
    raise exc


class TokenBucket:
    """Per key (a channel): up to ``burst`` calls at once, then one every ``interval`` seconds – Slack's
    "about one message per second per channel, short bursts allowed" for ``chat.postMessage``.

    A caller that finds the bucket empty reserves the next token and sleeps until it is due, so waiting
    callers keep their order. Only the caller's lane waits: each outbox lane has its own task. Time is
    injected (``monotonic``, ``sleep``) so tests never wait for real."""

    def __init__(
        self,
        interval: float,
        burst: int = CHANNEL_BURST,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self.burst = max(1, burst)
        self.monotonic = monotonic
        self.sleep = sleep
        self._tokens: dict[str, tuple[float, float]] = {}

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._tokens.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) / self.interval)

    async def acquire(self, key: str) -> None:
        if self.interval <= 0:
            return
        now = self.monotonic()
        level = self._level(key, now)
        self._tokens[key] = (level - 1.0, now)
        if len(self._tokens) > 10_000:
            self._tokens = {k: v for k, v in self._tokens.items() if self._level(k, now) < self.burst}
        if level < 1.0:
            await self.sleep((1.0 - level) * self.interval)

    def hold(self, key: str, seconds: float) -> None:
        """Slack said Retry-After: nothing more to this key until then."""
        if self.interval <= 0:
            return
        now = self.monotonic()
        # The next token is there exactly when Slack said.
        self._tokens[key] = (min(self._level(key, now), 1.0 - seconds / self.interval), now)


@dataclass
class _ResponseUrl:
    user_id: str
    url: str
    expires: float
    uses: int = 0


class ResponseUrls:
    """Recent slash commands' ``response_url`` per channel: the one way to answer in a channel the bot was
    never invited to (chat.postMessage and chat.postEphemeral both need membership)."""

    def __init__(self) -> None:
        self._urls: dict[tuple[str, str], list[_ResponseUrl]] = {}

    def remember(self, workspace: str, channel: str, user_id: str, url: str) -> None:
        if not url:
            return
        now = asyncio.get_running_loop().time()
        entries = [
            e for e in self._urls.get((workspace, channel), []) if e.expires > now and e.user_id != user_id
        ]
        entries.append(_ResponseUrl(user_id, url, now + RESPONSE_URL_SECONDS))
        self._urls[(workspace, channel)] = entries[-20:]

    def find(self, workspace: str, channel: str, user_id: str | None = None) -> _ResponseUrl | None:
        now = asyncio.get_running_loop().time()
        entries = [
            e
            for e in self._urls.get((workspace, channel), [])
            if e.expires > now and e.uses < RESPONSE_URL_USES
        ]
        if user_id is not None:
            entries = [e for e in entries if e.user_id == user_id]
        return entries[-1] if entries else None
