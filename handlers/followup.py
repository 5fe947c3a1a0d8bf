"""Following a case until the goal is reached, and closing the loop.

* A case whose agreed plan has actions stays open at its last step (``keep_open``): it is being followed.
* When every action is done the case asks its own question again: "Hvordan har vi det når målet er nådd?"
  – with the goal and the answer the parties gave when they made the plan – and keeps the answers
  (named, in the case's history and its thread, and in the HMS record).
* With at least one answer, the case's steerers close it ("Avslutt saken", ``/parts plan avslutt``): the
  closing message repeats the goal, the answers and the trend of the check-in indicators the actions were
  to improve; only then is the case closed.
* The case's head shows, for every action that names an indicator, its trend before and after
  (:mod:`bot.course.indicator`, the check-in's thresholds kept).

Anyone who may see the case may answer, through a form so the answer is not mistaken for input to a step.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Action, Block, Button, Buttons, Form, FormField, Note, Reply, Submission, Text
from bot.chat.router import Router
from bot.course import indicator
from bot.storage.models import Member
from bot.toolbox import cases, planning
from bot.toolbox.models import Case
from bot.toolbox.models_plan import ActionItem, Plan
from bot.toolbox.records import add_version

REACHED = "reached"
MAX_ANSWER = 1000


def all_done(ctx: HandlerContext, plan: Plan) -> bool:
    items = ctx.session.scalars(select(ActionItem.done_at).where(ActionItem.plan_id == plan.id)).all()
    return bool(items) and all(done is not None for done in items)


def _has_actions(ctx: HandlerContext, case: Case) -> bool:
    """Keeps a case open at its last step while its plan has actions to follow (see bot.chat.steps)."""
    plan = planning.plan_of(ctx.session, case.id)
    return plan is not None and bool(planning.actions(ctx.session, plan.id))


def indicator_lines(ctx: HandlerContext, case: Case) -> list[str]:
    plan = planning.plan_of(ctx.session, case.id)
    return indicator.lines(ctx.t, ctx.session, plan.id, ctx.now) if plan is not None else []


def indicator_section(ctx: HandlerContext, case: Case) -> list[Block]:
    """On the case's head: each action's indicator trend, before and after."""
    found = indicator_lines(ctx, case)
    return [Note("\n".join(found))] if found else []


def _buttons(ctx: HandlerContext, case: Case) -> list[Button]:
    return [
        Button(ctx.t("followup.reached_button"), "plan.reached", str(case.id), "primary"),
        Button(ctx.t("followup.close_button"), "plan.close", str(case.id)),
    ]


def head_buttons(ctx: HandlerContext, case: Case) -> list[Button]:
    """At the last step: answer and close, once every action is done and while the case is open."""
    plan = planning.plan_of(ctx.session, case.id)
    if case.closed_at is not None or plan is None or not all_done(ctx, plan):
        return []
    return _buttons(ctx, case)


def ask_how_we_are(ctx: HandlerContext, case: Case, plan: Plan) -> None:
    """Post the question in the case (in the unit's language, like everything the case says)."""
    speaker = cases.for_case(ctx, case)
    t = speaker.t
    if plan.outcome:
        question = t("followup.reached_question", goal=plan.goal or "–", outcome=plan.outcome)
    else:
        question = t("followup.reached_no_outcome", goal=plan.goal or "–")
    blocks: list[Block] = [Text(f"*{t('followup.reached_title', case=case.id)}*\n{question}")]
    trends = indicator_lines(speaker, case)
    if trends:
        blocks.append(Note("\n".join(trends)))
    blocks.append(Note(t("followup.close_hint")))
    blocks.append(Buttons(tuple(_buttons(speaker, case))))
    cases.post_in_case(ctx, case, Reply(fallback=question, blocks=tuple(blocks)))


def after_done(ctx: HandlerContext, case: Case, plan: Plan) -> None:
    """Called when an action was marked done: the last one brings the question."""
    if all_done(ctx, plan):
        ask_how_we_are(ctx, case, plan)
        cases.refresh_head(ctx, case)


def _done_plan(ctx: HandlerContext, case: Case) -> Plan:
    plan = planning.plan_of(ctx.session, case.id)
    if plan is None or not all_done(ctx, plan):
        raise UserError("followup.reached_not_yet", case=case.id)
    return plan


def close_case(ctx: HandlerContext, case: Case) -> None:
    """Close the loop: the goal, the answers and the indicators' trend, then the case is closed."""
    cases.require_steer(ctx, case)
    plan = _done_plan(ctx, case)
    if case.closed_at is not None:
        raise UserError("case.finished", number=case.id)
    answers = cases.versions(ctx.session, case, REACHED)
    if not answers:
        raise UserError("followup.close_no_answers", case=case.id)
    case.closed_at = ctx.now
    case.updated_at = ctx.now
    ctx.session.flush()
    speaker = cases.for_case(ctx, case)
    t = speaker.t
    lines = [t("followup.closed", case=case.id, name=cases.name_of(ctx.member), goal=plan.goal or "–")]
    lines.append(t("followup.closed_answers"))
    for answer in answers:
        author = ctx.session.get(Member, answer.author_id) if answer.author_id else None
        lines.append(t("followup.closed_answer", name=cases.name_of(author), text=answer.text))
    blocks: list[Block] = [Text("\n".join(lines))]
    trends = indicator_lines(speaker, case)
    if trends:
        blocks.append(Note("\n".join(trends)))
    cases.post_in_case(ctx, case, Reply(fallback=lines[0], blocks=tuple(blocks)))
    if case.parties_only:
        cases.post_head(ctx, case)
    else:
        cases.refresh_head(ctx, case)
    ctx.private(ctx.t("followup.closed_thanks", case=case.id))


def register(router: Router) -> None:
    router.steps.keep_open.append(_has_actions)
    router.steps.add_head_section(indicator_section)
    router.steps.head_buttons["agreed"] = head_buttons

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

    @router.action("plan.close")
    def close_button(ctx: HandlerContext, action: Action) -> None:
        close_case(ctx, cases.case_from_value(ctx, action.value))
