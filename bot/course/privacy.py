"""Minimum group sizes for showing check-in and evaluation results.

A kindergarten department has four to eight staff, so a mean over three answers, or a comment among a
handful, points at a person. We follow common survey practice: aggregates from 5 answers, free-text comments
only when at least 10 people answered the round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

MIN_GROUP_SIZE = 5
MIN_COMMENT_GROUP = 10

SCALE_MIN = 1
SCALE_MAX = 5

# Norwegian alphabet order puts æ, ø, å after z (code points put å first); the characters after "z" in
# ASCII keep that order in a plain string sort.
_NORWEGIAN_ORDER = str.maketrans({"æ": "{", "ø": "|", "å": "}"})


def _check_score(indicator: str, value: object) -> int:
    # bool is an int subclass; True as a score is a bug upstream, not a 1.
    if not isinstance(value, int) or isinstance(value, bool) or not SCALE_MIN <= value <= SCALE_MAX:
        raise ValueError(f"score for {indicator!r} must be an integer {SCALE_MIN}-{SCALE_MAX}, got {value!r}")
    return value


def _mean_one_decimal(values: Sequence[int]) -> float:
    # Decimal with half-up rounding matches what a person computes by hand (3.25 -> 3.3), where float
    # round() would give 3.2.
    mean = Decimal(sum(values)) / Decimal(len(values))
    return float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def aggregate_scores(
    answers: Sequence[Mapping[str, int]],
    indicators: Iterable[str],
    min_group: int = MIN_GROUP_SIZE,
) -> dict[str, float] | None:
    """Mean score per indicator, rounded to one decimal, or None when fewer than ``min_group`` answered.

    An indicator that fewer than ``min_group`` answers cover (a skipped question) is left out of the result
    rather than shown from a smaller group; callers read a missing key as hidden.
    """
    if min_group < 1:
        raise ValueError(f"min_group must be at least 1, got {min_group}")
    if len(answers) < min_group:
        return None
    result: dict[str, float] = {}
    for indicator in indicators:
        values = [_check_score(indicator, a[indicator]) for a in answers if a.get(indicator) is not None]
        if len(values) >= min_group:
            result[indicator] = _mean_one_decimal(values)
    return result


def _comment_key(comment: str) -> tuple[str, str]:
    # The second element breaks ties between texts that differ only in case, so the output order depends
    # on nothing but the set of comments.
    return comment.casefold().translate(_NORWEGIAN_ORDER), comment


def visible_comments(
    comments: Iterable[str],
    answer_count: int,
    min_comments: int = MIN_COMMENT_GROUP,
) -> list[str]:
    """The round's comments in alphabetical order, or [] when fewer than ``min_comments`` people answered.

    Stored order is answer order, and answer order plus "who answered when" identifies people. A total
    alphabetical order depends only on the texts themselves, so it reveals nothing about who wrote first;
    a shuffle beforehand would change nothing, so there is none. Blank comments are dropped.
    """
    if answer_count < min_comments:
        return []
    texts = [c.strip() for c in comments]
    return sorted((t for t in texts if t), key=_comment_key)
