"""Incoming Teams Activities → neutral events: the thin, ActivityHandler-like half of the adapter.

* ``message`` with text – a :class:`Command` when the text, without the bot's @mention, starts with a
  command word the router knows (``@Partsbot rolle leder``; in a personal chat no mention is needed),
  otherwise a :class:`Message` (an answer in a reply chain, a direct message). The reply chain is the
  ``;messageid=`` part of the conversation id.
* ``message`` with a ``value`` – an Adaptive Card ``Action.Submit``: an :class:`Action` (button, choice) or
  a :class:`Submission` (form), after checking the card's signature (:mod:`.payload`)
* ``invoke`` ``adaptiveCard/action`` – the same for ``Action.Execute`` (cards we render use Submit; other
  apps' or future cards may use Execute)
* ``conversationUpdate`` – the bot was added to a team: whoever added it may set up the leder, and the
  team's roster (``GET /v3/conversations/{team}/pagedmembers``) makes everyone in it a member of the
  channel's unit, so their first direct message to the bot works; later additions to the team join the
  same way. Only the Teams user id and display name are kept (:func:`bot.chat.router.learn_roster`).
* ``installationUpdate`` and every other type – logged and otherwise ignored

Messages and card actions are stored in the inbox (:mod:`bot.chat.inbox`, keyed on the conversation and
activity id, so a Bot Connector retry is a no-op) and processed from there through
:meth:`bot.core.Partsbot.handle`, the one dispatch path, before the request is answered; sending what they
produced happens in the background. An acknowledged message is never lost. Processing first refreshes the
stored ConversationReference of the conversation (:mod:`.references`).
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import re
import uuid
from collections.abc import Callable, Collection, Coroutine
from copy import copy
from dataclasses import replace
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot import grants
from bot.adapters.teams import files
from bot.adapters.teams.messenger import TeamsMessenger
from bot.adapters.teams.payload import BadSubmission, form_of, parse_submission
from bot.adapters.teams.references import ReferenceStore, channel_scope, user_scope
from bot.chat.inbox import Received
from bot.chat.messenger import DeliveryError
from bot.chat.model import (
    Action,
    Actor,
    Command,
    Event,
    Message,
    Place,
    Platform,
    Reply,
    Submission,
)
from bot.chat.router import learn_roster
from bot.core import Partsbot
from bot.i18n import t
from bot.settings import Settings
from bot.storage import personal

log = logging.getLogger(__name__)

PLATFORM: Platform = "teams"
DEFAULT_TENANT = "default"
PERSONAL = "personal"
CARD_ACTION_INVOKE = "adaptiveCard/action"
_THREAD = ";messageid="
_MENTION = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_LEADING_MENTION = re.compile(r"^\s*<at>.*?</at>", re.IGNORECASE | re.DOTALL)
# Slack habits: "/parts hjelp" typed into Teams means "hjelp".
_PREFIXES = ("/parts", "parts")

# The team roster is read in pages of this size (Teams' maximum is 500), at most this many pages.
ROSTER_PAGE = 500
MAX_ROSTER_PAGES = 40

# Where the adapter keeps the request body on the Activity, for the inbox.
RAW_BODY = "_partsbot_raw_body"

Spawn = Callable[[Coroutine[Any, Any, None]], None]


# --------------------------------------------------------------------------------------------------
# Pure translation
# --------------------------------------------------------------------------------------------------


def tenant_of(activity: Any) -> str:
    """The Microsoft Entra tenant: Teams' ``channelData.tenant.id`` (botbuilder reads the conversation's
    ``tenantId`` under a differently spelled key, so that one is only the second choice)."""
    tenant = None
    if isinstance(activity.channel_data, dict):
        tenant = (activity.channel_data.get("tenant") or {}).get("id")
    tenant = tenant or getattr(activity.conversation, "tenant_id", None)
    return str(tenant) if tenant else DEFAULT_TENANT


def refuse_reason(activity: Any, settings: Settings) -> str | None:
    """Why an authenticated activity is not served, or None.

    Only Microsoft Teams (``channelId`` msteams) with a tenant is served: other Bot Framework channels such
    as Web Chat or Direct Line let the client choose ``from.id``, and would all share one organisation. The
    Bot Framework Emulator is accepted only while Teams runs without authentication (local trials, bound
    to 127.0.0.1). ``PARTSBOT_TEAMS_TENANTS`` limits the tenants further.
    """
    channel = str(getattr(activity, "channel_id", "") or "")
    if channel != "msteams":
        if channel == "emulator" and not settings.microsoft_app_id:
            return None
        return f"channel {channel[:32]!r} is not msteams"
    tenant = tenant_of(activity)
    if tenant == DEFAULT_TENANT:
        return "no tenant id"
    if settings.teams_tenants and tenant not in settings.teams_tenants:
        return f"tenant {tenant[:64]} is not in PARTSBOT_TEAMS_TENANTS"
    return None


def split_conversation(conversation_id: str) -> tuple[str, str | None]:
    """``19:x@thread.tacv2;messageid=170`` → (``19:x@thread.tacv2``, ``170``)."""
    base, _, thread = conversation_id.partition(_THREAD)
    return base, (thread or None)


def is_personal(activity: Any) -> bool:
    """A one-to-one chat with the bot: Teams says "personal"; channels without conversation types (Web Chat,
    the Emulator) count when the conversation is not a group."""
    kind = getattr(activity.conversation, "conversation_type", None)
    if kind:
        return bool(kind == PERSONAL)
    return not getattr(activity.conversation, "is_group", False)


def place_of(activity: Any) -> Place:
    channel, thread = split_conversation(activity.conversation.id or "")
    personal = is_personal(activity)
    return Place(PLATFORM, tenant_of(activity), channel, None if personal else thread, personal)


def actor_of(activity: Any) -> Actor:
    who = activity.from_property
    return Actor(user_id=who.id, display_name=who.name or "", locale=activity.locale)


def addressed_text(activity: Any) -> tuple[str, bool]:
    """The text without the bot's own @mention (entities decoded, trimmed; other mentions keep the name),
    and whether the bot was mentioned at all."""
    text = activity.text or ""
    bot_id = getattr(activity.recipient, "id", None)
    mentions = [e for e in (activity.entities or []) if getattr(e, "type", None) == "mention"]
    mentioned = False
    for entity in mentions:
        props = getattr(entity, "additional_properties", None) or {}
        said = props.get("text")
        if said and (props.get("mentioned") or {}).get("id") == bot_id and said in text:
            text = text.replace(said, " ")
            mentioned = True
    if not mentioned and not mentions:
        # No mention entities at all (older clients, hand-made requests): a mention at the start is the bot's.
        text, count = _LEADING_MENTION.subn(" ", text, count=1)
        mentioned = count > 0
    text = _MENTION.sub(r"\1", text)
    return html.unescape(text).replace("\xa0", " ").strip(), mentioned


def text_event(activity: Any, commands: Collection[str]) -> Command | Message:
    """A command when the text starts with a command word – in a channel or group chat only when the bot
    was @mentioned, so that "Problem med bussen i dag" in a reply chain stays an answer (Teams delivers
    unmentioned channel messages to bots that have the ChannelMessage.Read.Group permission)."""
    actor, place = actor_of(activity), place_of(activity)
    text, mentioned = addressed_text(activity)
    if not (mentioned or place.is_direct):
        return Message(actor=actor, place=place, text=text, message_id=activity.id)
    words = text.split(maxsplit=1)
    if words and words[0].lower() in _PREFIXES:
        text = words[1] if len(words) > 1 else ""
        words = text.split(maxsplit=1)
    if not words:
        # "@Partsbot" alone: the router's empty command (help).
        return Command(actor=actor, place=place, name="")
    name = words[0].lower()
    if name in commands:
        args = words[1].strip() if len(words) > 1 else ""
        return Command(actor=actor, place=place, name=name, args=args, typed_in_view=not place.is_direct)
    return Message(actor=actor, place=place, text=text, message_id=activity.id)


def reference_data(activity: Any) -> dict[str, Any]:
    """What to store to write into this conversation later: no message id, no reply chain, and for shared
    conversations no sender (so the row does not change with every person who writes)."""
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    conversation = copy(reference.conversation)
    conversation.id = split_conversation(conversation.id or "")[0]
    reference.conversation = conversation
    if not is_personal(activity):
        reference.user = None
        reference.locale = None
    data: dict[str, Any] = reference.serialize()
    return data


def _describe(activity: Any) -> str:
    return f"{tenant_of(activity)}/{split_conversation(activity.conversation.id or '')[0]}"


# --------------------------------------------------------------------------------------------------
# The turn handler
# --------------------------------------------------------------------------------------------------


class TeamsTurns:
    """Receives each authenticated Activity from botbuilder's CloudAdapter (``on_turn``)."""

    def __init__(
        self, bot: Partsbot, messenger: TeamsMessenger, references: ReferenceStore, spawn: Spawn
    ) -> None:
        self.bot = bot
        self.messenger = messenger
        self.references = references
        self.spawn = spawn
        bot.inbox.register(PLATFORM, self.process)

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.conversation is None or not activity.conversation.id or activity.from_property is None:
            log.warning("ignoring a Teams %s activity without conversation or sender", activity.type)
            return
        refusal = refuse_reason(activity, self.bot.settings)
        if refusal:
            # Nothing is stored or answered: this conversation is not one the bot serves (SEC-18).
            log.warning("ignoring a Teams activity: %s", refusal)
            return
        match activity.type:
            case ActivityTypes.message:
                await self._store(activity)
            case ActivityTypes.invoke:
                await self._on_invoke(turn_context)
            case ActivityTypes.conversation_update:
                await self._remember(activity)
                self._on_conversation_update(activity)
                added = [m for m in activity.members_added or [] if m.id]
                if getattr(activity.recipient, "id", None) in [m.id for m in added]:
                    await self._remember_installer(activity)
                    # Who is in the team, so that a first direct message finds the kindergarten.
                    self.spawn(self._learn_roster(activity))
                elif added and not is_personal(activity):
                    # Someone joined the team later: the conversation update names them.
                    await self._learn_people(activity, [(m.id, m.name or "") for m in added])
            case ActivityTypes.installation_update:
                await self._remember(activity)
                log.info("Teams app %s in %s", activity.action or "installation update", _describe(activity))
                await asyncio.to_thread(
                    self._installation_changed, tenant_of(activity), str(activity.action or "")
                )
                if str(activity.action or "").startswith("add"):
                    await self._remember_installer(activity)
            case _:
                log.info("ignoring Teams activity of type %r in %s", activity.type, _describe(activity))

    async def _store(self, activity: Any) -> None:
        """Into the inbox before the request is answered; processed in the background."""
        if activity.id:
            raw = f"{activity.conversation.id}|{activity.id}|{activity.type}"
            key = "act:" + hashlib.sha256(raw.encode()).hexdigest()
        else:
            key = "act:" + uuid.uuid4().hex
        payload = getattr(activity, RAW_BODY, None) or activity.serialize()
        item = await self.bot.inbox.receive(PLATFORM, key, str(activity.type), payload)
        if item is None:
            log.info("Teams activity in %s seen before (a retry); skipped", _describe(activity))
            return
        # Processed before the request is answered (Bot Connector waits up to 15 s); what it sends goes out
        # in the background. A crash in between leaves the item to the inbox's recovery.
        await self.bot.inbox.process(item)

    async def process(self, item: Received) -> bool:
        activity = Activity().deserialize(item.payload)
        await self._remember(activity)
        event: Event | None = None
        if activity.type == ActivityTypes.invoke:
            action = activity.value.get("action") if isinstance(activity.value, dict) else None
            data = action.get("data") if isinstance(action, dict) else None
            event = await self._submission(activity, data)
        elif activity.value is not None:
            event = await self._submission(activity, activity.value)
        elif (activity.text or "").strip():
            event = text_event(activity, self.bot.router.commands)
        else:
            log.info("ignoring a Teams message without text (attachments only?) in %s", _describe(activity))
        if event is None:
            return False
        if isinstance(event, Submission) and await self._refused_at_a_field(activity, event):
            return False  # drawn again with the errors; the inbox item is closed unprocessed
        await self.bot.handle(event, inbox_id=item.id, spawn=self.spawn)
        return True

    async def _refused_at_a_field(self, activity: Any, submission: Submission) -> bool:
        """A form whose handler refuses a field (checked without keeping anything, as Slack's modals are)
        is drawn again in place: the message at the field, everything typed kept. Forms that do not opt in
        to checks, and cards that cannot be redrawn, go to the handler, which answers privately."""
        card_id = getattr(activity, "reply_to_id", None)
        form = form_of(
            (activity.value.get("action") or {}).get("data")
            if activity.type == ActivityTypes.invoke and isinstance(activity.value, dict)
            else activity.value,
            await self.messenger.card_signer(submission.place.workspace, submission.place.channel),
        )
        if not card_id or form is None:
            return False
        try:
            errors = await self.bot.check(submission)
        except Exception:
            log.exception("checking a Teams form failed; submitting it unchecked")
            return False
        if not errors:
            return False
        typed = replace(
            form,
            fields=tuple(replace(f, initial=submission.values.get(f.name, "")) for f in form.fields),
        )
        try:
            await self.messenger.redraw_form(
                submission.place, submission.actor.user_id, str(card_id), typed, errors
            )
        except DeliveryError as exc:
            log.warning("could not redraw Teams form %s: %s; answering privately", form.form_id, exc)
            return False
        return True

    async def _remember_installer(self, activity: Any) -> None:
        """Whoever adds the app is the one Teams lets set it up: they may set up the unit's leder (once,
        while it has none; bot/grants.py). Team owners are not visible to a bot without Microsoft Graph."""

        def save() -> None:
            with self.bot.db.transaction() as session:
                grants.remember_installer(
                    session, PLATFORM, tenant_of(activity), activity.from_property.id, self.bot.clock()
                )

        await asyncio.to_thread(save)

    async def _learn_roster(self, activity: Any) -> None:
        """Read the team's roster (``GET /v3/conversations/{team}/pagedmembers``, page by page) and let
        every person in it belong to the unit of the channel the bot was added to. Best effort: without
        the roster people still join the unit when they first write in its channel."""
        channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        team = channel_data.get("team") or {}
        roster = str(team.get("id") or split_conversation(activity.conversation.id or "")[0])
        people: list[tuple[str, str]] = []
        token: str | None = None
        try:
            client = await self.messenger.connector(activity.service_url)
            for _ in range(MAX_ROSTER_PAGES):
                page = await client.conversations.get_conversation_paged_members(
                    roster, page_size=ROSTER_PAGE, continuation_token=token
                )
                people.extend((m.id, m.name or "") for m in page.members or [] if m.id)
                token = page.continuation_token
                if not token:
                    break
        except Exception as exc:  # the Bot Connector's and the network's errors alike; never fatal here
            log.warning("could not read the team roster of %s: %s", _describe(activity), type(exc).__name__)
            return
        await self._learn_people(activity, people)

    async def _learn_people(self, activity: Any, people: list[tuple[str, str]]) -> None:
        # Bots (28:…) are not people of the kindergarten.
        humans = [(user_id, name) for user_id, name in people if not user_id.startswith("28:")]
        if not humans:
            return
        place = place_of(activity)

        def save() -> int:
            with self.bot.db.transaction() as session:
                return learn_roster(session, self.bot.settings, place, humans, self.bot.clock())

        added = await asyncio.to_thread(save)
        log.info("%s people of the team joined the unit of %s", added, _describe(activity))

    def _installation_changed(self, tenant: str, action: str) -> None:
        """Removed: the tenant's data is deleted after a grace period unless the app is added again."""
        with self.bot.db.transaction() as session:
            if action.startswith("remove"):
                when = personal.schedule_deletion(session, PLATFORM, tenant, self.bot.clock())
                log.warning(
                    "Teams app removed in %s; its data is deleted after %s unless added again", tenant, when
                )
            elif action.startswith("add"):
                personal.cancel_deletion(session, PLATFORM, tenant)

    async def _remember(self, activity: Any) -> None:
        if not activity.service_url:
            return
        workspace = tenant_of(activity)
        data = reference_data(activity)
        base = split_conversation(activity.conversation.id)[0]
        references = [(channel_scope(base), data)]
        if is_personal(activity):
            references.append((user_scope(activity.from_property.id), data))
        await asyncio.to_thread(self.references.save_all, workspace, references)

    # Messages and card submissions -----------------------------------------------------------------

    async def _submission(self, activity: Any, value: object) -> Action | Submission | None:
        actor, place = actor_of(activity), place_of(activity)
        # Accepted only where the card was sent: this tenant and conversation (the reply chain aside).
        signer = await self.messenger.card_signer(place.workspace, place.channel)
        try:
            return parse_submission(value, signer, actor, place, activity.reply_to_id)
        except BadSubmission as exc:
            # Nothing reaches a handler, so nothing is stored; the person hears why nothing happened.
            handler = value.get("id") if isinstance(value, dict) else None
            log.warning(
                "refused a Teams card submission (%.40r) from %s in %s: %s",
                handler,
                actor.user_id,
                _describe(activity),
                exc,
            )
            await self._tell(place, actor, exc.answer)
            return None

    async def _on_invoke(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.name == files.CONSENT_INVOKE:
            await self._file_consent(turn_context)
            await turn_context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200))
            )
            return
        if activity.name != CARD_ACTION_INVOKE:
            log.info("ignoring Teams invoke %r in %s", activity.name, _describe(activity))
            return
        await self._store(activity)
        # Action.Execute wants an answer in the response; the real answers arrive as messages.
        body = {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": ""}
        await turn_context.send_activity(
            Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body))
        )

    async def _file_consent(self, turn_context: TurnContext) -> None:
        """The person's answer to a file-consent card: upload the file on "Allow", forget it either way.

        Done within the request (Teams waits for the invoke's answer); the file is small. Only the person
        the card was sent to, in the same tenant, can take the file."""
        activity = turn_context.activity
        answer = files.parse_answer(activity.value)
        if answer is None:
            log.info(
                "ignoring a file-consent invoke that is not for a Partsbot file in %s", _describe(activity)
            )
            return
        workspace, user_id = tenant_of(activity), activity.from_property.id
        waiting = await asyncio.to_thread(
            files.take, self.bot.db, answer.token, workspace, user_id, self.bot.clock()
        )
        language = await self.messenger.language(workspace, user_id=user_id)

        async def say(key: str, **values: str) -> None:
            await turn_context.send_activity(
                Activity(type=ActivityTypes.message, text=t(language, key, **values))
            )

        if waiting is None:
            await say("teams.file_gone")
            return
        if not answer.accepted:
            await say("teams.file_declined", name=waiting.name)
            return
        allow_http = self.bot.settings.env in ("development", "test")
        if not await files.upload(answer.upload_url, waiting.data, allow_http=allow_http):
            await say("teams.file_failed", name=waiting.name)
            return
        info = files.file_info_attachment(answer)
        attachment = Attachment(
            content_type=info["contentType"],
            content_url=info["contentUrl"],
            name=info["name"],
            content=info["content"],
        )
        await turn_context.send_activity(Activity(type=ActivityTypes.message, attachments=[attachment]))
        log.info("a file was uploaded to a person's OneDrive after their consent in %s", _describe(activity))

    def _on_conversation_update(self, activity: Any) -> None:
        bot_id = getattr(activity.recipient, "id", None)
        added = [m.id for m in activity.members_added or []]
        removed = [m.id for m in activity.members_removed or []]
        if bot_id in added:
            log.info("Partsbot was added to Teams conversation %s", _describe(activity))
        elif bot_id in removed:
            log.info("Partsbot was removed from Teams conversation %s", _describe(activity))
        else:
            log.debug(
                "Teams conversation update in %s (members +%s -%s)",
                _describe(activity),
                len(added),
                len(removed),
            )

    # Telling a person ------------------------------------------------------------------------------

    async def _tell(self, place: Place, actor: Actor, key: str) -> None:
        language = await self.messenger.language(
            place.workspace, channel=None if place.is_direct else place.channel, user_id=actor.user_id
        )
        try:
            await self.messenger.post_private(place, actor.user_id, Reply.text(t(language, key)))
        except DeliveryError as exc:
            log.warning("could not tell %s about a refused card submission: %s", actor.user_id, exc)
