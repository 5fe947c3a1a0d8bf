"""``/parts kurs``: enrol the unit in the course, see the module plan and progress, move a module, and the
unit's calendar settings (delivery window, summer closure, summary and check-in times).

The leder enrols the unit (the employer's decision) and becomes the run's course admin; changing the plan
afterwards is for the parties of the unit (bot/toolbox/access.py). Every change replans the pending nudges.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from bot.chat.context import FieldError, HandlerContext, UserError, in_field
from bot.chat.model import (
    Action,
    Block,
    Button,
    Buttons,
    Command,
    FieldKind,
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
from bot.course import evaluation, gathering, runs
from bot.course.models import CourseRun, CourseSettings, DueNudge
from bot.course.plan import MODULE_COUNT, load_plan
from bot.course.privacy import MIN_GROUP_SIZE
from bot.course.unitcal import hhmm, parse_days, parse_hhmm, parse_weeks, settings_for, window_for
from bot.course.words import module_name, when_text
from bot.dates.calendar import local_at, next_working_day
from bot.i18n import clock, decimal, plural, raw
from bot.storage.models import Unit
from bot.toolbox import access
from handlers.hora import Prefill, meeting_form

DEFAULT_TIME = time(9, 0)


def _may_change(ctx: HandlerContext, run: CourseRun) -> bool:
    """Moving modules, settings and ending the run: the parties of the run's unit (bot/toolbox/access.py)."""
    return access.is_party(ctx.session, run.unit_id, ctx.member.id)


def _require_leader(ctx: HandlerContext) -> None:
    """Enrolling the whole unit is the employer's decision: the leder of the unit only (ux.md item 4)."""
    unit = ctx.require_unit()
    if not access.may_manage_unit(ctx.session, ctx.organisation.id, ctx.member.id, unit.id):
        raise UserError("course.enrol_not_allowed")


def _require_run(ctx: HandlerContext) -> CourseRun:
    run = runs.active_run(ctx.session, ctx.require_unit().id)
    if run is None:
        raise UserError("course.not_enrolled")
    return run


def _weekdays(ctx: HandlerContext) -> list[str]:
    names = raw(ctx.language, "course.weekdays")
    return [str(n) for n in names] if isinstance(names, list) else [str(i) for i in range(7)]


# The plan ----------------------------------------------------------------------------------------------


def _evaluation_lines(ctx: HandlerContext, run: CourseRun) -> list[str]:
    lines: list[str] = []
    comparison = evaluation.compare(ctx.session, run.id, ctx.now)
    if comparison.reason == "shown":
        for question, before, after in comparison.rows:
            label = ctx.t(f"evaluation.short.{question}")
            if before is None:
                lines.append(
                    ctx.t("evaluation.after_only", question=label, after=decimal(ctx.language, after))
                )
            else:
                lines.append(
                    ctx.t(
                        "evaluation.before_after",
                        question=label,
                        before=decimal(ctx.language, before),
                        after=decimal(ctx.language, after),
                    )
                )
    elif comparison.reason == "too_few":
        lines.append(
            ctx.t(
                "evaluation.hidden",
                min=MIN_GROUP_SIZE,
                before=comparison.before_count,
                after=comparison.after_count,
            )
        )
    groups = load_plan().module_groups
    for number, means in evaluation.module_results(ctx.session, run.id, ctx.now).items():
        if means:
            lines.append(ctx.t("course.module_evaluation_line", module=number, values=_values(ctx, means)))
        elif groups.get(number) == "trio":
            # The trio's own figures never reach the threshold: only pooled across kindergartens.
            pooled = evaluation.pooled_module(ctx.session, run, number, ctx.now)
            if pooled.means:
                lines.append(
                    ctx.t(
                        "course.module_evaluation_pooled",
                        module=number,
                        units=pooled.units,
                        answers=pooled.answers,
                        values=_values(ctx, pooled.means),
                    )
                )
            else:
                lines.append(ctx.t("course.module_evaluation_trio", module=number, min=MIN_GROUP_SIZE))
        else:
            lines.append(ctx.t("course.module_evaluation_hidden", module=number, min=MIN_GROUP_SIZE))
    return lines


def _values(ctx: HandlerContext, means: dict[str, float]) -> str:
    return ", ".join(f"{ctx.t(f'evaluation.short.{q}')} {decimal(ctx.language, v)}" for q, v in means.items())


