"""A spelling gate on the bokmål and nynorsk prompts: hunspell with Debian's Norwegian dictionaries
(package ``hunspell-no``, installed by ``.ci/run``) finds no word outside a short, reviewed list
(``tests/spelling/allowed_<lang>.txt``). Skipped, with the reason, where hunspell or the dictionaries are
absent."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.i18n import catalogue

DICTIONARIES = {"nb": "nb_NO", "nn": "nn_NO"}
DICTIONARY_DIR = Path("/usr/share/hunspell")
ALLOWED_DIR = Path(__file__).parent / "spelling"
_LETTERS = "A-Za-zÆØÅæøåÉéÈèÓóÒòÔôÜü"
_WORD = re.compile(rf"[{_LETTERS}]+(?:[-'][{_LETTERS}]+)*")


def _texts(language: str) -> Iterator[tuple[str, str]]:
    for key, value in catalogue(language).items():
        if key.startswith("commands."):
            continue  # command words (sjekkinn, idejakt) are typed, not read as prose
        for text in value if isinstance(value, list) else [value]:
            yield key, str(text)


def prose_words(text: str) -> list[str]:
    """The words a person reads: without commands (`…`, /parts), placeholders, <nr>-style hints, URLs."""
    if text.lstrip().startswith("/"):
        return []  # a command line typed in a demo script
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"(?<![\w])[/@]\S+", " ", text)
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"<[^>]*>", " ", text)
    return _WORD.findall(text)


def _allowed(language: str) -> set[str]:
    lines = (ALLOWED_DIR / f"allowed_{language}.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip().lower() for line in lines if line.strip() and not line.startswith("#")}


@pytest.mark.parametrize("language", sorted(DICTIONARIES))
def test_prompts_are_spelled_right(language: str) -> None:
    dictionary = DICTIONARIES[language]
    if shutil.which("hunspell") is None:
        pytest.skip("hunspell is not installed (apt-get install hunspell hunspell-no; .ci/run does it)")
    if not (DICTIONARY_DIR / f"{dictionary}.dic").exists():
        pytest.skip(f"the {dictionary} dictionary is missing (apt-get install hunspell-no)")
    where: dict[str, str] = {}
    for key, text in _texts(language):
        for word in prose_words(text):
            where.setdefault(word, key)
    result = subprocess.run(
        ["hunspell", "-d", dictionary, "-i", "utf-8", "-l"],
        input="\n".join(sorted(where)),
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    )
    allowed = _allowed(language)
    unknown = sorted({w for w in result.stdout.split() if w.lower() not in allowed})
    assert not unknown, "hunspell does not know: " + ", ".join(f"{w} ({where.get(w, '?')})" for w in unknown)
    # The reviewed list stays short and honest: every word on it is still needed.
    needed = {w.lower() for w in result.stdout.split()}
    assert not allowed - needed, f"no longer needed in allowed_{language}.txt: {sorted(allowed - needed)}"


def test_a_misspelling_is_caught() -> None:
    if shutil.which("hunspell") is None or not (DICTIONARY_DIR / "nn_NO.dic").exists():
        pytest.skip("hunspell or the nn_NO dictionary is not installed")
    # The review's example: the s-genitive "vekas" is not nynorsk.
    result = subprocess.run(
        ["hunspell", "-d", "nn_NO", "-i", "utf-8", "-l"],
        input="vekas\nveka\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    )
    assert result.stdout.split() == ["vekas"]
