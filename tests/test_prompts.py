"""Every language carries every key, with the same placeholders; texts load and format."""

from __future__ import annotations

import pytest

from bot.i18n import LANGUAGES, catalogue, placeholders, t


def _flat(language: str) -> dict[str, str]:
    out = {}
    for key, value in catalogue(language).items():
        out[key] = "\n".join(map(str, value)) if isinstance(value, list) else str(value)
    return out


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "nb"])
def test_same_keys_as_bokmal(language: str) -> None:
    nb, other = _flat("nb"), _flat(language)
    assert sorted(set(nb) - set(other)) == [], f"missing in {language}"
    assert sorted(set(other) - set(nb)) == [], f"only in {language}"


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "nb"])
def test_same_placeholders_as_bokmal(language: str) -> None:
    nb, other = _flat("nb"), _flat(language)
    differing = {
        key: (placeholders(nb[key]), placeholders(other[key]))
        for key in nb.keys() & other.keys()
        if placeholders(nb[key]) != placeholders(other[key])
    }
    assert differing == {}


def test_no_empty_texts() -> None:
    for language in LANGUAGES:
        empty = [key for key, value in _flat(language).items() if not value.strip()]
        assert empty == [], language


def test_nynorsk_uses_nynorsk_words() -> None:
    nn = " ".join(_flat("nn").values()).lower()
    for bokmal in (" hva ", " hvordan ", " ikke ", " jeg ", "verneombudet ", "tillitsvalgte "):
        assert bokmal not in f" {nn} ", bokmal


def test_missing_key_falls_back_to_bokmal_then_key() -> None:
    assert t("nn", "no.such.key") == "no.such.key"
    assert t("en", "roles.names.leder") == "leader"
    assert t("nn", "roles.names.verneombud") == "verneombod"
    assert t("nb", "errors.too_long", limit=10, length=12).startswith("Teksten er for lang (12 tegn)")
