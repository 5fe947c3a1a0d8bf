"""``/parts utveksling``: module 6's experience exchange between kindergartens (:mod:`bot.course.exchange`).

``utveksling ny`` (leder): an exchange group for the unit's course run, with an invite code;
``utveksling bli med <kode>`` (leder of another unit): join it; ``utveksling kanal`` (a leder, typed in
the channel): the organisation's exchange channel; ``utveksling side`` (the trio): the drafted page;
``utveksling`` alone: where the unit stands. The buttons: choose what to share (the trio), confirm it
(the other party), ask about a posted page (the group's units), answer (the sharing trio).
"""

from __future__ import annotations

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import (
    Action,
    Block,
    Button,
    Buttons,
    Command,
    Form,
    FormField,
    Header,
    Note,
    Reply,
    Submission,
    Text,
)
from bot.chat.router import Router
from bot.course import exchange, runs
from bot.course.audience import direct, language_of, organisation_of, trio_of
from bot.course.models import CourseRun
from bot.course.models_exchange import ExchangePage, ExchangeQuestion
from bot.i18n import t
from bot.roles import roles_of
from bot.storage.models import PARTY_ROLES, Member, Organisation, Unit
from bot.toolbox import access
from handlers.problem import checked

QUESTION_CHARS = 1000


def _leader_run(ctx: HandlerContext) -> tuple[Unit, CourseRun]:
    unit = ctx.require_unit()
    if not access.may_manage_exchange(ctx.session, ctx.organisation.id, ctx.member.id, unit.id):
        raise UserError("exchange.leader_only")
    run = runs.active_run(ctx.session, unit.id)
    if run is None:
        raise UserError("course.not_enrolled")
    return unit, run


def _page(ctx: HandlerContext, value: str) -> ExchangePage:
    page = ctx.session.get(ExchangePage, int(value)) if value.isdigit() else None
    if page is None:
        raise UserError("errors.unknown_action")
    return page


def _prepared_page(ctx: HandlerContext, value: str) -> ExchangePage:
    """A page the person may choose for: the trio of its own unit; anyone else hears "unknown"."""
    page = _page(ctx, value)
    if not access.may_prepare_exchange(ctx.session, ctx.organisation.id, ctx.member.id, page.unit_id):
        raise UserError("errors.unknown_action")
    if page.status == "posted":
        raise UserError("exchange.already_posted")
    return page


def _unit_name(ctx: HandlerContext, unit_id: int) -> str:
    unit = ctx.session.get(Unit, unit_id)
    return unit.name if unit else ""


def _role_word(ctx: HandlerContext, unit_id: int, member: Member) -> str:
    held = [r for r in roles_of(ctx.session, unit_id, member.id) if r in PARTY_ROLES]
    return ", ".join(ctx.t(f"roles.names.{r}") for r in held)


# Commands ------------------------------------------------------------------------------------------------


def create(ctx: HandlerContext) -> None:
    unit, run = _leader_run(ctx)
    code = exchange.create_group(ctx.session, run, ctx.now)
    ctx.private(ctx.t("exchange.created", code=code, unit=unit.name))


def join(ctx: HandlerContext, code: str) -> None:
    unit, run = _leader_run(ctx)
    if not code:
        raise UserError("exchange.join_usage")
    group = exchange.join_group(ctx.session, run, code)
    others = [u for u in exchange.group_units(ctx.session, group.id) if u.id != unit.id]
    ctx.private(ctx.t("exchange.joined", units=", ".join(u.name for u in others)))
    # The leders of the other units learn who joined with their code.
    for other in others:
        org = organisation_of(ctx.session, other)
        for leader in trio_of(ctx.session, other.id):
            if access.is_leader(ctx.session, other.id, leader.id):
                text = t(language_of(leader, other), "exchange.someone_joined", unit=unit.name)
                ctx.effects.append(direct(org, leader, Reply.text(text)))


