"""The nudge plan as data: the shipped file covers what the course needs, every text exists in every
language, mistakes in the file fail at start with the nudge's id, and the moments it gives are right."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.course.plan import load_plan, occurrences, shift_working_days
from bot.dates.calendar import DeliveryWindow
from bot.i18n import LANGUAGES, catalogue
from tests.course.course_helpers import local, oslo

PLAN = load_plan()
WINDOW = DeliveryWindow()


def test_the_shipped_plan_covers_the_course() -> None:
    specs = {spec.id: spec for spec in PLAN.nudges}
    digital = [n for n, kind in PLAN.module_kinds.items() if kind == "digital"]
    assert digital == [1, 3, 5]
    # A reminder before each module with what to prepare.
    assert specs["prepare"].modules == (1, 2, 3, 4, 5, 6) and specs["prepare"].before_module
    # After each digital module: the tool to try with the staff.
    assert specs["tool"].modules == tuple(digital) and not specs["tool"].before_module
    # One small exercise a week between the modules.
    assert specs["exercise"].every is not None and specs["exercise"].every.days == 7
    assert specs["exercise"].modules == (1, 2, 3, 4, 5)
    # The evaluation: a baseline at module 1 and the evaluation after module 6, to everyone.
    assert (specs["baseline"].modules, specs["baseline"].phase, specs["baseline"].to) == (
        (1,),
        "baseline",
        "members",
    )
    assert (specs["evaluation"].modules, specs["evaluation"].phase) == ((6,), "after")
    assert "perspective" in PLAN.evaluation["baseline"] and "improved" in PLAN.evaluation["after"]


def test_every_text_the_plan_uses_exists_in_every_language() -> None:
    keys = set()
    for spec in PLAN.nudges:
        for module in spec.modules:
            for exercise in PLAN.exercises or ("",):
                keys.add(spec.text.format(module=module, exercise=exercise))
        keys.add(f"nudges_text.titles.{spec.id}")
    keys |= {f"evaluation.questions.{q}" for qs in PLAN.evaluation.values() for q in qs}
    keys |= {f"evaluation.short.{q}" for qs in PLAN.evaluation.values() for q in qs}
    for language in LANGUAGES:
        missing = sorted(k for k in keys if k not in catalogue(language))
        assert missing == [], language


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "  - {id: a, modules: [1], when: {days: 1, time: '10:00'}, to: everyone, text: x}",
            "nudge a: to must be",
        ),
        (
            "  - {id: b, modules: [7], when: {days: 1, time: '10:00'}, to: channel, text: x}",
            "nudge b: modules",
        ),
        ("  - {id: c, modules: [1], when: {days: 1}, to: channel, text: x}", "nudge c: when.time"),
        (
            "  - {id: d, modules: [1], when: {days: 1, working_days: 1, time: '10:00'},"
            " to: channel, text: z}",
            "nudge d: give exactly one",
        ),
        (
            "  - {id: e, modules: [1], when: {days: 1, time: '10:00'},"
            " to: members, text: x, kind: evaluation}",
            "nudge e: kind must be",
        ),
    ],
)
def test_mistakes_in_the_plan_file_name_the_nudge(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "nudges.yaml"
    path.write_text(
        "modules: {1: digital, 2: staff, 3: digital, 4: staff, 5: digital, 6: exchange}\nnudges:\n"
        + entry
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=message):
        load_plan(path)


def test_moments_before_and_after_modules_respect_working_days() -> None:
    # Module 1 on Tuesday 30 March 2027, right after Easter (25-29 March are holidays or weekend).
    starts = {n: oslo(2027, 3, 30, 9) for n in (1,)}
    found = {o.key: o for o in occurrences(PLAN, starts, WINDOW)}
    assert local(found["prepare:m1"].raw) == "2027-03-23 10:00 +0100"  # two working days before: Tue 23
    assert found["prepare:m1"].expires == starts[1]
    assert local(found["baseline:m1"].raw) == "2027-03-24 12:00 +0100"
    assert local(found["tool:m1"].raw) == "2027-03-31 10:00 +0200"
    # Without a next module, a repeat stops after four weeks.
    assert [k for k in found if k.startswith("exercise:")] == [f"exercise:m1:w{w}" for w in (1, 2, 3, 4)]
    assert shift_working_days(oslo(2027, 5, 14).date(), 1, WINDOW).isoformat() == "2027-05-18"  # 17 May
    assert shift_working_days(oslo(2027, 5, 16).date(), 0, WINDOW).isoformat() == "2027-05-18"


def test_exercises_are_numbered_through_the_run() -> None:
    starts = {1: oslo(2027, 1, 11, 9), 2: oslo(2027, 2, 1, 9), 3: oslo(2027, 2, 22, 9)}
    exercises = [o.values["exercise"] for o in occurrences(PLAN, starts, WINDOW) if o.spec.id == "exercise"]
    # Two between 1 and 2, two between 2 and 3, four after 3 (no module 4 given): e1..e8 in order.
    assert exercises == list(PLAN.exercises[:8])


def test_each_module_reaches_the_people_it_is_for() -> None:
    # Digital gatherings and the exchange are for the trio; the staff gatherings are for all.
    assert PLAN.module_groups == {1: "trio", 2: "all", 3: "trio", 4: "all", 5: "trio", 6: "trio"}
    starts = {n: oslo(2027, 1, 11, 9) + (n - 1) * (oslo(2027, 2, 1) - oslo(2027, 1, 11)) for n in range(1, 7)}
    found = {o.key: o for o in occurrences(PLAN, starts, WINDOW)}
    assert [found[f"prepare:m{n}"].audience for n in range(1, 7)] == [
        "trio",
        "channel",
        "trio",
        "channel",
        "trio",
        "trio",
    ]
    # An evaluation needs a private place: an all-staff module's evaluation goes to every member.
    assert [found[f"module-evaluation:m{n}"].audience for n in range(1, 6)] == [
        "trio",
        "members",
        "trio",
        "members",
        "trio",
    ]
    # Nudges with a fixed audience keep it; the short summary of a digital module is for everyone.
    assert found["in-brief:m3"].audience == "channel"
    assert found["trio-plan:m2"].audience == "trio"
    assert found["exercise:m1:w1"].audience == "channel"


def test_a_module_can_be_opened_to_the_whole_staff(tmp_path: Path) -> None:
    path = tmp_path / "nudges.yaml"
    path.write_text(
        "modules: {1: digital, 2: staff, 3: digital, 4: staff, 5: digital, 6: exchange}\n"
        "audience: {1: all, 2: all, 3: trio, 4: all, 5: trio, 6: trio}\n"
        "nudges:\n"
        "  - {id: p, modules: [1, 3], when: {days: -1, time: '10:00'}, to: module, text: x}\n"
        "  - {id: q, modules: [1, 3], when: {days: 1, time: '10:00'}, to: module, text: y,"
        " kind: evaluation, phase: module}\n",
        encoding="utf-8",
    )
    plan = load_plan(path)
    starts = {1: oslo(2027, 1, 11, 9), 3: oslo(2027, 2, 22, 9)}
    found = {o.key: o.audience for o in occurrences(plan, starts, WINDOW)}
    assert found == {"p:m1": "channel", "p:m3": "trio", "q:m1": "members", "q:m3": "trio"}


@pytest.mark.parametrize(
    ("audience", "message"),
    [
        ("audience: {1: trio, 2: all}", "audience must list modules 1-6"),
        ("audience: {1: trio, 2: all, 3: trio, 4: alle, 5: trio, 6: trio}", "audience of module 4"),
        ("audience: [trio, all]", "audience must map"),
    ],
)
def test_mistakes_in_the_audience_section_fail_at_start(tmp_path: Path, audience: str, message: str) -> None:
    path = tmp_path / "nudges.yaml"
    path.write_text(
        "modules: {1: digital, 2: staff, 3: digital, 4: staff, 5: digital, 6: exchange}\n" + audience + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=message):
        load_plan(path)
