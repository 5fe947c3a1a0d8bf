"""Roles: ``/parts rolle`` (set your role, see who holds which) and the roles exercise ``/parts roller``.

The exercise ("Snakke sammen om rollene") runs in one thread: the bot asks each role its own questions
(what do I do, what do I expect of the others, where do our roles meet), collects named answers from the
thread or a form, and closes the round with a summary grouped by role.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import func, select

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import (
    Action,
    Button,
    Buttons,
    Command,
    Form,
    FormField,
    Header,
    Message,
    Note,
    Reply,
    Submission,
    Text,
)
from bot.chat.router import Router
from bot.roles import primary_role
from bot.storage.models import ROLES, Member, RolesAnswer, RolesRound
from bot.toolbox import access
from handlers import role_grants

QUESTIONS = ("do", "expect", "meet")
# Answers in the thread are free text; answers through the form name the question they answer.
FREE = "free"


def head_key(round_id: int) -> str:
    return f"roles:{round_id}:head"


# --------------------------------------------------------------------------------------------------
# /parts roller – the roles exercise
# --------------------------------------------------------------------------------------------------


def _open_round(ctx: HandlerContext) -> RolesRound | None:
    unit = ctx.require_unit()
    return ctx.session.scalar(
        select(RolesRound)
        .where(RolesRound.unit_id == unit.id, RolesRound.status == "open")
        .order_by(RolesRound.id.desc())
    )


def _round_from_value(ctx: HandlerContext, value: str) -> RolesRound:
    round_ = ctx.session.get(RolesRound, int(value)) if value.isdigit() else None
    # Scoped to the caller's organisation and unit (SEC-13): a round elsewhere answers like no round.
    if (
        round_ is None
        or not access.in_organisation(ctx.session, round_.unit_id, ctx.organisation.id)
        or not access.is_member(ctx.session, round_.unit_id, ctx.member.id)
        or (ctx.unit is not None and round_.unit_id != ctx.unit.id)
    ):
        raise UserError("errors.unknown_action")
    return round_


def _round_from_thread(ctx: HandlerContext) -> RolesRound:
    key = ctx.thread_key or ""
    parts = key.split(":")
    if len(parts) < 2 or not parts[1].isdigit():
        raise UserError("errors.unknown_action")
    return _round_from_value(ctx, parts[1])


def _head(ctx: HandlerContext, round_: RolesRound) -> Reply:
    counts = Counter(
        dict(
            ctx.session.execute(
                select(RolesAnswer.role, func.count(func.distinct(RolesAnswer.member_id)))
                .where(RolesAnswer.round_id == round_.id)
                .group_by(RolesAnswer.role)
            ).all()
        )
    )
    total = sum(counts.values())
    starter = ctx.session.get(Member, round_.started_by_id) if round_.started_by_id else None
    title = ctx.t("roles.round.title")
    per_role = " · ".join(
        ctx.t("roles.round.counts", role=ctx.t(f"roles.plural.{role}"), count=counts.get(role, 0))
        for role in ROLES
    )
    blocks: list[Header | Text | Note | Buttons] = [
        Header(title),
        Text(ctx.t("roles.round.intro", name=starter.display_name if starter else "")),
    ]
    if round_.status == "open":
        blocks.append(Note(ctx.t("roles.round.status_open", count=total) + " — " + per_role))
        blocks.append(
            Buttons(
                (
                    Button(ctx.t("roles.round.answer_button"), "roles.answer", str(round_.id), "primary"),
                    Button(ctx.t("roles.round.close_button"), "roles.close", str(round_.id)),
                )
            )
        )
    else:
        blocks.append(Note(ctx.t("roles.round.status_closed", count=total) + " — " + per_role))
    return Reply(fallback=title, blocks=tuple(blocks))


def start_round(ctx: HandlerContext) -> None:
    unit = ctx.require_unit()
    if _open_round(ctx) is not None:
        raise UserError("roles.round.already_open")
    round_ = RolesRound(unit_id=unit.id, started_by_id=ctx.member.id, created_at=ctx.now)
    ctx.session.add(round_)
    ctx.session.flush()
    key = head_key(round_.id)
    ctx.post(_head(ctx, round_), key=key)
    for role in ROLES:
        title = ctx.t("roles.round.questions_title", role=ctx.t(f"roles.names.{role}"))
        questions = "\n".join(f"• {ctx.t(f'roles.round.questions.{role}.{q}')}" for q in QUESTIONS)
        ctx.post(Reply(fallback=title, blocks=(Text(f"*{title}*\n{questions}"),)), thread_key=key)


def _speaking_role(ctx: HandlerContext, round_: RolesRound) -> str:
    role = primary_role(ctx.session, round_.unit_id, ctx.member.id)
    if role is None:
        raise UserError("roles.need_role")
    return role


def _require_open(round_: RolesRound) -> None:
    if round_.status != "open":
        raise UserError("roles.round.closed")


def add_answers(ctx: HandlerContext, round_: RolesRound, answers: dict[str, str]) -> None:
    _require_open(round_)
    role = _speaking_role(ctx, round_)
    cleaned = {q: ctx.text(text) for q, text in answers.items() if text.strip()}
    if not cleaned:
        raise UserError("roles.round.need_one")
    for question, text in cleaned.items():
        ctx.session.add(
            RolesAnswer(
                round_id=round_.id,
                member_id=ctx.member.id,
                role=role,
                question=question,
                text=text,
                created_at=ctx.now,
            )
        )
    ctx.session.flush()
    ctx.private(ctx.t("roles.round.thanks", role=ctx.t(f"roles.names.{role}")))
    ctx.update(head_key(round_.id), _head(ctx, round_))


def summary(ctx: HandlerContext, round_: RolesRound) -> Reply:
    rows = ctx.session.execute(
        select(RolesAnswer, Member)
        .join(Member, Member.id == RolesAnswer.member_id)
        .where(RolesAnswer.round_id == round_.id)
        .order_by(RolesAnswer.id)
    ).all()
    title = ctx.t("roles.round.summary_title")
    if not rows:
        return Reply(fallback=title, blocks=(Header(title), Text(ctx.t("roles.round.summary_empty"))))
    grouped: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    people: dict[str, set[int]] = defaultdict(set)
    for answer, member in rows:
        line = ctx.t(
            "roles.round.summary_answer", name=member.display_name or member.user_id, text=answer.text
        )
        grouped[answer.role][answer.question].append(line)
        people[answer.role].add(member.id)
    blocks: list[Header | Text | Note] = [Header(title)]
    for role in ROLES:
        if role not in grouped:
            continue
        parts = [
            ctx.t("roles.round.summary_role", role=ctx.t(f"roles.plural.{role}"), count=len(people[role]))
        ]
        for question in (*QUESTIONS, FREE):
            if question not in grouped[role]:
                continue
            label = (
                ctx.t(f"roles.round.field_labels.{question}")
                if question != FREE
                else ctx.t("roles.round.free_answer")
            )
            parts.append(ctx.t("roles.round.summary_question", question=label))
            parts.extend(grouped[role][question])
        blocks.append(Text("\n".join(parts)))
    blocks.append(Note(ctx.t("roles.round.summary_reflect")))
    return Reply(fallback=title, blocks=tuple(blocks))


def close_round(ctx: HandlerContext, round_: RolesRound) -> None:
    _require_open(round_)
    if round_.started_by_id != ctx.member.id and not access.is_party(
        ctx.session, round_.unit_id, ctx.member.id
    ):
        raise UserError("roles.round.close_not_allowed")
    round_.status = "closed"
    round_.closed_at = ctx.now
    ctx.session.flush()
    key = head_key(round_.id)
    ctx.post(summary(ctx, round_), thread_key=key)
    ctx.update(key, _head(ctx, round_))


def answer_form(ctx: HandlerContext, round_: RolesRound) -> Form:
    role = _speaking_role(ctx, round_)
    fields = tuple(
        FormField(
            name=q,
            label=ctx.t(f"roles.round.field_labels.{q}"),
            kind="multiline",
            optional=True,
            max_length=2000,
            hint=ctx.t(f"roles.round.questions.{role}.{q}"),
        )
        for q in QUESTIONS
    )
    return Form(
        form_id="roles.answer",
        title=ctx.t("roles.round.form_title"),
        submit_label=ctx.t("roles.round.form_submit"),
        fields=fields,
        context=str(round_.id),
        intro=ctx.t("roles.round.form_intro", role=ctx.t(f"roles.names.{role}")),
    )


def register(router: Router) -> None:
    @router.command("rolle", "role", "rolla")
    def rolle(ctx: HandlerContext, cmd: Command) -> None:
        role_grants.rolle(ctx, cmd.args)

    router.action("roles.confirm")(role_grants.confirm_button)
    router.action("roles.decline")(role_grants.decline_button)
    router.action("roles.review_ok")(role_grants.review_ok)
    router.after_each(role_grants.ask_review_once)

    @router.command("roller", "roles", "rollesamtale")
    def roller(ctx: HandlerContext, cmd: Command) -> None:
        word = cmd.args.strip().lower()
        if word in ("avslutt", "close", "slutt"):
            round_ = _open_round(ctx)
            if round_ is None:
                raise UserError("roles.round.none_open")
            close_round(ctx, round_)
        else:
            start_round(ctx)

    @router.thread("roles")
    def thread_answer(ctx: HandlerContext, msg: Message) -> None:
        add_answers(ctx, _round_from_thread(ctx), {FREE: msg.text})

    @router.action("roles.answer")
    def open_answer_form(ctx: HandlerContext, action: Action) -> None:
        round_ = _round_from_value(ctx, action.value)
        _require_open(round_)
        ctx.open_form(answer_form(ctx, round_))

    @router.form("roles.answer")
    def submit_answer(ctx: HandlerContext, sub: Submission) -> None:
        round_ = _round_from_value(ctx, sub.context)
        add_answers(ctx, round_, {q: sub.values.get(q, "") for q in QUESTIONS})

    @router.action("roles.close")
    def close_button(ctx: HandlerContext, action: Action) -> None:
        close_round(ctx, _round_from_value(ctx, action.value))
