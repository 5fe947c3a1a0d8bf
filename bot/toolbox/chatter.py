"""What in a case thread is conversation, not input: emoji, "+1", "Enig med Per 👍", "bra!".

A case thread is also where colleagues talk. Before this, every reply became the answer to the bot's open
question: "Enig med Per 👍" turned into cause number 2 and "🎉🎉" into idea #8 (ux.md items 6 and 17). A
message is *chatter* when, without emoji and punctuation, it has no words at all, or it is a short
agreement: an agreement word ("enig", "bra", "+1", "takk", "agree"), optionally softened ("helt enig",
"så bra") and optionally followed by whom or what one agrees with ("enig med Per", "enig i det").
Anything longer, or with a word that carries content ("enig, men vi mangler folk"), is input.

Pure functions, no database: the case module asks before a step's handler sees the message.
"""

from __future__ import annotations

import re
import unicodedata

# Words that on their own only say "I agree / nice / thanks" (nb, nn, en).
AGREEMENT = frozenset(
    {
        "+1",
        "enig",
        "enige",
        "einig",
        "einige",
        "samd",
        "samde",
        "agree",
        "agreed",
        "bra",
        "fint",
        "flott",
        "super",
        "supert",
        "topp",
        "toppers",
        "perfekt",
        "godt",
        "god",
        "gode",
        "kjempebra",
        "kjempefint",
        "strålende",
        "glimrende",
        "takk",
        "takker",
        "tusen",
        "thanks",
        "thank",
        "ja",
        "jepp",
        "jess",
        "jada",
        "yes",
        "yep",
        "yeah",
        "ok",
        "okei",
        "okay",
        "nice",
        "great",
        "good",
        "cool",
        "kult",
        "digg",
        "wow",
        "hurra",
        "jippi",
        "heia",
        "haha",
        "hehe",
        "lol",
        "same",
        "ditto",
        "likeså",
        "støtter",
        "støttar",
        "tommel",
        "fantastisk",
        "awesome",
        "love",
    }
)
# Softeners in front of an agreement word: "helt enig", "så bra", "veldig godt".
SOFTENERS = frozenset(
    {"helt", "heilt", "så", "veldig", "kjempe", "svært", "really", "so", "very", "totally", "fully", "ganske"}
)
# Words that may follow an agreement without adding content: "bra idé", "takk for det", "enig med Per".
FILLERS = frozenset(
    {
        "idé",
        "ide",
        "idea",
        "forslag",
        "forslaget",
        "idéen",
        "ideen",
        "poeng",
        "point",
        "det",
        "dette",
        "den",
        "deg",
        "dykk",
        "dere",
        "du",
        "you",
        "that",
        "this",
        "it",
        "one",
        "for",
        "i",
        "med",
        "with",
        "på",
        "til",
        "to",
        "også",
        "òg",
        "og",
        "too",
        "meg",
        "eg",
        "jeg",
        "me",
        "alle",
        "all",
        "her",
        "here",
        "much",
        "mye",
        "så",
        "veldig",
        "helt",
    }
)
# "Meg også", "eg òg", "me too", "samme her": agreement without an agreement word.
PHRASES = frozenset(
    {"meg også", "jeg også", "eg òg", "eg også", "me too", "samme her", "same here", "sama her"}
)
# A short reply has at most this many words; after "med"/"with" at most a name of three ("Per og Anne").
MAX_WORDS = 6
MAX_NAME_WORDS = 3
_WORD = re.compile(r"\+1|[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)


def words_of(text: str) -> list[str]:
    """The words of ``text``, lower-cased, without emoji and punctuation ("+1" is a word)."""
    return [w.casefold() for w in _WORD.findall(unicodedata.normalize("NFC", text))]


def is_chatter(text: str) -> bool:
    """Emoji only, or a short agreement: conversation the bot leaves alone."""
    words = words_of(text)
    if not words:
        return True
    if len(words) > MAX_WORDS:
        return False
    if " ".join(words) in PHRASES:
        return True
    rest = list(words)
    while rest and rest[0] in SOFTENERS:
        rest.pop(0)
    if not rest or rest[0] not in AGREEMENT:
        return False
    rest.pop(0)
    # "enig med Per", "enig med Per og Anne", "agree with you": a name after med/with is not content.
    if rest and rest[0] in ("med", "with", "som"):
        return len(rest) <= MAX_NAME_WORDS + 1
    return all(w in AGREEMENT or w in FILLERS or w in SOFTENERS for w in rest)


# A message that says it is an idea: "Idé: …", "Forslag: …", "Idea: …".
_MARKED_IDEA = re.compile(r"^\s*(?:idé|ide|idè|idea|forslag|suggestion)\s*[:\-–]\s*", re.IGNORECASE)
# Openings that propose something. "Hva med …" is a proposal even while the bot waits for an answer;
# "Kan vi …" is one only when no question is open ("Kan vi …" may start an answer too).
_PROPOSAL_ALWAYS = ("hva med", "hva om", "kva med", "kva om", "what about", "how about", "what if")
_PROPOSAL = (
    *_PROPOSAL_ALWAYS,
    "kan vi",
    "kan me",
    "kunne vi",
    "kunne me",
    "could we",
    "can we",
    "vi kunne",
    "me kunne",
    "we could",
    "vi bør",
    "me bør",
    "we should",
    "la oss",
    "lat oss",
    "let's",
    "let us",
    "kanskje vi",
    "kanskje me",
    "maybe we",
    "hvorfor ikke",
    "kvifor ikkje",
    "why not",
    "jeg foreslår",
    "eg foreslår",
    "i suggest",
    "i propose",
)


def marked_idea(text: str) -> str | None:
    """``"Idé: tavle ved døra"`` → ``"tavle ved døra"``; ``None`` when the message does not say so."""
    match = _MARKED_IDEA.match(text)
    return text[match.end() :].strip() if match else None


def proposes(text: str, *, answering: bool) -> bool:
    """Whether a message proposes something (an idea for the idea hunt). ``answering``: the bot waits
    for an answer, so only unmistakable openings count."""
    opening = " ".join(words_of(text)[:2]).replace("’", "'")
    starts = _PROPOSAL_ALWAYS if answering else _PROPOSAL
    return marked_idea(text) is not None or any(opening.startswith(s) for s in starts)
