"""``/parts refleksjon`` and the reflection button: answer the reflection question after a module,
privately through a form, stored without a name (:mod:`bot.course.reflection`).

A second answer is refused kindly: the first one is stored without a name, so it cannot be found again.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Action, Command, Form, FormField, Submission
from bot.chat.router import Router
from bot.course import reflection, runs
from bot.course.models import CourseRun
from bot.course.models_exchange import ReflectionRound
from bot.toolbox import access


def _allowed(ctx: HandlerContext, round_: ReflectionRound) -> CourseRun:
    run = ctx.session.get(CourseRun, round_.run_id)
    # A button value is all that names the round: whoever it was not for hears what a stranger hears.
    if run is None or not access.may_reflect(
        ctx.session, ctx.organisation.id, ctx.member.id, run.unit_id, reflection.trio_module(round_.module)
    ):
        raise UserError("errors.unknown_action")
    if round_.status != "open":
        raise UserError("reflection.closed", module=round_.module)
    return run


def _round(ctx: HandlerContext, value: str) -> ReflectionRound:
    round_ = ctx.session.get(ReflectionRound, int(value)) if value.isdigit() else None
    if round_ is None:
        raise UserError("errors.unknown_action")
    _allowed(ctx, round_)
    return round_


def reflection_form(ctx: HandlerContext, round_: ReflectionRound) -> Form:
    return Form(
        "reflection.answer",
        ctx.t("reflection.form_title", module=round_.module),
        ctx.t("reflection.form_submit"),
        (
            FormField(
                "text",
                ctx.t(f"nudges_text.reflect.m{round_.module}"),
                "multiline",
                max_length=reflection.MAX_ANSWER,
                hint=ctx.t("reflection.form_hint", min=reflection.MIN_ANSWERS),
            ),
        ),
        context=str(round_.id),
        intro=ctx.t("reflection.form_intro", min=reflection.MIN_ANSWERS),
    )


def open_reflection(ctx: HandlerContext, round_: ReflectionRound) -> None:
    if reflection.has_answered(ctx.session, round_, ctx.member.id):
        raise UserError("reflection.already")
    ctx.open_form(reflection_form(ctx, round_))


def register(router: Router) -> None:
    @router.command("refleksjon", "refleksjonar", "refleksjoner", "reflection", help_key="reflection.help")
    def refleksjon(ctx: HandlerContext, cmd: Command) -> None:
        run = runs.active_run(ctx.session, ctx.require_unit().id)
        rounds = (
            ctx.session.scalars(
                select(ReflectionRound)
                .where(ReflectionRound.run_id == run.id, ReflectionRound.status == "open")
                .order_by(ReflectionRound.module.desc())
            ).all()
            if run
            else []
        )
        for round_ in rounds:
            try:
                _allowed(ctx, round_)
            except UserError:
                continue
            open_reflection(ctx, round_)
            return
        raise UserError("reflection.none_open")

    @router.action("reflection.open")
    def reflection_button(ctx: HandlerContext, action: Action) -> None:
        open_reflection(ctx, _round(ctx, action.value))

    @router.form("reflection.answer")
    def reflection_submitted(ctx: HandlerContext, sub: Submission) -> None:
        round_ = _round(ctx, sub.context)
        text = ctx.text(sub.values.get("text", ""), reflection.MAX_ANSWER)
        try:
            reflection.answer(ctx, round_, text)
        except reflection.AlreadyAnswered:
            raise UserError("reflection.already") from None
        ctx.private(ctx.t("reflection.thanks"))
