"""The Teams :class:`~bot.chat.messenger.Messenger`: neutral replies out through the Bot Connector.

Everything is sent proactively from a stored ConversationReference (the outbox delivers after the incoming
request has been answered, maybe from another replica), over botbuilder's ConnectorClient:

* ``post`` – a new message in a channel, or a reply in a reply chain (``<channel>;messageid=<root>``)
* ``update`` – ``update_activity`` of a message posted earlier (cards change in place)
* ``post_private`` / ``post_direct`` – the person's personal chat with the bot; when the bot has never
  talked to them there, the 1:1 conversation is created first (``create_conversation``) from the tenant's
  service URL and remembered
* a file (the HMS record as a PDF) in a personal chat – a file-consent card first; the upload follows the
  person's "Allow" (:mod:`bot.adapters.teams.files`)
* ``open_form`` – a card with inputs, in the personal chat (forms may ask for anonymous input, so they
  never go to a channel)

Failures: 429, 412, 502 and 504 are retried here with exponential backoff and jitter (honouring
``Retry-After``); 400, 403 and 404 never are. Whatever still fails becomes a :class:`DeliveryError` whose
``retryable`` tells the outbox whether trying again later can help.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import mimetypes
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.exceptions import HttpOperationError

from bot.adapters.teams import files
from bot.adapters.teams.payload import CardSigner, Signer
from bot.adapters.teams.ratelimit import ConversationRateLimiter, RateLimited
from bot.adapters.teams.references import ReferenceStore, channel_scope, user_scope
from bot.adapters.teams.render import (
    CARD_CONTENT_TYPE,
    CardTexts,
    Rendered,
    ellipsis,
    render_form,
    render_reply,
)
from bot.chat.messenger import DeliveryError
from bot.chat.model import Block, File, Form, Image, Note, Place, Platform, Reply
from bot.i18n import t
from bot.settings import Settings

log = logging.getLogger(__name__)

# Retried right here, a few times, with backoff: Teams' own advice for throttling and gateway hiccups.
RETRY_NOW = frozenset({429, 412, 502, 504})
# Worth another try later from the outbox; every other 4xx (400, 401, 403, 404, 413) will fail again.
RETRY_LATER = RETRY_NOW | {408, 500, 503}
# Teams shows inline pictures up to 1 MB; a bigger chart is replaced by its alt text.
MAX_IMAGE_BYTES = 1_000_000
SUMMARY_CHARS = 250
# Teams' own personal-chat conversations have no reply chains; only channels get ``;messageid=``.
CHANNEL_TYPE = "channel"

ConnectorSource = Callable[[str], Awaitable[Any]]
T = TypeVar("T")


def conversation_id(channel: str, thread: str | None) -> str:
    """A channel's reply chain is its own conversation id in the Bot Framework."""
    return f"{channel};messageid={thread}" if thread else channel


def _retry_after(response: Any) -> float | None:
    try:
        value = float(response.headers.get("Retry-After", ""))
    except (AttributeError, TypeError, ValueError):
        return None
    return value if value >= 0 else None


