"""Slack payloads in, neutral events out: the bolt listeners.

Every request but a slash command is first stored in the inbox (:mod:`bot.chat.inbox`, one small insert),
then acknowledged, then processed from the inbox in a background task – so Slack gets its answer well
inside three seconds, and an acknowledged request is processed even when the process dies right after the
ack. A slash command is handled before its ack, which carries its private answer
(:mod:`bot.adapters.slack.acks`):

* slash command ``/parts <name> <args>`` → :class:`Command`
* message shortcut ``create_case_from_message`` → ``Command("problem", source_text=<the message>)``
* button or select (``block_actions``) → :class:`Action`
* modal submitted (``view_submission``) → :class:`Submission` (place and context from ``private_metadata``)
* message in a thread, in the bot's DM, or starting with ``@Partsbot`` → :class:`Message` / :class:`Command`
* ``app_home_opened`` → the App Home view is published
* ``app_uninstalled`` / ``tokens_revoked`` → the workspace's tokens are deleted
* ``user_change`` → the person's remembered name (from ``users.info``) is refreshed; nothing is stored

The inbox key is the platform's id of the request: (team, event_id) for Events API deliveries, so Slack's
retries are no-ops; a hash of the request signature for commands and interactions, so a signed request
replayed within the five-minute signature window does nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.adapters.slack import render
from bot.adapters.slack.acks import PEOPLE_BUDGET_SECONDS, CommandAcks
from bot.adapters.slack.home import home_blocks_for
from bot.adapters.slack.installs import InstallationStore, TokenSource
from bot.adapters.slack.messenger import OPEN_FORM_ACTION, SlackMessenger
from bot.adapters.slack.people import People
from bot.adapters.slack.requests import BackgroundTasks, Job, Meta, meta_of
from bot.adapters.slack.uninstall import Uninstalls
from bot.chat.inbox import Received
from bot.chat.messenger import DeliveryError
from bot.chat.model import Action, Actor, Command, Event, Message, Place, Submission
from bot.core import Partsbot
from bot.i18n import t

log = logging.getLogger(__name__)

CASE_SHORTCUT = "create_case_from_message"
CASE_COMMAND = "problem"
# Message subtypes that are a person writing; edits, joins, deletions and bot posts are not.
PERSON_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
# Events API types a listener handles; others are acknowledged without being stored.
HANDLED_EVENTS = frozenset({"message", "app_home_opened", "app_uninstalled", "tokens_revoked"})
# Interaction payload types a listener handles.
HANDLED_INTERACTIONS = frozenset({"block_actions", "message_action", "view_submission"})
INBOX_ITEM = "partsbot_inbox_item"
# A command handled before its ack carries its inbox key in the context under this name.
BEFORE_ACK = "partsbot_before_ack"


def split_command(text: str) -> tuple[str, str]:
    """``"rolle  leder "`` → ``("rolle", "leder")``; the first word lower-cased."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return "", ""
    return words[0].lower(), (words[1].strip() if len(words) > 1 else "")


