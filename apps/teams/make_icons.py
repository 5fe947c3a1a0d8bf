"""Draw the Teams app icons (`color.png`, `outline.png`) next to this file.

Run once by hand when the design changes; the PNGs are committed, so neither packaging nor the tests need
Pillow. Needs Pillow: `python -m pip install pillow && python apps/teams/make_icons.py`.

The motif is a speech bubble with four dots: the four parties (leader, verneombud, tillitsvalgt, staff)
in one conversation. Teams wants a 192x192 full-colour icon and a 32x32 outline icon that is white on a
transparent background (it tints the outline itself in the app bar).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
ACCENT = (46, 125, 107)  # keep in step with "accentColor" in manifest.json (#2E7D6B)
PARTY_COLOURS = [(242, 169, 59), (222, 90, 72), (88, 150, 214), (46, 125, 107)]
# Draw large and shrink: Pillow's primitives are not anti-aliased, the LANCZOS downscale smooths them.
SUPERSAMPLE = 8


def _bubble(draw: ImageDraw.ImageDraw, size: int, fill: int | tuple[int, ...], inset: float = 0.0) -> None:
    """A rounded speech bubble with a tail at the lower left, scaled to a square canvas of `size`.

    With `inset`, only the rounded body shrunk by that fraction of `size` is drawn: painting it in the
    background colour over a full bubble leaves a rim, which is how the outline icon gets its border.
    """
    box = (0.14 * size, 0.16 * size, 0.86 * size, 0.70 * size)
    radius = 0.16 * size
    if inset:
        d = inset * size
        draw.rounded_rectangle(
            (box[0] + d, box[1] + d, box[2] - d, box[3] - d), radius=max(radius - d, 1), fill=fill
        )
        return
    draw.rounded_rectangle(box, radius=radius, fill=fill)
    draw.polygon(
        [(0.26 * size, 0.66 * size), (0.22 * size, 0.86 * size), (0.46 * size, 0.68 * size)], fill=fill
    )


def _dot_centres(size: int) -> list[tuple[float, float]]:
    y = 0.43 * size
    return [(x * size, y) for x in (0.29, 0.43, 0.57, 0.71)]


def make_color(path: Path, size: int = 192) -> None:
    big = size * SUPERSAMPLE
    image = Image.new("RGB", (big, big), ACCENT)
    draw = ImageDraw.Draw(image)
    _bubble(draw, big, fill=(255, 255, 255))
    r = 0.055 * big
    for (cx, cy), colour in zip(_dot_centres(big), PARTY_COLOURS, strict=True):
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    image.resize((size, size), Image.Resampling.LANCZOS).save(path, optimize=True)


def make_outline(path: Path, size: int = 32) -> None:
    # Draw only the alpha channel and put pure white under it afterwards, so that the soft edges stay
    # white instead of picking up grey from resampling against a transparent black background.
    big = size * SUPERSAMPLE
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    _bubble(draw, big, fill=255)
    _bubble(draw, big, fill=0, inset=0.08)
    r = 0.06 * big
    for cx, cy in _dot_centres(big):
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    alpha = mask.resize((size, size), Image.Resampling.LANCZOS)
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    image.putalpha(alpha)
    image.save(path, optimize=True)


if __name__ == "__main__":
    make_color(HERE / "color.png")
    make_outline(HERE / "outline.png")
    print(f"wrote {HERE / 'color.png'} and {HERE / 'outline.png'}")
