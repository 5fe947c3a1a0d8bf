"""The nudge plan as data: ``prompts/nudges.yaml`` read, checked, and turned into moments for one run.

Which nudge goes when relative to which module, to whom and with which text is kept in a data file beside
the prompts so a course facilitator can change it. :func:`occurrences` is pure: module starts and the
unit's calendar in, raw moments out (quiet time is applied by :mod:`bot.course.nudges`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.course.audience import AUDIENCES
from bot.course.unitcal import parse_hhmm
from bot.dates.calendar import DeliveryWindow, is_working_day, local_at
from bot.i18n import prompts_dir

# message: text only; evaluation: an anonymous form behind a button; meeting: a HØRA draft behind a button;
# reflection: the reflection question behind a button; digest: the reflections' digest for the trio;
# exchange: module 6's drafted page; results: the shared results (prompts/nudges.yaml explains each).
KINDS = ("message", "evaluation", "meeting", "reflection", "digest", "exchange", "results")
# Kinds whose form or content is for one person: an all-staff module reaches each member privately.
PRIVATE_KINDS = ("evaluation", "reflection")
PHASES = ("baseline", "module", "after")
MODULE_COUNT = 6
# ``to: module`` sends a nudge to the people the module is for (the plan's ``audience`` section).
MODULE_AUDIENCE = "module"
# Who a module is for: the trio (leader, verneombud, tillitsvalgt) or the whole staff.
MODULE_GROUPS = ("trio", "all")


@dataclass(frozen=True)
class Repeat:
    days: int
    until_days_before_next: int


@dataclass(frozen=True)
class NudgeSpec:
    id: str
    modules: tuple[int, ...]
    at: time
    to: str
    text: str
    days: int | None = None
    working_days: int | None = None
    kind: str = "message"
    phase: str = ""
    every: Repeat | None = None

    @property
    def before_module(self) -> bool:
        return (self.working_days if self.working_days is not None else self.days or 0) < 0


@dataclass(frozen=True)
class Plan:
    module_kinds: dict[int, str]
    exercises: tuple[str, ...]
    evaluation: dict[str, tuple[str, ...]]
    nudges: tuple[NudgeSpec, ...]
    # module -> "trio" | "all"; see prompts/nudges.yaml.
    module_groups: dict[int, str] = field(default_factory=dict)

    def audience_for(self, spec: NudgeSpec, module: int) -> str:
        """The stored audience of one nudge: ``to: module`` resolved to the module's people.

        A trio module reaches the trio privately. An all-staff module reaches the unit's channel, except an
        evaluation or a reflection, whose anonymous form needs a private place: then every member privately.
        """
        if spec.to != MODULE_AUDIENCE:
            return spec.to
        if self.module_groups.get(module, "all") == "trio":
            return "trio"
        return "members" if spec.kind in PRIVATE_KINDS else "channel"


@dataclass(frozen=True)
class Occurrence:
    """One nudge of the plan for one module (and one week, for repeats), before quiet time is applied."""

    key: str
    spec: NudgeSpec
    module: int
    raw: datetime
    expires: datetime | None
    values: dict[str, Any] = field(default_factory=dict)
    # A weekly exercise belongs to its week: one that quiet time (fellesferie) would push into another week
    # is dropped rather than piled onto the first day back.
    same_week: bool = False
    # Who gets it (one of bot.course.audience.AUDIENCES), with ``to: module`` already resolved.
    audience: str = ""


# Loading ---------------------------------------------------------------------------------------------


def plan_path() -> Path:
    return prompts_dir() / "nudges.yaml"


def _spec(entry: Mapping[str, Any]) -> NudgeSpec:
    name = str(entry.get("id", "")).strip()
    if not name or ":" in name:
        raise ValueError(f"nudge without a valid id: {entry!r}")
    when = entry.get("when") or {}
    at = parse_hhmm(str(when.get("time", "")))
    if at is None:
        raise ValueError(f"nudge {name}: when.time must be HH:MM")
    if ("days" in when) == ("working_days" in when):
        raise ValueError(f"nudge {name}: give exactly one of when.days and when.working_days")
    modules = tuple(int(m) for m in entry.get("modules", ()))
    if not modules or any(not 1 <= m <= MODULE_COUNT for m in modules):
        raise ValueError(f"nudge {name}: modules must be numbers 1-{MODULE_COUNT}")
    to = str(entry.get("to", ""))
    if to not in (*AUDIENCES, MODULE_AUDIENCE):
        raise ValueError(f"nudge {name}: to must be one of {', '.join((*AUDIENCES, MODULE_AUDIENCE))}")
    kind = str(entry.get("kind", "message"))
    phase = str(entry.get("phase", ""))
    if kind not in KINDS or (kind == "evaluation") != (phase in PHASES):
        raise ValueError(f"nudge {name}: kind must be message, meeting, or evaluation with a phase {PHASES}")
    every = entry.get("every")
    repeat = None
    if every:
        repeat = Repeat(int(every["days"]), int(every.get("until_days_before_next", 0)))
        if repeat.days < 1:
            raise ValueError(f"nudge {name}: every.days must be at least 1")
    return NudgeSpec(
        id=name,
        modules=modules,
        at=at,
        to=to,
        text=str(entry["text"]),
        days=int(when["days"]) if "days" in when else None,
        working_days=int(when["working_days"]) if "working_days" in when else None,
        kind=kind,
        phase=phase,
        every=repeat,
    )


@cache
def load_plan(path: Path | None = None) -> Plan:
    """Read and check the plan; a mistake in the file fails at start with the nudge's id in the message."""
    with (path or plan_path()).open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    kinds = {int(k): str(v) for k, v in (data.get("modules") or {}).items()}
    if sorted(kinds) != list(range(1, MODULE_COUNT + 1)):
        raise ValueError(f"nudge plan: modules must list 1-{MODULE_COUNT}")
    specs = tuple(_spec(e) for e in data.get("nudges") or ())
    ids = [s.id for s in specs]
    if len(set(ids)) != len(ids):
        raise ValueError("nudge plan: ids must be unique")
    exercises = tuple(str(e) for e in data.get("exercises") or ())
    if any("{exercise}" in s.text for s in specs) and not exercises:
        raise ValueError("nudge plan: a text uses {exercise} but the exercises list is empty")
    evaluation = {str(k): tuple(str(q) for q in v) for k, v in (data.get("evaluation") or {}).items()}
    return Plan(kinds, exercises, evaluation, specs, _module_groups(data.get("audience"), kinds))


