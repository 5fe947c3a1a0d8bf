"""What an Adaptive Card's ``Action.Submit`` carries, and how a submission is checked on its way back.

Teams sends the ``data`` of the pressed action back to the bot, merged with the values of the card's
inputs. Anything in it could have been altered on the way (a modified client, a replayed payload from
another conversation or tenant), so the parts the bot itself wrote – which handler, which value or
context, which fields and options the form offered – are signed with an HMAC when the card is rendered. A
submission whose signature does not match, or that carries fields the card never had, is refused before any
handler runs.

The signature is bound to where the card was sent: the tenant and the conversation (a channel without its
reply chain's ``;messageid=…``, a group chat, or a person's personal chat with the bot – which only that
person and the bot share, so a personal card is bound to its person as well). One key signs the cards of
every tenant an installation serves, so without that binding a card's data copied from one tenant's chat
and submitted in another's would pass (security review SEC-13). ``at`` names the place in the data too, as
an opaque keyed tag, so that a card used in the wrong place can be told from a changed one in the log.

Cards signed before the binding (no ``at``) are refused like any other card whose signature does not
match: their signatures hold for every place forever, so accepting them for a while would keep the replay
open for every card ever copied. They are recognised only to tell the person to ask for a fresh card.

Data layout (all strings or lists, so the JSON survives the round trip through Teams unchanged)::

    {"partsbot": "action", "id": "roles.answer", "value": "12", "at": "…", "sig": "…"}    a button
    {"partsbot": "action", "id": "vote.pick", "input": "c:1", "options": [...], "at": …, "sig": …}  a choice
    {"partsbot": "form", "id": "roles.answer", "context": "12",
     "fields": [["do", "multiline", 2000, []], …],
     "form": ["title", "submit", "intro", [["label", "hint", "optional", [["label", "value"], …]], …]],
     "at": "…", "sig": "…"}                                                               a form

A form carries its own words ("form"), signed like the rest, so a submission with a mistake can be drawn
again – the error at its field, what was typed kept – without the bot storing the form anywhere.

Input ids are ``f:<field name>`` in forms and ``c:<n>`` for choices, so they can never overwrite the keys
above when Teams merges them into the data.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.chat.model import Action, Actor, Form, FormField, Option, Place, Submission

MARK = "partsbot"
KINDS = ("action", "form")
SIGNATURE = "sig"
PLACE = "at"
# The keys the bot writes; everything else in a submission is an input value.
SIGNED_KEYS = ("partsbot", "id", "value", "context", "input", "options", "fields", "form", PLACE)
RESERVED_KEYS = (*SIGNED_KEYS, SIGNATURE)
FIELD_PREFIX = "f:"
# Inputs of the other choices on the same card arrive with every button press (Teams sends all of a card's
# inputs); a form card has nothing but its own fields.
_OTHER_CHOICE = re.compile(r"^c:\d{1,3}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_REPLY_CHAIN = ";messageid="
# Domain separation: a bound signature can never equal one of the scheme before it, or a place tag.
_BOUND = "partsbot-card/2"
_PLACE_TAG = "partsbot-card-place/2"
# Longest value accepted from any input, whatever the form says: a bound on what a forged request can push.
MAX_VALUE = 10_000
FORM_FIELD_KINDS = ("text", "multiline", "select", "date", "number", "checkbox")


class BadSubmission(Exception):
    """A card submission that cannot be trusted or understood; ``reason`` is for the log, not for people,
    ``answer`` the prompt key of what the person is told."""

    def __init__(self, reason: str, answer: str = "teams.bad_submission") -> None:
        super().__init__(reason)
        self.reason = reason
        self.answer = answer


def _canonical(data: dict[str, Any]) -> bytes:
    signed = {key: data[key] for key in SIGNED_KEYS if key in data}
    return json.dumps(signed, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def base_conversation(conversation_id: str) -> str:
    """``19:x@thread.tacv2;messageid=170`` → ``19:x@thread.tacv2``: a card in a reply chain belongs to its
    channel, and Teams names the chain of the pressed card in the conversation id."""
    return conversation_id.partition(_REPLY_CHAIN)[0]


def _mac(secret: bytes, *parts: str) -> str:
    # 128 bits are plenty against guessing and keep every button's data short (cards must stay < 28 kB).
    # The parts as a JSON list: no choice of tenant and conversation ids can shift a boundary between them.
    message = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Signer:
    """The installation's card key (kept in the database); :meth:`at` gives the signer for one place."""

    secret: bytes

    def at(self, tenant: str, conversation: str) -> CardSigner:
        return CardSigner(self.secret, tenant, base_conversation(conversation))

    def signed_before_binding(self, data: dict[str, Any]) -> bool:
        """Whether ``data`` carries a valid signature of the scheme before cards were bound to a place."""
        given = data.get(SIGNATURE)
        expected = hmac.new(self.secret, _canonical(data), hashlib.sha256).hexdigest()[:32]
        return PLACE not in data and isinstance(given, str) and hmac.compare_digest(given, expected)


