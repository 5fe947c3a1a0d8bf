"""Neutral replies as plain console text. Buttons and choices become numbered options to pick."""

from __future__ import annotations

from collections.abc import Callable

from bot.chat.model import Block, Buttons, Choice, Divider, Fields, File, Header, Image, Note, Reply, Text

# Called for every button/option; returns the number the person types to pick it.
Numberer = Callable[[str, str], int]


def render(reply: Reply, number: Numberer) -> list[str]:
    lines: list[str] = []
    for block in reply.blocks or (Text(reply.fallback),):
        lines.extend(_block(block, number))
    return lines


def _block(block: Block, number: Numberer) -> list[str]:
    match block:
        case Header(text=text):
            return [f"== {text} =="]
        case Text(text=text):
            return text.splitlines() or [""]
        case Fields(items=items):
            return [f"{label}: {value}" for label, value in items]
        case Note(text=text):
            return [f"· {line}" for line in text.splitlines()]
        case Divider():
            return ["—" * 20]
        case Image(path=path, alt=alt):
            return [f"[{alt}: {path}]"]
        case File(name=name):
            return [f"[{name}]"]
        case Buttons(buttons=buttons):
            return ["   ".join(f"[{number(b.action_id, b.value)}] {b.label}" for b in buttons)]
        case Choice(action_id=action_id, placeholder=placeholder, options=options):
            picks = [f"  [{number(action_id, o.value)}] {o.label}" for o in options]
            return [f"{placeholder}:", *picks]
    return []
