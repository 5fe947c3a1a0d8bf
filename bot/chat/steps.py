"""Step hooks: what a thread that moves through steps (a case) does at each step.

A case lives in one thread rooted at its head message and moves through steps (define, blind spot, ideas,
vote, plan). Each step's module plugs in here, so later steps add themselves without the case module
knowing them:

* ``head_sections`` – functions adding blocks to the head message (in order);
* ``head_buttons`` – per step, the buttons shown on the head besides "next step" and "history";
* ``intros`` – per step, what is posted in the thread when the case enters it (may also set up state);
* ``exits`` – per step, what happens when it closes (may refuse with a :class:`UserError`);
* ``thread_handlers`` – per step, what a message in the case's thread means;
* ``keep_open`` – checks that keep a case open when it reaches its last step (its actions are still being
  followed up: it closes with the answers to "Hvordan har vi det når målet er nådd?").

The hooks belong to a :class:`~bot.chat.router.Router` (``router.steps``), filled when the router is built
(``handlers.build_router``), and every :class:`~bot.chat.context.HandlerContext` carries its router's
hooks. So two bots in one process do not share them, and a context the scheduler builds (closing a vote
on time) behaves like one built for a person. The case type is the toolbox's; this layer sits beneath it
and so names it ``Any``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.chat.model import Block, Button, Message, Reply

if TYPE_CHECKING:
    from bot.chat.context import HandlerContext

HeadSection = Callable[["HandlerContext", Any], list[Block]]
HeadButtons = Callable[["HandlerContext", Any], list[Button]]
StepIntro = Callable[["HandlerContext", Any], Reply | None]
StepExit = Callable[["HandlerContext", Any], None]
ThreadHandler = Callable[["HandlerContext", Any, Message], None]
KeepOpen = Callable[["HandlerContext", Any], bool]


@dataclass
class StepHooks:
    head_sections: list[HeadSection] = field(default_factory=list)
    head_buttons: dict[str, HeadButtons] = field(default_factory=dict)
    intros: dict[str, StepIntro] = field(default_factory=dict)
    exits: dict[str, StepExit] = field(default_factory=dict)
    thread_handlers: dict[str, ThreadHandler] = field(default_factory=dict)
    keep_open: list[KeepOpen] = field(default_factory=list)

    def add_head_section(self, section: HeadSection) -> None:
        """Add a head section once (a module registering twice adds nothing)."""
        if section not in self.head_sections:
            self.head_sections.append(section)
