"""French is the default, English is available, and the catalogues are complete and compiled."""

from __future__ import annotations

import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.fixtures.components import require

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_compiled_catalogue_matches_its_source(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    mo = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in mo}
    for entry in po.translated_entries():
        expected = entry.msgstr or {int(k): v for k, v in entry.msgstr_plural.items()}
        got = compiled.get((entry.msgctxt, entry.msgid))
        if isinstance(got, dict):
            got = {int(k): v for k, v in got.items()}
        assert got == expected, f"{language}: run `make messages` ({entry.msgid!r})"


def test_every_string_has_a_french_translation():
    po = polib.pofile(str(LOCALE / "fr" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or e.fuzzy)]
    assert not missing, f"untranslated in French: {missing}"


def test_catalogue_lists_every_marked_string(tmp_path):
    """Re-extract the strings and compare: a marked string missing from the catalogue would
    show in English to French users."""
    require(shutil.which("xgettext") is not None, "gettext (xgettext)")
    shutil.copytree(LOCALE, tmp_path / "locale")
    with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
        call_command(
            "makemessages", locale=["fr"], ignore_patterns=[".venv", "var", "tests", "bench"],
            verbosity=0,
        )  # fmt: skip
    fresh = {e.msgid for e in polib.pofile(str(tmp_path / "locale/fr/LC_MESSAGES/django.po"))}
    committed = {e.msgid for e in polib.pofile(str(LOCALE / "fr/LC_MESSAGES/django.po"))}
    assert fresh - committed == set(), "run `make messages` and translate the new strings"


@pytest.mark.django_db
def test_french_by_default_english_on_request(client):
    french = client.get("/accounts/login/")
    assert '<html lang="fr">' in french.content.decode()
    english = client.get("/accounts/login/", headers={"accept-language": "en"})
    assert '<html lang="en">' in english.content.decode()