class TeamsMessenger:
    platform: Platform = "teams"

    def __init__(
        self,
        settings: Settings,
        references: ReferenceStore,
        connector: ConnectorSource,
        *,
        limiter: ConversationRateLimiter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        max_wait: float = 10.0,
    ) -> None:
        self.settings = settings
        self.references = references
        self.connector = connector
        self.limiter = limiter or ConversationRateLimiter(sleep=sleep, max_wait=max_wait)
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.max_wait = max_wait
        self._signer: Signer | None = None

    # Shared with the incoming side ---------------------------------------------------------------

    async def signer(self) -> Signer:
        if self._signer is None:
            self._signer = Signer(await asyncio.to_thread(self.references.card_secret))
        return self._signer

    async def card_signer(self, workspace: str, conversation: str) -> CardSigner:
        """Signs the buttons and forms of a card sent to ``conversation`` in tenant ``workspace``; what is
        pressed on it is accepted from there only (:mod:`.payload`)."""
        return (await self.signer()).at(workspace, conversation)

    async def language(
        self, workspace: str, *, channel: str | None = None, user_id: str | None = None
    ) -> str:
        return await asyncio.to_thread(
            self.references.language, self.settings, workspace, channel=channel, user_id=user_id
        )

    async def _texts(
        self, workspace: str, *, channel: str | None = None, user_id: str | None = None
    ) -> CardTexts:
        lang = await self.language(workspace, channel=channel, user_id=user_id)
        return CardTexts(
            choose=t(lang, "teams.choose"),
            required=t(lang, "teams.required"),
            shortened=t(lang, "teams.shortened"),
        )

    # Messenger -------------------------------------------------------------------------------------

    async def post(self, place: Place, reply: Reply) -> str:
        if _binary_files(reply):
            # A bot can offer a file only in a personal chat; nothing in Partsbot posts one to a channel.
            log.warning("a file cannot be posted in a Teams channel; only its message is sent")
        reference = await self._reference_for(place)
        texts = await self._texts(place.workspace, channel=place.channel)
        signer = await self.card_signer(place.workspace, place.channel)
        rendered = render_reply(await self._pictures_checked(reply), signer, texts)
        return await self._send_cards(reference, place.channel, place.thread, reply.fallback, rendered)

    async def update(self, place: Place, message_id: str, reply: Reply) -> None:
        reference = await self._reference_for(place)
        texts = await self._texts(place.workspace, channel=place.channel)
        signer = await self.card_signer(place.workspace, place.channel)
        rendered = render_reply(await self._pictures_checked(reply), signer, texts, single_card=True)
        conversation = self._conversation(reference, place.channel, place.thread)
        activity = self._activity(reference, conversation, rendered.cards[0], reply.fallback, rendered.images)
        activity.id = message_id
        await self._call(
            reference,
            place.channel,
            "update",
            lambda client: client.conversations.update_activity(conversation, message_id, activity),
        )

    async def post_private(self, place: Place, user_id: str, reply: Reply) -> None:
        # Teams has no ephemeral messages in channels: "only you can see this" is the personal chat.
        await self.post_direct(place.workspace, user_id, reply)

    async def post_direct(self, workspace: str, user_id: str, reply: Reply) -> None:
        reference = await self._personal(workspace, user_id)
        chat = reference.conversation.id
        texts = await self._texts(workspace, user_id=user_id)
        signer = await self.card_signer(workspace, chat)
        rendered = render_reply(await self._pictures_checked(reply), signer, texts)
        # The consent card goes first: if it cannot be sent, nothing was, and the outbox retries the whole.
        for file in _binary_files(reply):
            await self._offer_file(reference, chat, workspace, user_id, file)
        await self._send_cards(reference, chat, None, reply.fallback, rendered)

    async def _offer_file(self, reference: Any, chat: str, workspace: str, user_id: str, file: File) -> None:
        """A file-consent card for ``file``; its bytes wait in the database for the person's answer."""
        language = await self.language(workspace, user_id=user_id)
        token = await asyncio.to_thread(
            files.store, self.references.db, workspace, user_id, file, datetime.now(UTC)
        )
        description = t(language, "teams.file_description", name=file.name)
        attachment = files.consent_attachment(file, token, description)
        activity = self._activity(reference, chat, {}, description, [])
        activity.attachments = [
            Attachment(content_type=attachment["contentType"], name=file.name, content=attachment["content"])
        ]
        await self._call(
            reference,
            chat,
            "file consent",
            lambda client: client.conversations.send_to_conversation(chat, activity),
        )

    async def _form_card(
        self, place: Place, user_id: str, form: Form, errors: dict[str, str] | None = None
    ) -> tuple[ConversationReference, str, dict[str, Any]]:
        """Where a form's card lives (the personal chat, unless the form was opened there already) and the
        card itself; :meth:`open_form` and :meth:`redraw_form` must agree on both."""
        if place.is_direct:
            reference = await self._reference_for(place)
            chat = place.channel
        else:
            reference = await self._personal(place.workspace, user_id)
            chat = reference.conversation.id
        texts = await self._texts(place.workspace, user_id=user_id)
        try:
            content = render_form(form, await self.card_signer(place.workspace, chat), texts, errors)
        except ValueError as exc:
            raise DeliveryError(str(exc), retryable=False) from None
        return reference, chat, content

    async def open_form(self, place: Place, user_id: str, form: Form, trigger_id: str | None) -> None:
        reference, chat, content = await self._form_card(place, user_id, form)
        await self._send_cards(reference, chat, None, form.title, Rendered(cards=[content]))

    async def redraw_form(
        self, place: Place, user_id: str, message_id: str, form: Form, errors: dict[str, str]
    ) -> None:
        """The form card ``message_id`` again, in place: the errors at their fields and the fields holding
        what was typed (``form``'s initial values). The card lives where :meth:`open_form` put it."""
        reference, chat, content = await self._form_card(place, user_id, form, errors)
        activity = self._activity(reference, chat, content, form.title, [])
        activity.id = message_id
        await self._call(
            reference,
            chat,
            "update",
            lambda client: client.conversations.update_activity(chat, message_id, activity),
        )

    # References ------------------------------------------------------------------------------------

    async def _reference_for(self, place: Place) -> Any:
        data = await asyncio.to_thread(self.references.get, place.workspace, channel_scope(place.channel))
        if data is None:
            # A conversation the bot has not heard from in this database: the tenant's service URL and bot
            # account still reach it (e.g. a unit's channel given by id in a nudge).
            template = await asyncio.to_thread(self.references.any_in, place.workspace)
            if template is None:
                raise DeliveryError(
                    f"no Teams conversation known in tenant {place.workspace}", retryable=False
                )
            kind = "personal" if place.is_direct else CHANNEL_TYPE
            data = {**template, "conversation": {"id": place.channel, "conversationType": kind}}
            data.pop("activityId", None)
        return ConversationReference().deserialize(data)

    async def _personal(self, workspace: str, user_id: str) -> Any:
        data = await asyncio.to_thread(self.references.get, workspace, user_scope(user_id))
        if data is not None:
            return ConversationReference().deserialize(data)
        template_data = await asyncio.to_thread(self.references.any_in, workspace)
        if template_data is None:
            raise DeliveryError(f"no Teams conversation known in tenant {workspace}", retryable=False)
        template = ConversationReference().deserialize(template_data)
        tenant = workspace if workspace != "default" else None
        parameters = ConversationParameters(
            is_group=False,
            bot=template.bot,
            members=[ChannelAccount(id=user_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        result = await self._call(
            template,
            f"new-chat:{user_id}",
            "create_conversation",
            lambda client: client.conversations.create_conversation(parameters),
        )
        if result is None or not result.id:
            raise DeliveryError("create_conversation answered without a conversation id", retryable=True)
        created = ConversationReference(
            bot=template.bot,
            user=ChannelAccount(id=user_id),
            conversation=ConversationAccount(id=result.id, conversation_type="personal", tenant_id=tenant),
            channel_id=template.channel_id or "msteams",
            service_url=result.service_url or template.service_url,
        )
        data = created.serialize()
        await asyncio.to_thread(self.references.save, workspace, user_scope(user_id), data)
        await asyncio.to_thread(self.references.save, workspace, channel_scope(result.id), data)
        log.info("created a personal Teams chat with %s in tenant %s", user_id, workspace)
        return created

    # Building and sending activities -----------------------------------------------------------------

    @staticmethod
    def _conversation(reference: Any, channel: str, thread: str | None) -> str:
        kind = getattr(reference.conversation, "conversation_type", None)
        return conversation_id(channel, thread if kind == CHANNEL_TYPE else None)

    def _activity(
        self, reference: Any, conversation: str, card: dict[str, Any], fallback: str, images: list[Image]
    ) -> Any:
        attachments = [Attachment(content_type=CARD_CONTENT_TYPE, content=card)]
        attachments.extend(self._picture(image) for image in images)
        return Activity(
            type=ActivityTypes.message,
            # Shown in notifications and the activity feed; the card itself is the message.
            summary=ellipsis(fallback, SUMMARY_CHARS),
            attachments=attachments,
            channel_id=reference.channel_id,
            service_url=reference.service_url,
            from_property=reference.bot,
            conversation=ConversationAccount(
                id=conversation,
                conversation_type=getattr(reference.conversation, "conversation_type", None),
                tenant_id=getattr(reference.conversation, "tenant_id", None),
            ),
        )

    @staticmethod
    def _picture(image: Image) -> Any:
        path = Path(image.path)
        kind = mimetypes.guess_type(path.name)[0] or "image/png"
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        return Attachment(content_type=kind, content_url=f"data:{kind};base64,{encoded}", name=image.alt)

    @staticmethod
    async def _pictures_checked(reply: Reply) -> Reply:
        """Pictures that cannot be attached (gone, too big) become their alt text, so nothing fails later."""
        if not any(isinstance(block, Image) for block in reply.blocks):
            return reply

        def usable(image: Image) -> bool:
            path = Path(image.path)
            return path.is_file() and path.stat().st_size <= MAX_IMAGE_BYTES

        blocks: list[Block] = []
        for block in reply.blocks:
            if isinstance(block, Image) and not await asyncio.to_thread(usable, block):
                log.warning(
                    "picture %s missing or larger than %s bytes; sending its alt text",
                    block.path,
                    MAX_IMAGE_BYTES,
                )
                blocks.append(Note(block.alt))
            else:
                blocks.append(block)
        return replace(reply, blocks=tuple(blocks))

    async def _send_cards(
        self, reference: Any, channel: str, thread: str | None, fallback: str, rendered: Rendered
    ) -> str:
        conversation = self._conversation(reference, channel, thread)
        first = ""
        for number, content in enumerate(rendered.cards):
            activity = self._activity(
                reference, conversation, content, fallback, rendered.images if number == 0 else []
            )
            if thread is not None and conversation != channel:
                activity.reply_to_id = thread

                def send(client: Any, activity: Any = activity) -> Awaitable[Any]:
                    return client.conversations.reply_to_activity(conversation, thread, activity)

            else:

                def send(client: Any, activity: Any = activity) -> Awaitable[Any]:
                    return client.conversations.send_to_conversation(conversation, activity)

            try:
                response = await self._call(reference, channel, "post", send)
            except DeliveryError as exc:
                if number == 0:
                    raise
                # The first part is out: retrying the whole reply from the outbox would post it twice.
                log.error(
                    "part %s of %s of a reply in %s not delivered: %s",
                    number + 1,
                    len(rendered.cards),
                    channel,
                    exc,
                )
                break
            message_id = getattr(response, "id", None) or ""
            if not message_id:
                log.warning("Teams answered a post in %s without an activity id", channel)
            first = first or message_id
        return first

    async def _call(
        self, reference: Any, conversation: str, what: str, operation: Callable[[Any], Awaitable[T]]
    ) -> T:
        """One Bot Connector call under the rate limit, retried on throttling and gateway errors."""
        attempt = 0
        while True:
            try:
                await self.limiter.acquire(conversation)
            except RateLimited as exc:
                raise DeliveryError(str(exc), retryable=True, retry_after=exc.wait) from None
            try:
                client = await self.connector(reference.service_url)
                return await operation(client)
            except HttpOperationError as exc:
                response = getattr(exc, "response", None)
                status = getattr(response, "status_code", None)
                retry_after = _retry_after(response)
                if status in RETRY_NOW and attempt < self.max_retries:
                    delay = self._backoff(attempt, retry_after)
                    if delay <= self.max_wait:
                        attempt += 1
                        log.info(
                            "Teams answered %s to %s in %s; retry %s in %.2fs",
                            status,
                            what,
                            conversation,
                            attempt,
                            delay,
                        )
                        await self.sleep(delay)
                        continue
                raise DeliveryError(
                    f"Teams answered {status} to {what} in {conversation}",
                    retryable=status in RETRY_LATER,
                    retry_after=retry_after,
                ) from None
            except DeliveryError:
                raise
            except Exception as exc:
                # No answer at all (connection refused, DNS, timeout) or no token from Microsoft Entra ID:
                # nothing says the message is wrong, so the outbox tries again later.
                log.warning("Teams %s in %s failed: %r", what, conversation, exc)
                raise DeliveryError(f"Teams {what} failed: {exc!r}", retryable=True) from None

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        # Exponential backoff with jitter, so replicas and conversations throttled together spread out.
        delay = self.backoff_base * (2**attempt) * (0.5 + self.rng.random())
        return max(delay, retry_after) if retry_after is not None else delay


def _binary_files(reply: Reply) -> list[File]:
    """Files Teams cannot show as text in a card (a PDF): they need a file-consent card."""
    return [b for b in reply.blocks if isinstance(b, File) and not b.is_text]
