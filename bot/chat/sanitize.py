"""Incoming text made safe to store, at the boundary between the adapters and the handlers.

PostgreSQL refuses NUL in text, and a refused statement used to end in a log line quoting it (SEC-08);
other control characters can hide text in a chat client or a terminal reading the log. Display names are
capped: Entra allows 256 characters, the column holds 200, and a longer one made every event of that
person fail on PostgreSQL while SQLite stored it. Line breaks and tabs in free text are kept.
"""

from __future__ import annotations

import dataclasses
import re

from bot.chat.model import Action, Command, Event, Message, Submission

MAX_DISPLAY_NAME = 120
# C0 controls except tab and newline, DEL, C1 controls, and Unicode's bidirectional overrides.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A carriage return becomes a newline rather than vanishing.
_CR = re.compile("\r\n?")


def clean_text(text: str) -> str:
    return _CONTROL.sub("", _CR.sub("\n", text))


def clean_name(name: str) -> str:
    return " ".join(_CONTROL.sub("", name).split())[:MAX_DISPLAY_NAME]


def clean_event(event: Event) -> Event:
    actor = dataclasses.replace(event.actor, display_name=clean_name(event.actor.display_name))
    cleaned: Event
    match event:
        case Command():
            source = clean_text(event.source_text) if event.source_text is not None else None
            cleaned = dataclasses.replace(event, args=clean_text(event.args), source_text=source)
        case Message():
            cleaned = dataclasses.replace(event, text=clean_text(event.text))
        case Submission():
            values = {k: clean_text(v) for k, v in event.values.items()}
            cleaned = dataclasses.replace(event, values=values, context=clean_text(event.context))
        case Action():
            cleaned = dataclasses.replace(event, value=clean_text(event.value))
    return dataclasses.replace(cleaned, actor=actor)
