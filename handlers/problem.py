"""Problem threads: ``/parts problem`` (start, refine, show), ``/parts neste``, ``/parts saker``, and the
case thread itself, whose messages mean what the case's current step says they mean.

``/parts problem <what happens>`` starts a case in the unit's channel; ``--parter`` (or the form's
checkbox) keeps it to the party trio. ``/parts problem`` alone, or Slack's "Lag problemtråd" message
shortcut (:attr:`Command.source_text`), opens the form. ``/parts problem presiser <text>`` sharpens the
statement; ``/parts problem #12`` shows a case privately.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from bot.chat.context import Ask, HandlerContext, UserError, in_field
from bot.chat.model import (
    Action,
    Button,
    Buttons,
    Command,
    Form,
    FormField,
    Header,
    Message,
    Option,
    Reply,
    Submission,
    Text,
)
from bot.chat.router import Router
from bot.storage.models import Member, Unit
from bot.toolbox import access, cases, corrections, define, ending
from bot.toolbox.models import Case
from handlers import followup

# A word as well as a flag: "bare-partene" reads as Norwegian, "--parter" as a command line (review §2.3).
PARTIES_FLAGS = (
    "bare-partene",
    "berre-partane",
    "parties-only",
    "--parter",
    "—parter",
    "--partene",
    "--parties",
    "-p",
)
REFINE_WORDS = ("presiser", "presisér", "presisere", "refine")
TRUE_WORDS = ("true", "ja", "yes", "j", "y", "x", "1", "on")
# "/parts sak 2", "/parts problem #2": show case 2 – a bare number is never a new problem statement.
_SHOW = re.compile(r"^#?\d{1,9}$")
# Words that end a case without a plan, and how: "/parts sak #7 avslutt", "/parts sak 7 trekk",
# "/parts problem lukk #3", or the word alone in the case's thread.
END_WORDS = {
    "avslutt": "closed", "lukk": "closed", "steng": "closed", "close": "closed", "end": "closed",
    "trekk": "withdrawn", "trekk-tilbake": "withdrawn", "withdraw": "withdrawn",
}  # fmt: skip
_END_AFTER = re.compile(r"^#?(\d{1,9})\s+(\S+)\s*(.*)$", re.DOTALL)
# "lukk #3 Løst på møtet" or "lukk 3" – but "Lukk 3 dører …" is a statement, not case 3.
_END_BEFORE = re.compile(r"^(\S+)\s+(?:#(\d{1,9})(?:\s+(.*))?|(\d{1,9}))$", re.DOTALL)
# A statement this thin is questioned before it becomes a case (ux.md item 5: "Sak #4: 😡😡", "Sak #7: 2").
THIN_LIMIT = 200


def checked(value: str) -> bool:
    """A checkbox from any platform: "true" from Slack and Teams, a typed yes from the console."""
    return value.strip().lower() in TRUE_WORDS


def split_parties(args: str) -> tuple[bool, str]:
    """``--parter rest`` → ``(True, "rest")``. Slack turns ``--`` into an em dash on some keyboards."""
    word, _, rest = args.strip().partition(" ")
    if word.lower() in PARTIES_FLAGS:
        return True, rest.strip()
    return False, args.strip()


def start_form(ctx: HandlerContext, step: str, initial: str = "", parties: bool = False) -> Form:
    """The form that starts a case (``step``: define) or a tool run on its own (blindspot, ideas)."""
    return Form(
        form_id="case.start",
        title=ctx.t(f"case.form.start_title.{step}"),
        submit_label=ctx.t("case.form.start_submit"),
        fields=(
            FormField(
                "statement",
                ctx.t(f"case.form.statement_label.{step}"),
                "multiline",
                max_length=2000,
                initial=initial[:2000],
                hint=ctx.t(f"case.form.statement_hint.{step}"),
            ),
            FormField(
                "parties",
                ctx.t("case.form.parties_label"),
                "checkbox",
                optional=True,
                initial="true" if parties else "",
                hint=ctx.t("case.form.parties_hint"),
            ),
        ),
        context=step,
        intro=ctx.t("case.form.start_intro"),
    )


def refine_form(ctx: HandlerContext, case: Case) -> Form:
    return Form(
        form_id="case.refine",
        title=ctx.t("case.form.refine_title"),
        submit_label=ctx.t("case.form.refine_submit"),
        fields=(FormField("statement", ctx.t("case.form.refine_label"), "multiline", max_length=2000),),
        context=str(case.id),
        intro=ctx.t("case.form.refine_intro", number=case.id, statement=case.statement),
    )


def history_reply(ctx: HandlerContext, case: Case) -> Reply:
    """Every version of the case's text, oldest first: refined, never replaced."""
    unit = ctx.session.get(Unit, case.unit_id)
    zone = ZoneInfo(unit.timezone if unit else ctx.settings.timezone)
    lines = []
    for version in cases.versions(ctx.session, case, include_struck=True):
        author = ctx.session.get(Member, version.author_id) if version.author_id else None
        lines.append(
            ctx.t(
                "case.history_line_struck" if version.struck_at else "case.history_line",
                n=version.n,
                kind=ctx.t(f"case.kinds.{version.kind}"),
                name=cases.name_of(author),
                date=version.created_at.astimezone(zone).strftime("%d.%m.%Y"),
                text=version.text,
            )
        )
    title = ctx.t("case.history_title", number=case.id)
    return Reply(fallback=title, blocks=(Header(title), Text("\n".join(lines))))


