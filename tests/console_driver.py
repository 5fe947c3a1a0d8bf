"""Drive the console chat from a test: type lines as different people and read what the bot printed."""

from __future__ import annotations

import io
import re

from bot.adapters.console import ConsoleChat
from bot.core import Partsbot


class ConsoleDriver:
    def __init__(self, bot: Partsbot, unit_name: str = "Solsikken barnehage") -> None:
        self.buffer = io.StringIO()
        self.chat = ConsoleChat(bot, self.buffer, unit_name=unit_name, echo_input=True)
        self.bot = bot
        self._mark = 0

    async def start(self) -> str:
        await self.chat.start()
        return self.take()

    async def type(self, *lines: str) -> str:
        """Type lines one after the other; return everything printed since the last call."""
        for line in lines:
            await self.chat.handle_line(line)
        return self.take()

    async def as_(self, name: str, *lines: str) -> str:
        return await self.type(f"/som {name}", *lines)

    def take(self) -> str:
        text = self.buffer.getvalue()
        new = text[self._mark :]
        self._mark = len(text)
        return new

    @property
    def transcript(self) -> str:
        return self.buffer.getvalue()


_HEADING = re.compile(r"^\s*(?:↳ )?#(\d+)(?: \([^)]*\))? Partsbot:")


def message_number(output: str, marker: str) -> str:
    """The number of the bot message (in ``output``) whose text contains ``marker``."""
    current = None
    for line in output.splitlines():
        match = _HEADING.match(line)
        if match:
            current = match.group(1)
        elif marker in line and current is not None:
            return current
    raise AssertionError(f"no bot message containing {marker!r} in:\n{output}")


def option_number(output: str, label: str) -> str:
    """The number to type to press the button or option called ``label`` (the last one shown)."""
    found = re.findall(r"\[(\d+)\] " + re.escape(label) + r"(?:\s|$)", output)
    if not found:
        raise AssertionError(f"no option {label!r} in:\n{output}")
    return str(found[-1])
