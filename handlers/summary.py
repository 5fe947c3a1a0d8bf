"""``/parts oppsummering``: the weekly summary on demand, for the leader and the trio only (it shows actions
with owners and the check-in trend, which is the parties' working material)."""

from __future__ import annotations

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Command
from bot.chat.router import Router
from bot.course import summary
from bot.toolbox import access


def register(router: Router) -> None:
    @router.command("oppsummering", "summary", "samandrag", "sammendrag", help_key="summary.help")
    def oppsummering(ctx: HandlerContext, cmd: Command) -> None:
        unit = ctx.require_unit()
        if not access.may_see_summary(ctx.session, ctx.organisation.id, ctx.member.id, unit.id):
            raise UserError("summary.not_allowed")
        charts = summary.chart_dir(ctx.settings)
        ctx.private(summary.build(ctx.session, unit, ctx.now, ctx.language, charts, reader_id=ctx.member.id))
