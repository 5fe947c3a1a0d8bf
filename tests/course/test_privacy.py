"""Minimum group sizes: no aggregate below 5 answers, no comments below 10."""

from __future__ import annotations

import pytest

from bot.course.privacy import MIN_COMMENT_GROUP, MIN_GROUP_SIZE, aggregate_scores, visible_comments

INDICATORS = ("arbeidsflyt", "motivasjon", "engasjement", "involvering", "tillit", "trygghet")


def answer(*scores: int) -> dict[str, int]:
    return dict(zip(INDICATORS, scores, strict=True))


FIVE_ANSWERS = [
    answer(3, 4, 4, 2, 5, 5),
    answer(2, 4, 3, 3, 4, 5),
    answer(4, 5, 4, 2, 4, 4),
    answer(3, 3, 3, 3, 5, 4),
    answer(5, 4, 2, 1, 4, 5),
]


def test_defaults() -> None:
    assert MIN_GROUP_SIZE == 5
    assert MIN_COMMENT_GROUP == 10


def test_four_answers_hide_the_aggregate() -> None:
    assert aggregate_scores(FIVE_ANSWERS[:4], INDICATORS, MIN_GROUP_SIZE) is None
    assert aggregate_scores(FIVE_ANSWERS[:4], INDICATORS) is None


def test_five_answers_show_it_computed_by_hand() -> None:
    # arbeidsflyt 17/5 = 3.4; motivasjon 20/5 = 4.0; engasjement 16/5 = 3.2; involvering 11/5 = 2.2;
    # tillit 22/5 = 4.4; trygghet 23/5 = 4.6
    assert aggregate_scores(FIVE_ANSWERS, INDICATORS, MIN_GROUP_SIZE) == {
        "arbeidsflyt": 3.4,
        "motivasjon": 4.0,
        "engasjement": 3.2,
        "involvering": 2.2,
        "tillit": 4.4,
        "trygghet": 4.6,
    }


def test_rounding_is_half_up_like_by_hand() -> None:
    # 3.25 rounds to 3.3 by hand; float round() would give 3.2. 3.125 -> 3.1, 3.875 -> 3.9.
    answers = [{"tillit": v} for v in (3, 3, 3, 4, 3, 3, 4, 3)]  # 26/8 = 3.25
    assert aggregate_scores(answers, ["tillit"], 5) == {"tillit": 3.3}
    answers = [{"tillit": v} for v in (3, 3, 3, 3, 3, 3, 3, 4)]  # 25/8 = 3.125
    assert aggregate_scores(answers, ["tillit"], 5) == {"tillit": 3.1}
    answers = [{"tillit": v} for v in (4, 4, 4, 4, 4, 4, 4, 3)]  # 31/8 = 3.875
    assert aggregate_scores(answers, ["tillit"], 5) == {"tillit": 3.9}


def test_indicator_answered_by_too_few_is_left_out() -> None:
    answers = [dict(a) for a in FIVE_ANSWERS]
    del answers[0]["trygghet"]
    result = aggregate_scores(answers, INDICATORS, 5)
    assert result is not None
    assert "trygghet" not in result
    assert result["tillit"] == 4.4


def test_custom_min_group() -> None:
    assert aggregate_scores(FIVE_ANSWERS[:3], INDICATORS, 3) is not None
    assert aggregate_scores(FIVE_ANSWERS, INDICATORS, 6) is None
    with pytest.raises(ValueError):
        aggregate_scores(FIVE_ANSWERS, INDICATORS, 0)


@pytest.mark.parametrize("bad", [0, 6, True, 3.5, "4"])
def test_scores_outside_the_scale_are_refused(bad: object) -> None:
    answers = [dict(a) for a in FIVE_ANSWERS]
    answers[2]["tillit"] = bad  # type: ignore[assignment]
    with pytest.raises(ValueError):
        aggregate_scores(answers, INDICATORS, 5)


def test_comments_hidden_below_ten_answers() -> None:
    comments = ["Travel morgen", "Godt samarbeid"]
    assert visible_comments(comments, 9, MIN_COMMENT_GROUP) == []
    assert visible_comments(comments, 9) == []


def test_comments_shown_sorted_from_ten_answers() -> None:
    comments = ["Øving trengs", "travel morgen", "Alt vel", "Åpen dialog", "ærlig prat", "  ", "Bra uke"]
    assert visible_comments(comments, 10, MIN_COMMENT_GROUP) == [
        "Alt vel",
        "Bra uke",
        "travel morgen",
        "ærlig prat",
        "Øving trengs",
        "Åpen dialog",
    ]


def test_comment_order_reveals_nothing_about_answer_order() -> None:
    comments = ["b", "A", "a", "c", "B"]
    expected = visible_comments(comments, 12)
    assert visible_comments(list(reversed(comments)), 12) == expected
    assert visible_comments(sorted(comments), 12) == expected


def test_visible_comments_returns_a_copy() -> None:
    comments = ["b", "a"]
    visible_comments(comments, 10).append("x")
    assert comments == ["b", "a"]
