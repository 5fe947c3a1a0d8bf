"""``/parts eksport`` (``export``, ``hms``): the unit's HMS record for the leader and the trio, as a CSV file
in a direct message – a table the leader can open in a spreadsheet and file in the internkontroll.

``/parts eksport parter`` includes the parties-only cases (the command is for the trio only anyway, but a
document that is filed is read by more people, so they are left out unless asked for). The PDF with the
chart is made on the server with ``partsbot export`` (the chat's file block carries text).
"""

from __future__ import annotations

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Command, File, Header, Note, Reply, Text
from bot.chat.router import Router
from bot.i18n import plural
from bot.record import hms
from bot.record.files import csv_text
from bot.toolbox import access

PARTIES_WORDS = ("parter", "partene", "partane", "parties", "trio")


def register(router: Router) -> None:
    @router.command("eksport", "eksporter", "export", "hms", help_key="record.help")
    def export(ctx: HandlerContext, cmd: Command) -> None:
        unit = ctx.require_unit()
        words = cmd.args.strip().lower()
        if words and words not in PARTIES_WORDS:
            raise UserError("record.usage")
        if not access.may_see_summary(ctx.session, ctx.organisation.id, ctx.member.id, unit.id):
            raise UserError("record.not_allowed")
        record = hms.collect(ctx.session, unit, ctx.now, ctx.language, for_trio=bool(words))
        name = f"hms-{unit.id}-{ctx.now:%Y-%m-%d}.csv"
        title = ctx.t("record.title", unit=unit.name)
        actions = sum(len(c.actions) for c in record.cases)
        counts = ctx.t(
            "record.chat_counts",
            cases=plural(ctx.language, "counts.cases", len(record.cases)),
            actions=plural(ctx.language, "counts.actions", actions),
            meetings=plural(ctx.language, "counts.meetings", len(record.meetings)),
        )
        scope = ctx.t("record.scope_trio" if record.for_trio else "record.scope_staff")
        reply = Reply(
            fallback=title,
            blocks=(
                Header(title),
                Text(counts),
                Note(scope),
                Note(ctx.t("record.chat_pdf", unit=unit.id)),
                File(name, csv_text(record), "text/csv"),
            ),
        )
        ctx.direct(ctx.member, reply)
        if not ctx.place.is_direct:
            ctx.private(ctx.t("record.sent_dm"))
