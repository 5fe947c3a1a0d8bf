"""What an Adaptive Card's ``Action.Submit`` carries, and how a submission is checked on its way back.

Teams sends the ``data`` of the pressed action back to the bot, merged with the values of the card's
inputs. Anything in it could have been altered on the way (a modified client, a replayed payload from
another conversation), so the parts the bot itself wrote – which handler, which value or context, which
fields and options the form offered – are signed with an HMAC when the card is rendered. A submission whose
signature does not match, or that carries fields the card never had, is refused before any handler runs.

Data layout (all strings or lists, so the JSON survives the round trip through Teams unchanged)::

    {"partsbot": "action", "id": "roles.answer", "value": "12", "sig": "…"}             a button
    {"partsbot": "action", "id": "vote.pick", "input": "c:1", "options": [...], "sig": …}  a choice
    {"partsbot": "form", "id": "roles.answer", "context": "12",
     "fields": [["do", "multiline", 2000, []], …],
     "form": ["title", "submit", "intro", [["label", "hint", "optional", [["label", "value"], …]], …]],
     "sig": "…"}                                                                          a form

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
# The keys the bot writes; everything else in a submission is an input value.
SIGNED_KEYS = ("partsbot", "id", "value", "context", "input", "options", "fields", "form")
RESERVED_KEYS = (*SIGNED_KEYS, SIGNATURE)
FIELD_PREFIX = "f:"
# Inputs of the other choices on the same card arrive with every button press (Teams sends all of a card's
# inputs); a form card has nothing but its own fields.
_OTHER_CHOICE = re.compile(r"^c:\d{1,3}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Longest value accepted from any input, whatever the form says: a bound on what a forged request can push.
MAX_VALUE = 10_000
FORM_FIELD_KINDS = ("text", "multiline", "select", "date", "number", "checkbox")


class BadSubmission(Exception):
    """A card submission that cannot be trusted or understood; ``reason`` is for the log, not for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _canonical(data: dict[str, Any]) -> bytes:
    signed = {key: data[key] for key in SIGNED_KEYS if key in data}
    return json.dumps(signed, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Signer:
    """HMAC-SHA256 over the bot-written part of a card's data, with a secret kept in the database."""

    secret: bytes

    def signature(self, data: dict[str, Any]) -> str:
        # 128 bits are plenty against guessing and keep every button's data short (cards must stay < 28 kB).
        return hmac.new(self.secret, _canonical(data), hashlib.sha256).hexdigest()[:32]

    def sign(self, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, SIGNATURE: self.signature(data)}

    def verify(self, data: dict[str, Any]) -> bool:
        given = data.get(SIGNATURE)
        return isinstance(given, str) and hmac.compare_digest(given, self.signature(data))


# --------------------------------------------------------------------------------------------------
# Building data for cards
# --------------------------------------------------------------------------------------------------


def button_data(signer: Signer, action_id: str, value: str) -> dict[str, Any]:
    return signer.sign({MARK: "action", "id": action_id, "value": value})


def choice_data(signer: Signer, action_id: str, input_id: str, options: list[str]) -> dict[str, Any]:
    return signer.sign({MARK: "action", "id": action_id, "input": input_id, "options": options})


def field_input_id(name: str) -> str:
    return FIELD_PREFIX + name


def form_data(signer: Signer, form: Form) -> dict[str, Any]:
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


def form_of(value: object, signer: Signer) -> Form | None:
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
    value: object, signer: Signer, actor: Actor, place: Place, message_id: str | None
) -> Action | Submission:
    """Turn a card submission into a neutral event, or raise :class:`BadSubmission`."""
    if not isinstance(value, dict):
        raise BadSubmission("submission is not an object")
    kind = value.get(MARK)
    if kind not in KINDS:
        raise BadSubmission(f"unknown submission kind {kind!r}")
    if not signer.verify(value):
        raise BadSubmission("signature does not match")
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
