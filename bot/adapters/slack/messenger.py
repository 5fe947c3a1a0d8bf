"""The Slack :class:`~bot.chat.messenger.Messenger`: neutral replies out through the Slack Web API.

* ``post`` → ``chat.postMessage`` (``thread_ts`` for threads), split into several messages when a reply does
  not fit one; pictures follow as file uploads (``files.uploadV2``) in the same channel and thread.
* ``update`` → ``chat.update``; ``post_private`` → ``chat.postEphemeral``; ``post_direct`` →
  ``conversations.open`` + ``chat.postMessage``; ``open_form`` → ``views.open`` with the click's trigger,
  or, without a usable trigger, a private message with a button that opens the form on the next click.
* Errors become :class:`DeliveryError`: 429, 5xx and connection trouble are retryable (the outbox keeps the
  item, honouring ``Retry-After``), everything else is not (retrying would fail the same way).
* Posts to one channel are paced to about one a second, Slack's documented rate for ``chat.postMessage``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

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
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, PlainTextObject
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy import delete, select

from bot.adapters.slack import render
from bot.adapters.slack.installs import TokenSource
from bot.chat import codec
from bot.chat.messenger import DeliveryError
from bot.chat.model import Form, Note, Place, Platform, Reply, Text
from bot.i18n import normalise_language, t
from bot.storage.db import Database
from bot.storage.models import KeyValue, Member, Organisation, Unit

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
# Slack: chat.postMessage allows about one message per second per channel (short bursts tolerated).
POST_INTERVAL = 1.0
# A 429 with a longer Retry-After is not waited out inside a request: the outbox retries it later, so one
# throttled workspace does not hold up delivery for the others.
MAX_INLINE_RETRY_AFTER = 10
# Errors that mean "try again later"; everything else Slack answers is permanent for this request.
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# The bot cannot write here: it was never invited, or the channel is gone or archived.
NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
# The token is gone (uninstalled, revoked): forget the cached token so the next try looks again.
TOKEN_GONE = frozenset({"invalid_auth", "token_revoked", "account_inactive", "not_authed", "token_expired"})
TRIGGER_GONE = frozenset({"expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id"})
# Button that opens a stored form, for forms asked for without a trigger (see :meth:`open_form`).
OPEN_FORM_ACTION = "partsbot.slack.open_form"
FORM_STASH_PREFIX = "slack:form:"
FORM_STASH_DAYS = 7
# How long a slash command's response_url stays usable (Slack: 30 minutes, 5 uses).
RESPONSE_URL_SECONDS = 25 * 60.0

T = TypeVar("T")


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


def web_client(base_url: str, token: str | None = None) -> AsyncWebClient:
    """Every Web API client we make: our base URL and retries on 429 and 5xx, not only connection errors."""
    return AsyncWebClient(token=token, base_url=api_url(base_url), retry_handlers=retry_handlers())


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


class Pacer:
    """Spaces calls per key (a channel) at least ``interval`` apart, in this process."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}

    async def wait(self, key: str) -> None:
        if self.interval <= 0:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        at = max(now, self._next.get(key, 0.0))
        self._next[key] = at + self.interval
        if len(self._next) > 10_000:
            self._next = {k: v for k, v in self._next.items() if v > now}
        if at > now:
            await asyncio.sleep(at - now)


@dataclass
class _ResponseUrl:
    user_id: str
    url: str
    expires: float


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
        entries = [e for e in self._urls.get((workspace, channel), []) if e.expires > now]
        if user_id is not None:
            entries = [e for e in entries if e.user_id == user_id]
        return entries[-1] if entries else None


