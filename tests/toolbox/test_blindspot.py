"""The blind spot through the console chat: named questions at once, anonymous ones in shuffled batches
that leave no trace of who asked or when – in the tables, the outbox and the logs."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, inspect, select

from bot.chat.delivery import Claimed
from bot.chat.model import Actor, Command, Place, Private
from bot.storage.models import Member, OutboxItem
from bot.toolbox import blindspot
from bot.toolbox.models import AnonymousPool, CaseParticipant, PendingQuestion, Question
from tests.console_driver import ConsoleDriver, message_number, option_number

QUESTIONS = {
    "Siri": "Hvorfor sier ingen fra når planen ikke holder?",
    "Per": "Vet ledelsen hvor lang tid beskjedene tar?",
    "Kari": "Hva ville skjedd om vi droppet morgenmøtet?",
}


async def blindspot_case(make_bot, **settings: object) -> tuple[ConsoleDriver, str]:  # type: ignore[no-untyped-def]
    """A case at the blind-spot step, started by Ola (verneombud); Siri and Per are staff."""
    console = ConsoleDriver(make_bot(**settings))
    await console.start()
    await console.as_("Kari leder")
    await console.as_("Siri ansatt")
    await console.as_("Per ansatt")
    out = await console.as_("Ola verneombud", "/parts blindsone Beskjeder om morgenen")
    assert "*Steg 2: Finn blindsonen.*" in out
    assert "Steg: 2/6 Finn blindsonen" in out
    return console, message_number(out, "== Sak #1")


async def test_anonymous_questions_leave_no_author_and_come_out_shuffled(  # type: ignore[no-untyped-def]
    make_bot, database, clock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    console, _ = await blindspot_case(make_bot)
    bot = console.bot
    # A predictable "shuffle" (by text, backwards) proves the batch is reordered before it is posted.
    monkeypatch.setattr(blindspot, "_shuffle", lambda items: items.sort(key=lambda q: q.text, reverse=True))
    expected = sorted(QUESTIONS.values(), reverse=True)
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.DEBUG, logger="handlers")

    # Siri asks by direct message; the outbox is held so we can read exactly what would be sent. Items the
    # event stored claimed for this process are kept and handed to the real flush afterwards.
    held: list[Claimed] = []

    async def hold(
        only: object = None, platform: str = "", workspace: str = "", claimed: list[Claimed] | None = None
    ) -> int:
        held.extend(claimed or [])
        return 0

    deliver = bot.delivery.flush
    monkeypatch.setattr(bot.delivery, "flush", hold)
    out = await console.as_("Siri", "/dm", f"/parts blindsone anonym 1 {QUESTIONS['Siri']}")
    with database.transaction() as s:
        payloads = list(s.scalars(select(OutboxItem.effect)))
    assert len(payloads) == 1  # only the private receipt
    assert QUESTIONS["Siri"] not in payloads[0]
    monkeypatch.setattr(bot.delivery, "flush", deliver)
    out += await console.type("/kanal")
    await bot.delivery.flush(claimed=held)
    await bot.delivery.flush()
    out += console.take()
    assert "Takk – spørsmålet ditt er lagt inn anonymt i sak #1." in out
    assert QUESTIONS["Siri"] not in out.split("(bare synlig for Siri) Partsbot:", 1)[1]

    # The pending pool has no column that could hold a person or a time.
    columns = {c["name"] for c in inspect(database.engine).get_columns("toolbox_pending_question")}
    assert columns == {"id", "case_id", "text", "digest"}

    # The same question sent twice (a double submit of the form) is kept once, with the same receipt.
    clock.advance(minutes=7)
    for _ in range(2):
        out = await console.as_("Per", "/parts problem #1")
        out = await console.type(option_number(out, "Still spørsmål"), QUESTIONS["Per"], "ja")
        assert "Takk – spørsmålet ditt er lagt inn anonymt i sak #1." in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(PendingQuestion)) == 2
        assert s.scalar(select(func.count()).select_from(Question)) == 0
    assert "Anonyme spørsmål" not in out  # two are not a batch

    # The third one releases the batch: all three, in the shuffled order, with the batch time only.
    clock.advance(hours=2)
    released_at = clock()
    out = await console.as_("Kari", "/dm", f"/parts blindsone anonym #1 {QUESTIONS['Kari']}")
    assert "*Anonyme spørsmål (3)*" in out
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith("• ")]
    assert lines == [f"• {text}" for text in expected]
    assert "Blindsonen: 3 spørsmål, 3 av dem anonyme." in out
    with database.transaction() as s:
        rows = list(s.scalars(select(Question).order_by(Question.id)))
        assert [q.text for q in rows] == expected  # ids in shuffled order, not in the order asked
        assert all(q.author_id is None and q.anonymous and q.batch == 1 for q in rows)
        assert {q.created_at for q in rows} == {released_at} == {q.released_at for q in rows}
        assert s.scalar(select(func.count()).select_from(PendingQuestion)) == 0
        # Asking anonymously does not make anyone a participant (that would link them to it).
        assert s.scalar(select(func.count()).select_from(CaseParticipant)) == 1  # Ola, who started it

    # Nothing the application logged names an asker or quotes a question.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for text in QUESTIONS.values():
        assert text not in logged
    assert "u-siri" not in logged and "u-per" not in logged


async def test_named_questions_appear_at_once_and_twice_counts_once(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console, head = await blindspot_case(make_bot)
    shown = await console.as_("Siri", "/parts problem #1")
    button = option_number(shown, "Still spørsmål")
    out = await console.type(button, "Hvem ringer foreldrene?", "")
    assert "❓ Siri spør: Hvem ringer foreldrene?" in out
    out = await console.type(button, "Hvem ringer foreldrene?", "")  # the form sent again
    assert "Det er allerede registrert. Ingenting ble endret." in out
    assert "❓ Siri spør" not in out
    out = await console.as_("Per", "/parts blindsone spør #1 Hvem tar garderoben?")
    assert "❓ Per spør: Hvem tar garderoben?" in out
    out = await console.as_("Per", f"/tråd {head}", "Og hvem har ansvar for turene?")
    assert "Lagt til som spørsmål 3 i sak #1." in out
    assert "Blindsonen: 3 spørsmål, 0 av dem anonyme." in out
    with database.transaction() as s:
        authors = list(s.scalars(select(Question.author_id).order_by(Question.id)))
        assert len(authors) == 3 and None not in authors


async def test_leftovers_are_never_released_at_close_and_are_deleted(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console, head = await blindspot_case(make_bot)
    await console.as_("Siri", "/dm", "/parts blindsone anonym 1 Et spørsmål helt alene")
    out = await console.as_("Ola", "/kanal", f"/tråd {head}", "/parts neste")
    assert "Anonyme spørsmål som ikke ble vist: 1." in out
    assert "Et spørsmål helt alene" not in out
    assert "*Steg 3: Idéjakt*" in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Question)) == 0
        assert s.scalar(select(func.count()).select_from(PendingQuestion)) == 0
        assert s.scalar(select(func.count()).select_from(AnonymousPool)) == 0

    # The starter adds one question of their own next to Siri's and closes the step: two questions from
    # two people are not a batch of three, so closing reveals nothing (SEC-03, variant B).
    out = await console.as_("Ola", "/kanal", "/parts blindsone Vikarer uten opplæring")
    # Case #1 is open: "Gjelder det sak #1 eller en ny?" – never a silent new case (issue 13).
    out = await console.type(option_number(out, "En ny sak"))
    second = message_number(out, "== Sak #2")
    await console.as_("Siri", "/dm", "/parts blindsone anonym 2 Hvem lærer opp vikarene?")
    await console.as_("Ola", "/dm", "/parts blindsone anonym 2 Finnes det en vikarperm?")
    out = await console.as_("Ola", "/kanal", f"/tråd {second}", "/parts neste")
    assert "Anonyme spørsmål (" not in out
    assert "Hvem lærer opp vikarene?" not in out
    assert "Anonyme spørsmål som ikke ble vist: 2." in out


async def test_one_member_cannot_flush_a_batch_with_their_own_questions(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    """The n−1 attack (SEC-03): Siri asks; Per adds two of his own. Three questions, two people: held."""
    console, _ = await blindspot_case(make_bot)
    await console.as_("Siri", "/dm", "/parts blindsone anonym 1 Hvorfor får noen alltid fri på fredager?")
    await console.as_("Per", "/dm", "/parts blindsone anonym 1 Kan vi få nye stoler?")
    out = await console.as_("Per", "/parts blindsone anonym 1 Kan vi male veggene?")
    assert "Anonyme spørsmål (" not in out
    assert "Hvorfor får noen alltid fri på fredager?" not in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(PendingQuestion)) == 3
        pool = s.scalars(select(AnonymousPool)).one()
        # Two different people, as hashes that name nobody.
        assert len(pool.askers) == 2
        ids = set(s.scalars(select(Member.id)))
        assert not {str(i) for i in ids} & set(pool.askers)
    # A third person makes it a batch of all four, and the pool's key goes with it.
    out = await console.as_("Kari", "/dm", "/parts blindsone anonym 1 Hvem bestemmer turnusen?")
    assert "*Anonyme spørsmål (4)*" in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(AnonymousPool)) == 0
        assert s.scalar(select(func.count()).select_from(PendingQuestion)) == 0


async def test_anonymous_typed_in_a_channel_is_refused_with_advice(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console, _ = await blindspot_case(make_bot)
    bot = console.bot
    visible = Command(
        Actor("u-siri", "Siri"),
        Place("console", "console", "personalet"),
        "blindsone",
        "anonym 1 Hvem bestemmer?",
        typed_in_view=True,
    )
    effects = await bot.handle(visible)
    text = " ".join(e.reply.fallback for e in effects if isinstance(e, Private))
    assert "Skriv ikke anonyme spørsmål i kanalen" in text
    assert "«Still spørsmål»" in text
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(PendingQuestion)) == 0


async def test_batch_size_is_configurable(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console, _ = await blindspot_case(make_bot, extra={"PARTSBOT_ANONYMOUS_BATCH": "4"})
    for i, name in enumerate(("Siri", "Per", "Kari")):
        out = await console.as_(name, "/dm", f"/parts blindsone anonym 1 Spørsmål nummer {i}")
    assert "Anonyme spørsmål" not in out
    out = await console.as_("Ola", "/dm", "/parts blindsone anonym 1 Spørsmål nummer 4")
    assert "*Anonyme spørsmål (4)*" in out


async def test_a_batch_setting_below_three_is_ignored(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console, _ = await blindspot_case(make_bot, extra={"PARTSBOT_ANONYMOUS_BATCH": "1"})
    out = await console.as_("Siri", "/dm", "/parts blindsone anonym 1 Bare ett")
    assert "minst 3 spørsmål fra minst 3 forskjellige personer" in out
    assert "Anonyme spørsmål (" not in out


async def test_anonymous_needs_a_case_and_sane_text(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console, _ = await blindspot_case(make_bot)
    # With one open case, a direct message without a number is about that case (ux.md item 26).
    out = await console.as_("Siri", "/dm", "/parts blindsone anonym Hvem bestemmer?")
    assert "lagt inn anonymt i sak #1" in out
    out = await console.type("/parts blindsone anonym 1 " + "y" * 2001)
    assert "Teksten er for lang (2001 tegn). Maks er 2000 tegn" in out
    out = await console.type("/parts blindsone anonym 7 Hei?")
    assert "Jeg finner ingen sak #7 som du har tilgang til." in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(PendingQuestion)) == 1


def test_an_askers_hash_depends_on_the_pools_salt_and_the_key() -> None:
    """Counting distinct askers must not let one pool's hashes be matched with another's: each pool has
    its own salt, so the same person in two cases gives unrelated hashes (and a different key, too)."""
    first = AnonymousPool(case_id=1, salt="01" * 32, askers=[])
    second = AnonymousPool(case_id=2, salt="02" * 32, askers=[])
    key = "k" * 44
    assert blindspot.asker_hash(first, key, 7) == blindspot.asker_hash(first, key, 7)
    assert blindspot.asker_hash(first, key, 7) != blindspot.asker_hash(second, key, 7)
    assert blindspot.asker_hash(first, key, 7) != blindspot.asker_hash(first, key, 8)
    assert blindspot.asker_hash(first, key, 7) != blindspot.asker_hash(first, "j" * 44, 7)


async def test_a_released_question_asked_again_is_not_pooled_and_batches_are_numbered(  # type: ignore[no-untyped-def]
    make_bot, database
) -> None:
    """After a batch is out, the same words again (from anyone) add nothing to the pool; the next batch of
    new questions is number 2. Released rows have no author and keep the digest the repeat check uses."""
    console, _ = await blindspot_case(make_bot)
    for name, question in QUESTIONS.items():
        await console.as_(name, f"/parts blindsone anonym 1 {question}")
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(PendingQuestion)) == 0
        released = s.scalars(select(Question)).all()
        assert {(q.batch, q.released, q.anonymous, q.author_id) for q in released} == {(1, True, True, None)}
        assert all(q.digest for q in released)
    await console.as_("Ola", f"/parts blindsone anonym 1 {QUESTIONS['Siri'].upper()}")
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(PendingQuestion)) == 0  # a repeat: not pooled
    more = ["Hvem bestemmer rekkefølgen?", "Hva om beskjedene kom skriftlig?", "Hvorfor ikke en tavle?"]
    for name, question in zip(("Ola", "Per", "Kari"), more, strict=True):
        await console.as_(name, f"/parts blindsone anonym 1 {question}")
    with database.transaction() as s:
        batches = sorted(s.scalars(select(Question.batch)).all())
    assert batches == [1, 1, 1, 2, 2, 2]


async def test_anonym_written_in_the_case_thread_is_refused_not_stored_under_the_name(
    make_bot, database
) -> None:  # type: ignore[no-untyped-def]
    console, head = await blindspot_case(make_bot)
    out = await console.as_("Siri", f"/tråd {head}", "anonym Hvem bestemmer egentlig?")
    assert "Skriv ikke anonyme spørsmål i kanalen eller i en tråd" in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Question)) == 0
        assert s.scalar(select(func.count()).select_from(PendingQuestion)) == 0
