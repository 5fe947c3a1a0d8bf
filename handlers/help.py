"""``/parts hjelp``: the toolbox in the person's language, what each tool is for, and the commands."""

from __future__ import annotations

import difflib
import functools
import re

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Command, Divider, Header, Message, Reply, Text
from bot.chat.router import Router
from bot.i18n import LANGUAGES, Translator, catalogue
from bot.toolbox import cases, chatter, direct

TOOLS = ("roles", "define", "blindspot", "ideas", "solutions", "hora")
# Questions a direct message may ask, in the order they are tried (prompts help.faq.<topic>).
FAQ_TOPICS = ("anonymous", "vote", "ideas", "roles", "checkin", "privacy", "case")


def shown_name(language: str, name: str) -> str:
    """A command's word in the person's language (English users see `next`, not `neste`)."""
    return str(catalogue(language).get(f"commands.{name}", name))


# "#8 …" (also "#8: …"): a message for case 8, written in a direct message.
_CASE_MESSAGE = re.compile(r"^\s*#(\d{1,9})\s*[:,.\-–]?\s+(.+)$", re.DOTALL)


def faq_answer(ctx: HandlerContext, text: str) -> str | None:
    """The answer to a question the help knows ("Hvordan stiller jeg et anonymt spørsmål?"): the first
    topic one of whose words (in any language, as a word's beginning) the message uses."""
    words = chatter.words_of(text)
    if not words:
        return None
    for topic in FAQ_TOPICS:
        stems = {
            str(stem).casefold()
            for language in LANGUAGES
            for stem in (catalogue(language).get(f"help.faq.{topic}.words") or [])
        }
        joined = " ".join(words)
        for stem in stems:
            # "uten navn" as a phrase; "anonym" as the beginning of a word ("anonymt").
            if (stem in joined) if " " in stem else any(word.startswith(stem) for word in words):
                return ctx.t(f"help.faq.{topic}.answer")
    return None


def _private_cases(ctx: HandlerContext) -> list[int]:
    """Open parties-only cases of the person's unit that they may see: answered from here with "#8 …"."""
    if ctx.unit is None:
        return []
    return [case.id for case in cases.visible_cases(ctx) if case.parties_only]


def help_reply(ctx: HandlerContext, router: Router, greeting: str | None = None) -> Reply:
    if greeting is None:
        return _plain_help(router, ctx.language)
    return _help_reply(Translator(ctx.language), ctx.language, router, greeting)


@functools.cache
def _plain_help(router: Router, language: str) -> Reply:
    """The help without a greeting depends only on the language and the commands registered at start:
    built once per language (the most used command; building it cost as much as finding the person)."""
    return _help_reply(Translator(language), language, router, None)


def _help_reply(t: Translator, language: str, router: Router, greeting: str | None) -> Reply:
    tools = "\n".join(f"• {t(f'help.tools.{tool}')}" for tool in TOOLS)
    commands = "\n".join(
        t("help.command_line", name=shown_name(language, spec.name), text=t(spec.help_key))
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
        """A direct message no thread claims always gets an answer: "#8 …" goes to case 8 (the way into a
        parties-only case, which has no thread), a question the help knows is answered, and anything
        else ("hei", "hjelp") gets the help – with the cases the person can answer from here."""
        match = _CASE_MESSAGE.match(msg.text)
        if match is not None:
            direct.case_message(ctx, cases.load_case(ctx, int(match.group(1))), match.group(2))
            return
        answer = faq_answer(ctx, msg.text)
        if answer is not None:
            ctx.private(Reply(fallback=answer, blocks=(Text(answer), Text(ctx.t("help.faq_footer")))))
            return
        greeting = ctx.t("help.direct")
        waiting = _private_cases(ctx)
        if waiting:
            greeting += "\n" + ctx.t("help.direct_cases", cases=", ".join(f"#{n}" for n in waiting))
        ctx.private(help_reply(ctx, router, greeting=greeting))

    @router.unknown_command()
    def unknown(ctx: HandlerContext, cmd: Command) -> None:
        # A typo ("nest", "problme", "stemm") gets the nearest command word, shown in the person's language.
        words = [word for word in router.commands if word and router.commands[word].listed]
        close = difflib.get_close_matches(cmd.name.lower(), words, n=1, cutoff=0.75)
        if close:
            suggestion = shown_name(ctx.language, router.commands[close[0]].name)
            raise UserError("errors.unknown_command_suggest", name=cmd.name[:40], suggestion=suggestion)
        raise UserError("errors.unknown_command", name=cmd.name[:40])
