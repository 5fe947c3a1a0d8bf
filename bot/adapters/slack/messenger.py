"""The Slack :class:`~bot.chat.messenger.Messenger`: neutral replies out through the Slack Web API.

* ``post`` → ``chat.postMessage`` (``thread_ts`` for threads), split into several messages when a reply does
  not fit one; pictures follow as file uploads (``files.uploadV2``) in the same channel and thread.
* ``update`` → ``chat.update``; ``post_private`` → ``chat.postEphemeral``; ``post_direct`` →
  ``conversations.open`` + ``chat.postMessage``; ``open_form`` → ``views.open`` with the click's trigger,
  or, without a usable trigger, a private message with a button that opens the form on the next click.
* Errors become :class:`DeliveryError`: 429, 5xx and connection trouble are retryable (the outbox keeps the
  item, honouring ``Retry-After``), everything else is not (retrying would fail the same way).
* Posts to one channel go through a token bucket: a short burst at once, then about one a second, Slack's
  documented rate for ``chat.postMessage``; a 429's Retry-After empties the channel's bucket until then.
* Private answers are not paced: a slash command's answer goes through its ``response_url`` (5 uses in 30
  minutes, no rate limit per channel), otherwise ``chat.postEphemeral``; so 20 people typing
  ``/parts hjelp`` at once in one channel all get their answer at once.
* All Web API clients and ``response_url`` calls share one HTTP session (one connection pool).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, PlainTextObject
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy import delete, select

from bot.adapters.slack import render
from bot.adapters.slack.client import (
    ResponseUrls,
    TokenBucket,
    api_url,
    retry_handlers,
    slack_error,
    to_delivery_error,
    web_client,
)
from bot.adapters.slack.installs import TokenSource
from bot.chat import codec
from bot.chat.messenger import DeliveryError
from bot.chat.model import Form, Note, Place, Platform, Reply, Text
from bot.i18n import normalise_language, t
from bot.storage.db import Database
from bot.storage.models import KeyValue, Member, Organisation, Unit

log = logging.getLogger(__name__)

# Slack: chat.postMessage allows about one message per second per channel (short bursts tolerated).
POST_INTERVAL = 1.0
# The bot cannot write here: it was never invited, or the channel is gone or archived.
NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
# The token is gone (uninstalled, revoked): forget the cached token so the next try looks again.
TOKEN_GONE = frozenset({"invalid_auth", "token_revoked", "account_inactive", "not_authed", "token_expired"})
# Button that opens a stored form, for forms asked for without a trigger (see :meth:`open_form`).
OPEN_FORM_ACTION = "partsbot.slack.open_form"
FORM_STASH_PREFIX = "slack:form:"
FORM_STASH_DAYS = 7

T = TypeVar("T")


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
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.db = db
        self.tokens = tokens
        self.base_url = api_url(base_url)
        self.language = language
        self.pacer = TokenBucket(post_interval, monotonic=monotonic, sleep=sleep)
        self.response_urls = response_urls or ResponseUrls()
        self._clients: dict[str, AsyncWebClient] = {}
        self._dm_channels: dict[tuple[str, str], str] = {}
        self._session: aiohttp.ClientSession | None = None
        self._retry_handlers = retry_handlers()

    def session(self) -> aiohttp.ClientSession:
        """The one HTTP session of every Web API and response_url call (made in the running loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._clients.clear()
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        self._clients.clear()

    # Plumbing --------------------------------------------------------------------------------------

    async def client(self, workspace: str) -> AsyncWebClient:
        token = await self.tokens.token_for(workspace)
        if not token:
            raise DeliveryError(f"no Slack installation for workspace {workspace}", retryable=False)
        session = self.session()
        client = self._clients.get(token)
        if client is None:
            if len(self._clients) > 1000:
                self._clients.clear()
            client = self._clients[token] = web_client(self.base_url, token, session=session)
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
        channel_key = f"{place.workspace}:{place.channel}"
        for message in render.render_reply(reply):
            await self.pacer.acquire(channel_key)
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
                if exc.retry_after is not None:
                    self.pacer.hold(channel_key, exc.retry_after)
                if not first_ts and _is_not_in_channel(exc):
                    await self._invite_hint(place)
                raise
            first_ts = first_ts or str(response["ts"])
        await self._upload_images(place, reply)
        await self._upload_files(place, reply)
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
        """At once, never behind the channel's paced posts: through the person's fresh ``response_url``
        when there is one (not for threads: it answers in the channel), else ``chat.postEphemeral``."""
        messages = render.render_reply(reply)
        found = None if place.thread else self.response_urls.find(place.workspace, place.channel, user_id)
        if found is not None:
            found.uses += len(messages)
            if await self._respond(found.url, reply, messages):
                return
        for index, message in enumerate(messages):
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
        # One-letter keys because Slack keeps at most 3000 characters of private_metadata: f = the form's
        # context, w = workspace, c = channel, t = thread, d = a direct message.
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

    async def _upload_files(self, place: Place, reply: Reply) -> None:
        # Unlike a picture, a file is what the message is for: a failure is raised, so the outbox retries.
        for file in render.files_of(reply):
            await self.call(
                place.workspace,
                "files.uploadV2",
                lambda c, f=file: c.files_upload_v2(  # type: ignore[misc]
                    channel=place.channel,
                    thread_ts=place.thread,
                    content=f.data,
                    filename=f.name,
                    title=f.name,
                ),
            )

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

    async def _respond(
        self, url: str, reply: Reply, messages: list[render.SlackMessage] | None = None
    ) -> bool:
        """Answer through a response_url. False when the first message did not get through (the caller
        may try another way); a later part that fails is logged, or the first part would be repeated."""
        webhook = AsyncWebhookClient(url, session=self.session(), retry_handlers=self._retry_handlers)
        for index, message in enumerate(messages or render.render_reply(reply)):
            try:
                response = await webhook.send(
                    text=message.text,
                    blocks=message.blocks,
                    response_type="ephemeral",
                    replace_original=False,
                )
                ok = response.status_code == 200
            except (aiohttp.ClientError, OSError) as exc:
                log.warning("response_url answer failed: %s", exc)
                ok = False
            if not ok:
                if index == 0:
                    return False
                log.warning("part %s of an answer through a response_url was not delivered", index + 1)
        return True


def _is_not_in_channel(exc: DeliveryError) -> bool:
    return getattr(exc, "code", None) in NOT_IN_CHANNEL
