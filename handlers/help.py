"""``/parts hjelp``: the toolbox in the person's language, what each tool is for, and the commands."""

from __future__ import annotations

import difflib

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Command, Divider, Header, Message, Reply, Text
from bot.chat.router import Router
from bot.i18n import catalogue

TOOLS = ("roles", "define", "blindspot", "ideas", "solutions", "hora")


def shown_name(language: str, name: str) -> str:
    """A command's word in the person's language (English users see `next`, not `neste`)."""
    return str(catalogue(language).get(f"commands.{name}", name))


def help_reply(ctx: HandlerContext, router: Router, greeting: str | None = None) -> Reply:
    t = ctx.t
    tools = "\n".join(f"• {t(f'help.tools.{tool}')}" for tool in TOOLS)
    commands = "\n".join(
        t("help.command_line", name=shown_name(ctx.language, spec.name), text=t(spec.help_key))
        for spec in router.listed_commands()
    )
    return Reply(
        fallback=t("help.title"),
        blocks=(
            Header(t("help.title")),
            *((Text(greeting),) if greeting else ()),
            Text(t("help.intro")),
            Text(f"*{t('help.toolbox_title')}*\n{tools}"),
            Divider(),
            Text(f"*{t('help.commands_title')}*\n{commands}"),
            Text(t("help.footer")),
        ),
    )


def register(router: Router) -> None:
    @router.command("hjelp", "help", "")
    def show_help(ctx: HandlerContext, cmd: Command) -> None:
        ctx.private(help_reply(ctx, router))

    @router.direct()
    def direct_message(ctx: HandlerContext, msg: Message) -> None:
        # A direct message no thread claims ("hei", "hjelp", a question) always gets an answer: the help.
        ctx.private(help_reply(ctx, router, greeting=ctx.t("help.direct")))

    @router.unknown_command()
    def unknown(ctx: HandlerContext, cmd: Command) -> None:
        # A typo ("nest", "problme", "stemm") gets the nearest command word, shown in the person's language.
        words = [word for word in router.commands if word and router.commands[word].listed]
        close = difflib.get_close_matches(cmd.name.lower(), words, n=1, cutoff=0.75)
        if close:
            suggestion = shown_name(ctx.language, router.commands[close[0]].name)
            raise UserError("errors.unknown_command_suggest", name=cmd.name[:40], suggestion=suggestion)
        raise UserError("errors.unknown_command", name=cmd.name[:40])
