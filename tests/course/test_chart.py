"""The weekly check-in trend chart: a small, deterministic PNG drawn without a display."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from PIL import Image

from bot.course.chart import render_trend_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

WEEKS = ["uke 10", "uke 11", "uke 12", "uke 13", "uke 14"]
SERIES: dict[str, list[float | None]] = {
    "arbeidsflyt": [3.2, 3.5, None, 3.9, 4.1],
    "motivasjon": [4.0, None, None, 3.8, 4.2],
    "engasjement": [3.0, 3.1, 3.3, 3.6, 3.9],
    "involvering": [2.5, 2.8, None, 3.1, 3.0],
    "tillit": [4.4, 4.5, 4.3, 4.6, 4.6],
    "trygghet": [None, 4.1, 4.2, 4.4, 4.5],
}


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chart_is_a_small_png_that_opens(tmp_path: Path) -> None:
    target = tmp_path / "charts" / "trend.png"  # a missing folder is created
    result = render_trend_chart(WEEKS, SERIES, "En bra dag på jobb – trygghet og tillit", target)
    assert result == target
    assert target.is_file()
    assert png_size(target) == (800, 400)
    with Image.open(target) as image:
        image.verify()
    with Image.open(target) as image:
        assert image.format == "PNG"
        assert image.size == (800, 400)
        # Something was drawn: not one flat colour.
        darkest, lightest = image.convert("L").getextrema()
        assert isinstance(darkest, int) and isinstance(lightest, int)
        assert darkest < lightest
    assert target.stat().st_size < 200_000


def test_chart_is_deterministic(tmp_path: Path) -> None:
    first = render_trend_chart(WEEKS, SERIES, "Trend", tmp_path / "a.png")
    second = render_trend_chart(WEEKS, SERIES, "Trend", tmp_path / "b.png")
    assert first.read_bytes() == second.read_bytes()
    # No software or time stamp chunks in the file.
    data = first.read_bytes()
    assert b"Software" not in data
    assert b"tIME" not in data


def test_all_hidden_and_empty_charts_still_render(tmp_path: Path) -> None:
    hidden = render_trend_chart(
        WEEKS, {"tillit": [None] * 5}, "Trend", tmp_path / "hidden.png", y_label="1–5"
    )
    assert png_size(hidden) == (800, 400)
    empty = render_trend_chart([], {}, "Ingen svar ennå", tmp_path / "empty.png")
    assert png_size(empty) == (800, 400)


def test_many_weeks_fit(tmp_path: Path) -> None:
    weeks = [f"uke {n}" for n in range(1, 27)]
    path = render_trend_chart(
        weeks, {"tillit": [3.0 + (n % 5) / 5 for n in range(26)]}, "Halvår", tmp_path / "l.png"
    )
    assert png_size(path) == (800, 400)


def test_series_length_must_match_weeks(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        render_trend_chart(WEEKS, {"tillit": [4.0, 4.1]}, "Trend", tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_the_chart_folder_is_private_and_must_be_ours(tmp_path: Path) -> None:
    """The default folder has a fixed name in the shared temp folder (SEC-19): an old world-readable one of
    ours is tightened; a link, or a folder another user made there first, gets no chart."""
    old = tmp_path / "old"
    old.mkdir(mode=0o755)
    old.chmod(0o755)
    render_trend_chart(WEEKS, SERIES, "Trend", old / "trend.png")
    assert old.stat().st_mode & 0o777 == 0o700

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "link"
    link.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(PermissionError):
        render_trend_chart(WEEKS, SERIES, "Trend", link / "trend.png")
    assert list(elsewhere.iterdir()) == []

    if os.getuid() != 0:
        return  # only root can hand a folder to another user; CI as root (and this container) checks it
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o777)
    os.chown(theirs, 4242, 4242)
    with pytest.raises(PermissionError):
        render_trend_chart(WEEKS, SERIES, "Trend", theirs / "trend.png")
    assert list(theirs.iterdir()) == []
