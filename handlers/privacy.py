"""``/parts mine data`` (GDPR art. 15) and ``/parts slett meg`` (art. 17): a person's own data, in the chat.

``mine data`` sends, in a direct message, a readable overview (what kind of thing, how many) and a JSON
file with every row that names them (:func:`bot.storage.personal.export_person`). ``slett meg`` asks once
with a button, then erases (:func:`bot.storage.personal.erase_person`): named texts stay with "en
tidligere kollega" as author, roles, memberships and markers go, and so does the member row itself.
Operators have the same for any person or unit: ``partsbot data export|erase``.
"""

from __future__ import annotations

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Action, Button, Buttons, Command, File, Header, Note, Reply, Text
from bot.chat.router import Router
from bot.storage import personal

MINE_WORDS = ("data", "dataene", "dataa", "")
ME_WORDS = ("meg", "me", "mine data", "my data")


def export_reply(ctx: HandlerContext) -> Reply:
    found = personal.export_person(ctx.session, ctx.member)
    name = f"partsbot-data-{ctx.now:%Y-%m-%d}.json"
    lines = [
        ctx.t(
            "privacy.mine.profile",
            name=ctx.member.display_name or "–",
            user_id=ctx.member.user_id,
            language=ctx.language,
        )
    ]
    counts = found.counts()
    lines.extend(
        ctx.t("privacy.mine.line", what=ctx.t(f"privacy.what.{what}"), count=count)
        for what, count in sorted(counts.items())
    )
    if not counts:
        lines.append(ctx.t("privacy.mine.nothing"))
    title = ctx.t("privacy.mine.title")
    return Reply(
        fallback=title,
        blocks=(
            Header(title),
            Text("\n".join(lines)),
            Note(ctx.t("privacy.mine.anonymous_note")),
            Note(ctx.t("privacy.mine.platform_note")),
            Note(ctx.t("privacy.mine.file_note", file=name)),
            File(name, found.as_json(ctx.t("privacy.mine.anonymous_note")).encode("utf-8")),
        ),
    )


def register(router: Router) -> None:
    @router.command("mine", "my", help_key="privacy.help_mine")
    def mine(ctx: HandlerContext, cmd: Command) -> None:
        if cmd.args.strip().lower() not in MINE_WORDS:
            raise UserError("privacy.mine.usage")
        ctx.direct(ctx.member, export_reply(ctx))
        if not ctx.place.is_direct:
            ctx.private(ctx.t("privacy.mine.sent_dm"))

    @router.command("slett", "delete", "erase", help_key="privacy.help_erase")
    def erase(ctx: HandlerContext, cmd: Command) -> None:
        if cmd.args.strip().lower() not in ME_WORDS:
            raise UserError("privacy.erase.usage")
        text = ctx.t("privacy.erase.confirm")
        button = Button(ctx.t("privacy.erase.button"), "privacy.erase", ctx.member.user_id, "danger")
        ctx.private(Reply(fallback=text, blocks=(Text(text), Buttons((button,)))))

    @router.action("privacy.erase")
    def confirmed(ctx: HandlerContext, action: Action) -> None:
        # The button carries the user id it was shown to: a forwarded or replayed click erases nobody else.
        if action.value != ctx.member.user_id:
            raise UserError("privacy.erase.not_you")
        former = ctx.t("privacy.former_colleague")
        done = personal.erase_person(ctx.session, ctx.member, former)
        ctx.private(ctx.t("privacy.erase.done", count=sum(done.values())))
