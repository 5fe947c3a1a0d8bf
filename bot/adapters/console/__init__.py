"""The local console chat: one kindergarten, a channel with threads, several simulated colleagues."""

from bot.adapters.console.chat import ConsoleChat

__all__ = ["ConsoleChat"]