def _is_direct_channel(channel_id: str) -> bool:
    return channel_id.startswith("D")


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class SlackEvents:
    def __init__(
        self,
        bot: Partsbot,
        messenger: SlackMessenger,
        *,
        tokens: TokenSource,
        installations: InstallationStore | None,
        tasks: BackgroundTasks,
    ) -> None:
        self.bot = bot
        self.messenger = messenger
        self.tokens = tokens
        self.installations = installations
        self.tasks = tasks
        self.people = People(messenger)
        self.acks = CommandAcks(bot, tasks)
        self.uninstalls = Uninstalls(bot, tokens, installations)
        bot.inbox.register("slack", self.process)

    # Registration ----------------------------------------------------------------------------------

    def register(self, app: AsyncApp) -> None:
        if self.installations is None:
            app.middleware(self.single_workspace_only)
        app.middleware(self.into_inbox)
        app.command(re.compile(r"^/.+"))(self.on_command)
        app.shortcut(CASE_SHORTCUT)(self.on_case_shortcut)
        app.action(re.compile(r".*"))(self.on_action)
        app.view_submission(re.compile(r".*"))(self.on_view_submission)
        app.view_closed(re.compile(r".*"))(self.on_view_closed)
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_app_home_opened)
        app.event("app_uninstalled")(self.on_app_uninstalled)
        app.event("tokens_revoked")(self.on_tokens_revoked)

    # Middleware ------------------------------------------------------------------------------------

    async def into_inbox(
        self, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        """Store the (signature-checked) request before any listener acknowledges it."""
        body = req.body or {}
        event = (body.get("event") or {}) if body.get("type") == "event_callback" else {}
        if event.get("type") == "user_change" and isinstance(event.get("user"), dict):
            # Only refreshes what users.info told us before: nothing to store, nothing to answer.
            self.people.changed(str(body.get("team_id") or req.context.team_id or ""), event["user"])
            return BoltResponse(status=200, body="")
        kind, key = self._inbox_key(req, body)
        if kind is None:
            return await next()
        context = req.context
        if kind == "command":
            # Handled before the ack, with the inbox key remembered in the command's own transaction
            # (on_command): its answer can then go in the ack itself.
            context[BEFORE_ACK] = key
            return await next()
        meta = {
            "team_id": str(context.team_id or body.get("team_id") or ""),
            "enterprise_id": context.enterprise_id,
            "bot_user_id": context.bot_user_id,
        }
        item = await self.bot.inbox.receive("slack", key, kind, {"body": body, "meta": meta})
        if item is None:
            retry = (req.headers.get("x-slack-retry-num") or ["-"])[0]
            log.info("Slack %s %s seen before (retry %s); skipped", kind, key[:24], retry)
            # Tell Slack to stop retrying: we have it.
            return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})
        context[INBOX_ITEM] = item
        return await next()

    def _inbox_key(self, req: AsyncBoltRequest, body: dict[str, Any]) -> tuple[str | None, str]:
        if body.get("type") == "event_callback":
            event = body.get("event") or {}
            if event.get("type") not in HANDLED_EVENTS or not body.get("event_id"):
                return None, ""
            if event.get("type") == "message" and not self._is_for_us(event, req.context.bot_user_id):
                return None, ""  # ordinary channel chatter: nothing stored, nothing done
            team = str(body.get("team_id") or req.context.team_id or "")
            return "event", f"event:{team}:{body['event_id']}"
        if body.get("command"):
            kind = "command"
        elif body.get("type") in HANDLED_INTERACTIONS:
            kind = str(body["type"])
        else:
            return None, ""
        signature = (req.headers.get("x-slack-signature") or [""])[0]
        if not signature:
            # Socket Mode: no signature, and the WebSocket delivers each envelope once.
            return kind, f"socket:{uuid.uuid4().hex}"
        return kind, "sig:" + hashlib.sha256(signature.encode()).hexdigest()

    @staticmethod
    def _is_for_us(event: dict[str, Any], bot_user_id: str | None) -> bool:
        if event.get("subtype") not in PERSON_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return False
        text = str(event.get("text") or "")
        addressed = bool(bot_user_id) and text.lstrip().startswith(f"<@{bot_user_id}>")
        return bool(event.get("thread_ts") or event.get("channel_type") == "im" or addressed)

    def _start(self, context: AsyncBoltContext) -> None:
        item = context.get(INBOX_ITEM)
        if item is None:
            log.error("a Slack request reached a listener without its inbox item; not processed")
            return
        self.bot.inbox.start(item)

    async def process(self, item: Received) -> bool:
        """Turn a stored request into events for the bot (after the ack, or after a restart)."""
        body = item.payload.get("body") or {}
        raw = item.payload.get("meta") or {}
        meta = Meta(str(raw.get("team_id") or ""), raw.get("enterprise_id"), raw.get("bot_user_id"))
        job = Job(item.id)
        match item.kind:
            case "command":
                await self._command(body, meta, job)
            case "message_action":
                if body.get("callback_id") == CASE_SHORTCUT:
                    await self._case_shortcut(body, meta, job)
            case "block_actions":
                await self._action(body, meta, job)
            case "view_submission":
                await self._submission(body, meta, job)
            case "event":
                await self._event(body, meta, job)
            case _:
                log.warning("unknown Slack inbox kind %r (item %s)", item.kind, item.id)
        return job.marked

    async def _event(self, body: dict[str, Any], meta: Meta, job: Job) -> None:
        event = body.get("event") or {}
        match event.get("type"):
            case "message":
                await self._message(body, event, meta, job)
            case "app_home_opened":
                if event.get("tab", "home") == "home":
                    await self.publish_home(meta.team_id, str(event.get("user") or ""))
            case "app_uninstalled":
                await self.uninstalls.app_uninstalled(body, meta)
            case "tokens_revoked":
                await self.uninstalls.tokens_revoked(body, event, meta)

    async def single_workspace_only(
        self, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        """With one static token, a request from another workspace (a shared app) cannot be answered."""
        result = req.context.authorize_result
        team = req.context.team_id
        if result is None or not team or not result.team_id or result.team_id == team:
            return await next()
        log.warning("request from workspace %s, but SLACK_BOT_TOKEN belongs to %s", team, result.team_id)
        hint = t(self.bot.settings.language, "slack.install_hint")
        if req.context.response_url and req.context.respond is not None:
            await req.context.respond(hint)
            return BoltResponse(status=200, body="")
        return BoltResponse(status=200, body=hint)

    # Commands and shortcuts ------------------------------------------------------------------------

    async def on_command(self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        key = context.get(BEFORE_ACK)
        if key is None:
            await ack()
            self._start(context)
            return
        # Answered in its ack (bot/adapters/slack/acks.py), unless the process is too busy to do it well
        # within Slack's three seconds: then stored, acknowledged and answered through its response_url.
        meta = meta_of(context, body)
        if self.acks.busy():
            await self.acks.store_then_ack(ack, body, meta, str(key))
            return
        command = await self._command_of(body, meta, people_budget=PEOPLE_BUDGET_SECONDS)
        await self.acks.answer(ack, body, meta, str(key), command)

    async def _command(self, body: dict[str, Any], meta: Meta, job: Job) -> None:
        await self.handle(await self._command_of(body, meta), job)

    async def _command_of(
        self, body: dict[str, Any], meta: Meta, people_budget: float | None = None
    ) -> Command:
        workspace = str(meta.team_id or body.get("team_id") or "")
        channel = str(body.get("channel_id") or "")
        user_id = str(body.get("user_id") or "")
        self.messenger.response_urls.remember(
            workspace, channel, user_id, str(body.get("response_url") or "")
        )
        name, args = split_command(str(body.get("text") or ""))
        fallback_name = str(body.get("user_name") or "")
        if people_budget is None:
            actor = await self.people.actor(workspace, user_id, fallback_name)
        else:
            try:
                actor = await asyncio.wait_for(
                    self.people.actor(workspace, user_id, fallback_name), people_budget
                )
            except TimeoutError:
                log.info("users.info for %s is slow; using the name Slack sent", user_id)
                actor = Actor(user_id, fallback_name)
        direct = _is_direct_channel(channel) or body.get("channel_name") == "directmessage"
        place = Place("slack", workspace, channel, None, direct)
        return Command(actor, place, name, args, trigger_id=body.get("trigger_id"))

    async def on_case_shortcut(self, ack: AsyncAck, context: AsyncBoltContext) -> None:
        await ack()
        self._start(context)

    async def _case_shortcut(self, body: dict[str, Any], meta: Meta, job: Job) -> None:
        workspace = str(meta.team_id or (body.get("team") or {}).get("id") or "")
        channel = str((body.get("channel") or {}).get("id") or "")
        user = body.get("user") or {}
        user_id = str(user.get("id") or "")
        self.messenger.response_urls.remember(
            workspace, channel, user_id, str(body.get("response_url") or "")
        )
        actor = await self.people.actor(
            workspace, user_id, str(user.get("name") or user.get("username") or "")
        )
        message = body.get("message") or {}
        place = Place("slack", workspace, channel, None, _is_direct_channel(channel))
        command = Command(
            actor,
            place,
            CASE_COMMAND,
            "",
            trigger_id=body.get("trigger_id"),
            source_text=str(message.get("text") or ""),
        )
        await self.handle(command, job)

    # Interactivity ---------------------------------------------------------------------------------

    async def on_action(self, ack: AsyncAck, context: AsyncBoltContext) -> None:
        await ack()
        self._start(context)

    async def _action(self, body: dict[str, Any], meta: Meta, job: Job) -> None:
        workspace = str(meta.team_id or (body.get("team") or {}).get("id") or "")
        user = body.get("user") or {}
        user_id = str(user.get("id") or "")
        trigger_id = body.get("trigger_id")
        for raw in body.get("actions") or []:
            action_id = str(raw.get("action_id") or "")
            value = _action_value(raw)
            if action_id == OPEN_FORM_ACTION:
                await self._open_stashed_form(value, str(trigger_id or ""))
                continue
            place = await self._interaction_place(workspace, user_id, body)
            actor = await self.people.actor(
                workspace, user_id, str(user.get("name") or user.get("username") or "")
            )
            container = body.get("container") or {}
            message_id = None if container.get("is_ephemeral") else (body.get("message") or {}).get("ts")
            event = Action(
                actor,
                place,
                render.base_action_id(action_id),
                value,
                trigger_id=trigger_id,
                message_id=message_id,
            )
            await self.handle(event, job)

    async def _interaction_place(self, workspace: str, user_id: str, body: dict[str, Any]) -> Place:
        """Where a click happened. A button on a message answers in that message's thread; a click in the
        App Home or a modal has no channel, so it is treated as the person's DM with the bot."""
        channel = str((body.get("channel") or {}).get("id") or "")
        if not channel:
            channel = await self.messenger.dm_channel(workspace, user_id)
            return Place("slack", workspace, channel, None, True)
        container = body.get("container") or {}
        message = body.get("message") or {}
        if container.get("is_ephemeral"):
            thread = container.get("thread_ts")
        else:
            thread = message.get("thread_ts") or message.get("ts") or container.get("message_ts")
        return Place(
            "slack", workspace, channel, str(thread) if thread else None, _is_direct_channel(channel)
        )

    async def _open_stashed_form(self, key: str, trigger_id: str) -> None:
        stashed = await asyncio.to_thread(self.messenger.stashed_form, key)
        if stashed is None or not trigger_id:
            log.info("stored form %s not found (or no trigger)", key)
            return
        place, form = stashed
        language = self.bot.settings.language
        try:
            await self.messenger.show_form(place, form, trigger_id, language)
        except DeliveryError as exc:
            log.warning("stored form %s could not be opened: %s", form.form_id, exc)

    async def on_view_submission(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        # A field the handler refuses keeps the modal open with the message at the field and everything the
        # person typed (response_action "errors"): checked before the ack without keeping anything, and the
        # stored inbox item is closed unprocessed. Otherwise acknowledging closes the modal, the submission
        # is processed from the inbox, and the handler's answer follows as a message.
        item: Received | None = context.get(INBOX_ITEM)
        meta = Meta(str(context.team_id or ""), context.enterprise_id, context.bot_user_id)
        submission = await self._submission_of(body, meta)
        try:
            errors = await self.bot.check(submission)
        except Exception:
            log.exception("checking a Slack form failed; submitting it unchecked")
            errors = {}
        if errors:
            await ack(response_action="errors", errors=errors)
            if item is not None:
                await asyncio.to_thread(self.bot.inbox.finish, item.id)
            return
        await ack()
        self._start(context)

    async def _submission(self, body: dict[str, Any], request: Meta, job: Job) -> None:
        await self.handle(await self._submission_of(body, request), job)

    async def _submission_of(self, body: dict[str, Any], request: Meta) -> Submission:
        view = body.get("view") or {}
        meta = _metadata(view)
        workspace = str(request.team_id or meta.get("w") or (body.get("team") or {}).get("id") or "")
        user = body.get("user") or {}
        user_id = str(user.get("id") or "")
        channel = str(meta.get("c") or "")
        if channel:
            place = Place("slack", workspace, channel, meta.get("t") or None, bool(meta.get("d")))
        else:
            place = Place("slack", workspace, await self.messenger.dm_channel(workspace, user_id), None, True)
        actor = await self.people.actor(
            workspace, user_id, str(user.get("name") or user.get("username") or "")
        )
        submission = Submission(
            actor,
            place,
            str(view.get("callback_id") or ""),
            render.form_values(view),
            context=str(meta.get("f") or ""),
        )
        return submission

    async def on_view_closed(self, ack: AsyncAck) -> None:
        await ack()

    # Events ----------------------------------------------------------------------------------------

    async def on_message(self, context: AsyncBoltContext) -> None:
        # Bolt acknowledged the event already; ordinary chatter never got this far (see into_inbox).
        if context.get(INBOX_ITEM) is not None:
            self._start(context)

    async def _message(self, body: dict[str, Any], event: dict[str, Any], meta: Meta, job: Job) -> None:
        if not self._is_for_us(event, meta.bot_user_id):
            return
        workspace = str(meta.team_id or body.get("team_id") or "")
        channel = str(event.get("channel") or "")
        direct = event.get("channel_type") == "im"
        thread = event.get("thread_ts")
        text = str(event.get("text") or "")
        mention = f"<@{meta.bot_user_id}>" if meta.bot_user_id else None
        addressed = bool(mention and text.lstrip().startswith(mention))
        user_id = str(event["user"])
        actor = await self.people.actor(workspace, user_id)
        place = Place("slack", workspace, channel, str(thread) if thread else None, direct)
        if addressed and mention is not None and not thread:
            name, args = split_command(text.lstrip()[len(mention) :])
            await self.handle(Command(actor, place, name, args, typed_in_view=not direct), job)
            return
        await self.handle(Message(actor, place, text, message_id=event.get("ts")), job)

    async def on_app_home_opened(self, context: AsyncBoltContext) -> None:
        self._start(context)

    async def publish_home(self, workspace: str, user_id: str) -> None:
        settings = self.bot.settings
        blocks = await asyncio.to_thread(
            home_blocks_for, self.bot.db, settings, workspace, user_id, self.bot.clock()
        )
        view = render.render_home(blocks, t(settings.language, "slack.more_in_thread"))
        await self.messenger.call(
            workspace, "views.publish", lambda c: c.views_publish(user_id=user_id, view=view)
        )

    async def on_app_uninstalled(self, context: AsyncBoltContext) -> None:
        self._start(context)

    async def on_tokens_revoked(self, context: AsyncBoltContext) -> None:
        self._start(context)

    # Into the bot ----------------------------------------------------------------------------------

    async def handle(self, event: Event, job: Job | None = None) -> None:
        """Handle the event; its delivery runs on in the background, so the inbox's workers go on with the
        next item instead of waiting for a channel's pace."""
        await self.bot.handle(
            event,
            inbox_id=job.take() if job is not None else None,
            spawn=lambda delivering: self.tasks.spawn(delivering, "delivery"),
        )


def _action_value(action: dict[str, Any]) -> str:
    if "selected_option" in action:
        return str((action.get("selected_option") or {}).get("value") or "")
    if "selected_user" in action:
        return str(action.get("selected_user") or "")
    if "selected_date" in action:
        return str(action.get("selected_date") or "")
    return str(action.get("value") or "")
