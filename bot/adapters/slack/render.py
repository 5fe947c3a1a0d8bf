"""The neutral chat model as Block Kit, built with ``slack_sdk.models`` so Slack's limits are checked here.

Rendering is generic: every handler's :class:`~bot.chat.model.Reply` and :class:`~bot.chat.model.Form`
becomes Block Kit without Slack-specific code in the handlers. Content that does not fit Slack's limits
(50 blocks a message, 3000 characters a section, 10 fields, 25 buttons, 100 options…) is split rather than
cut, so a long summary arrives as several messages instead of an ``invalid_blocks`` error that would keep it
in the outbox forever.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.chat import model

log = logging.getLogger(__name__)

# Slack's limits (docs.slack.dev Block Kit reference; slack_sdk's models check most of them).
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
FIELDS_PER_SECTION = 10
CONTEXT_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
ELEMENTS_PER_ACTIONS = 25
OPTIONS_PER_SELECT = 100
OPTION_TEXT = 75
OPTION_VALUE = 150
PLACEHOLDER = 150
VIEW_TITLE = 24
INPUT_LABEL = 2000
INPUT_HINT = 2000
PRIVATE_METADATA = 3000
PLAIN_INPUT_MAX = 3000
# Slack documents no total for a message's blocks, but very long messages are refused or cut: we keep each
# message under this many characters of text and continue in the next message.
MESSAGE_TEXT_BUDGET = 12000
# The notification text (chat.postMessage ``text``) is only shown in notifications and screen readers.
FALLBACK_TEXT = 3000
# Marks a repeated action_id inside one message ("vote.add#2"); Slack wants them unique and the event
# translation strips the mark again, so handlers never see it.
ACTION_SUFFIX = "#"


def escape(text: str) -> str:
    """Slack's three control characters; without this a person's text could ping ``<!channel>``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def ellipsis(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Split (already escaped) text into pieces of at most ``limit`` characters.

    Prefers paragraph breaks, then line breaks, then spaces; never cuts inside an ``&amp;`` entity.
    """
    pieces: list[str] = []
    rest = text.strip("\n")
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator)
            if cut > limit // 3:
                break
        if cut <= 0:
            cut = limit
            amp = rest.rfind("&", max(0, cut - 5), cut)
            if amp != -1 and ";" not in rest[amp:cut]:
                cut = amp  # would split an entity like "&amp;"
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip(" \n")
    if rest or not pieces:
        pieces.append(rest)
    return [p for p in pieces if p] or [""]


def base_action_id(action_id: str) -> str:
    """``vote.add#3`` → ``vote.add``: undo :func:`_unique_action_ids`."""
    name, mark, number = action_id.rpartition(ACTION_SUFFIX)
    return name if mark and number.isdigit() else action_id


class _ActionIds:
    """Hands out action_ids unique within one message or view."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, action_id: str) -> str:
        count = self.seen.get(action_id, 0) + 1
        self.seen[action_id] = count
        unique = action_id if count == 1 else f"{action_id}{ACTION_SUFFIX}{count}"
        if len(unique) > ACTION_ID:
            raise ValueError(f"action_id too long for Slack: {action_id[:40]}…")
        return unique


# --------------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------------


def _section_texts(text: str) -> list[Block]:
    return [
        SectionBlock(text=MarkdownTextObject(text=piece)) for piece in split_text(escape(text), SECTION_TEXT)
    ]


def _fields(items: Sequence[tuple[str, str]]) -> list[Block]:
    texts: list[str] = []
    for label, value in items:
        body = escape(value) if value else "–"
        texts.append(ellipsis(f"*{escape(label)}*\n{body}", FIELD_TEXT))
    return [
        SectionBlock(fields=[MarkdownTextObject(text=t) for t in texts[i : i + FIELDS_PER_SECTION]])
        for i in range(0, len(texts), FIELDS_PER_SECTION)
    ]


def _option(option: model.Option) -> Option:
    if len(option.value) > OPTION_VALUE:
        raise ValueError(f"option value longer than Slack's {OPTION_VALUE} characters: {option.value[:40]}…")
    return Option(value=option.value, text=PlainTextObject(text=ellipsis(option.label, OPTION_TEXT)))


def _button(button: model.Button, ids: _ActionIds) -> ButtonElement:
    if len(button.value) > BUTTON_VALUE:
        raise ValueError(f"button value longer than Slack's {BUTTON_VALUE} characters")
    return ButtonElement(
        text=PlainTextObject(text=ellipsis(button.label, BUTTON_TEXT), emoji=True),
        action_id=ids(button.action_id),
        value=button.value or None,
        style=None if button.style == "default" else button.style,
    )


def _selects(choice: model.Choice, ids: _ActionIds) -> list[StaticSelectElement]:
    options = [_option(o) for o in choice.options]
    chunks = [options[i : i + OPTIONS_PER_SELECT] for i in range(0, len(options), OPTIONS_PER_SELECT)]
    return [
        StaticSelectElement(
            placeholder=PlainTextObject(text=ellipsis(choice.placeholder or "…", PLACEHOLDER)),
            action_id=ids(choice.action_id),
            options=chunk,
        )
        for chunk in chunks
    ]


def _actions(elements: Sequence[Any]) -> list[Block]:
    return [
        ActionsBlock(elements=list(elements[i : i + ELEMENTS_PER_ACTIONS]))
        for i in range(0, len(elements), ELEMENTS_PER_ACTIONS)
    ]


def render_block(block: model.Block, ids: _ActionIds) -> list[Block]:
    """One neutral block as zero or more Slack blocks. Images are sent as files (see the messenger)."""
    match block:
        case model.Header(text=text):
            return [
                HeaderBlock(text=PlainTextObject(text=ellipsis(text.strip() or "…", HEADER_TEXT), emoji=True))
            ]
        case model.Text(text=text):
            return _section_texts(text) if text.strip() else []
        case model.Fields(items=items):
            return _fields(items) if items else []
        case model.Note(text=text):
            return [
                ContextBlock(elements=[MarkdownTextObject(text=piece)])
                for piece in split_text(escape(text), CONTEXT_TEXT)
                if piece
            ]
        case model.Divider():
            return [DividerBlock()]
        case model.Buttons(buttons=buttons):
            return _actions([_button(b, ids) for b in buttons])
        case model.Choice():
            return _actions(_selects(block, ids))
        case model.Image() | model.File():
            return []
    log.warning("no Slack rendering for %s; left out", type(block).__name__)
    return []


def _text_size(block: dict[str, Any]) -> int:
    return len(json.dumps(block, ensure_ascii=False))


@dataclass(frozen=True)
class SlackMessage:
    """One chat.postMessage worth of content: validated block dicts plus the notification text."""

    text: str
    blocks: list[dict[str, Any]]


def images_of(reply: model.Reply) -> list[model.Image]:
    return [b for b in reply.blocks if isinstance(b, model.Image)]


def files_of(reply: model.Reply) -> list[model.File]:
    return [b for b in reply.blocks if isinstance(b, model.File)]


def render_reply(reply: model.Reply) -> list[SlackMessage]:
    """A reply as one or more messages, each within Slack's block and size limits.

    The same reply (``/parts hjelp``, a receipt) is rendered once and then reused: building and validating
    slack_sdk's block objects was a tenth of the CPU time per answered command. The messages returned are
    shared: callers must not change them."""
    try:
        return list(_render_cached(reply))
    except TypeError:  # a reply with something unhashable in it
        return _render_reply(reply)


@functools.lru_cache(maxsize=256)
def _render_cached(reply: model.Reply) -> tuple[SlackMessage, ...]:
    return tuple(_render_reply(reply))


def _render_reply(reply: model.Reply) -> list[SlackMessage]:
    ids = _ActionIds()
    rendered: list[Block] = []
    for block in reply.blocks:
        rendered.extend(render_block(block, ids))
    for image in images_of(reply):
        # The picture itself follows as a file upload; a screen reader still gets its description here.
        rendered.append(
            ContextBlock(elements=[MarkdownTextObject(text=ellipsis(escape(image.alt), CONTEXT_TEXT))])
        )
    fallback = ellipsis(escape(reply.fallback.strip()), FALLBACK_TEXT) or "Partsbot"
    if not rendered:
        rendered = _section_texts(reply.fallback or "…")
    messages: list[SlackMessage] = []
    current: list[dict[str, Any]] = []
    size = 0
    for slack_block in rendered:
        as_dict = slack_block.to_dict()  # validates against slack_sdk's rules, raising on what Slack refuses
        block_size = _text_size(as_dict)
        if current and (len(current) >= MESSAGE_BLOCKS or size + block_size > MESSAGE_TEXT_BUDGET):
            messages.append(SlackMessage(fallback, current))
            current, size = [], 0
        current.append(as_dict)
        size += block_size
    messages.append(SlackMessage(fallback, current))
    return messages


def render_single(reply: model.Reply, more_note: str) -> SlackMessage:
    """A reply that must stay one message (chat.update, App Home): cut at the limits, with a note."""
    messages = render_reply(reply)
    first = messages[0]
    if len(messages) == 1:
        return first
    note = ContextBlock(elements=[MarkdownTextObject(text=escape(more_note))]).to_dict()
    return SlackMessage(first.text, [*first.blocks[: MESSAGE_BLOCKS - 1], note])


# --------------------------------------------------------------------------------------------------
# Views: forms as modals, the App Home tab
# --------------------------------------------------------------------------------------------------


def _element(field: model.FormField) -> Any:
    action_id = field.name
    match field.kind:
        case "multiline" | "text":
            return PlainTextInputElement(
                action_id=action_id,
                multiline=field.kind == "multiline",
                max_length=min(field.max_length or PLAIN_INPUT_MAX, PLAIN_INPUT_MAX),
                initial_value=field.initial or None,
            )
        case "select":
            options = [_option(o) for o in field.options[:OPTIONS_PER_SELECT]]
            initial = next(
                (o for o, src in zip(options, field.options, strict=False) if src.value == field.initial),
                None,
            )
            return StaticSelectElement(action_id=action_id, options=options, initial_option=initial)
        case "date":
            return DatePickerElement(action_id=action_id, initial_date=field.initial or None)
        case "number":
            return NumberInputElement(
                action_id=action_id, is_decimal_allowed=False, initial_value=field.initial or None
            )
        case "checkbox":
            box = Option(
                value="true", text=PlainTextObject(text=ellipsis(field.hint or field.label, OPTION_TEXT))
            )
            return CheckboxesElement(
                action_id=action_id, options=[box], initial_options=[box] if field.initial else None
            )
    log.warning("form field kind %r has no Slack input; shown as text", field.kind)
    return PlainTextInputElement(action_id=action_id)


def form_blocks(form: model.Form) -> list[Block]:
    blocks: list[Block] = []
    if form.intro.strip():
        blocks.extend(_section_texts(form.intro))
    for field in form.fields:
        hint = field.hint if field.kind != "checkbox" else ""
        blocks.append(
            InputBlock(
                block_id=field.name,
                label=PlainTextObject(text=ellipsis(field.label, INPUT_LABEL)),
                element=_element(field),
                optional=field.optional,
                hint=PlainTextObject(text=ellipsis(hint, INPUT_HINT)) if hint else None,
            )
        )
    return blocks


def render_form(form: model.Form, *, private_metadata: str, close_label: str) -> View:
    blocks = form_blocks(form)
    if len(blocks) > VIEW_BLOCKS:
        raise ValueError(f"form {form.form_id} has {len(blocks)} blocks; Slack allows {VIEW_BLOCKS}")
    if len(private_metadata) > PRIVATE_METADATA:
        raise ValueError(f"form {form.form_id}: context too long for private_metadata")
    view = View(
        type="modal",
        callback_id=form.form_id,
        title=PlainTextObject(text=ellipsis(form.title, VIEW_TITLE)),
        submit=PlainTextObject(text=ellipsis(form.submit_label, VIEW_TITLE)),
        close=PlainTextObject(text=ellipsis(close_label, VIEW_TITLE)),
        blocks=blocks,
        private_metadata=private_metadata,
    )
    view.to_dict()  # validate now, not at Slack
    return view


def render_home(blocks: Iterable[model.Block], more_note: str) -> View:
    ids = _ActionIds()
    rendered: list[Block] = []
    for block in blocks:
        rendered.extend(render_block(block, ids))
    if len(rendered) > VIEW_BLOCKS:
        rendered = [
            *rendered[: VIEW_BLOCKS - 1],
            ContextBlock(elements=[MarkdownTextObject(text=escape(more_note))]),
        ]
    view = View(type="home", blocks=rendered or [DividerBlock()])
    view.to_dict()
    return view


# --------------------------------------------------------------------------------------------------
# Submitted values back to neutral strings
# --------------------------------------------------------------------------------------------------


def _state_value(state: dict[str, Any]) -> str:
    kind = state.get("type")
    if kind in ("static_select", "radio_buttons", "external_select"):
        selected = state.get("selected_option") or {}
        return str(selected.get("value") or "")
    if kind == "datepicker":
        return str(state.get("selected_date") or "")
    if kind == "checkboxes":
        return "true" if state.get("selected_options") else ""
    if kind == "users_select":
        return str(state.get("selected_user") or "")
    return str(state.get("value") or "")


def form_values(view: dict[str, Any]) -> dict[str, str]:
    """``view.state.values`` (block_id → action_id → state) as field name → text; "" when left empty."""
    values: dict[str, str] = {}
    for block_values in ((view.get("state") or {}).get("values") or {}).values():
        for action_id, state in block_values.items():
            values[action_id] = _state_value(state or {}).strip()
    return values