@dataclass(frozen=True)
class CardSigner:
    """HMAC-SHA256 over the bot-written part of a card's data and the place the card is sent to."""

    secret: bytes
    tenant: str
    conversation: str

    @property
    def place_tag(self) -> str:
        return _mac(self.secret, _PLACE_TAG, self.tenant, self.conversation)[:16]

    def signature(self, data: dict[str, Any]) -> str:
        return _mac(self.secret, _BOUND, self.tenant, self.conversation, _canonical(data).decode("utf-8"))

    def sign(self, data: dict[str, Any]) -> dict[str, Any]:
        placed = {**data, PLACE: self.place_tag}
        return {**placed, SIGNATURE: self.signature(placed)}

    def verify(self, data: dict[str, Any]) -> bool:
        given = data.get(SIGNATURE)
        return isinstance(given, str) and hmac.compare_digest(given, self.signature(data))

    def check(self, data: dict[str, Any]) -> None:
        """Raise :class:`BadSubmission` unless ``data`` was signed by this bot for this very place."""
        if self.verify(data):
            return
        if Signer(self.secret).signed_before_binding(data):
            raise BadSubmission("card signed before signatures were bound to a place", "teams.card_outdated")
        place = data.get(PLACE)
        if isinstance(place, str) and not hmac.compare_digest(place, self.place_tag):
            raise BadSubmission(
                "card was sent to another conversation or tenant than the one it came back from",
                "teams.card_elsewhere",
            )
        raise BadSubmission("signature does not match")


# --------------------------------------------------------------------------------------------------
# Building data for cards
# --------------------------------------------------------------------------------------------------


def button_data(signer: CardSigner, action_id: str, value: str) -> dict[str, Any]:
    return signer.sign({MARK: "action", "id": action_id, "value": value})


def choice_data(signer: CardSigner, action_id: str, input_id: str, options: list[str]) -> dict[str, Any]:
    return signer.sign({MARK: "action", "id": action_id, "input": input_id, "options": options})


def field_input_id(name: str) -> str:
    return FIELD_PREFIX + name


def form_data(signer: CardSigner, form: Form) -> dict[str, Any]:
    fields = [
        [field.name, field.kind, field.max_length or 0, [o.value for o in field.options]]
        for field in form.fields
    ]
    words = [
        form.title,
        form.submit_label,
        form.intro,
        [
            [
                field.label,
                field.hint,
                "1" if field.optional else "",
                [[o.label, o.value] for o in field.options],
            ]
            for field in form.fields
        ],
    ]
    return signer.sign(
        {MARK: "form", "id": form.form_id, "context": form.context, "fields": fields, "form": words}
    )


def form_of(value: object, signer: CardSigner) -> Form | None:
    """The form a (signed) submission was made on, as the bot rendered it; ``None`` for anything else
    (a button, a card from before forms carried their words, a signature that does not match)."""
    if not isinstance(value, dict) or value.get(MARK) != "form" or not signer.verify(value):
        return None
    specs, words = value.get("fields"), value.get("form")
    try:
        title, submit, intro, labels = words  # type: ignore[misc]
        fields = tuple(
            FormField(
                name=spec[0],
                label=str(label),
                kind=spec[1],
                optional=bool(optional),
                max_length=spec[2] or None,
                options=tuple(Option(str(o[0]), str(o[1])) for o in options),
                hint=str(hint),
            )
            for spec, (label, hint, optional, options) in zip(specs, labels, strict=True)  # type: ignore[arg-type]
        )
    except (TypeError, ValueError, IndexError):
        return None
    return Form(
        form_id=str(value.get("id")),
        title=str(title),
        submit_label=str(submit),
        fields=fields,
        context=str(value.get("context", "")),
        intro=str(intro),
    )