def list_reply(ctx: HandlerContext) -> Reply:
    found = cases.visible_cases(ctx)
    title = ctx.t("case.list_title")
    if not found:
        return Reply(fallback=title, blocks=(Header(title), Text(ctx.t("case.list_empty"))))
    lines = [
        ctx.t("case.list_line", number=c.id, title=c.title, step=cases.step_label(ctx, c.step)) for c in found
    ]
    return Reply(fallback=title, blocks=(Header(title), Text("\n".join(lines))))


def start(ctx: HandlerContext, args: str, step: str, source_text: str | None = None) -> None:
    """Start a case at ``step`` from a command's arguments, or open the form when there is no text."""
    parties, text = split_parties(args)
    if not text:
        ctx.open_form(start_form(ctx, step, source_text or "", parties))
        return
    open_unless_thin(ctx, text, parties, step)


def is_thin(text: str) -> bool:
    """One word, or no letter or digit at all (emoji, punctuation): likely not what someone meant to start
    a case with."""
    cleaned = text.strip()
    return len(cleaned) <= THIN_LIMIT and (len(cleaned.split()) == 1 or not any(c.isalnum() for c in cleaned))


def open_unless_thin(ctx: HandlerContext, text: str, parties: bool, step: str) -> None:
    """Open the case – but ask first when the statement is one word or only emoji ("Vil du virkelig …?")."""
    if is_thin(text):
        ctx.require_unit()
        value = f"{step}|{'p' if parties else ''}|{text.strip()}"
        question = ctx.t("case.thin_question", text=text.strip())
        raise Ask(
            Reply(
                fallback=question,
                blocks=(
                    Text(question),
                    Buttons(
                        (
                            Button(ctx.t("case.thin_start"), "case.start_anyway", value, "primary"),
                            Button(ctx.t("case.thin_more"), "case.start_form", value),
                        )
                    ),
                ),
            )
        )
    cases.open_case(ctx, text, parties_only=parties, step=step)


def _start_value(value: str) -> tuple[str, bool, str]:
    step, parties, text = [*value.split("|", 2), "", ""][:3]
    if step not in ("define", "blindspot", "ideas"):
        raise UserError("errors.unknown_action")
    return step, parties == "p", text


def end_form(ctx: HandlerContext, case: Case) -> Form:
    return Form(
        form_id="case.end",
        title=ctx.t("case.end_form.title"),
        submit_label=ctx.t("case.end_form.submit"),
        context=str(case.id),
        intro=ctx.t("case.end_form.intro", number=case.id, title=case.title),
        fields=(
            FormField(
                "how",
                ctx.t("case.end_form.how"),
                "select",
                options=tuple(Option(ctx.t(f"case.end_form.kinds.{k}"), k) for k in ending.END_KINDS),
            ),
            FormField(
                "reason",
                ctx.t("case.end_form.reason"),
                "multiline",
                optional=True,
                max_length=ending.MAX_REASON,
            ),
        ),
    )


def _end_command(ctx: HandlerContext, args: str) -> bool:
    """``#7 avslutt [why]``, ``lukk #3``, or the word alone in a case's thread: end that case."""
    after, before = _END_AFTER.match(args), _END_BEFORE.match(args)
    found = None
    if after and after.group(2).lower() in END_WORDS:
        found = (after.group(1), after.group(2), after.group(3))
    elif before and before.group(1).lower() in END_WORDS:
        found = (before.group(2) or before.group(4), before.group(1), before.group(3) or "")
    if found is not None:
        number, word, reason = found
        _end(ctx, cases.load_case(ctx, int(number)), END_WORDS[word.lower()], reason)
        return True
    if args.lower() in END_WORDS:
        case = cases.case_from_thread(ctx)
        if case is not None:
            _end(ctx, case, END_WORDS[args.lower()], "")
            return True
    return False


def _end(ctx: HandlerContext, case: Case, how: str, reason: str) -> None:
    if case.step == "agreed" and how == "closed" and case.closed_at is None:
        # A decided plan being followed up closes through its own loop: goal, answers, indicators.
        followup.close_case(ctx, case)
    else:
        ending.end_case(ctx, case, how, reason)


