"""``/parts hjelp``: the toolbox in the person's language, what each tool is for, and the commands."""

from __future__ import annotations

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Command, Divider, Header, Reply, Text
from bot.chat.router import Router

TOOLS = ("roles", "define", "blindspot", "ideas", "solutions", "hora")


def help_reply(ctx: HandlerContext, router: Router) -> Reply:
    t = ctx.t
    tools = "\n".join(f"• {t(f'help.tools.{tool}')}" for tool in TOOLS)
    commands = "\n".join(
        t("help.command_line", name=spec.name, text=t(spec.help_key)) for spec in router.listed_commands()
    )
    return Reply(
        fallback=t("help.title"),
        blocks=(
            Header(t("help.title")),
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

    @router.unknown_command()
    def unknown(ctx: HandlerContext, cmd: Command) -> None:
        raise UserError("errors.unknown_command", name=cmd.name[:40])