def name_channel(ctx: HandlerContext) -> None:
    if ctx.place.is_direct:
        raise UserError("exchange.channel_in_channel")
    if not access.may_name_exchange_channel(ctx.session, ctx.organisation.id, ctx.member.id):
        raise UserError("exchange.leader_only")
    exchange.set_channel(ctx.session, ctx.organisation, ctx.place.channel, ctx.member)
    ctx.post(ctx.t("exchange.channel_set"), place=ctx.place)


def show_page(ctx: HandlerContext) -> None:
    unit = ctx.require_unit()
    if not access.may_prepare_exchange(ctx.session, ctx.organisation.id, ctx.member.id, unit.id):
        raise UserError("exchange.trio_only")
    run = runs.active_run(ctx.session, unit.id)
    if run is None:
        raise UserError("course.not_enrolled")
    page = exchange.draft_page(ctx.session, run, unit, ctx.now, language_of(None, unit))
    ctx.private(exchange.render_draft(page, unit.name, ctx.language))


def status(ctx: HandlerContext) -> None:
    unit = ctx.require_unit()
    run = runs.active_run(ctx.session, unit.id)
    title = ctx.t("exchange.status_title", unit=unit.name)
    lines: list[str] = []
    row = exchange.membership(ctx.session, run.id) if run else None
    if row is None:
        lines.append(ctx.t("exchange.status_no_group"))
    else:
        names = ", ".join(u.name for u in exchange.group_units(ctx.session, row.group_id))
        lines.append(ctx.t("exchange.status_group", units=names))
        page = exchange.page_of(ctx.session, run.id) if run else None
        lines.append(ctx.t(f"exchange.status_page.{page.status if page else 'none'}"))
    channel = exchange.channel_of(ctx.session, ctx.organisation.id)
    lines.append(
        ctx.t("exchange.status_channel", channel=channel.channel_id)
        if channel
        else ctx.t("exchange.status_no_channel")
    )
    ctx.private(
        Reply(fallback=title, blocks=(Header(title), Text("\n".join(lines)), Note(ctx.t("exchange.usage"))))
    )


# Choosing and confirming ---------------------------------------------------------------------------------


def choose_form(ctx: HandlerContext, page: ExchangePage) -> Form:
    fields = []
    for number, item in enumerate(page.items or [], start=1):
        heading = str(item["text"]).split("\n", 1)[0].strip("*")
        first = str(item["text"]).split("\n", 2)[1] if "\n" in str(item["text"]) else ""
        label = f"{number}. {heading}" + (f": {first}" if first else "")
        fields.append(
            FormField(
                str(item["key"]),
                label[:150],
                "checkbox",
                optional=True,
                initial="true" if item.get("chosen") else "",
                hint=ctx.t("exchange.share_this"),
            )
        )
    return Form(
        "exchange.propose",
        ctx.t("exchange.form_title"),
        ctx.t("exchange.form_submit"),
        tuple(fields),
        context=str(page.id),
        intro=ctx.t("exchange.form_intro"),
    )


def confirm_request(ctx: HandlerContext, page: ExchangePage, unit: Unit, confirmer: Member) -> Reply:
    language = language_of(confirmer, unit)
    title = t(language, "exchange.confirm_title", unit=unit.name)
    who = ctx.member.display_name or ctx.member.user_id
    blocks: list[Block] = [
        Header(title),
        Text(t(language, "exchange.confirm_intro", name=who, role=_role_word(ctx, unit.id, ctx.member))),
        *exchange.render_items(exchange.chosen_items(page)),
        Note(t(language, "exchange.confirm_note")),
        Buttons(
            (
                Button(
                    t(language, "exchange.confirm_button"),
                    "exchange.confirm",
                    f"{page.id}:{exchange.selection_tag(page)}",
                    "primary",
                ),
                Button(t(language, "exchange.change_button"), "exchange.choose", str(page.id)),
            )
        ),
    ]
    return Reply(fallback=title, blocks=tuple(blocks))