def register(router: Router) -> None:
    define.register(router.steps)

    @router.command("problem", "sak", "case", help_key="case.help.problem")
    def problem(ctx: HandlerContext, cmd: Command) -> None:
        args = cmd.args.strip()
        word, _, rest = args.partition(" ")
        if word.lower() in REFINE_WORDS:
            case, text = cases.resolve_case(ctx, rest, ctx.t("case.usage.refine"))
            if text.strip():
                define.refine(ctx, case, text)
            else:
                cases.require_step(case, "define", "blindspot")
                ctx.open_form(refine_form(ctx, case))
        elif _SHOW.match(args):
            case = cases.load_case(ctx, int(args.lstrip("#")))
            ctx.private(cases.render_head(ctx, case))
        elif not _end_command(ctx, args):
            start(ctx, args, "define", cmd.source_text)

    @router.command("neste", "next", "videre", help_key="case.help.neste")
    def next_command(ctx: HandlerContext, cmd: Command) -> None:
        case, _ = cases.resolve_case(ctx, cmd.args, ctx.t("case.usage.next"))
        cases.close_step(ctx, case)

    @router.command("saker", "cases", help_key="case.help.saker")
    def list_cases(ctx: HandlerContext, cmd: Command) -> None:
        ctx.private(list_reply(ctx))

    @router.thread("case")
    def thread_message(ctx: HandlerContext, msg: Message) -> None:
        cases.handle_thread_message(ctx, msg)

    @router.command("stryk", "strike", help_key="entries.help")
    def strike(ctx: HandlerContext, cmd: Command) -> None:
        case, ref = cases.resolve_case(ctx, cmd.args, ctx.t("entries.usage"))
        if ref.strip():
            corrections.strike(ctx, case, ref)
        else:
            ctx.private(corrections.listing(ctx, case))

    @router.action("case.undo")
    def undo_button(ctx: HandlerContext, action: Action) -> None:
        corrections.undo(ctx, action.value)

    @router.form("case.start", check=True)
    def submit_start(ctx: HandlerContext, sub: Submission) -> None:
        step = sub.context if sub.context in ("define", "blindspot", "ideas") else "define"
        with in_field("statement"):
            text = ctx.text(sub.values.get("statement", ""))
        ctx.checked()  # a dry run of the form stops before it takes a case number
        open_unless_thin(ctx, text, checked(sub.values.get("parties", "")), step)

    @router.action("case.start_anyway")
    def start_anyway(ctx: HandlerContext, action: Action) -> None:
        step, parties, text = _start_value(action.value)
        cases.open_case(ctx, text, parties_only=parties, step=step)

    @router.action("case.start_form")
    def start_with_form(ctx: HandlerContext, action: Action) -> None:
        step, parties, text = _start_value(action.value)
        ctx.open_form(start_form(ctx, step, text, parties))

    @router.action(access.PICK_ACTION)
    def pick(ctx: HandlerContext, action: Action) -> None:
        # The answer to "which case?": the command runs again as typed, and which_case reads the choice
        # from this press. Same handler, same access policy, the person's own rights.
        _, name, args = [*action.value.split("|", 2), "", ""][:3]
        spec = router.commands.get(name)
        if spec is None:
            raise UserError("errors.unknown_action")
        spec.handler(ctx, Command(ctx.actor, ctx.place, name, args, trigger_id=action.trigger_id))

    @router.action("case.end")
    def end_button(ctx: HandlerContext, action: Action) -> None:
        case = cases.case_from_value(ctx, action.value)
        cases.require_open(case)
        if not access.may_end_case(ctx.session, ctx.organisation.id, ctx.member.id, case):
            raise UserError("case.end_not_allowed")
        ctx.open_form(end_form(ctx, case))

    @router.form("case.end")
    def submit_end(ctx: HandlerContext, sub: Submission) -> None:
        case = cases.case_from_value(ctx, sub.context)
        ending.end_case(ctx, case, sub.values.get("how", ""), sub.values.get("reason", ""))

    @router.action("case.next")
    def next_button(ctx: HandlerContext, action: Action) -> None:
        case = cases.case_from_value(ctx, action.value)
        expected = action.value.partition(":")[2] or None
        cases.close_step(ctx, case, expected)

    @router.action("case.history")
    def history_button(ctx: HandlerContext, action: Action) -> None:
        ctx.private(history_reply(ctx, cases.case_from_value(ctx, action.value)))

    @router.action("case.refine")
    def refine_button(ctx: HandlerContext, action: Action) -> None:
        case = cases.case_from_value(ctx, action.value)
        cases.require_step(case, "define", "blindspot")
        ctx.open_form(refine_form(ctx, case))

    @router.form("case.refine", check=True)
    def submit_refine(ctx: HandlerContext, sub: Submission) -> None:
        case = cases.case_from_value(ctx, sub.context)
        with in_field("statement"):
            ctx.text(sub.values.get("statement", ""))
        define.refine(ctx, case, sub.values.get("statement", ""))
