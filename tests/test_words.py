"""Words a native speaker would write: no bokmål in the nynorsk prompts (the words the language review
found), no "(er)"-style or "1 prikker"-style plurals, decimals with a comma and times as "kl. 09.00"."""

from __future__ import annotations

import re
from datetime import time

import pytest

from bot.i18n import LANGUAGES, catalogue, clock, decimal, plural, t
from tests.test_spelling import prose_words

# Bokmål words (and un-nynorsk forms) the review found in prompts/nn, plus the common ones of DOMAIN.md.
NN_NOT_NYNORSK = {
    "hva", "hvordan", "hvorfor", "hvem", "jeg", "ikke", "uke", "uka", "innen", "oppgi", "enhet",
    "verneombud", "tillitsvalgt", "leder", "ansatt", "givast", "vekas", "kollegaane", "svarer",
    "forventar", "bruker", "ideane", "idear", "avrøysting", "avrøystinga", "helgedag", "forfell",
    "forfalle", "eigarane",
}  # fmt: skip
# Phrases: wrong gender, the wrong imperative, the tool renamed, bokmål commands.
NN_NOT_NYNORSK_PHRASES = (
    "inga kritikk", "inga diskusjon", "byggj vidare", "byggje vidare", "«Ja, og …»: byggjer",
    "Ein god dag på jobb", "`/parts stemme`", "/velg", "/hvem", "modular gjennomførte", "siste veka\"",
)  # fmt: skip
# A count glued to a plural noun in a prompt: the count must come through bot.i18n.plural instead.
_GLUED_PLURAL = re.compile(
    r"\{\w+\} (prikker|prikkar|meldinger|meldingar|minutter|påminnelser|påminningar|idéer|idéar|dots|"
    r"messages|minutes|ideas|reminders)\b"
)
_OPTIONAL_PLURAL = re.compile(r"\w\((er|ar|e|s|r)\)")


def _texts(language: str) -> list[tuple[str, str]]:
    out = []
    for key, value in catalogue(language).items():
        for text in value if isinstance(value, list) else [value]:
            out.append((key, str(text)))
    return out


def test_no_bokmal_in_the_nynorsk_prompts() -> None:
    found = [
        (key, word)
        for key, text in _texts("nn")
        for word in prose_words(text)
        if word.lower() in NN_NOT_NYNORSK
    ]
    found += [
        (key, phrase) for key, text in _texts("nn") for phrase in NN_NOT_NYNORSK_PHRASES if phrase in text
    ]
    assert found == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_optional_or_glued_plurals(language: str) -> None:
    # counts.* are the plural rule's own forms ("{count} prikker" is its "other" form).
    glued = [
        (key, text)
        for key, text in _texts(language)
        if _GLUED_PLURAL.search(text) and not key.startswith("counts.")
    ]
    optional = [(key, text) for key, text in _texts(language) if _OPTIONAL_PLURAL.search(text)]
    assert glued == [] and optional == []


def test_the_gate_catches_what_the_review_found() -> None:
    # The checks above would have failed on the lines the review quoted.
    assert _GLUED_PLURAL.search("«{winner}» vant med {dots} prikker.")
    assert _OPTIONAL_PLURAL.search("{count} melding(er)")
    assert any(w.lower() in NN_NOT_NYNORSK for w in prose_words("Kva sak gjeld det? eller oppgi nummeret"))
    assert "inga kritikk" in "byggj vidare på idéane til kvarandre, inga kritikk enno"


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [("nb", "1 prikk", "2 prikker"), ("nn", "1 prikk", "2 prikkar"), ("en", "1 dot", "2 dots")],
)
def test_plural_rule(language: str, one: str, two: str) -> None:
    assert plural(language, "counts.dots", 1) == one
    assert plural(language, "counts.dots", 2) == two
    assert plural(language, "counts.dots", 0).startswith("0 ")
    assert t(
        language, "summary.vote_won", title="T", winner="W", dots=plural(language, "counts.dots", 1)
    ).endswith(f"{one}.")


def test_numbers_and_times_as_each_language_writes_them() -> None:
    assert decimal("nb", 3.66) == "3,7" and decimal("nn", 1.75) == "1,8" and decimal("en", 3.66) == "3.7"
    assert clock("nb", time(9, 0)) == "09.00" and clock("nn", time(13, 30)) == "13.30"
    assert clock("en", time(9, 0)) == "09:00"