def schedule(ctx: HandlerContext, run: CourseRun) -> Reply:
    unit = ctx.require_unit()
    modules = runs.modules_of(ctx.session, run.id)
    upcoming = runs.next_module(ctx.session, run.id, ctx.now)
    lines = []
    for m in modules:
        is_next = upcoming is not None and m.id == upcoming.id
        mark = "mark_done" if m.starts_at <= ctx.now else ("mark_next" if is_next else "mark_later")
        lines.append(
            ctx.t(
                "course.module_line",
                mark=ctx.t(f"course.{mark}"),
                name=module_name(ctx.language, m.number, m.kind),
                when=when_text(ctx.language, m.starts_at, unit.timezone),
            )
        )
    done = sum(1 for m in modules if m.starts_at <= ctx.now)
    next_due = ctx.session.scalar(
        select(func.min(DueNudge.due_at)).where(DueNudge.run_id == run.id, DueNudge.status == "pending")
    )
    progress = [ctx.t("course.progress", done=done)]
    if next_due is not None:
        progress.append(ctx.t("course.next_nudge", when=when_text(ctx.language, next_due, unit.timezone)))
    else:
        progress.append(ctx.t("course.no_nudges"))
    title = ctx.t("course.schedule_title", unit=unit.name)
    blocks: list[Block] = [Header(title), Text("\n".join(lines)), Note(" ".join(progress))]
    evaluation_lines = _evaluation_lines(ctx, run)
    if evaluation_lines:
        blocks.append(Text("\n".join([f"*{ctx.t('course.evaluation_title')}*", *evaluation_lines])))
    blocks.append(Note(_calendar_note(ctx, unit)))
    if _may_change(ctx, run):
        blocks.append(Note(ctx.t("course.move_hint")))
        blocks.append(Buttons((Button(ctx.t("course.settings_button"), "course.settings", str(run.id)),)))
    return Reply(fallback=title, blocks=tuple(blocks))


def _calendar_note(ctx: HandlerContext, unit: Unit) -> str:
    row = settings_for(ctx.session, unit.id)
    window = window_for(ctx.session, unit)
    days = _weekdays(ctx)
    return ctx.t(
        "course.calendar_note",
        start=clock(ctx.language, window.start),
        end=clock(ctx.language, window.end),
        weeks=", ".join(str(w) for w in window.summer_closure_weeks) or ctx.t("course.no_summer"),
        summary_day=days[row.summary_weekday % 7],
        summary_time=clock(ctx.language, parse_hhmm(row.summary_time) or window.start),
        summary_to=ctx.t("course.summary_to_trio" if row.summary_to_trio else "course.summary_to_leader"),
        checkin_day=days[row.checkin_weekday % 7],
        checkin_time=clock(ctx.language, parse_hhmm(row.checkin_time) or window.start),
    )


def intro(ctx: HandlerContext) -> Reply:
    title = ctx.t("course.intro_title")
    return Reply(
        fallback=title,
        blocks=(
            Header(title),
            Text(ctx.t("course.intro")),
            Note(ctx.t("course.not_enrolled")),
            Buttons((Button(ctx.t("course.enrol_button"), "course.enrol", "", "primary"),)),
        ),
    )


# Enrol and move ----------------------------------------------------------------------------------------


def _pending(ctx: HandlerContext, run: CourseRun) -> int:
    count = ctx.session.scalar(
        select(func.count()).where(DueNudge.run_id == run.id, DueNudge.status == "pending")
    )
    return int(count or 0)


def enrol(ctx: HandlerContext, starts: list[datetime]) -> None:
    _require_leader(ctx)
    unit = ctx.require_unit()
    run = runs.enrol(ctx.session, unit, ctx.member, starts, ctx.now, ctx.language)
    window = window_for(ctx.session, unit)
    ctx.private(
        ctx.t(
            "course.enrolled",
            unit=unit.name,
            count=plural(ctx.language, "counts.reminders", _pending(ctx, run)),
            start=clock(ctx.language, window.start),
            end=clock(ctx.language, window.end),
        )
    )
    ctx.post(
        ctx.t(
            "course.enrolled_post",
            name=ctx.member.display_name or ctx.member.user_id,
            unit=unit.name,
            when=when_text(ctx.language, starts[0], unit.timezone),
        )
    )
    ctx.private(schedule(ctx, run))


def start(ctx: HandlerContext, words: list[str]) -> None:
    unit = ctx.require_unit()
    _require_leader(ctx)
    if not words:
        if runs.active_run(ctx.session, unit.id) is not None:
            raise UserError("course.already_enrolled")
        ctx.open_form(enrol_form(ctx))
        return
    first = runs.parse_moment(" ".join(words), unit.timezone, ctx.now, DEFAULT_TIME)
    enrol(ctx, runs.default_starts(first, window_for(ctx.session, unit)))
    # Only the first date was typed: say where the staff gatherings went and how to move them.
    ctx.private(ctx.t("course.staff_default", time=clock(ctx.language, runs.STAFF_GATHERING_TIME)))


