"""Colour contrast (WCAG 2.x), so a campaign's chosen colours never make text unreadable."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
WHITE, DARK = "#ffffff", "#111111"
AA = 4.5


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable_on(background: str) -> str:
    """White or near-black, whichever reads better on the background."""
    return WHITE if contrast(background, WHITE) >= contrast(background, DARK) else DARK


def text_safe(colour: str, background: str = WHITE) -> str:
    """The colour itself if it reads on the background (AA), else darkened until it does."""
    if contrast(colour, background) >= AA:
        return colour
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(1, 21):
        factor = 1 - step * 0.05
        candidate = f"#{int(r * factor):02x}{int(g * factor):02x}{int(b * factor):02x}"
        if contrast(candidate, background) >= AA:
            return candidate
    return DARK


def contrast_problem(colour: str) -> str | None:
    """Why a brand colour cannot be used (bad format, or no readable text colour on it)."""
    if not HEX.match(colour or ""):
        return str(_("Enter a colour as #RRGGBB, e.g. #1d3a6e."))
    if contrast(colour, readable_on(colour)) < AA:
        return str(
            _(
                "Text cannot be read on this colour (contrast below 4.5:1): "
                "pick a darker or lighter one."
            )
        )
    return None
