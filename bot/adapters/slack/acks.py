"""A slash command answered in its acknowledgement.

A command is handled before it is acknowledged, in one transaction that also remembers its key as handled
(so a replay does nothing), and the first private answer to the person – when it fits one message – is the
ack's body: Slack shows it at once, only to them, never behind a channel's pace. What else the command
causes goes through the outbox after the ack. When the process is too busy, the handling is not ready
within two seconds, or it fails, the command is stored in the inbox, acknowledged, and answered from there
through its ``response_url`` – exactly once, whichever path reaches the database first. When it cannot even
be stored, the ack tells the person that nothing was saved.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck

from bot.adapters.slack import render
from bot.adapters.slack.requests import BackgroundTasks, Meta
from bot.chat.inbox import Receipt
from bot.chat.model import Command, Effect, Private
from bot.core import Handled, Partsbot
from bot.i18n import t

log = logging.getLogger(__name__)

# Slack shows an error when a command is not acknowledged within 3 s; the answer goes in the ack only when
# it is ready well before that. Past BEFORE_ACK_MAX_WAITING events waiting for the database in this process
# (about a second of work at a few ms each) a command is stored and acknowledged first instead.
ACK_BUDGET_SECONDS = 2.0
BEFORE_ACK_MAX_WAITING = 256
# How long a command waits for users.info (a new person's name) before the ack; after that, Slack's name.
PEOPLE_BUDGET_SECONDS = 0.8


class CommandAcks:
    def __init__(self, bot: Partsbot, tasks: BackgroundTasks) -> None:
        self.bot = bot
        self.tasks = tasks

    def busy(self) -> bool:
        """Too many events wait for the database in this process to answer a command well inside Slack's
        three seconds: it is stored and acknowledged first (:meth:`store_then_ack`)."""
        return self.bot.waiting() >= BEFORE_ACK_MAX_WAITING

    async def answer(
        self, ack: AsyncAck, body: dict[str, Any], meta: Meta, key: str, command: Command
    ) -> None:
        """Handle ``command`` before its ack and acknowledge with its private answer: at once, not behind
        anything, and without a response_url call of its own. Not ready within ACK_BUDGET_SECONDS, or
        failed: stored, acknowledged and answered from the inbox, once."""
        future = self.bot.handle_before_ack(command, Receipt("slack", key, "command"), ack_answer(command))
        done, _ = await asyncio.wait((future,), timeout=ACK_BUDGET_SECONDS)
        if not done:
            log.warning("a command took too long to answer in its ack; it is answered afterwards")
            await self.store_then_ack(ack, body, meta, key, late=(future, command))
            return
        if future.exception() is not None:
            # Nothing of it was kept (its transaction rolled back): stored and acknowledged, the inbox tries
            # again and logs what fails.
            log.error(
                "handling a Slack command before its ack failed; it is stored and tried again",
                exc_info=future.exception(),
            )
            await self.store_then_ack(ack, body, meta, key)
            return
        handled = future.result()
        if not handled.fresh:
            log.info("Slack command %s seen before; skipped", key[:24])
            await ack()
            return
        await ack(**(handled.answer or {}))
        if handled.has_more:
            self.tasks.spawn(self.bot.deliver(handled, command), "delivery")

    async def store_then_ack(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        meta: Meta,
        key: str,
        late: tuple[asyncio.Future[Handled], Command] | None = None,
    ) -> None:
        """Store the command in the inbox, acknowledge it, process it from there. With ``late`` (handling
        before the ack is still running): whichever of the two reaches the database first handles the
        command – the other finds its key taken and does nothing – so it is done exactly once."""
        raw = {"team_id": meta.team_id, "enterprise_id": meta.enterprise_id, "bot_user_id": meta.bot_user_id}
        try:
            item = await self.bot.inbox.receive("slack", key, "command", {"body": body, "meta": raw})
        except Exception:
            if late is not None:
                raise  # the handling may still commit: no word that would then be wrong
            # The database is not there: nothing was kept, and the person is told so (Slack would only say
            # "dispatch_failed"); Slack does not resend a command, so the ack loses nothing.
            log.exception("a Slack command could not be stored; the person is told nothing was saved")
            await ack(text=t(self.bot.settings.language, "errors.internal"), response_type="ephemeral")
            return
        await ack()
        if item is not None:
            self.bot.inbox.start(item)
        elif late is not None:
            task, command = late
            task.add_done_callback(lambda done: self._answer_late(done, command))

    def _answer_late(self, task: asyncio.Future[Handled], command: Command) -> None:
        if task.cancelled() or task.exception() is not None:
            log.error("a Slack command handled after its ack failed", exc_info=task.exception())
            return
        handled = task.result()
        if not handled.fresh:
            return

        async def deliver() -> None:
            if handled.answered is not None:
                await self.bot.delivery.send_now(handled.answered)
            await self.bot.deliver(handled, command)

        self.tasks.spawn(deliver(), "late answer")


def ack_answer(command: Command) -> Callable[[Effect], dict[str, Any] | None]:
    """Which of a command's effects can be its ack: the first private answer to the person, in the place
    they typed it, that fits in one message (a slash command's ack holds one message, shown only to them)."""
    place = command.place
    passed = False

    def pick(effect: Effect) -> dict[str, Any] | None:
        nonlocal passed
        if passed or not isinstance(effect, Private) or effect.user_id != command.actor.user_id:
            return None
        if effect.place.channel != place.channel or effect.place.workspace != place.workspace:
            return None
        if effect.place.thread:
            return None
        messages = render.render_reply(effect.reply)
        if len(messages) != 1:
            # Only the first private answer may go in the ack: a later one there would overtake it.
            passed = True
            return None
        return {"text": messages[0].text, "blocks": messages[0].blocks, "response_type": "ephemeral"}

    return pick
