"""The one interface every platform adapter implements to send things.

The delivery layer (:mod:`bot.chat.delivery`) calls these methods with neutral replies; the adapter renders
them (Block Kit, Adaptive Cards, console text) and talks to its platform.
"""

from __future__ import annotations

from typing import Protocol

from bot.chat.model import Form, Place, Platform, Reply


class DeliveryError(Exception):
    """Sending failed. ``retryable`` says whether trying again later can help (outage, rate limit)."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        not_posted_yet: bool = False,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        # An update whose message is still in another lane: soon, not with growing backoff.
        self.not_posted_yet = not_posted_yet


class Messenger(Protocol):
    platform: Platform

    async def post(self, place: Place, reply: Reply) -> str:
        """Post in ``place`` (in its thread when ``place.thread`` is set); return the new message's id."""
        ...

    async def update(self, place: Place, message_id: str, reply: Reply) -> None:
        """Replace the content of a message posted earlier."""
        ...

    async def post_private(self, place: Place, user_id: str, reply: Reply) -> None:
        """Show ``reply`` to one person only (ephemeral, or their personal chat)."""
        ...

    async def post_direct(self, workspace: str, user_id: str, reply: Reply) -> None:
        """Send ``reply`` to a person's direct/personal chat with the bot."""
        ...

    async def open_form(self, place: Place, user_id: str, form: Form, trigger_id: str | None) -> None:
        """Show a form to one person."""
        ...
