"""Candidate sites in a real browser: the national team creates a site with the admin wizard
and opens it; the pages pass an axe-core accessibility check and fit a phone screen."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# WCAG 2.1 A and AA rules plus axe's best practices (landmarks, one h1, skip link...).
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    }
}


def sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )


def site_url(live_server, hostname: str, path: str = "/") -> str:
    return f"http://{hostname}:{urlsplit(live_server.url).port}{path}"


def assert_accessible(page) -> None:
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def test_wizard_creates_a_site_that_opens_on_its_own_host_name(
    page, live_server, template_site, national_admin
):
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    sign_in(page, live_server, national_admin)

    page.goto(f"{live_server.url}/admin/candidate-sites/new/")
    assert page.locator("h1").first.inner_text().strip() == "Nouveau site de candidat"
    page.fill("#id_candidate_name", "Jeanne Martin")
    page.fill("#id_hostname", "not a host name")
    page.get_by_role("button", name="Suivant").click()
    # Step 2 needs nothing, but a bad host name is caught at the end, on step 1.
    page.fill("#id_commune_name", "Vendôme")
    page.fill("#id_circonscription_code", "41-02")
    page.get_by_role("button", name="Suivant").click()
    page.check("input[name=theme][value=horizon]")
    assert "Jeanne Martin" in page.locator(".wizard-summary").inner_text()
    page.get_by_role("button", name="Créer le site").click()
    # Back on step 1, where the host name is, with the error next to it.
    assert page.locator("[aria-current=step]").inner_text().startswith("1.")
    assert "nom d’hôte valide" in page.locator(".new-site-wizard").inner_text()
    page.fill("#id_hostname", "jeanne-martin.localhost")
    page.get_by_role("button", name="Suivant").click()
    assert page.input_value("#id_commune_name") == "Vendôme"  # nothing lost going back
    page.get_by_role("button", name="Suivant").click()
    assert page.locator("input[name=theme][value=horizon]").is_checked()
    page.get_by_role("button", name="Créer le site").click()
    page.wait_for_url(re.compile(r"/admin/candidate-sites/created/\d+/$"))
    assert "Le site de Jeanne Martin est prêt" in page.content()

    page.goto(site_url(live_server, "jeanne-martin.localhost"))
    assert page.locator("h1").inner_text() == "Jeanne : une voix utile pour Vendôme"
    assert page.locator("html").get_attribute("class") == "theme-horizon"
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Pétition"
    ).click()
    assert page.locator("h1").inner_text() == "Sauvons les urgences de nuit à Vendôme"
    page.fill("#id_first_name", "Léa")
    page.fill("#id_last_name", "Roux")
    page.fill("#id_email", "lea@example.org")
    page.fill("#id_postcode", "41100")
    page.get_by_role("button", name="Je signe").click()
    assert page.locator("h1").inner_text() == "Merci pour votre signature Léa"
    assert not errors, errors


@pytest.mark.parametrize("theme", ["republique", "horizon", "proximite"])
def test_every_theme_is_accessible_and_fits_a_phone(browser, live_server, clone, theme, tmp_path):
    result = clone(f"Marie {theme.title()}", f"{theme}.localhost", theme=theme)
    for viewport, name in (
        ({"width": 390, "height": 844}, "phone"),
        ({"width": 1366, "height": 900}, "desktop"),
    ):
        context = browser.new_context(viewport=viewport, locale="fr-FR", is_mobile=name == "phone")
        page = context.new_page()
        for path in ("/", "/petition-urgences/", "/mentions-legales/", "/agir/"):
            page.goto(site_url(live_server, result.site.hostname, path))
            # Nothing wider than the screen (no horizontal scrolling on a phone).
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], path
            if path == "/":
                shot = tmp_path / f"{theme}-{name}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000
                menu_button = page.locator("summary", has_text="Menu")
                assert menu_button.is_visible() is (name == "phone")
            if name == "desktop":
                assert_accessible(page)
        if name == "phone":
            page.goto(site_url(live_server, result.site.hostname))
            page.locator("summary", has_text="Menu").click()
            assert (
                page.locator(".menu-toggle .main-nav")
                .get_by_role("link", name="Programme")
                .is_visible()
            )
            assert_accessible(page)
        context.close()
