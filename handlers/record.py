"""``/parts eksport`` (``export``, ``hms``): the unit's HMS record for the leader and the trio, as a PDF in
a direct message – the document the leader files in the internkontroll, readable with æøå and with the
check-in trend chart. ``/parts eksport csv`` sends it as a table for a spreadsheet instead.

``/parts eksport parter`` includes the parties-only cases and the trio's own meetings (the command is for
the trio only anyway, but a document that is filed is read by more people, so they are left out unless
asked for). The file travels as bytes: Slack uploads it, the console writes it to a folder, Teams offers
it with a file-consent card in the personal chat.
"""

from __future__ import annotations

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Command, File, Header, Note, Reply, Text
from bot.chat.router import Router
from bot.i18n import plural
from bot.record import hms
from bot.record.files import csv_text, pdf_bytes
from bot.toolbox import access

PARTIES_WORDS = ("parter", "partene", "partane", "parties", "trio")
CSV_WORDS = ("csv", "tabell", "table")
PDF_WORDS = ("pdf",)


def record_file(record: hms.HmsRecord, unit_id: int, day: str, as_csv: bool) -> File:
    if as_csv:
        return File(f"hms-{unit_id}-{day}.csv", csv_text(record).encode("utf-8"), "text/csv")
    return File(f"hms-{unit_id}-{day}.pdf", pdf_bytes(record), "application/pdf")


def register(router: Router) -> None:
    @router.command("eksport", "eksporter", "export", "hms", help_key="record.help")
    def export(ctx: HandlerContext, cmd: Command) -> None:
        unit = ctx.require_unit()
        words = set(cmd.args.strip().lower().split())
        if words - set(PARTIES_WORDS) - set(CSV_WORDS) - set(PDF_WORDS):
            raise UserError("record.usage")
        if not access.may_see_summary(ctx.session, ctx.organisation.id, ctx.member.id, unit.id):
            raise UserError("record.not_allowed")
        for_trio = bool(words & set(PARTIES_WORDS))
        record = hms.collect(ctx.session, unit, ctx.now, ctx.language, for_trio=for_trio)
        file = record_file(record, unit.id, f"{ctx.now:%Y-%m-%d}", bool(words & set(CSV_WORDS)))
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
            blocks=(Header(title), Text(counts), Note(scope), Note(ctx.t("record.chat_other")), file),
        )
        ctx.direct(ctx.member, reply)
        if not ctx.place.is_direct:
            ctx.private(ctx.t("record.sent_dm"))
