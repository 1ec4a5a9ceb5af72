"""French is the default, English is available, and every app's catalogue is complete and
compiled. Each app owns its catalogue (<app>/locale); `make messages` refreshes them all."""

from __future__ import annotations

import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command

from tests.fixtures.components import require

ROOT = Path(__file__).resolve().parents[2]
APPS = [
    "cocarde",
    "sites",
    "themes",
    "crm",
    "messaging",
    "donations",
    "territory",
    "territory/intelligence",
    "canvassing",
]
# Apps nested in another app's folder own their catalogue: the parent's extraction skips them.
NESTED = {"territory": ["intelligence"]}


def catalogue(app: str, language: str, suffix: str = "po") -> Path:
    return ROOT / app / "locale" / language / "LC_MESSAGES" / f"django.{suffix}"


@pytest.mark.parametrize("app", APPS)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_compiled_catalogue_matches_its_source(app, language):
    po = polib.pofile(str(catalogue(app, language)))
    mo = polib.mofile(str(catalogue(app, language, "mo")))
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in mo}
    for entry in po.translated_entries():
        expected = entry.msgstr or {int(k): v for k, v in entry.msgstr_plural.items()}
        got = compiled.get((entry.msgctxt, entry.msgid))
        if isinstance(got, dict):
            got = {int(k): v for k, v in got.items()}
        assert got == expected, f"{app}/{language}: run `make messages` ({entry.msgid!r})"


@pytest.mark.parametrize("app", APPS)
def test_every_string_has_a_french_translation(app):
    po = polib.pofile(str(catalogue(app, "fr")))
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or e.fuzzy)]
    assert not missing, f"untranslated in {app}/locale/fr: {missing}"


@pytest.mark.parametrize("app", APPS)
def test_catalogue_lists_every_marked_string(app, tmp_path, monkeypatch):
    """Re-extract the app's strings in a scratch copy and compare: a marked string missing
    from the catalogue would show in English to French users."""
    require(shutil.which("xgettext") is not None, "gettext (xgettext)")
    scratch = tmp_path / app
    ignored = shutil.ignore_patterns("__pycache__", "static", *NESTED.get(app, []))
    shutil.copytree(ROOT / app, scratch, ignore=ignored)
    monkeypatch.chdir(scratch)
    call_command("makemessages", locale=["fr"], verbosity=0)
    fresh = {e.msgid for e in polib.pofile(str(scratch / "locale/fr/LC_MESSAGES/django.po"))}
    committed = {e.msgid for e in polib.pofile(str(catalogue(app, "fr")))}
    assert fresh - committed == set(), f"run `make messages` and translate {app}'s new strings"


@pytest.mark.django_db
def test_french_by_default_english_on_request(client):
    french = client.get("/accounts/login/")
    assert '<html lang="fr">' in french.content.decode()
    assert "Connexion" in french.content.decode()
    english = client.get("/accounts/login/", headers={"accept-language": "en"})
    assert '<html lang="en">' in english.content.decode()
    assert "Sign In" in english.content.decode()
