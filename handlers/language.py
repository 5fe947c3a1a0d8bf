"""``/parts språk nb|nn|en`` for oneself, ``/parts språk enhet nn`` for the whole unit (the trio only)."""

from __future__ import annotations

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Command
from bot.chat.router import Router
from bot.i18n import LANGUAGES, t
from bot.toolbox import access


def _language(word: str) -> str:
    code = word.strip().lower()
    code = {"bokmål": "nb", "bokmal": "nb", "nynorsk": "nn", "english": "en", "engelsk": "en"}.get(code, code)
    if code not in LANGUAGES:
        raise UserError("language.unknown", value=word[:20])
    return code


def register(router: Router) -> None:
    @router.command("språk", "sprak", "language", "mål")
    def set_language(ctx: HandlerContext, cmd: Command) -> None:
        words = cmd.args.split()
        if not words:
            ctx.private(ctx.t("language.current", language=ctx.t(f"language.names.{ctx.language}")))
            return
        if words[0].lower() in ("enhet", "eining", "unit") and len(words) == 2:
            unit = ctx.require_unit()
            if not access.is_party(ctx.session, unit.id, ctx.member.id):
                raise UserError("errors.not_allowed", who=ctx.t("roles.party_who"))
            unit.language = _language(words[1])
            ctx.post(t(unit.language, "language.set_unit", unit=unit.name))
            return
        ctx.member.language = _language(words[0])
        ctx.private(t(ctx.member.language, "language.set_member"))
