"""``/parts kurs`` through the console: enrolment by command and by form, the plan, moving a module (the
pending nudges follow), settings, and clear answers to bad input."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import func, select

from bot.course.models import CourseModule, CourseRun, CourseSettings, DueNudge
from tests.console_driver import ConsoleDriver, option_number
from tests.course.course_helpers import local, oslo, team


async def console_at(make_bot, clock, now):  # type: ignore[no-untyped-def]
    clock.set(now.astimezone(UTC))
    console = ConsoleDriver(make_bot())
    await console.start()
    await team(console)
    return console


def due(database, key: str) -> str:  # type: ignore[no-untyped-def]
    with database.transaction() as s:
        row = s.scalar(select(DueNudge).where(DueNudge.key == key, DueNudge.status == "pending"))
        return local(row.due_at) if row else "-"


async def test_not_enrolled_shows_the_course_and_a_button_that_opens_the_form(
    make_bot, clock, database
) -> None:  # type: ignore[no-untyped-def]
    console = await console_at(make_bot, clock, oslo(2027, 1, 4, 10))
    # Staff cannot enrol the whole kindergarten (ux.md item 4); the leder can.
    out = await console.as_("Per", "/parts kurs")
    out = await console.type(option_number(out, "Meld på"))
    assert "Det er leder som melder barnehagen på kurset." in out
    assert "Det er leder som melder" in await console.type("/parts kurs start 2027-01-11 09:00")
    out = await console.as_("Kari", "/parts kurs")
    assert "== Kurs i rolleforståelse og partssamarbeid ==" in out
    out = await console.type(option_number(out, "Meld på"))
    assert "== Meld på kurset ==" in out
    # The form suggests six dates three weeks apart, starting in two weeks; the facilitator changes two.
    assert "» Modul 1: digital samling" in out
    out = await console.type(
        "2027-01-18 09:00",
        "8.2.2027 18:30",
        "2027-03-01 09:00",
        "2027-03-22 18:30",
        "2027-04-12 09:00",
        "2027-05-03 09:00",
    )
    assert "Solsikken barnehage er meldt på kurset." in out
    assert "· *Modul 2: samling med personalet* – mandag 8. februar kl. 18.30" in out
    with database.transaction() as s:
        run = s.scalar(select(CourseRun))
        assert run.admin_id is not None
        assert s.scalar(select(func.count()).select_from(CourseModule)) == 6


async def test_bad_dates_get_clear_answers_and_nothing_is_stored(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    console = await console_at(make_bot, clock, oslo(2027, 1, 4, 10))
    out = await console.as_("Kari", "/parts kurs start 2026-12-01 09:00")
    assert "Tidspunktet for modul 1 (tirsdag 1. desember kl. 09.00) har allerede vært." in out
    out = await console.type("/parts kurs start 31.02.2027 09:00")
    assert "«31.02.2027» er ikke en dato." in out
    out = await console.type("/parts kurs start 2027-01-11 25:00")
    assert "«25:00» er ikke et klokkeslett." in out
    out = await console.type("/parts kurs start 2027-01-09 09:00")
    assert "Modul 1 (lørdag 9. januar kl. 09.00) er på en lørdag eller søndag." in out
    # Out of order in the form.
    out = await console.type("/parts kurs start")
    out = await console.type(
        "2027-01-18 09:00",
        "2027-01-11 18:00",
        "2027-03-01 09:00",
        "2027-03-22 18:00",
        "2027-04-12 09:00",
        "2027-05-03 09:00",
    )
    assert (
        "Modul 2 (mandag 11. januar kl. 18.00) må komme etter modul 1 (mandag 18. januar kl. 09.00). "
        "Modulene går i rekkefølge." in out
    )
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(CourseRun)) == 0
        assert s.scalar(select(func.count()).select_from(DueNudge)) == 0


async def test_moving_a_module_replans_its_nudges(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    console = await console_at(make_bot, clock, oslo(2027, 1, 4, 10))
    await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    assert due(database, "run:1:prepare:m3") == "2027-02-18 10:00 +0100"
    assert due(database, "run:1:exercise:m2:w2") == "2027-02-15 11:00 +0100"
    out = await console.as_("Ola", "/parts kurs flytt 3 2027-03-08 13:00")
    assert "Modul 3 er flyttet til mandag 8. mars kl. 13.00. Påminnelsene følger med." in out
    assert due(database, "run:1:prepare:m3") == "2027-03-04 10:00 +0100"
    assert due(database, "run:1:tool:m3") == "2027-03-09 10:00 +0100"
    # The longer gap after module 2 has room for a third weekly exercise; the shorter one after 3 has one.
    assert due(database, "run:1:exercise:m2:w3") == "2027-02-22 11:00 +0100"
    assert due(database, "run:1:exercise:m3:w2") == "-"
    # Out of order and in the past are refused; a module that took place cannot move.
    out = await console.type("/parts kurs flytt 3 2027-03-20 09:00")
    assert "er på en lørdag eller søndag" in out
    out = await console.type("/parts kurs flytt 3 2027-03-16 09:00")
    assert "Modul 4 (mandag 15. mars kl. 18.00) må komme etter modul 3 (tirsdag 16. mars kl. 09.00)." in out
    out = await console.type("/parts kurs flytt 9 2027-03-16 09:00", "/parts kurs flytt tre")
    assert "Det finnes ingen modul 9." in out
    assert "Skriv `/parts kurs flytt <modul> <dato> [tid]`" in out
    clock.set(oslo(2027, 1, 12, 10).astimezone(UTC))
    out = await console.type("/parts kurs flytt 1 2027-01-13 09:00")
    assert "Modul 1 er allerede gjennomført og kan ikke flyttes." in out
    # Only the parties change the plan.
    out = await console.as_("Per", "/parts kurs flytt 4 2027-03-29 09:00")
    assert "Bare leder, verneombud og tillitsvalgt kan endre kursplanen." in out


async def test_the_plan_shows_progress_and_settings_move_pending_nudges(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    console = await console_at(make_bot, clock, oslo(2027, 1, 4, 10))
    await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    clock.set(oslo(2027, 2, 2, 10).astimezone(UTC))
    out = await console.as_("Per", "/parts kurs")
    assert "✓ *Modul 2: samling med personalet* – mandag 1. februar kl. 18.00" in out
    assert "→ *Modul 3: digital samling* – mandag 22. februar kl. 09.00" in out
    assert "2 av 6 moduler gjennomført." in out
    assert "Innstillinger" not in out  # staff see the plan, not the settings
    out = await console.as_("Kari", "/parts kurs")
    out = await console.type(option_number(out, "Innstillinger"))
    assert "== Innstillinger for kurset ==" in out
    # Window 10:30-14:00, summer weeks 28-31, a planning day on Thursday 18 February, summary on Tuesday
    # 07:30 to the trio, check-in on Wednesday.
    out = await console.type(
        "10:30", "14:00", "28, 29, 30, 31", "18.02.2027", "2", "07:30", "2", "3", "12:00"
    )
    assert "Innstillingene er lagret." in out
    # Two working days before module 3 (Monday 22 February) skips the planning day: Wednesday 17th, and
    # 10:00 is before the window now.
    assert due(database, "run:1:prepare:m3") == "2027-02-17 10:30 +0100"
    with database.transaction() as s:
        row = s.scalar(select(CourseSettings))
        assert (row.summer_weeks, row.summary_weekday, row.summary_to_trio) == ("28,29,30,31", 1, True)
        assert row.planning_days == "2027-02-18"
    out = await console.type("/parts kurs")
    assert "Oppsummering: tirsdag kl. 07.30 til leder, verneombud og tillitsvalgt." in out
    out = await console.type(option_number(out, "Innstillinger"), "10:30", "14:00", "29,30", "31.02.2027")
    # The wrong planning day is refused as it is typed and asked again; what came before is kept.
    assert "«31.02.2027» er ikke en liste med datoer." in out
    assert "Innstillingene er lagret." not in out
    out = await console.type("/parts kurs", "ja")  # leave the form: nothing of it is saved
    out = await console.type(option_number(out, "Innstillinger"), "15:00", "09:00")
    assert "Det første klokkeslettet må være før det siste (15.00–09.00)." in out
    with database.transaction() as s:
        # A refused form saves none of its fields.
        assert s.scalar(select(CourseSettings)).planning_days == "2027-02-18"
        assert s.scalar(select(CourseSettings)).window_start == "10:30"
    # The message stands at the last time of the window, which is asked again; the first one is kept.
    out = await console.type("16:00", "29,30", "2027-03-01", "1", "08:00", "1", "4", "13:00")
    assert "Innstillingene er lagret." in out
    with database.transaction() as s:
        row = s.scalar(select(CourseSettings))
        assert (row.window_start, row.window_end, row.planning_days) == ("15:00", "16:00", "2027-03-01")


async def test_staff_gatherings_are_held_after_closing_or_on_a_planning_day(
    make_bot, clock, database
) -> None:  # type: ignore[no-untyped-def]
    console = await console_at(make_bot, clock, oslo(2027, 1, 4, 10))
    out = await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    # Only the first date was given: the staff gatherings go after closing, and the leader is told so.
    assert "Samlingene med personalet (modul 2 og 4) er lagt til kl. 18.00, etter stengetid." in out
    assert "*Modul 2: samling med personalet* – mandag 1. februar kl. 18.00" in out
    assert "*Modul 3: digital samling* – mandag 22. februar kl. 09.00" in out
    out = await console.type("/parts kurs flytt 2 2027-02-01 09:00")
    assert (
        "Modul 2 (mandag 1. februar kl. 09.00) er en samling med personalet, men da er barna i barnehagen."
        in out
    )
    assert due(database, "run:1:prepare:m2") == "2027-01-28 10:00 +0100"  # nothing moved
    # A planning day is closed for the children: the gathering may be held then, at any time.
    out = await console.type("/parts kurs")
    await console.type(option_number(out, "Innstillinger"), "09:00", "15:00", "29,30", "2027-02-05")
    out = await console.type("0", "08:00", "1", "3", "13:00")
    assert "Innstillingene er lagret." in out
    out = await console.type("/parts kurs flytt 2 2027-02-05 09:00")
    assert "Modul 2 er flyttet til fredag 5. februar kl. 09.00." in out
    # A digital gathering is not a staff gathering: it may be held in the daytime, but not on that day.
    out = await console.type("/parts kurs flytt 3 2027-02-05 13:00")
    assert "Modul 3 (fredag 5. februar kl. 13.00) er på en dag barnehagen holder stengt." in out


async def test_modules_are_not_put_in_romjul(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    console = await console_at(make_bot, clock, oslo(2027, 11, 1, 10))
    out = await console.as_("Kari", "/parts kurs start 2027-12-28 09:00")
    assert "Modul 1 (tirsdag 28. desember kl. 09.00) faller i romjula" in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(CourseRun)) == 0
    # A suggested date that would fall in romjul moves to the first working day after New Year.
    out = await console.type("/parts kurs start 2027-12-07 09:00")
    assert "*Modul 2: samling med personalet* – mandag 3. januar kl. 18.00" in out


async def test_ending_the_course_stops_its_nudges_and_allows_a_new_run(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    console = await console_at(make_bot, clock, oslo(2027, 1, 4, 10))
    await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    out = await console.as_("Per", "/parts kurs avslutt")
    assert "Bare leder, verneombud og tillitsvalgt kan endre kursplanen." in out
    out = await console.as_("Siri", "/parts kurs avslutt")
    assert "Kurset for Solsikken barnehage er avsluttet." in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(DueNudge).where(DueNudge.status == "pending")) == 0
        assert s.scalar(select(CourseRun.status)) == "finished"
    bot = make_bot()
    from bot.course.scheduler import tick

    clock.set(oslo(2027, 1, 7, 13).astimezone(UTC))
    assert (await tick(bot, clock())).sent == []  # no nudge, no check-in, no summary for an ended run
    out = await console.as_("Kari", "/parts kurs start 2027-08-16 09:00")
    assert "Solsikken barnehage er meldt på kurset." in out