def move(ctx: HandlerContext, words: list[str]) -> None:
    unit = ctx.require_unit()
    run = _require_run(ctx)
    if not _may_change(ctx, run):
        raise UserError("course.not_allowed")
    if len(words) < 2 or not words[0].isdigit():
        raise UserError("course.move_usage")
    number = int(words[0])
    modules = runs.modules_of(ctx.session, run.id)
    if not 1 <= number <= len(modules):
        raise UserError("course.no_such_module", module=number)
    current = modules[number - 1].starts_at.astimezone(window_for(ctx.session, unit).zone).time()
    new_start = runs.parse_moment(" ".join(words[1:]), unit.timezone, ctx.now, current)
    runs.move_module(ctx.session, run, number, new_start, ctx.now, ctx.language)
    when = when_text(ctx.language, new_start, unit.timezone)
    ctx.post(ctx.t("course.moved", module=number, when=when))
    count = plural(ctx.language, "counts.reminders", _pending(ctx, run))
    ctx.private(ctx.t("course.moved_private", module=number, count=count))


def enrol_form(ctx: HandlerContext) -> Form:
    unit = ctx.require_unit()
    window = window_for(ctx.session, unit)
    # Two weeks ahead, on a working day: time to tell the staff.
    day = next_working_day(ctx.now.astimezone(window.zone).date() + timedelta(days=14), window)
    suggested = runs.default_starts(local_at(day, DEFAULT_TIME, window.zone), window)
    kinds = load_plan().module_kinds
    fields = tuple(
        FormField(
            name=f"m{n}",
            label=ctx.t("course.field_label", number=n, kind=ctx.t(f"course.kinds.{kinds[n]}")),
            initial=suggested[n - 1].astimezone(window.zone).strftime("%Y-%m-%d %H:%M"),
            max_length=20,
        )
        for n in range(1, MODULE_COUNT + 1)
    )
    return Form(
        "course.enrol",
        ctx.t("course.form_title"),
        ctx.t("course.form_submit"),
        fields,
        intro=ctx.t("course.form_intro"),
    )


# Settings ----------------------------------------------------------------------------------------------


def settings_form(ctx: HandlerContext, run: CourseRun) -> Form:
    row = settings_for(ctx.session, ctx.require_unit().id)
    days = tuple(Option(name, str(i)) for i, name in enumerate(_weekdays(ctx)))
    to = (
        Option(ctx.t("course.summary_to_leader"), "leader"),
        Option(ctx.t("course.summary_to_trio"), "trio"),
    )

    def field(
        name: str,
        initial: str,
        kind: FieldKind = "text",
        options: tuple[Option, ...] = (),
        max_length: int = 40,
    ) -> FormField:
        label = ctx.t(f"course.settings.{name}")
        return FormField(name, label, kind, initial=initial, options=options, max_length=max_length)

    return Form(
        "course.settings",
        ctx.t("course.settings.title"),
        ctx.t("course.settings.submit"),
        (
            field("window_start", row.window_start),
            field("window_end", row.window_end),
            field("summer_weeks", row.summer_weeks),
            # Room for a year's five planning days written as dates.
            field("planning_days", row.planning_days or "", max_length=200),
            field("summary_day", str(row.summary_weekday), "select", days),
            field("summary_time", row.summary_time),
            field("summary_to", "trio" if row.summary_to_trio else "leader", "select", to),
            field("checkin_day", str(row.checkin_weekday), "select", days),
            field("checkin_time", row.checkin_time),
        ),
        context=str(run.id),
        intro=ctx.t("course.settings.intro"),
    )


def _time(value: str) -> time:
    parsed = parse_hhmm(value)
    if parsed is None:
        raise UserError("course.bad_time", value=value[:10])
    return parsed


def _weekday(value: str) -> int:
    if value.isdigit() and 0 <= int(value) <= 6:
        return int(value)
    raise UserError("course.settings.bad_weekday", value=value[:20])