class SlackMessenger:
    platform: Platform = "slack"

    def __init__(
        self,
        db: Database,
        tokens: TokenSource,
        *,
        base_url: str = "",
        language: str = "nb",
        post_interval: float = POST_INTERVAL,
        response_urls: ResponseUrls | None = None,
    ) -> None:
        self.db = db
        self.tokens = tokens
        self.base_url = api_url(base_url)
        self.language = language
        self.pacer = Pacer(post_interval)
        self.response_urls = response_urls or ResponseUrls()
        self._clients: dict[str, AsyncWebClient] = {}
        self._dm_channels: dict[tuple[str, str], str] = {}

    # Plumbing --------------------------------------------------------------------------------------

    async def client(self, workspace: str) -> AsyncWebClient:
        token = await self.tokens.token_for(workspace)
        if not token:
            raise DeliveryError(f"no Slack installation for workspace {workspace}", retryable=False)
        client = self._clients.get(token)
        if client is None:
            if len(self._clients) > 1000:
                self._clients.clear()
            client = self._clients[token] = web_client(self.base_url, token)
        return client

    async def call(self, workspace: str, what: str, call: Callable[[AsyncWebClient], Awaitable[T]]) -> T:
        client = await self.client(workspace)
        try:
            return await call(client)
        except (SlackClientError, aiohttp.ClientError, OSError) as exc:
            if slack_error(exc) in TOKEN_GONE:
                self.tokens.forget(workspace)
            raise to_delivery_error(exc, what) from exc

    def _text(self, language: str | None, key: str, **values: Any) -> str:
        return t(normalise_language(language or self.language), key, **values)

    def _language_of(self, workspace: str, user_id: str) -> str:
        """The person's language for texts the adapter itself writes (hints, the form button)."""
        with self.db.transaction() as session:
            row = session.execute(
                select(Member.language, Unit.language)
                .join(Organisation, Organisation.id == Member.organisation_id)
                .outerjoin(Unit, Unit.id == Member.home_unit_id)
                .where(
                    Organisation.platform == "slack",
                    Organisation.external_id == workspace,
                    Member.user_id == user_id,
                )
            ).first()
        if row is None:
            return self.language
        return normalise_language(row[0] or row[1] or self.language)

    # Messenger -------------------------------------------------------------------------------------

    async def post(self, place: Place, reply: Reply) -> str:
        first_ts = ""
        for message in render.render_reply(reply):
            await self.pacer.wait(f"{place.workspace}:{place.channel}")
            try:
                response = await self.call(
                    place.workspace,
                    "chat.postMessage",
                    lambda c, m=message: c.chat_postMessage(  # type: ignore[misc]
                        channel=place.channel,
                        text=m.text,
                        blocks=m.blocks,
                        thread_ts=place.thread,
                        unfurl_links=False,
                        unfurl_media=False,
                    ),
                )
            except DeliveryError as exc:
                if not first_ts and _is_not_in_channel(exc):
                    await self._invite_hint(place)
                raise
            first_ts = first_ts or str(response["ts"])
        await self._upload_images(place, reply)
        return first_ts

    async def update(self, place: Place, message_id: str, reply: Reply) -> None:
        message = render.render_single(reply, self._text(None, "slack.more_in_thread"))
        await self.call(
            place.workspace,
            "chat.update",
            lambda c: c.chat_update(
                channel=place.channel, ts=message_id, text=message.text, blocks=message.blocks
            ),
        )

    async def post_private(self, place: Place, user_id: str, reply: Reply) -> None:
        messages = render.render_reply(reply)
        for index, message in enumerate(messages):
            await self.pacer.wait(f"{place.workspace}:{place.channel}")
            try:
                await self.call(
                    place.workspace,
                    "chat.postEphemeral",
                    lambda c, m=message: c.chat_postEphemeral(  # type: ignore[misc]
                        channel=place.channel,
                        user=user_id,
                        text=m.text,
                        blocks=m.blocks,
                        thread_ts=place.thread,
                    ),
                )
            except DeliveryError as exc:
                if index == 0 and _is_not_in_channel(exc):
                    await self._private_elsewhere(place, user_id, reply)
                    return
                raise

    async def post_direct(self, workspace: str, user_id: str, reply: Reply) -> None:
        channel = await self.dm_channel(workspace, user_id)
        await self.post(Place("slack", workspace, channel, None, True), reply)

    async def open_form(self, place: Place, user_id: str, form: Form, trigger_id: str | None) -> None:
        language = await asyncio.to_thread(self._language_of, place.workspace, user_id)
        if trigger_id:
            try:
                await self.show_form(place, form, trigger_id, language)
                return
            except DeliveryError as exc:
                if exc.retryable:
                    raise
                log.info("form %s could not open directly (%s); offering a button", form.form_id, exc)
        await self._offer_form(place, user_id, form, language)

    # Forms -----------------------------------------------------------------------------------------

    async def show_form(self, place: Place, form: Form, trigger_id: str, language: str) -> None:
        metadata = json.dumps(
            {
                "f": form.context,
                "w": place.workspace,
                "c": place.channel,
                "t": place.thread,
                "d": place.is_direct,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        view = render.render_form(
            form, private_metadata=metadata, close_label=self._text(language, "slack.form_close")
        )
        await self.call(
            place.workspace, "views.open", lambda c: c.views_open(trigger_id=trigger_id, view=view)
        )

    async def _offer_form(self, place: Place, user_id: str, form: Form, language: str) -> None:
        """A form needs a fresh click (a trigger lives 3 s): store it and send a button that opens it."""
        stash_key = await asyncio.to_thread(self._stash_form, place, form)
        button = ButtonElement(
            text=PlainTextObject(text=render.ellipsis(form.title, render.BUTTON_TEXT)),
            action_id=OPEN_FORM_ACTION,
            value=stash_key,
            style="primary",
        )
        intro = self._text(language, "slack.form_offer", title=form.title)
        reply = Reply(fallback=intro, blocks=(Text(intro),))
        message = render.render_reply(reply)[0]
        blocks = [*message.blocks, ActionsBlock(elements=[button]).to_dict()]
        target = place
        if not place.channel:
            target = Place(
                "slack", place.workspace, await self.dm_channel(place.workspace, user_id), None, True
            )
        await self.call(
            place.workspace,
            "chat.postEphemeral",
            lambda c: c.chat_postEphemeral(
                channel=target.channel,
                user=user_id,
                text=message.text,
                blocks=blocks,
                thread_ts=target.thread,
            ),
        )

    def _stash_form(self, place: Place, form: Form) -> str:
        key = FORM_STASH_PREFIX + uuid.uuid4().hex
        now = datetime.now(UTC)
        with self.db.transaction() as session:
            session.add(
                KeyValue(key=key, value=codec.dumps({"at": now.isoformat(), "place": place, "form": form}))
            )
            old = now - timedelta(days=FORM_STASH_DAYS)
            stale = [
                row.key
                for row in session.scalars(select(KeyValue).where(KeyValue.key.startswith(FORM_STASH_PREFIX)))
                if datetime.fromisoformat(codec.loads(row.value).get("at", now.isoformat())) < old
            ]
            if stale:
                session.execute(delete(KeyValue).where(KeyValue.key.in_(stale)))
        return key

    def stashed_form(self, key: str) -> tuple[Place, Form] | None:
        if not key.startswith(FORM_STASH_PREFIX):
            return None
        with self.db.transaction() as session:
            row = session.get(KeyValue, key)
            if row is None:
                return None
            data = codec.loads(row.value)
        return data["place"], data["form"]

    # Direct messages, files, fallbacks -------------------------------------------------------------

    async def dm_channel(self, workspace: str, user_id: str) -> str:
        cached = self._dm_channels.get((workspace, user_id))
        if cached:
            return cached
        response = await self.call(
            workspace, "conversations.open", lambda c: c.conversations_open(users=user_id)
        )
        channel = str(response["channel"]["id"])
        self._dm_channels[(workspace, user_id)] = channel
        return channel

    async def _upload_images(self, place: Place, reply: Reply) -> None:
        # The text went out already: a failed picture is logged, not retried, or the text would repeat.
        for image in render.images_of(reply):
            path = Path(image.path)
            try:
                data = await asyncio.to_thread(path.read_bytes)
                await self.call(
                    place.workspace,
                    "files.uploadV2",
                    lambda c, d=data, p=path, i=image: c.files_upload_v2(  # type: ignore[misc]
                        channel=place.channel,
                        thread_ts=place.thread,
                        content=d,
                        filename=p.name,
                        title=render.ellipsis(i.alt, 200),
                        alt_txt=render.ellipsis(i.alt, 1000),
                    ),
                )
            except (DeliveryError, OSError) as exc:
                log.error("picture %s not uploaded to %s: %s", path.name, place.channel, exc)

    async def _invite_hint(self, place: Place) -> None:
        """Tell the person who just asked, through their command's response_url, to invite the bot."""
        found = self.response_urls.find(place.workspace, place.channel)
        if found is None:
            log.warning("Partsbot is not in channel %s/%s; nobody to tell", place.workspace, place.channel)
            return
        language = await asyncio.to_thread(self._language_of, place.workspace, found.user_id)
        hint = self._text(language, "slack.not_in_channel")
        await self._respond(found.url, Reply(fallback=hint, blocks=(Note(hint),)))

    async def _private_elsewhere(self, place: Place, user_id: str, reply: Reply) -> None:
        """An ephemeral message in a channel without the bot: through the command's response_url if there is
        one (it works anywhere), else as a direct message."""
        found = self.response_urls.find(place.workspace, place.channel, user_id)
        if found is not None and await self._respond(found.url, reply):
            return
        if place.is_direct:
            raise DeliveryError(f"cannot write to {place.channel} for {user_id}", retryable=False)
        await self.post_direct(place.workspace, user_id, reply)

    async def _respond(self, url: str, reply: Reply) -> bool:
        webhook = AsyncWebhookClient(url, retry_handlers=retry_handlers())
        ok = True
        for message in render.render_reply(reply):
            try:
                response = await webhook.send(
                    text=message.text,
                    blocks=message.blocks,
                    response_type="ephemeral",
                    replace_original=False,
                )
                ok = ok and response.status_code == 200
            except (aiohttp.ClientError, OSError) as exc:
                log.warning("response_url answer failed: %s", exc)
                return False
        return ok


def _is_not_in_channel(exc: DeliveryError) -> bool:
    return getattr(exc, "code", None) in NOT_IN_CHANNEL
