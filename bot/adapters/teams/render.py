"""Neutral replies and forms as Adaptive Cards 1.5 (the highest version Teams desktop and mobile render).

Pure functions: no botbuilder, no I/O. Every card stays under :data:`MAX_CARD_BYTES` as compact UTF-8 JSON
(Teams refuses cards around 28 kB); a reply that does not fit is split into several cards at block
boundaries, and a single block that alone is too big is split by lines or items. Pictures are not put into
the card (a chart would blow the budget) but travel beside it as an inline image attachment.

Text uses the neutral model's light markdown (``*bold*``, ``_italic_``, ``•`` bullets); Adaptive Cards
want ``**bold**``. Each line becomes its own TextBlock because Teams clients disagree on single line
breaks inside one TextBlock.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.adapters.teams.payload import CardSigner, button_data, choice_data, field_input_id, form_data
from bot.chat.model import (
    Block,
    Button,
    Buttons,
    Choice,
    Divider,
    Fields,
    File,
    Form,
    FormField,
    Header,
    Image,
    Note,
    Reply,
    Text,
)

log = logging.getLogger(__name__)

CARD_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
# Teams rejects cards of about 28 kB; stay clear of it with room for what msrest adds when serialising.
MAX_CARD_BYTES = 27_000
# Microsoft's parser rejects more than five actions in one ActionSet (the default host config).
MAX_ACTIONS = 5
# The card's own plain-text stand-in for hosts that cannot render it; the activity summary has the rest.
FALLBACK_CHARS = 300
# Short strings the chat UI shows on buttons and choices; longer ones are cut with an ellipsis.
BUTTON_CHARS = 75
OPTION_CHARS = 200
MAX_OPTIONS = 100
_LINE_CHARS = 4000

_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_STYLES = {"primary": "positive", "danger": "destructive"}

Element = dict[str, Any]


@dataclass(frozen=True)
class CardTexts:
    """The few words a card needs that the neutral reply does not carry, in the reader's language."""

    choose: str
    required: str
    shortened: str


@dataclass
class Rendered:
    """Cards to send (in order, usually one) and pictures to attach to the first message."""

    cards: list[dict[str, Any]]
    images: list[Image] = field(default_factory=list)


def card_bytes(card: dict[str, Any]) -> int:
    """Size as Teams and Microsoft's validator measure it: compact JSON in UTF-8."""
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def ellipsis(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# Prompts name commands the Slack way (``/parts hjelp``); in Teams people type ``@Partsbot hjelp``.
_SLASH_COMMAND = re.compile(r"(?<![\w/])/parts\b")


# Markdown links and images, ``[text](url)`` and ``![alt](url)``: people's text must not become a link with
# a harmless-looking label (phishing) or an image that calls a tracker (SEC-09). The bot's own prompts
# contain no links, so every one is defused: a word joiner between "]" and "(" breaks the syntax while the
# text reads the same. A bare URL stays visible as itself.
_LINK = re.compile(r"\](\s*)\(")


def defuse(text: str) -> str:
    """Text shown as is (headings, notes, fallbacks) with link and image syntax made inert."""
    return _LINK.sub("]\u2060\\1(", text)


def markdown(text: str) -> str:
    """The neutral model's ``*bold*`` as Adaptive Card markdown ``**bold**``; ``_italic_`` stays; commands
    are written as Teams users type them; link and image syntax from anywhere is shown as plain text."""
    return _BOLD.sub(r"**\1**", _SLASH_COMMAND.sub("@Partsbot", defuse(text)))


def card(body: list[Element], fallback: str, actions: list[Element] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA_URL,
        "version": CARD_VERSION,
        "body": body,
        "fallbackText": defuse(ellipsis(fallback, FALLBACK_CHARS)),
        # Summaries and forms read better across the whole message column than in a narrow bubble.
        "msteams": {"width": "Full"},
    }
    if actions:
        content["actions"] = actions
    return content


# --------------------------------------------------------------------------------------------------
# Blocks → groups of card elements. A group is never split across cards (a choice and its button).
# --------------------------------------------------------------------------------------------------


def _text_lines(text: str, *, subtle: bool = False) -> list[Element]:
    lines: list[Element] = []
    gap = False
    for raw in text.split("\n"):
        if not raw.strip():
            gap = True
            continue
        for start in range(0, len(raw), _LINE_CHARS):
            block: Element = {
                "type": "TextBlock",
                "text": markdown(raw[start : start + _LINE_CHARS]),
                "wrap": True,
            }
            if subtle:
                block.update(isSubtle=True, size="Small")
            if lines:
                block["spacing"] = "Medium" if gap else "None"
            gap = False
            lines.append(block)
    return lines


def _container(items: list[Element]) -> Element:
    return items[0] if len(items) == 1 else {"type": "Container", "items": items}


def _lines_groups(lines: list[Element]) -> list[list[Element]]:
    """A long text as several containers, so that it can spread over cards if it has to."""
    groups: list[list[Element]] = []
    chunk: list[Element] = []
    for line in lines:
        chunk.append(line)
        if card_bytes({"items": chunk}) > MAX_CARD_BYTES // 2:
            groups.append([_container(chunk)])
            chunk = []
    if chunk:
        groups.append([_container(chunk)])
    return groups


def _action_sets(buttons: tuple[Button, ...], signer: CardSigner) -> list[Element]:
    actions = [
        {
            "type": "Action.Submit",
            "title": ellipsis(button.label, BUTTON_CHARS),
            "data": button_data(signer, button.action_id, button.value),
            **({"style": _STYLES[button.style]} if button.style in _STYLES else {}),
        }
        for button in buttons
    ]
    return [
        {"type": "ActionSet", "actions": actions[start : start + MAX_ACTIONS]}
        for start in range(0, len(actions), MAX_ACTIONS)
    ]


def _choice(block: Choice, number: int, signer: CardSigner, texts: CardTexts) -> list[Element]:
    input_id = f"c:{number}"
    options = block.options[:MAX_OPTIONS]
    if len(block.options) > MAX_OPTIONS:
        log.warning("choice %s has %s options; showing %s", block.action_id, len(block.options), MAX_OPTIONS)
    choice_set: Element = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "style": "compact",
        "choices": [{"title": ellipsis(o.label, OPTION_CHARS), "value": o.value} for o in options],
    }
    if block.placeholder:
        choice_set["placeholder"] = block.placeholder
    submit = {
        "type": "ActionSet",
        "actions": [
            {
                "type": "Action.Submit",
                "title": ellipsis(texts.choose, BUTTON_CHARS),
                "data": choice_data(signer, block.action_id, input_id, [o.value for o in options]),
            }
        ],
    }
    return [{"type": "Container", "items": [choice_set, submit]}]


