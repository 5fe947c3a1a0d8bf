"""Platform-free handlers: one module per tool of the course's toolbox.

Nothing under ``handlers/`` imports a platform SDK (a test enforces it); handlers get a
:class:`~bot.chat.context.HandlerContext` and ask for effects.
"""

from __future__ import annotations

import importlib

from bot.chat.router import Router

# Order matters for /parts hjelp: commands are listed in the order their modules register them.
HANDLER_MODULES = (
    "handlers.help",
    "handlers.roles",
    "handlers.matter",
    "handlers.language",
    "handlers.problem",
    "handlers.blindspot",
    "handlers.ideas",
    "handlers.vote",
    "handlers.plan",
    "handlers.hora",
    "handlers.course",
    "handlers.checkin",
    "handlers.summary",
)


def build_router() -> Router:
    router = Router()
    for name in HANDLER_MODULES:
        importlib.import_module(name).register(router)
    return router
