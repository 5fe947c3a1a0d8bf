"""The weekly check-in trend as a small PNG for the weekly summary.

Uses matplotlib's object API (imported when the first chart is drawn) with the Agg canvas directly instead
of pyplot: no display is needed, and no global figure state is shared between the scheduler's concurrent
summaries.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.course.privacy import SCALE_MAX, SCALE_MIN

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# 8 x 4 inches at 100 dpi: 800 x 400 pixels, small enough for a Teams card and a Slack upload.
FIGSIZE_INCHES = (8.0, 4.0)
DPI = 100

# Distinct markers as well as colours, so the lines stay apart for colour-blind readers and in grey print.
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

# PNG metadata that would otherwise carry the matplotlib version; without it the bytes depend on the input
# only, so the same summary renders the same file.
_PNG_METADATA: dict[str, str | None] = {"Software": None}


def private_folder(folder: Path) -> Path:
    """``folder``, readable by this user only: created so, tightened if it is ours but open to others, and
    refused (PermissionError) if it is a link or someone else's.

    The default chart folder has a fixed name in the shared temp folder (``/tmp/partsbot-charts``): a folder
    another local user made there first, or an old one left world-readable, must not receive a unit's
    check-in trend (SEC-19)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise PermissionError(f"chart folder {folder} is not a folder of this user's own; no chart written")
    if info.st_mode & 0o077:
        folder.chmod(0o700)
    return folder


def _as_plot_values(values: Sequence[float | None]) -> list[float]:
    # NaN breaks the line: a week hidden below the minimum group size shows as a gap, never as a zero.
    return [math.nan if v is None else float(v) for v in values]


def _check_lengths(weeks: Sequence[str], series: Mapping[str, Sequence[float | None]]) -> None:
    for name, values in series.items():
        if len(values) != len(weeks):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(weeks)} weeks")


def _build_figure(
    weeks: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    title: str,
    y_label: str | None,
) -> Figure:
    # Imported here: matplotlib (with numpy) is about 40 MB, and most processes never draw a chart.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE_INCHES, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    positions = list(range(len(weeks)))
    for index, (name, values) in enumerate(series.items()):
        ax.plot(
            positions,
            _as_plot_values(values),
            label=name,
            marker=_MARKERS[index % len(_MARKERS)],
            linewidth=2,
            markersize=5,
        )
    ax.set_title(title, fontsize=12)
    # Week labels as explicit ticks: categorical axes would merge equal labels and reorder nothing else.
    ax.set_xticks(positions, list(weeks), fontsize=9)
    if len(weeks) > 8:
        ax.tick_params(axis="x", labelrotation=45)
    ax.set_yticks(range(SCALE_MIN, SCALE_MAX + 1))
    ax.set_ylim(SCALE_MIN - 0.2, SCALE_MAX + 0.2)
    if positions:
        ax.set_xlim(-0.3, positions[-1] + 0.3)
    if y_label:
        ax.set_ylabel(y_label)
    ax.grid(axis="y", alpha=0.3)
    if series:
        # Outside the plot on the right, so the legend never hides a data point.
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, frameon=False)
    fig.tight_layout()
    return fig


def render_trend_chart(
    weeks: list[str],
    series: dict[str, list[float | None]],
    title: str,
    path: Path,
    *,
    y_label: str | None = None,
) -> Path:
    """Draw one line per indicator over the weeks (scale 1–5) and save it as a PNG at ``path``.

    ``series`` maps an already translated indicator label to one value per week; None marks a week whose
    aggregate is hidden (below the minimum group size) and is drawn as a gap. Returns ``path``.
    """
    _check_lengths(weeks, series)
    fig = _build_figure(weeks, series, title, y_label)
    # Private: a chart shows a unit's check-in trend (SEC-19). Deleted after delivery (course/retention.py).
    private_folder(path.parent)
    # No bbox_inches="tight": it would change the pixel size; tight_layout already fits the labels.
    fig.savefig(path, format="png", dpi=DPI, metadata=_PNG_METADATA)
    return path