def _groups(block: Block, number: int, signer: CardSigner, texts: CardTexts) -> list[list[Element]]:
    match block:
        case Header(text=text):
            heading = {
                "type": "TextBlock",
                "text": defuse(text),
                "wrap": True,
                "style": "heading",
                "size": "Medium",
            }
            return [[heading]]
        case Text(text=text):
            return _lines_groups(_text_lines(text))
        case Note(text=text):
            return _lines_groups(_text_lines(text, subtle=True))
        case Fields(items=items):
            facts = [{"title": label, "value": value} for label, value in items]
            groups: list[list[Element]] = []
            chunk: list[dict[str, str]] = []
            for fact in facts:
                chunk.append(fact)
                if card_bytes({"facts": chunk}) > MAX_CARD_BYTES // 2:
                    groups.append([{"type": "FactSet", "facts": chunk}])
                    chunk = []
            if chunk:
                groups.append([{"type": "FactSet", "facts": chunk}])
            return groups
        case Buttons(buttons=buttons):
            return [[action_set] for action_set in _action_sets(buttons, signer)]
        case Choice():
            return [_choice(block, number, signer, texts)]
        case File(name=name) if block.is_text:
            return _file_groups(name, block.text)
        case File():
            return []  # offered with a file-consent card of its own (bot/adapters/teams/files.py)
        case Divider() | Image():
            return []
    log.warning("block %r has no Teams rendering; left out", type(block).__name__)
    return []


# Lines of a file per card group: the card stays well under Teams' 28 kB, long files go on several cards.
_FILE_LINES = 40


def _file_groups(name: str, content: str) -> list[list[Element]]:
    """A text file (a data export) shown in the card, monospace, under its name, for the person to copy:
    quicker than a file-consent card for text. A binary file (a PDF) gets the consent card instead
    (bot/adapters/teams/files.py)."""
    lines = content.splitlines() or [""]
    groups: list[list[Element]] = [
        [{"type": "TextBlock", "text": defuse(name), "weight": "Bolder", "wrap": True}]
    ]
    for start in range(0, len(lines), _FILE_LINES):
        text = "\n".join(line[:_LINE_CHARS] for line in lines[start : start + _FILE_LINES])
        groups.append(
            [
                {
                    "type": "TextBlock",
                    "text": defuse(text),
                    "fontType": "Monospace",
                    "wrap": True,
                    "size": "Small",
                }
            ]
        )
    return groups


def _elements(reply: Reply, signer: CardSigner, texts: CardTexts) -> Iterator[list[Element]]:
    separate = False
    choices = 0
    for block in reply.blocks:
        if isinstance(block, Divider):
            separate = True
            continue
        if isinstance(block, Choice):
            choices += 1
        for group in _groups(block, choices, signer, texts):
            if separate and group:
                group[0] = {**group[0], "separator": True, "spacing": "Medium"}
                separate = False
            yield group


# --------------------------------------------------------------------------------------------------
# Replies
# --------------------------------------------------------------------------------------------------


