"""The neutral chat model: what every platform adapter translates to and from.

Handlers and domain code only ever see these types. Adapters (console, Slack, Teams) turn platform
payloads into one of the four incoming events and render the outgoing message parts as console text,
Block Kit or Adaptive Cards. Keeping this module small and free of platform SDKs is what lets the same
toolbox run everywhere and be tested through the console.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Platform = Literal["console", "slack", "teams"]


# --------------------------------------------------------------------------------------------------
# Where things happen and who does them
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A conversation on a platform, optionally a thread inside it.

    ``workspace`` is the Slack team id, the Teams tenant id, or ``"console"``; ``channel`` is the Slack
    channel id, the Teams conversation id (without ``;messageid=``) or the console channel name;
    ``thread`` is the platform id of the message that roots the thread (Slack ``thread_ts``, the Teams
    reply-chain root activity id, the console message number), ``None`` for the channel itself.
    """

    platform: Platform
    workspace: str
    channel: str
    thread: str | None = None
    is_direct: bool = False

    def in_thread(self, thread: str | None) -> Place:
        return Place(self.platform, self.workspace, self.channel, thread, self.is_direct)

    @property
    def channel_only(self) -> Place:
        return self.in_thread(None)


@dataclass(frozen=True)
class Actor:
    """The person behind an incoming event, as the platform names them."""

    user_id: str
    display_name: str = ""
    locale: str | None = None
    # The platform says this person administers the workspace (Slack admin/owner): may set up the
    # unit's leder when it has none (bot/grants.py). Never a party role by itself.
    is_admin: bool = False


# --------------------------------------------------------------------------------------------------
# Incoming events
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """``/parts <name> <args>`` in Slack, ``@Partsbot <name> <args>`` in Teams, ``/parts …`` in the console.

    ``name`` is the first word lower-cased (may be empty: ``/parts`` alone), ``args`` the rest, stripped.
    ``trigger_id`` is Slack's short-lived handle for opening a modal; other platforms leave it empty.
    """

    actor: Actor
    place: Place
    name: str
    args: str = ""
    trigger_id: str | None = None
    # Text of a message the command was started from (Slack's message shortcut), if any.
    source_text: str | None = None
    # Typed as a message that others in the conversation read with the author's name (a channel or thread
    # @mention), not a slash command or a direct message: anonymous input is refused from there.
    typed_in_view: bool = False


@dataclass(frozen=True)
class Message:
    """A plain message to the bot: in a thread the bot started, in a channel, or in a direct chat."""

    actor: Actor
    place: Place
    text: str
    message_id: str | None = None


@dataclass(frozen=True)
class Action:
    """A button press or a choice made in a message the bot sent.

    ``action_id`` names the handler (``"vote.add"``), ``value`` carries what was chosen (an opaque string
    the handler put there, e.g. ``"case:12:idea:4"``).
    """

    actor: Actor
    place: Place
    action_id: str
    value: str = ""
    trigger_id: str | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class Submission:
    """A form (Slack modal, Adaptive Card inputs, console questions) sent in by a person.

    ``form_id`` names the handler; ``context`` is the opaque string the handler gave the form (e.g. a case
    id); ``values`` maps field names to what the person typed or chose ("" when left empty).
    """

    actor: Actor
    place: Place
    form_id: str
    values: dict[str, str]
    context: str = ""


Event = Command | Message | Action | Submission


# --------------------------------------------------------------------------------------------------
# Outgoing message parts
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    text: str


@dataclass(frozen=True)
class Text:
    """A paragraph. Light markdown only: ``*bold*``, ``_italic_``, line breaks, ``•`` bullets."""

    text: str


@dataclass(frozen=True)
class Fields:
    """Label/value pairs shown side by side where the platform can (Slack fields, Teams FactSet)."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Note:
    """Small print under a section: who started it, when, counts."""

    text: str


@dataclass(frozen=True)
class Divider:
    pass


@dataclass(frozen=True)
class Image:
    """A picture: a local file (uploaded by Slack, attached by Teams, shown as a path in the console)."""

    path: str
    alt: str


@dataclass(frozen=True)
class File:
    """A file for the person to keep (their data export, the HMS record as a PDF), as bytes: uploaded by
    Slack, written to a folder by the console; Teams shows a text file in the card and offers any other
    file with a file-consent card in the personal chat (see ``bot/adapters/teams``)."""

    name: str
    data: bytes
    media_type: str = "application/json"

    @property
    def is_text(self) -> bool:
        return self.media_type.startswith("text/") or self.media_type == "application/json"

    @property
    def text(self) -> str:
        """The content as text (for a text file); a binary file gives an empty string."""
        return self.data.decode("utf-8") if self.is_text else ""


ButtonStyle = Literal["default", "primary", "danger"]


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str = ""
    style: ButtonStyle = "default"


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Option:
    label: str
    value: str


@dataclass(frozen=True)
class Choice:
    """A single choice from a list (Slack static select, Teams ChoiceSet, console numbered list)."""

    action_id: str
    placeholder: str
    options: tuple[Option, ...]


Block = Header | Text | Fields | Note | Divider | Image | File | Buttons | Choice


@dataclass(frozen=True)
class Reply:
    """One chat message: blocks plus a plain-text fallback (notifications, screen readers, logs)."""

    fallback: str
    blocks: tuple[Block, ...] = ()

    @staticmethod
    def text(text: str) -> Reply:
        return Reply(fallback=text, blocks=(Text(text),))


# Forms ---------------------------------------------------------------------------------------------

FieldKind = Literal["text", "multiline", "select", "date", "number", "checkbox"]


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: FieldKind = "text"
    optional: bool = False
    max_length: int | None = None
    options: tuple[Option, ...] = ()
    initial: str = ""
    hint: str = ""


@dataclass(frozen=True)
class Form:
    """A form the person fills in: a Slack modal, an Adaptive Card with inputs, or console questions."""

    form_id: str
    title: str
    submit_label: str
    fields: tuple[FormField, ...]
    context: str = ""
    intro: str = ""


# --------------------------------------------------------------------------------------------------
# Effects: what a handler asks the bot to do. Handlers never call a platform directly.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    """Post a message in a channel, or in a thread.

    ``key`` names the message so a later :class:`Update` can change it in place and later posts can go into
    its thread (``thread_key``); e.g. ``"case:12:head"``. The delivery layer records which platform message
    id belongs to which key, so handlers never deal with ``ts`` or activity ids.
    """

    place: Place
    reply: Reply
    key: str | None = None
    thread_key: str | None = None


@dataclass(frozen=True)
class Update:
    """Change a message posted earlier under ``key``, in place."""

    key: str
    reply: Reply


@dataclass(frozen=True)
class Private:
    """A message only ``user_id`` sees: Slack ephemeral, Teams personal chat, console ``(privat)``."""

    place: Place
    user_id: str
    reply: Reply


@dataclass(frozen=True)
class Direct:
    """A direct (personal) message, e.g. a nudge or a check-in. ``workspace`` picks the install."""

    platform: Platform
    workspace: str
    user_id: str
    reply: Reply


@dataclass(frozen=True)
class OpenForm:
    """Show a form to one person. Not retried later: a form is only useful right after the click."""

    place: Place
    user_id: str
    form: Form
    trigger_id: str | None = None


Effect = Post | Update | Private | Direct | OpenForm
