"""``/parts blindsone``: find the blind spot, in a case or on its own, with named or anonymous questions.

* in a case's thread (or ``#12``): start the step now (owner or trio), or show how to take part;
* ``spør [#12] <spørsmål>``: a named question; ``anonym [#]12 <spørsmål>``: an anonymous one – by slash
  command or in a direct message to the bot; typed as a channel or thread message (where everyone sees the
  author) it is refused with advice (SEC-07). The receipt says that a typed direct message stays in the
  platform's history under the person's name, and that the form leaves none;
* in a channel, outside a case: ``/parts blindsone <tema>`` starts a mini-case at the blind-spot step.

The "Still spørsmål" button opens a form with an "anonymous" checkbox.
"""

from __future__ import annotations

import re

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Action, Command, Form, FormField, Submission
from bot.chat.router import Router
from bot.toolbox import blindspot, cases
from bot.toolbox.models import Case
from handlers.problem import checked, start

ANONYMOUS_WORDS = blindspot.ANONYMOUS_WORDS
ASK_WORDS = ("spør", "spor", "spørsmål", "ask", "question")
# ``anonym 12 …`` as well as ``anonym #12 …``: in a direct message there is no thread to point at.
_NUMBER = re.compile(r"^#?(\d+)\s+")


def ask_form(ctx: HandlerContext, case: Case) -> Form:
    return Form(
        form_id="blindspot.ask",
        title=ctx.t("blindspot.form.title"),
        submit_label=ctx.t("blindspot.form.submit"),
        fields=(
            FormField("question", ctx.t("blindspot.form.question_label"), "multiline", max_length=2000),
            FormField(
                "anonymous",
                ctx.t("blindspot.form.anonymous_label"),
                "checkbox",
                optional=True,
                hint=ctx.t("blindspot.form.anonymous_hint", batch=blindspot.batch_size(ctx)),
            ),
        ),
        context=str(case.id),
        intro=ctx.t("blindspot.form.intro", number=case.id, statement=case.statement),
    )


def _anonymous(ctx: HandlerContext, rest: str, typed_in_view: bool) -> None:
    match = _NUMBER.match(rest.strip())
    if match is not None:
        case = cases.load_case(ctx, int(match.group(1)))
        text = rest.strip()[match.end() :]
    else:
        case, text = _only_case(ctx), rest
    if typed_in_view:
        # Everyone in the channel saw who typed it: storing it as anonymous would be a pretence.
        raise UserError("blindspot.typed_in_view", number=case.id)
    blindspot.ask_anonymous(ctx, case, text)


def _only_case(ctx: HandlerContext) -> Case:
    """The case of an anonymous question without a number: the thread's, else the one open case. With
    several, the person adds the number – no button carries an anonymous question's text around."""
    found = cases.case_from_thread(ctx)
    if found is not None:
        return found
    usage = ctx.t("blindspot.usage.anonymous")
    open_cases = cases.visible_cases(ctx) if ctx.unit is not None else []
    if len(open_cases) == 1:
        return open_cases[0]
    if not open_cases:
        raise UserError("case.which", usage=usage)
    named = [ctx.t("case.which_case", number=c.id, step=ctx.t(f"case.steps.{c.step}")) for c in open_cases]
    listed = ctx.t("case.which_or", first=", ".join(named[:-1]), last=named[-1])
    raise UserError("case.which_many", cases=listed, usage=usage)


def register(router: Router) -> None:
    blindspot.register(router.steps)

    @router.command("blindsone", "blindsona", "blindspot", help_key="blindspot.help")
    def command(ctx: HandlerContext, cmd: Command) -> None:
        word, _, rest = cmd.args.strip().partition(" ")
        if word.lower() in ANONYMOUS_WORDS:
            _anonymous(ctx, rest, cmd.typed_in_view)
            return
        if word.lower() in ASK_WORDS:
            case, text = cases.resolve_case(ctx, rest, ctx.t("blindspot.usage.ask"))
            blindspot.ask_named(ctx, case, text, echo=True)
            return
        found, _ = cases.which_case(ctx, cmd.args, ctx.t("blindspot.usage.start"), new="case.pick_new.case")
        if found is None:
            start(ctx, cmd.args, "blindspot")
        elif found.step == "blindspot":
            ctx.private(ctx.t("blindspot.already", number=found.id))
        else:
            cases.jump_to(ctx, found, "blindspot")

    @router.action("blindspot.ask")
    def open_form(ctx: HandlerContext, action: Action) -> None:
        case = cases.case_from_value(ctx, action.value)
        cases.require_step(case, "blindspot")
        ctx.open_form(ask_form(ctx, case))

    @router.form("blindspot.ask")
    def submit(ctx: HandlerContext, sub: Submission) -> None:
        case = cases.case_from_value(ctx, sub.context)
        text = sub.values.get("question", "")
        if checked(sub.values.get("anonymous", "")):
            blindspot.ask_anonymous(ctx, case, text)
        else:
            blindspot.ask_named(ctx, case, text, echo=True)
