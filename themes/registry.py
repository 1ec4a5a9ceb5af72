"""The themes shipped in this folder: each is `themes/<key>/` with `manifest.json`,
`templates/` (at least `base.html`) and `static/` (served under `themes/<key>/`).

A page of type `X` renders `themes/<key>/pages/x.html` when the theme has it, else the shared
`sites/pages/x.html`, which extends the theme's `base.html`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.http import HttpRequest

from themes.colours import readable_on, text_safe

THEMES_DIR = Path(__file__).resolve().parent
DEFAULT_THEME = "republique"


@dataclass(frozen=True)
class Theme:
    key: str
    name: str
    description: str
    preview: str  # static path of the preview image
    primary_colour: str
    secondary_colour: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def base_template(self) -> str:
        return f"themes/{self.key}/base.html"

    @property
    def stylesheet(self) -> str:
        return f"themes/{self.key}/theme.css"


@cache
def themes() -> dict[str, Theme]:
    found = {}
    for manifest in sorted(THEMES_DIR.glob("*/manifest.json")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        key = manifest.parent.name
        found[key] = Theme(
            key=key,
            name=data["name"],
            description=data.get("description", ""),
            preview=f"themes/{key}/{data['preview']}",
            primary_colour=data["options"]["primary_colour"],
            secondary_colour=data["options"]["secondary_colour"],
            options=data["options"],
        )
    return found


def get_theme(key: str) -> Theme | None:
    return themes().get(key)


def theme_choices() -> list[tuple[str, str]]:
    return [(theme.key, theme.name) for theme in themes().values()]


def page_template_names(theme_key: str, template: str) -> list[str]:
    theme = get_theme(theme_key) or themes()[DEFAULT_THEME]
    return [f"themes/{theme.key}/pages/{template}.html", f"sites/pages/{template}.html"]


def theme_context(request: HttpRequest, page: Any) -> dict[str, Any]:
    from sites.models import SiteNavigation
    from sites.selectors import identity_of_page, site_of_page

    identity = identity_of_page(page, request)
    site = site_of_page(page, request)
    theme = get_theme(identity.theme) or themes()[DEFAULT_THEME]
    primary = identity.primary_colour or theme.primary_colour
    secondary = identity.secondary_colour or theme.secondary_colour
    return {
        "site_name": identity.candidate_name or (site.site_name if site else ""),
        "theme": theme,
        "theme_base": theme.base_template,
        "identity": identity,
        "navigation": SiteNavigation.for_site(site) if site else SiteNavigation(),
        "colours": {
            "primary": primary,
            "on_primary": readable_on(primary),
            "primary_text": text_safe(primary),
            "secondary": secondary,
            "on_secondary": readable_on(secondary),
            "secondary_text": text_safe(secondary),
        },
    }