def render_reply(
    reply: Reply, signer: CardSigner, texts: CardTexts, *, single_card: bool = False
) -> Rendered:
    """``reply`` as one card, or several when it is too big for one.

    ``single_card`` is for updates of a message in place: one message holds one card, so what does not fit
    is left out and a short note says so.
    """
    images = [block for block in reply.blocks if isinstance(block, Image)]
    cards: list[dict[str, Any]] = []
    body: list[Element] = []
    for group in _elements(reply, signer, texts):
        if card_bytes(card([*body, *group], reply.fallback)) <= MAX_CARD_BYTES:
            body.extend(group)
            continue
        if body:
            cards.append(card(body, reply.fallback))
            body = []
        if card_bytes(card(group, reply.fallback)) <= MAX_CARD_BYTES:
            body = list(group)
        else:
            log.warning("a %s element alone exceeds %s bytes; left out", group[0].get("type"), MAX_CARD_BYTES)
            body = [_shortened(texts)]
    if body or not cards:
        cards.append(card(body or _fallback_body(reply), reply.fallback))
    if single_card and len(cards) > 1:
        first = cards[0]
        while (
            first["body"]
            and card_bytes(card([*first["body"], _shortened(texts)], reply.fallback)) > MAX_CARD_BYTES
        ):
            first["body"].pop()
        first["body"].append(_shortened(texts))
        cards = [first]
    return Rendered(cards=cards, images=images)


def _shortened(texts: CardTexts) -> Element:
    return {
        "type": "TextBlock",
        "text": defuse(texts.shortened),
        "wrap": True,
        "isSubtle": True,
        "size": "Small",
    }


def _fallback_body(reply: Reply) -> list[Element]:
    # A reply with only a picture (or nothing renderable) still needs a card body: say what it is.
    return [{"type": "TextBlock", "text": defuse(reply.fallback or " "), "wrap": True}]


# --------------------------------------------------------------------------------------------------
# Forms
# --------------------------------------------------------------------------------------------------


def _number(text: str) -> int | float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def _input(form_field: FormField, texts: CardTexts) -> list[Element]:
    required = not form_field.optional and form_field.kind != "checkbox"
    element: Element = {"id": field_input_id(form_field.name), "label": form_field.label}
    after: list[Element] = []
    match form_field.kind:
        case "text" | "multiline":
            element.update(type="Input.Text", isMultiline=form_field.kind == "multiline")
            if form_field.max_length:
                element["maxLength"] = form_field.max_length
            if form_field.hint:
                element["placeholder"] = form_field.hint
            if form_field.initial:
                element["value"] = form_field.initial
        case "select":
            options = form_field.options[:MAX_OPTIONS]
            element.update(
                type="Input.ChoiceSet",
                style="compact",
                choices=[{"title": ellipsis(o.label, OPTION_CHARS), "value": o.value} for o in options],
            )
            if form_field.initial in {o.value for o in options}:
                element["value"] = form_field.initial
            if form_field.hint:
                element["placeholder"] = form_field.hint
        case "date":
            element["type"] = "Input.Date"
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", form_field.initial):
                element["value"] = form_field.initial
            if form_field.hint:
                after = _text_lines(form_field.hint, subtle=True)
        case "number":
            element["type"] = "Input.Number"
            initial = _number(form_field.initial) if form_field.initial else None
            if initial is not None:
                element["value"] = initial
            if form_field.hint:
                element["placeholder"] = form_field.hint
        case "checkbox":
            element.update(
                type="Input.Toggle",
                title=form_field.hint or form_field.label,
                valueOn="true",
                valueOff="false",
                value="true" if form_field.initial else "false",
            )
        case _:
            log.warning("form field kind %r has no Teams input; shown as text", form_field.kind)
            element["type"] = "Input.Text"
    if required:
        element.update(isRequired=True, errorMessage=texts.required)
    return [element, *after]


def render_form(
    form: Form, signer: CardSigner, texts: CardTexts, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    """A form as one card with inputs and a submit button. Raises ValueError if it cannot fit in one.

    ``errors`` (field name → what is wrong) draws it again after a submission the handler refused: each
    message right under its field, in the attention colour, with the fields' ``initial`` values holding
    what the person typed."""
    body: list[Element] = [
        {"type": "TextBlock", "text": defuse(form.title), "wrap": True, "style": "heading", "size": "Medium"}
    ]
    if form.intro.strip():
        body.extend(_text_lines(form.intro))
    for form_field in form.fields:
        body.extend(_input(form_field, texts))
        if errors and form_field.name in errors:
            body.append(
                {
                    "type": "TextBlock",
                    "text": defuse(errors[form_field.name]),
                    "wrap": True,
                    "color": "attention",
                    "weight": "bolder",
                    "spacing": "none",
                }
            )
    submit = {
        "type": "Action.Submit",
        "title": ellipsis(form.submit_label, BUTTON_CHARS),
        "style": "positive",
        "data": form_data(signer, form),
    }
    content = card(body, form.title, actions=[submit])
    size = card_bytes(content)
    if size > MAX_CARD_BYTES:
        raise ValueError(f"form {form.form_id} is {size} bytes as a card; the limit is {MAX_CARD_BYTES}")
    return content