# --------------------------------------------------------------------------------------------------
# Reading submissions
# --------------------------------------------------------------------------------------------------


def _text(value: object, what: str) -> str:
    """A submitted scalar as the neutral model's string ("" when missing)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else ""
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        if len(value) > MAX_VALUE:
            raise BadSubmission(f"{what} is {len(value)} characters long")
        return value
    raise BadSubmission(f"{what} is a {type(value).__name__}, not a text")


def _field_value(spec: list[Any], raw: object) -> str:
    name, kind, max_length, options = spec
    value = _text(raw, f"field {name!r}").strip()
    if kind == "checkbox":
        return "true" if value.lower() == "true" else ""
    if not value:
        return ""
    if max_length and len(value) > max_length:
        raise BadSubmission(f"field {name!r} longer than {max_length}")
    if kind == "select" and value not in options:
        raise BadSubmission(f"field {name!r} has a value the form did not offer")
    if kind == "date":
        if not _DATE.match(value):
            raise BadSubmission(f"field {name!r} is not a date")
        try:
            date.fromisoformat(value)
        except ValueError:
            raise BadSubmission(f"field {name!r} is not a date") from None
    if kind == "number":
        try:
            float(value)
        except ValueError:
            raise BadSubmission(f"field {name!r} is not a number") from None
    return value


def _valid_field_spec(spec: object) -> bool:
    return (
        isinstance(spec, list)
        and len(spec) == 4
        and isinstance(spec[0], str)
        and spec[1] in FORM_FIELD_KINDS
        and isinstance(spec[2], int)
        and isinstance(spec[3], list)
        and all(isinstance(o, str) for o in spec[3])
    )


def parse_submission(
    value: object, signer: CardSigner, actor: Actor, place: Place, message_id: str | None
) -> Action | Submission:
    """Turn a card submission into a neutral event, or raise :class:`BadSubmission`. ``signer`` is bound to
    the tenant and conversation the submission came from."""
    if not isinstance(value, dict):
        raise BadSubmission("submission is not an object")
    kind = value.get(MARK)
    if kind not in KINDS:
        raise BadSubmission(f"unknown submission kind {kind!r}")
    signer.check(value)
    handler_id = value.get("id")
    if not isinstance(handler_id, str) or not handler_id:
        raise BadSubmission("submission names no handler")
    inputs = {k: v for k, v in value.items() if k not in RESERVED_KEYS}
    event: Action | Submission
    if kind == "action":
        chosen = _text(value.get("value"), "value")
        input_id = value.get("input")
        if input_id is not None:
            options = value.get("options")
            if not isinstance(input_id, str) or not isinstance(options, list):
                raise BadSubmission("choice without input or options")
            chosen = _text(inputs.pop(input_id, None), f"choice {input_id!r}").strip()
            if chosen not in options:
                raise BadSubmission(f"choice {input_id!r} has a value the card did not offer")
        event = Action(actor=actor, place=place, action_id=handler_id, value=chosen, message_id=message_id)
    else:
        fields = value.get("fields")
        context = value.get("context", "")
        if not isinstance(fields, list) or not all(_valid_field_spec(f) for f in fields):
            raise BadSubmission("form without a valid field list")
        if not isinstance(context, str):
            raise BadSubmission("form context is not a text")
        values = {spec[0]: _field_value(spec, inputs.pop(field_input_id(spec[0]), None)) for spec in fields}
        event = Submission(actor=actor, place=place, form_id=handler_id, values=values, context=context)
    strangers = [key for key in inputs if kind == "form" or not _OTHER_CHOICE.match(key)]
    if strangers:
        raise BadSubmission(f"unexpected fields {sorted(strangers)[:5]}")
    return event
