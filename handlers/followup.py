"""When every action of a case's plan is done, the case asks its own question again: "Hvordan har vi det
når målet er nådd?" – with the goal and the answer the parties gave when they made the plan – and keeps
the answers (named, in the case's history and its thread, and in the HMS record).

Anyone who may see the case may answer, through a form so the answer is not mistaken for input to a step.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Action, Button, Buttons, Form, FormField, Reply, Submission, Text
from bot.chat.router import Router
from bot.toolbox import cases, planning
from bot.toolbox.models import Case
from bot.toolbox.models_plan import ActionItem, Plan
from bot.toolbox.records import add_version

REACHED = "reached"
MAX_ANSWER = 1000


def all_done(ctx: HandlerContext, plan: Plan) -> bool:
    items = ctx.session.scalars(select(ActionItem.done_at).where(ActionItem.plan_id == plan.id)).all()
    return bool(items) and all(done is not None for done in items)


def ask_how_we_are(ctx: HandlerContext, case: Case, plan: Plan) -> None:
    """Post the question in the case (in the unit's language, like everything the case says)."""
    speaker = cases.for_case(ctx, case)
    t = speaker.t
    if plan.outcome:
        question = t("followup.reached_question", goal=plan.goal or "–", outcome=plan.outcome)
    else:
        question = t("followup.reached_no_outcome", goal=plan.goal or "–")
    reply = Reply(
        fallback=question,
        blocks=(
            Text(f"*{t('followup.reached_title', case=case.id)}*\n{question}"),
            Buttons((Button(t("followup.reached_button"), "plan.reached", str(case.id), "primary"),)),
        ),
    )
    cases.post_in_case(ctx, case, reply)


def after_done(ctx: HandlerContext, case: Case, plan: Plan) -> None:
    """Called when an action was marked done: the last one brings the question."""
    if all_done(ctx, plan):
        ask_how_we_are(ctx, case, plan)


def _done_plan(ctx: HandlerContext, case: Case) -> Plan:
    plan = planning.plan_of(ctx.session, case.id)
    if plan is None or not all_done(ctx, plan):
        raise UserError("followup.reached_not_yet", case=case.id)
    return plan


def register(router: Router) -> None:
    @router.action("plan.reached")
    def open_form(ctx: HandlerContext, action: Action) -> None:
        case = cases.case_from_value(ctx, action.value)  # what the person may not see does not exist
        _done_plan(ctx, case)
        ctx.open_form(
            Form(
                "plan.reached",
                ctx.t("followup.reached_form_title"),
                ctx.t("followup.reached_form_submit"),
                (FormField("answer", ctx.t("followup.reached_field"), "multiline", max_length=MAX_ANSWER),),
                context=str(case.id),
            )
        )

    @router.form("plan.reached")
    def answered(ctx: HandlerContext, sub: Submission) -> None:
        case = cases.case_from_value(ctx, sub.context)
        _done_plan(ctx, case)
        text = ctx.text(sub.values.get("answer", ""), MAX_ANSWER)
        add_version(ctx, case, REACHED, text)
        cases.add_participant(ctx, case)
        speaker = cases.for_case(ctx, case)
        cases.post_in_case(
            ctx, case, speaker.t("followup.reached_answer", name=cases.name_of(ctx.member), text=text)
        )
        ctx.private(ctx.t("followup.reached_thanks", case=case.id))
