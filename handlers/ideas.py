"""``/parts idejakt``: the idea hunt, in a case or on its own.

* in a case's thread (or ``#12``): start the hunt now (owner or trio), or show its deadline;
* ``frist [#12] <dato>``: set the deadline (``2026-12-01``, ``01.12.2026``, optionally ``14:00``);
* ``idé [#12] <idé>``: add an idea without writing in the thread (``ja, og #3 …`` builds on idea 3);
* in a channel, outside a case: ``/parts idejakt <tema>`` starts a mini-case at the idea hunt.

Buttons: "Ny idé" and "Sett frist" on the head, "Ja, og …" under each idea (a form that builds on it).
"""

from __future__ import annotations

from bot.chat.context import HandlerContext, UserError, in_field
from bot.chat.model import Action, Command, Form, FormField, Submission
from bot.chat.router import Router
from bot.toolbox import cases, idea_hunt
from bot.toolbox.models import Case, Idea
from handlers.problem import start

DEADLINE_WORDS = ("frist", "deadline")
IDEA_WORDS = ("idé", "ide", "idè", "idea")


def idea_form(ctx: HandlerContext, case: Case, builds_on: int | None = None) -> Form:
    if builds_on is None:
        title, intro, context = ctx.t("ideas.form.title"), ctx.t("ideas.form.intro"), str(case.id)
    else:
        parent = idea_hunt.find_idea(ctx, case, builds_on)
        title = ctx.t("ideas.form.build_title", number=builds_on)
        intro = ctx.t("ideas.form.build_intro", number=builds_on, text=parent.text)
        context = f"{case.id}:{builds_on}"
    return Form(
        form_id="ideas.add",
        title=title,
        submit_label=ctx.t("ideas.form.submit"),
        fields=(FormField("idea", ctx.t("ideas.form.idea_label"), "multiline", max_length=2000),),
        context=context,
        intro=intro,
    )


def rephrase_form(ctx: HandlerContext, case: Case, idea: Idea) -> Form:
    """The author rewrites a "men …" idea so that it can go on the ballot."""
    return Form(
        form_id="ideas.rephrase",
        title=ctx.t("ideas.form.rephrase_title", number=idea.number),
        submit_label=ctx.t("ideas.form.submit"),
        fields=(
            FormField(
                "idea", ctx.t("ideas.form.idea_label"), "multiline", max_length=2000, initial=idea.text
            ),
        ),
        context=f"{case.id}:{idea.number}",
        intro=ctx.t("ideas.form.rephrase_intro"),
    )


def deadline_form(ctx: HandlerContext, case: Case) -> Form:
    return Form(
        form_id="ideas.deadline",
        title=ctx.t("ideas.form.deadline_title"),
        submit_label=ctx.t("ideas.form.deadline_submit"),
        fields=(
            FormField(
                "date", ctx.t("ideas.form.deadline_label"), "date", hint=ctx.t("ideas.form.deadline_hint")
            ),
        ),
        context=str(case.id),
        intro=ctx.t("ideas.form.deadline_intro", when=idea_hunt.deadline_text(ctx, case)),
    )


def _require_open(ctx: HandlerContext, case: Case) -> None:
    """A form for an idea is only worth opening while ideas are still taken."""
    cases.require_step(case, "ideas")
    if not idea_hunt.is_open(ctx, case):
        raise UserError("ideas.closed", when=idea_hunt.deadline_text(ctx, case))


