"""``/parts sjekkinn`` and ``/parts evaluering``: the anonymous check-in "En bra dag på jobb" and the course
evaluation, answered privately through a form (from the command or the button in the bot's direct message).

A second answer is refused kindly: the first one is stored without a name, so it cannot be found to replace.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import (
    Action,
    Block,
    Command,
    Form,
    FormField,
    Header,
    Note,
    Option,
    Reply,
    Submission,
    Text,
)
from bot.chat.router import Router
from bot.course import checkin, evaluation, runs, survey
from bot.course.models import CheckinRound, EvaluationRound
from bot.course.privacy import MIN_GROUP_SIZE, SCALE_MAX, SCALE_MIN
from bot.course.unitcal import week_number
from bot.i18n import decimal
from bot.storage.models import Membership

# --------------------------------------------------------------------------------------------------
# Shared: scores from a form
# --------------------------------------------------------------------------------------------------


def _scale(ctx: HandlerContext) -> tuple[Option, ...]:
    return tuple(Option(ctx.t(f"checkin.scale.{n}"), str(n)) for n in range(SCALE_MIN, SCALE_MAX + 1))


def _scores(values: dict[str, str], questions: Sequence[str]) -> dict[str, int]:
    scores = {}
    for question in questions:
        value = values.get(question, "").strip()
        if not value.isdigit() or not SCALE_MIN <= int(value) <= SCALE_MAX:
            raise UserError("checkin.bad_score")
        scores[question] = int(value)
    return scores


def _comment(ctx: HandlerContext, values: dict[str, str]) -> str:
    text = values.get("comment", "").strip()
    if len(text) > survey.MAX_COMMENT:
        raise UserError("errors.too_long", limit=survey.MAX_COMMENT, length=len(text))
    return text


def _require_member_of(ctx: HandlerContext, unit_id: int) -> None:
    # Buttons arrive in a direct message, where the value is all that names the round: only the unit's
    # own members may answer its rounds.
    if ctx.session.get(Membership, (unit_id, ctx.member.id)) is None:
        raise UserError("errors.unknown_action")


# --------------------------------------------------------------------------------------------------
# Check-in
# --------------------------------------------------------------------------------------------------


def survey_form(ctx: HandlerContext, area: str, questions: Sequence[str], round_id: int, intro: str) -> Form:
    """The anonymous 1–5 form of the check-in (``area`` "checkin") or the evaluation ("evaluation")."""
    scale = _scale(ctx)
    fields = [FormField(q, ctx.t(f"{area}.questions.{q}"), "select", options=scale) for q in questions]
    fields.append(
        FormField(
            "comment",
            ctx.t(f"{area}.comment_label"),
            "multiline",
            optional=True,
            max_length=survey.MAX_COMMENT,
            hint=ctx.t(f"{area}.comment_hint"),
        )
    )
    return Form(
        f"{area}.answer",
        ctx.t(f"{area}.form_title"),
        ctx.t(f"{area}.form_submit"),
        tuple(fields),
        context=str(round_id),
        intro=intro,
    )


def checkin_form(ctx: HandlerContext, round_: CheckinRound) -> Form:
    intro = ctx.t("checkin.form_intro", week=week_number(round_.week))
    return survey_form(ctx, "checkin", checkin.INDICATORS, round_.id, intro)


def _checkin_round(ctx: HandlerContext, value: str) -> CheckinRound:
    round_ = ctx.session.get(CheckinRound, int(value)) if value.isdigit() else None
    if round_ is None:
        raise UserError("errors.unknown_action")
    _require_member_of(ctx, round_.unit_id)
    if not checkin.is_open(round_, ctx.now):
        raise UserError("checkin.closed")
    return round_


def open_checkin(ctx: HandlerContext, round_: CheckinRound) -> None:
    if survey.has_answered(ctx.session, round_, ctx.member.id):
        raise UserError("checkin.already")
    ctx.open_form(checkin_form(ctx, round_))


def results_reply(ctx: HandlerContext) -> Reply:
    unit = ctx.require_unit()
    title = ctx.t("checkin.results_title", unit=unit.name)
    weeks = checkin.results(ctx.session, unit.id, ctx.now)
    blocks: list[Block] = [Header(title)]
    if not weeks:
        blocks.append(Text(ctx.t("checkin.results_none")))
    for week in weeks:
        lines = [
            ctx.t("checkin.results_week", week=week_number(week.week), answers=week.answers, asked=week.asked)
        ]
        if week.means is None:
            lines.append(ctx.t("checkin.results_hidden", min=MIN_GROUP_SIZE))
        else:
            for indicator in checkin.INDICATORS:
                label = ctx.t(f"checkin.indicators.{indicator}")
                if indicator in week.means:
                    value = decimal(ctx.language, week.means[indicator])
                elif indicator in week.bands:
                    value = "{}–{}".format(*week.bands[indicator])
                else:
                    continue
                lines.append(ctx.t("checkin.results_line", indicator=label, value=value))
        blocks.append(Text("\n".join(lines)))
    blocks.append(Note(ctx.t("checkin.results_note", min=MIN_GROUP_SIZE)))
    return Reply(fallback=title, blocks=tuple(blocks))


# --------------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------------


def _phase_text(ctx: HandlerContext, phase: str) -> str:
    kind = evaluation.phase_kind(phase)
    return ctx.t(f"evaluation.phases.{kind}", module=evaluation.phase_module(phase) or "")


def evaluation_form(ctx: HandlerContext, round_: EvaluationRound) -> Form:
    intro = ctx.t("evaluation.form_intro", phase=_phase_text(ctx, round_.phase))
    return survey_form(ctx, "evaluation", evaluation.questions_for(round_.phase), round_.id, intro)


def _evaluation_round(ctx: HandlerContext, value: str) -> EvaluationRound:
    round_ = ctx.session.get(EvaluationRound, int(value)) if value.isdigit() else None
    run = ctx.session.get(runs.CourseRun, round_.run_id) if round_ else None
    if round_ is None or run is None:
        raise UserError("errors.unknown_action")
    _require_member_of(ctx, run.unit_id)
    if not evaluation.is_open(round_, ctx.now):
        raise UserError("evaluation.closed")
    return round_


def open_evaluation(ctx: HandlerContext, round_: EvaluationRound) -> None:
    if survey.has_answered(ctx.session, round_, ctx.member.id):
        raise UserError("evaluation.already")
    ctx.open_form(evaluation_form(ctx, round_))


def register(router: Router) -> None:
    @router.command("sjekkinn", "sjekk-inn", "innsjekk", "checkin", "check-in", help_key="checkin.help")
    def sjekkinn(ctx: HandlerContext, cmd: Command) -> None:
        unit = ctx.require_unit()
        if cmd.args.strip().lower() in ("resultat", "resultater", "results", "result"):
            # Results are the trio's working material, as the weekly summary is (SEC-15).
            if not ctx.is_party:
                raise UserError("checkin.results_trio_only")
            ctx.private(results_reply(ctx))
            return
        run = runs.active_run(ctx.session, unit.id)
        if run is None or not runs.is_running(ctx.session, run, ctx.now):
            raise UserError("checkin.not_enrolled")
        round_ = checkin.current_round(ctx.session, unit, ctx.now) or checkin.open_round(
            ctx.session, unit, ctx.now
        )
        if not checkin.is_open(round_, ctx.now):
            raise UserError("checkin.closed")
        open_checkin(ctx, round_)

    @router.action("checkin.open")
    def checkin_button(ctx: HandlerContext, action: Action) -> None:
        open_checkin(ctx, _checkin_round(ctx, action.value))

    @router.form("checkin.answer")
    def checkin_submitted(ctx: HandlerContext, sub: Submission) -> None:
        round_ = _checkin_round(ctx, sub.context)
        try:
            checkin.answer(ctx, round_, _scores(sub.values, checkin.INDICATORS), _comment(ctx, sub.values))
        except survey.AlreadyAnswered:
            raise UserError("checkin.already") from None
        ctx.private(ctx.t("checkin.thanks"))

    @router.command("evaluering", "evaluation", "evaluate", help_key="evaluation.help")
    def evaluering(ctx: HandlerContext, cmd: Command) -> None:
        run = runs.active_run(ctx.session, ctx.require_unit().id)
        rounds = (
            ctx.session.scalars(
                select(EvaluationRound)
                .where(EvaluationRound.run_id == run.id)
                .order_by(EvaluationRound.id.desc())
            ).all()
            if run
            else []
        )
        round_ = next((r for r in rounds if evaluation.is_open(r, ctx.now)), None)
        if round_ is None:
            raise UserError("evaluation.none_open")
        open_evaluation(ctx, round_)

    @router.action("evaluation.open")
    def evaluation_button(ctx: HandlerContext, action: Action) -> None:
        open_evaluation(ctx, _evaluation_round(ctx, action.value))

    @router.form("evaluation.answer")
    def evaluation_submitted(ctx: HandlerContext, sub: Submission) -> None:
        round_ = _evaluation_round(ctx, sub.context)
        scores = _scores(sub.values, evaluation.questions_for(round_.phase))
        try:
            evaluation.answer(ctx, round_, scores, _comment(ctx, sub.values))
        except survey.AlreadyAnswered:
            raise UserError("evaluation.already") from None
        ctx.private(ctx.t("evaluation.thanks"))