def propose(ctx: HandlerContext, sub: Submission) -> None:
    page = _prepared_page(ctx, sub.context)
    keys = {str(item["key"]) for item in page.items or [] if checked(sub.values.get(str(item["key"]), ""))}
    exchange.propose(ctx.session, page, keys, ctx.member)
    unit = ctx.session.get(Unit, page.unit_id)
    assert unit is not None
    org = organisation_of(ctx.session, unit)
    confirmers = [
        m
        for m in trio_of(ctx.session, unit.id)
        if access.may_confirm_exchange(ctx.session, org.id, m.id, unit.id, page.proposed_by_id)
    ]
    if not confirmers:
        raise UserError("exchange.no_confirmer")
    for member in confirmers:
        ctx.effects.append(direct(org, member, confirm_request(ctx, page, unit, member)))
    names = ", ".join(m.display_name or m.user_id for m in confirmers)
    ctx.private(ctx.t("exchange.proposed", names=names))


def confirm(ctx: HandlerContext, action: Action) -> None:
    page_text, _, tag = action.value.partition(":")
    page = _page(ctx, page_text)
    if not access.may_confirm_exchange(
        ctx.session, ctx.organisation.id, ctx.member.id, page.unit_id, page.proposed_by_id
    ):
        if access.may_prepare_exchange(ctx.session, ctx.organisation.id, ctx.member.id, page.unit_id):
            raise UserError("exchange.other_party")
        raise UserError("errors.unknown_action")
    posts = exchange.confirm(ctx.session, page, ctx.member, tag, ctx.now)
    ctx.effects.extend(posts)
    unit = ctx.session.get(Unit, page.unit_id)
    assert unit is not None
    org = organisation_of(ctx.session, unit)
    who = ctx.member.display_name or ctx.member.user_id
    for member in trio_of(ctx.session, unit.id):
        text = t(language_of(member, unit), "exchange.posted", name=who, count=len(posts))
        ctx.effects.append(direct(org, member, Reply.text(text)))


# Questions and answers -------------------------------------------------------------------------------------


def _askable(ctx: HandlerContext, value: str) -> ExchangePage:
    page = _page(ctx, value)
    unit_ids = [u.id for u in exchange.group_units(ctx.session, page.group_id)]
    if page.status != "posted" or not access.may_ask_exchange(
        ctx.session, ctx.organisation.id, ctx.member.id, unit_ids
    ):
        raise UserError("errors.unknown_action")
    return page


def _asker_unit(ctx: HandlerContext, page: ExchangePage) -> Unit | None:
    for unit in exchange.group_units(ctx.session, page.group_id):
        if unit.organisation_id == ctx.organisation.id and access.is_member(
            ctx.session, unit.id, ctx.member.id
        ):
            return unit
    return None


def ask(ctx: HandlerContext, sub: Submission) -> None:
    page = _askable(ctx, sub.context)
    text = ctx.text(sub.values.get("text", ""), QUESTION_CHARS)
    asker_unit = _asker_unit(ctx, page)
    question = ExchangeQuestion(
        page_id=page.id,
        asked_by_id=ctx.member.id,
        asker_unit_id=asker_unit.id if asker_unit else None,
        text=text,
        asked_at=ctx.now,
    )
    ctx.session.add(question)
    ctx.session.flush()
    unit = ctx.session.get(Unit, page.unit_id)
    assert unit is not None
    org = organisation_of(ctx.session, unit)
    who = ctx.member.display_name or ctx.member.user_id
    for member in trio_of(ctx.session, unit.id):
        language = language_of(member, unit)
        title = t(language, "exchange.question_title")
        reply = Reply(
            fallback=title,
            blocks=(
                Header(title),
                Text(
                    t(
                        language,
                        "exchange.question_text",
                        name=who,
                        asker_unit=asker_unit.name if asker_unit else "",
                        text=text,
                    )
                ),
                Buttons(
                    (
                        Button(
                            t(language, "exchange.reply_button"),
                            "exchange.reply",
                            str(question.id),
                            "primary",
                        ),
                    )
                ),
            ),
        )
        ctx.effects.append(direct(org, member, reply))
    ctx.private(ctx.t("exchange.asked", unit=unit.name))