def register(router: Router) -> None:
    idea_hunt.register(router.steps)

    @router.command("idejakt", "idéjakt", "ideas", "idehunt", help_key="ideas.help")
    def command(ctx: HandlerContext, cmd: Command) -> None:
        word, _, rest = cmd.args.strip().partition(" ")
        if word.lower() in DEADLINE_WORDS:
            case, text = cases.resolve_case(ctx, rest, ctx.t("ideas.usage.deadline"))
            if not text.strip():
                raise UserError("ideas.deadline_format", text="")
            idea_hunt.set_deadline(ctx, case, text)
            return
        if word.lower() in IDEA_WORDS:
            case, text = cases.resolve_case(ctx, rest, ctx.t("ideas.usage.idea"))
            if case.step in ("define", "blindspot"):
                idea_hunt.keep_for_later(ctx, case, text)  # kept for the hunt, shown when it opens
            else:
                idea_hunt.add_idea(ctx, case, text)
            return
        found, _ = cases.which_case(ctx, cmd.args, ctx.t("ideas.usage.start"), new="case.pick_new.case")
        if found is None:
            start(ctx, cmd.args, "ideas")
        elif found.step == "ideas":
            key = "ideas.already" if idea_hunt.is_open(ctx, found) else "ideas.over"
            ctx.private(ctx.t(key, number=found.id, when=idea_hunt.deadline_text(ctx, found)))
        else:
            cases.jump_to(ctx, found, "ideas")

    @router.action("ideas.add")
    def add_button(ctx: HandlerContext, action: Action) -> None:
        case = cases.case_from_value(ctx, action.value)
        _require_open(ctx, case)
        ctx.open_form(idea_form(ctx, case))

    @router.action("ideas.build")
    def build_button(ctx: HandlerContext, action: Action) -> None:
        case = cases.case_from_value(ctx, action.value)
        _require_open(ctx, case)
        number = action.value.partition(":")[2]
        if not number.isdigit():
            raise UserError("errors.unknown_action")
        ctx.open_form(idea_form(ctx, case, int(number)))

    @router.form("ideas.add", check=True)
    def submit_idea(ctx: HandlerContext, sub: Submission) -> None:
        case = cases.case_from_value(ctx, sub.context)
        with in_field("idea"):
            ctx.text(sub.values.get("idea", ""))
        number = sub.context.partition(":")[2]
        builds_on = int(number) if number.isdigit() else None
        idea_hunt.add_idea(ctx, case, sub.values.get("idea", ""), builds_on)

    @router.action("ideas.link")
    def link_button(ctx: HandlerContext, action: Action) -> None:
        case = cases.case_from_value(ctx, action.value)
        _, number, parent = [*action.value.split(":"), "", ""][:3]
        if not (number.isdigit() and parent.isdigit()):
            raise UserError("errors.unknown_action")
        idea_hunt.link(ctx, case, int(number), int(parent))

    @router.action("ideas.rephrase")
    def rephrase_button(ctx: HandlerContext, action: Action) -> None:
        case = cases.case_from_value(ctx, action.value)
        number = action.value.partition(":")[2]
        if not number.isdigit():
            raise UserError("errors.unknown_action")
        idea = idea_hunt.find_idea(ctx, case, int(number))
        if idea.author_id != ctx.member.id:
            raise UserError("ideas.not_yours", number=idea.number)
        ctx.open_form(rephrase_form(ctx, case, idea))

    @router.form("ideas.rephrase")
    def submit_rephrase(ctx: HandlerContext, sub: Submission) -> None:
        case = cases.case_from_value(ctx, sub.context)
        number = sub.context.partition(":")[2]
        if not number.isdigit():
            raise UserError("errors.unknown_action")
        idea_hunt.rephrase(ctx, case, int(number), sub.values.get("idea", ""))

    @router.action("ideas.deadline")
    def deadline_button(ctx: HandlerContext, action: Action) -> None:
        case = cases.case_from_value(ctx, action.value)
        cases.require_steer(ctx, case)
        cases.require_step(case, "define", "blindspot", "ideas")
        ctx.open_form(deadline_form(ctx, case))

    @router.form("ideas.deadline", check=True)
    def submit_deadline(ctx: HandlerContext, sub: Submission) -> None:
        case = cases.case_from_value(ctx, sub.context)
        with in_field("date"):
            idea_hunt.set_deadline(ctx, case, sub.values.get("date", ""))
