"""Finds theme templates: `themes/<key>/<path>` is read from `themes/<key>/templates/<path>`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.template import Origin
from django.template.loaders.filesystem import Loader as FilesystemLoader

from themes.registry import THEMES_DIR


class ThemeLoader(FilesystemLoader):
    def get_dirs(self) -> list[Any]:
        return []

    def get_template_sources(self, template_name: str) -> Iterator[Origin]:
        parts = template_name.split("/", 2)
        if len(parts) != 3 or parts[0] != "themes" or not parts[1].isidentifier():
            return
        path = (THEMES_DIR / parts[1] / "templates" / parts[2]).resolve()
        if THEMES_DIR not in path.parents:  # no ../ escapes
            return
        yield Origin(name=str(path), template_name=template_name, loader=self)