def save_settings(ctx: HandlerContext, values: dict[str, str]) -> None:
    unit = ctx.require_unit()
    # Each refusal names its field, so the form shows it there and keeps what was typed (Slack's
    # response_action errors, Teams' redrawn card, the console's question asked again).
    with in_field("window_start"):
        start_at = _time(values.get("window_start", ""))
    with in_field("window_end"):
        end_at = _time(values.get("window_end", ""))
    if not start_at < end_at:
        raise FieldError(
            "window_end",
            "course.settings.bad_window",
            start=clock(ctx.language, start_at),
            end=clock(ctx.language, end_at),
        )
    weeks = parse_weeks(values.get("summer_weeks", ""))
    if weeks is None:
        raise FieldError(
            "summer_weeks", "course.settings.bad_weeks", value=values.get("summer_weeks", "")[:40]
        )
    today = ctx.now.astimezone(window_for(ctx.session, unit).zone).date()
    planning = parse_days(values.get("planning_days", ""), today)
    if planning is None:
        raise FieldError(
            "planning_days", "course.settings.bad_days", value=values.get("planning_days", "")[:40]
        )
    with in_field("summary_time"):
        summary_time = _time(values.get("summary_time", ""))
    with in_field("checkin_time"):
        checkin_time = _time(values.get("checkin_time", ""))
    ctx.checked()  # a dry run of the form stops before the plan is rebuilt
    row = ctx.session.get(CourseSettings, unit.id)
    if row is None:
        row = CourseSettings(unit_id=unit.id)
        ctx.session.add(row)
    row.window_start, row.window_end = hhmm(start_at), hhmm(end_at)
    row.summer_weeks = ",".join(str(w) for w in weeks)
    row.planning_days = ",".join(d.isoformat() for d in planning)
    row.summary_weekday = _weekday(values.get("summary_day", "0"))
    row.summary_time = hhmm(summary_time)
    row.summary_to_trio = values.get("summary_to") == "trio"
    row.checkin_weekday = _weekday(values.get("checkin_day", "3"))
    row.checkin_time = hhmm(checkin_time)
    ctx.session.flush()
    runs.replan_unit(ctx.session, unit, ctx.now)
    ctx.private(ctx.t("course.settings.saved"))


def register(router: Router) -> None:
    @router.command("kurs", "course", "kurset", help_key="course.help.kurs")
    def kurs(ctx: HandlerContext, cmd: Command) -> None:
        words = cmd.args.split()
        sub = words[0].lower() if words else ""
        if sub in ("start", "påmelding", "meld", "enrol", "enroll"):
            start(ctx, words[1:])
        elif sub in ("flytt", "move", "endre"):
            move(ctx, words[1:])
        elif sub in ("avslutt", "stopp", "finish", "stop"):
            run = _require_run(ctx)
            if not _may_change(ctx, run):
                raise UserError("course.not_allowed")
            runs.finish(ctx.session, run)
            ctx.post(ctx.t("course.finished", unit=ctx.require_unit().name))
        elif sub in ("innstillinger", "innstillingar", "settings"):
            run = _require_run(ctx)
            if not _may_change(ctx, run):
                raise UserError("course.not_allowed")
            ctx.open_form(settings_form(ctx, run))
        else:
            current = runs.active_run(ctx.session, ctx.require_unit().id)
            ctx.private(schedule(ctx, current) if current else intro(ctx))

    @router.action("course.enrol")
    def enrol_button(ctx: HandlerContext, action: Action) -> None:
        start(ctx, [])

    @router.form("course.enrol", check=True)
    def enrol_submitted(ctx: HandlerContext, sub: Submission) -> None:
        unit = ctx.require_unit()
        starts = []
        for n in range(1, MODULE_COUNT + 1):
            with in_field(f"m{n}"):
                starts.append(
                    runs.parse_moment(sub.values.get(f"m{n}", ""), unit.timezone, ctx.now, DEFAULT_TIME)
                )
        ctx.checked()  # a dry run of the form stops before the run and its reminders are written
        enrol(ctx, starts)

    @router.action("course.hora_draft")
    def hora_draft(ctx: HandlerContext, action: Action) -> None:
        unit_text, _, module_text = action.value.partition(":")
        if not unit_text.isdigit() or module_text not in ("2", "4"):
            raise UserError("errors.unknown_action")
        unit = ctx.session.get(Unit, int(unit_text))
        # The button came in a direct message to the trio: check the role in the button's own unit, and
        # answer a stranger exactly as a unit that does not exist.
        if unit is None or not access.may_prepare_gathering(
            ctx.session, ctx.organisation.id, ctx.member.id, unit.id
        ):
            raise UserError("gathering.not_allowed")
        if runs.active_run(ctx.session, unit.id) is None:
            raise UserError("course.not_enrolled")
        draft = gathering.draft_for(ctx.session, unit, int(module_text), ctx.language)
        prefill = Prefill(draft.purpose, draft.desired, draft.agenda, draft.day, draft.time, draft.minutes)
        ctx.open_form(meeting_form(ctx, draft.case_id, prefill))

    @router.action("course.settings")
    def settings_button(ctx: HandlerContext, action: Action) -> None:
        run = _require_run(ctx)
        if not _may_change(ctx, run):
            raise UserError("course.not_allowed")
        ctx.open_form(settings_form(ctx, run))

    @router.form("course.settings", check=True)
    def settings_submitted(ctx: HandlerContext, sub: Submission) -> None:
        run = _require_run(ctx)
        if not _may_change(ctx, run):
            raise UserError("course.not_allowed")
        save_settings(ctx, sub.values)
