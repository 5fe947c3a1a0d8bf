"""What the console chat's bot sends, printed (:class:`ConsoleMessenger`), and the form being filled in line
by line (:class:`PendingForm`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.chat.messenger import DeliveryError
from bot.chat.model import Form, FormField, Place, Platform, Reply

if TYPE_CHECKING:
    from bot.adapters.console.chat import ConsoleChat

WORKSPACE = "console"


def direct_place(user_id: str) -> Place:
    """A person's direct chat with the bot."""
    return Place("console", WORKSPACE, f"dm-{user_id}", None, is_direct=True)


@dataclass
class PendingForm:
    form: Form
    place: Place
    user_id: str
    values: dict[str, str] = field(default_factory=dict)
    # A line starting with "/" typed while the form was open: kept until the person says whether to leave.
    leaving: str | None = None

    @property
    def field(self) -> FormField | None:
        remaining = [f for f in self.form.fields if f.name not in self.values]
        return remaining[0] if remaining else None


class ConsoleMessenger:
    """Prints what the bot sends; the chat is both its screen and its platform."""

    platform: Platform = "console"

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def post(self, place: Place, reply: Reply) -> str:
        message_id = str(self.chat.next_message_id())
        if place.thread is not None:
            # Like Slack: answering "in the thread of" a reply means answering in the root's thread.
            self.chat.thread_roots[message_id] = place.thread
        where = (
            f"#{message_id}"
            if place.thread is None
            else f"  ↳ #{message_id} ({self.chat.say('thread')} #{place.thread})"
        )
        if place.is_direct:
            where = f"[{self.chat.say('dm')}] #{message_id}"
        self.chat.show(f"{where} Partsbot:", reply, place, indent="    " if place.thread else "")
        return message_id

    async def update(self, place: Place, message_id: str, reply: Reply) -> None:
        self.chat.show(f"#{message_id} ({self.chat.say('updated')}) Partsbot:", reply, place)

    async def post_private(self, place: Place, user_id: str, reply: Reply) -> None:
        heading = f"({self.chat.say('only_for', name=self.chat.name_of(user_id))}) Partsbot:"
        self.chat.show(heading, reply, place)

    async def post_direct(self, workspace: str, user_id: str, reply: Reply) -> None:
        heading = f"[{self.chat.say('dm_to', name=self.chat.name_of(user_id))}] Partsbot:"
        self.chat.show(heading, reply, direct_place(user_id))

    async def open_form(self, place: Place, user_id: str, form: Form, trigger_id: str | None) -> None:
        if self.chat.pending_form is not None:
            raise DeliveryError("a form is already open", retryable=False)
        self.chat.pending_form = PendingForm(form, place, user_id)
        self.chat.write(f"== {form.title} ==")
        if form.intro:
            self.chat.write(form.intro)
        self.chat.write(self.chat.say("form_help"))
        self.chat.ask_field()
