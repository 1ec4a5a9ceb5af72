"""Placeholders: how a national template says "the candidate's name goes here".

Syntax (documented for editors in docs/sites.md and in the admin help texts):

- In any text (titles, rich text, block text, SEO fields, form questions): ``{{ name }}``, with or
  without spaces inside the braces, e.g. ``{{ candidate_name }}`` or ``{{candidat}}``.
- In slugs, where braces are not allowed: ``__name__``, e.g. ``agir-a-__commune__`` becomes
  ``agir-a-blois``.

Every placeholder has an English name and a French alias (``candidate_name`` / ``candidat``).
An unknown name is an error when the template page is saved, and a value that a template uses
but the clone does not provide is an error when cloning, naming the placeholder and the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Placeholder:
    name: str
    alias: str  # French name, accepted everywhere
    label: Any


PLACEHOLDERS: tuple[Placeholder, ...] = (
    Placeholder("candidate_name", "candidat", _("Candidate's full name")),
    Placeholder("candidate_first_name", "prenom_candidat", _("Candidate's first name")),
    Placeholder("candidate_last_name", "nom_candidat", _("Candidate's last name")),
    Placeholder("party_name", "parti", _("Party name")),
    Placeholder("commune", "commune", _("Commune name(s)")),
    Placeholder("circonscription", "circonscription", _("Circonscription name")),
    Placeholder("territory", "territoire", _("Commune or circonscription, whichever is set")),
    Placeholder("election_name", "election", _("Election name")),
    Placeholder("election_date", "date_election", _("Date of the first round")),
    Placeholder("election_year", "annee_election", _("Election year")),
    Placeholder("contact_email", "email_contact", _("Campaign contact email")),
    Placeholder("site_name", "nom_site", _("Site name")),
)

_CANONICAL = {p.name: p.name for p in PLACEHOLDERS} | {p.alias: p.name for p in PLACEHOLDERS}
TEXT_TOKEN = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
SLUG_TOKEN = re.compile(r"__([a-z][a-z0-9_]*?)__")


class MissingPlaceholderValue(ValueError):
    def __init__(self, names: Iterable[str], where: str = "") -> None:
        self.names = sorted(set(names))
        self.where = where
        super().__init__(
            f"No value for placeholder(s) {', '.join(self.names)}"
            + (f" in {where}" if where else "")
        )


def canonical(name: str) -> str | None:
    return _CANONICAL.get(name)


def names_in(text: str) -> set[str]:
    """The placeholder names used in a text or slug, as written (aliases not resolved)."""
    if not text or ("{{" not in text and "__" not in text):
        return set()
    return set(TEXT_TOKEN.findall(text)) | set(SLUG_TOKEN.findall(text))


def unknown_names(text: str) -> set[str]:
    return {name for name in names_in(text) if canonical(name) is None}


class Substitution:
    """Replaces placeholders with one clone's values. Values are plain text; rich text callers
    escape them first (see `for_html`)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = {
            name: str(value) for name, value in values.items() if value not in ("", None)
        }
        self.missing: set[str] = set()

    def _lookup(self, raw_name: str) -> str | None:
        name = canonical(raw_name)
        if name is None:
            return None  # unknown names stay as typed, so editors see their mistake
        if name not in self.values:
            self.missing.add(name)
            return None
        return self.values[name]

    def text(self, value: str) -> str:
        if not value or "{{" not in value:
            return value

        def replace(match: re.Match[str]) -> str:
            found = self._lookup(match.group(1))
            return match.group(0) if found is None else found

        return TEXT_TOKEN.sub(replace, value)

    def html(self, value: str) -> str:
        if not value or "{{" not in value:
            return value
        from django.utils.html import escape

        def replace(match: re.Match[str]) -> str:
            found = self._lookup(match.group(1))
            return match.group(0) if found is None else escape(found)

        return TEXT_TOKEN.sub(replace, value)

    def slug(self, value: str) -> str:
        if not value or "__" not in value:
            return value

        def replace(match: re.Match[str]) -> str:
            found = self._lookup(match.group(1))
            return match.group(0) if found is None else slugify(found)

        return SLUG_TOKEN.sub(replace, value)


def circonscription_label(code: str) -> str:
    """'41-01' -> 'circonscription 41-01': a readable default when no name is given."""
    from django.utils.translation import gettext

    if not code:
        return ""
    return gettext("circonscription %(code)s") % {"code": code}


SAMPLE_VALUES = {
    "candidate_name": "Camille Exemple",
    "candidate_first_name": "Camille",
    "candidate_last_name": "Exemple",
    "party_name": "Parti",
    "commune": "Votre-Commune",
    "circonscription": "votre circonscription",
    "territory": "votre territoire",
    "election_name": "élections",
    "election_date": "jour de l'élection",
    "election_year": "2027",
    "contact_email": "contact@exemple.fr",
    "site_name": "Camille Exemple",
}


def sample_html(html: str) -> str:
    """Rendered HTML of a template page with placeholders shown as marked sample values.
    Inside tag attributes (title, meta) the sample is plain text."""
    if "{{" not in html:
        return html
    from django.utils.html import escape

    def replace(match: re.Match[str]) -> str:
        name = canonical(match.group(1))
        return escape(SAMPLE_VALUES.get(name, match.group(0))) if name else match.group(0)

    return TEXT_TOKEN.sub(replace, html)