def _module_groups(section: object, kinds: Mapping[int, str]) -> dict[int, str]:
    """Who each module is for. Without the section: staff gatherings for all, the rest for the trio."""
    if section is None:
        return {n: "all" if kind == "staff" else "trio" for n, kind in kinds.items()}
    if not isinstance(section, Mapping):
        raise ValueError("nudge plan: audience must map modules 1-6 to trio or all")
    groups = {int(k): str(v) for k, v in section.items()}
    if sorted(groups) != list(range(1, MODULE_COUNT + 1)):
        raise ValueError(f"nudge plan: audience must list modules 1-{MODULE_COUNT}")
    wrong = sorted(n for n, group in groups.items() if group not in MODULE_GROUPS)
    if wrong:
        raise ValueError(f"nudge plan: audience of module {wrong[0]} must be trio or all")
    return groups


# Occurrences -------------------------------------------------------------------------------------------


def shift_working_days(d: date, n: int, window: DeliveryWindow) -> date:
    """The n-th working day after ``d`` (before it when negative); ``d`` itself or the next one for 0."""
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    current = d
    if n == 0:
        while not is_working_day(current, window):
            current += timedelta(days=1)
        return current
    while remaining:
        current += timedelta(days=step)
        if is_working_day(current, window):
            remaining -= 1
    return current


def occurrences(plan: Plan, modules: Mapping[int, datetime], window: DeliveryWindow) -> list[Occurrence]:
    """Every nudge of the plan for these module starts, in time order, with exercises numbered."""
    zone = window.zone
    found: list[Occurrence] = []
    for spec in plan.nudges:
        for number in spec.modules:
            start = modules.get(number)
            if start is None:
                continue
            day = start.astimezone(zone).date()
            if spec.working_days is not None:
                first = shift_working_days(day, spec.working_days, window)
            else:
                first = day + timedelta(days=spec.days or 0)
            expires = start if spec.before_module else None
            base_values = {"module": number}
            audience = plan.audience_for(spec, number)
            if spec.every is None:
                raw = local_at(first, spec.at, zone)
                found.append(
                    Occurrence(
                        f"{spec.id}:m{number}", spec, number, raw, expires, base_values, audience=audience
                    )
                )
                continue
            following = modules.get(number + 1)
            limit = following - timedelta(days=spec.every.until_days_before_next) if following else None
            week, current = 1, first
            # Without a next module a repeat stops after four rounds: nothing follows to aim at.
            while True:
                raw = local_at(current, spec.at, zone)
                if (limit is None and week > 4) or (limit is not None and raw > limit):
                    break
                found.append(
                    Occurrence(
                        f"{spec.id}:m{number}:w{week}", spec, number, raw, None, base_values, True, audience
                    )
                )
                week += 1
                current += timedelta(days=spec.every.days)
    found.sort(key=lambda o: (o.raw, o.key))
    numbered: list[Occurrence] = []
    counter = 0
    for occ in found:
        if "{exercise}" in occ.spec.text:
            values = {**occ.values, "exercise": plan.exercises[counter % len(plan.exercises)]}
            counter += 1
            occ = replace(occ, values=values)
        numbered.append(occ)
    return numbered