def _question(ctx: HandlerContext, value: str) -> tuple[ExchangeQuestion, ExchangePage]:
    question = ctx.session.get(ExchangeQuestion, int(value)) if value.isdigit() else None
    page = ctx.session.get(ExchangePage, question.page_id) if question else None
    if question is None or page is None:
        raise UserError("errors.unknown_action")
    if not access.may_answer_exchange(ctx.session, ctx.organisation.id, ctx.member.id, page.unit_id):
        raise UserError("errors.unknown_action")
    if question.answered_at is not None:
        raise UserError("exchange.already_answered")
    return question, page


def answer(ctx: HandlerContext, sub: Submission) -> None:
    question, page = _question(ctx, sub.context)
    text = ctx.text(sub.values.get("text", ""), QUESTION_CHARS)
    question.answer = text
    question.answered_by_id = ctx.member.id
    question.answered_at = ctx.now
    ctx.session.flush()
    asker = ctx.session.get(Member, question.asked_by_id) if question.asked_by_id else None
    asker_unit = ctx.session.get(Unit, question.asker_unit_id) if question.asker_unit_id else None
    unit_name = _unit_name(ctx, page.unit_id)
    answered = exchange.Answered(
        question,
        (asker.display_name or asker.user_id) if asker else ctx.t("exchange.someone"),
        asker_unit.name if asker_unit else "",
    )
    ctx.effects.extend(exchange.answer_posts(ctx.session, page, answered, text, unit_name))
    if asker is not None and asker_unit is not None:
        org = ctx.session.get(Organisation, asker.organisation_id)
        if org is not None:
            note = t(language_of(asker, asker_unit), "exchange.answered_note", unit=unit_name)
            ctx.effects.append(direct(org, asker, Reply.text(note)))
    ctx.private(ctx.t("exchange.answer_thanks"))


def text_form(ctx: HandlerContext, form_id: str, title_key: str, label: str, context: int) -> Form:
    return Form(
        form_id,
        ctx.t(title_key),
        ctx.t("exchange.send"),
        (FormField("text", label, "multiline", max_length=QUESTION_CHARS),),
        context=str(context),
    )


def register(router: Router) -> None:
    @router.command("utveksling", "erfaringsutveksling", "exchange", help_key="exchange.help")
    def utveksling(ctx: HandlerContext, cmd: Command) -> None:
        words = cmd.args.split()
        sub = words[0].lower() if words else ""
        if sub in ("ny", "new", "lag", "kode", "code"):
            create(ctx)
        elif sub in ("bli", "ver", "join"):
            rest = [w for w in words[1:] if w.lower() not in ("med", "with")]
            join(ctx, "".join(rest))
        elif sub in ("kanal", "channel"):
            name_channel(ctx)
        elif sub in ("side", "page", "utkast", "draft"):
            show_page(ctx)
        else:
            status(ctx)

    @router.action("exchange.choose")
    def choose(ctx: HandlerContext, action: Action) -> None:
        ctx.open_form(choose_form(ctx, _prepared_page(ctx, action.value)))

    @router.form("exchange.propose")
    def proposed(ctx: HandlerContext, sub: Submission) -> None:
        propose(ctx, sub)

    @router.action("exchange.confirm")
    def confirmed(ctx: HandlerContext, action: Action) -> None:
        confirm(ctx, action)

    @router.action("exchange.ask")
    def ask_button(ctx: HandlerContext, action: Action) -> None:
        page = _askable(ctx, action.value)
        label = ctx.t("exchange.question_label", unit=_unit_name(ctx, page.unit_id))
        ctx.open_form(text_form(ctx, "exchange.question", "exchange.ask_title", label, page.id))

    @router.form("exchange.question")
    def asked(ctx: HandlerContext, sub: Submission) -> None:
        ask(ctx, sub)

    @router.action("exchange.reply")
    def reply_button(ctx: HandlerContext, action: Action) -> None:
        question, _ = _question(ctx, action.value)
        label = ctx.t("exchange.answer_label", text=question.text[:200])
        ctx.open_form(text_form(ctx, "exchange.answer", "exchange.answer_title", label, question.id))

    @router.form("exchange.answer")
    def answered(ctx: HandlerContext, sub: Submission) -> None:
        answer(ctx, sub)
