"""Prompts: every text a person reads, per language, loaded from ``prompts/<lang>/*.yaml``.

Bokmål is the default and the fallback: a key missing in nynorsk or English shows the bokmål text rather
than a key name (a test makes sure no language lacks a key, so this is a safety net, not a habit).
Files are plain YAML so a course facilitator can edit them without touching code. Placeholders use
``{name}`` (``str.format``); a test checks each language uses the same placeholders per key.
"""

from __future__ import annotations

import logging
import os
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "nb"
LANGUAGES = ("nb", "nn", "en")


def prompts_dir() -> Path:
    """``prompts/`` beside the package (a checkout or an editable install), or ``PARTSBOT_PROMPTS_DIR``."""
    override = os.environ.get("PARTSBOT_PROMPTS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "prompts"


def _flatten(prefix: str, node: Any, out: dict[str, Any]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = node


@lru_cache(maxsize=8)
def catalogue(language: str) -> dict[str, Any]:
    """All keys of one language, flattened to ``area.key`` → text (or a list of texts)."""
    folder = prompts_dir() / language
    texts: dict[str, Any] = {}
    for path in sorted(folder.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        _flatten(path.stem, data, texts)
    return texts


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def normalise_language(language: str | None) -> str:
    if not language:
        return DEFAULT_LANGUAGE
    code = language.lower().replace("_", "-").split("-")[0]
    # Platforms say "no" or "nb" for Norwegian bokmål; "nn" is nynorsk.
    code = {"no": "nb", "nob": "nb", "nno": "nn", "eng": "en"}.get(code, code)
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def raw(language: str, key: str) -> Any:
    value = catalogue(language).get(key)
    if value is None and language != DEFAULT_LANGUAGE:
        log.warning("prompt %s missing in %s; using bokmål", key, language)
        value = catalogue(DEFAULT_LANGUAGE).get(key)
    if value is None:
        log.error("prompt %s missing", key)
        return key
    return value


def t(language: str, key: str, /, **values: Any) -> str:
    """The text for ``key`` in ``language`` with ``values`` filled in.

    Positional-only, so a prompt may have placeholders called ``language`` or ``key``.
    """
    text = raw(language, key)
    if isinstance(text, list):
        text = "\n".join(str(line) for line in text)
    if not values and "{" not in str(text):
        return str(text)  # nothing to fill in (most texts of a help or a menu)
    values = {name: v.text(language) if isinstance(v, Counted) else v for name, v in values.items()}
    try:
        return str(text).format(**values)
    except (KeyError, IndexError):
        log.error("prompt %s in %s needs %s, got %s", key, language, placeholders(str(text)), sorted(values))
        return str(text)


def items(language: str, prefix: str) -> Iterator[tuple[str, Any]]:
    """Keys under ``prefix.`` in file order, e.g. the role questions of one role."""
    for key, value in catalogue(language).items():
        if key.startswith(prefix + "."):
            yield key[len(prefix) + 1 :], value


class Translator:
    """``t`` bound to one language; what handlers get as ``ctx.t``."""

    def __init__(self, language: str) -> None:
        self.language = normalise_language(language)

    def __call__(self, key: str, /, **values: Any) -> str:
        return t(self.language, key, **values)


# Numbers, times and plurals as each language writes them ---------------------------------------------


def clock(language: str, at: time) -> str:
    """A time of day: "09.00" in Norwegian (Språkrådet's norm, shown after "kl."), "09:00" in English."""
    separator = ":" if normalise_language(language) == "en" else "."
    return f"{at.hour:02d}{separator}{at.minute:02d}"


def decimal(language: str, value: float | None, digits: int = 1) -> str:
    """A decimal number with a decimal comma in Norwegian ("3,7") and a point in English ("3.7")."""
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text if normalise_language(language) == "en" else text.replace(".", ",")


def plural(language: str, key: str, count: int, /, **values: Any) -> str:
    """The prompt ``key.one`` for a count of one, else ``key.other``, with ``count`` filled in: "1 prikk",
    "2 prikker" – never "1 prikker" or "prikk(er)". Bokmål, nynorsk and English all have these two forms."""
    form = "one" if count == 1 else "other"
    return t(language, f"{key}.{form}", count=count, **values)


@dataclass(frozen=True)
class Counted:
    """A count with its noun, put into the person's language when the text is made: code that raises a
    :class:`UserError` does not know the language, so it passes ``Counted("counts.dots", 1)`` and the
    answer reads "1 prikk"."""

    key: str
    count: int

    def text(self, language: str) -> str:
        return plural(language, self.key, self.count)
