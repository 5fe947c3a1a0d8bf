"""Platform-free handlers: one module per tool of the course's toolbox.

Nothing under ``handlers/`` imports a platform SDK (a test enforces it); handlers get a
:class:`~bot.chat.context.HandlerContext` and ask for effects.
"""

from __future__ import annotations

from types import ModuleType

from bot.chat.router import Router
from handlers import (
    blindspot,
    checkin,
    course,
    exchange,
    followup,
    help,
    hora,
    ideas,
    language,
    matter,
    plan,
    privacy,
    problem,
    record,
    reflection,
    roles,
    summary,
    vote,
)

# Order matters for /parts hjelp: commands are listed in the order their modules register them. Imported,
# not named by string, so the import contracts (pyproject.toml) see every handler's imports.
HANDLER_MODULES: tuple[ModuleType, ...] = (
    help,
    roles,
    matter,
    language,
    problem,
    blindspot,
    ideas,
    vote,
    plan,
    followup,
    hora,
    course,
    checkin,
    reflection,
    exchange,
    summary,
    record,
    privacy,
)


def build_router() -> Router:
    router = Router()
    for module in HANDLER_MODULES:
        module.register(router)
    return router
