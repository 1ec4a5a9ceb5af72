"""The territory map in a real browser: coloured bureaux, switching the indicator, a bureau's
card, at desktop and phone widths, with the tile server unreachable (offline)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from cocarde.tenancy.models import StaffRole
from crm.services.people import create_person
from territory.models import Election, ElectionRound
from territory.services.people import geocode_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"
UNREACHABLE_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"  # nothing listens on port 9


def sign_in(browser_page, live_server, user) -> None:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    browser_page.context.add_cookies(
        [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
    )


@pytest.fixture
def demo_map(settings, make_campaign, make_staff):
    from territory import demo

    settings.TERRITORY_MAP_TILE_URL = UNREACHABLE_TILES
    demo.load(stdout=io.StringIO())
    campaign = make_campaign("Montrichard 2027", commune_codes=["41998"])
    # Our people: 40 addresses of the commune, geocoded offline as the demo does.
    for number in range(1, 41):
        create_person(
            actor=None, campaign=campaign, first_names=f"P{number}", street_number=str(number),
            street_name="Rue Victor Hugo" if number % 2 else "Rue du Moulin", commune_code="41998",
        )  # fmt: skip
    geocode_people(campaign=campaign)
    return campaign, make_staff(campaign, StaffRole.Role.STAFF)


def fills(browser_page) -> dict[str, str]:
    return dict(
        browser_page.eval_on_selector_all(
            "#territory-map path.leaflet-interactive",
            "els => els.map(e => [e.dataset.bureau, e.getAttribute('fill')])",
        )
    )


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_map_colours_bureaux_switches_indicator_and_opens_a_card(
    viewport, request, live_server, demo_map
):
    browser_page = request.getfixturevalue("page" if viewport == "desktop" else "phone_page")
    campaign, staff = demo_map
    errors: list[str] = []
    browser_page.on(
        "console",
        lambda msg: msg.type == "error" and "127.0.0.1:9" not in msg.text
        and "ERR_CONNECTION_REFUSED" not in msg.text and errors.append(msg.text),
    )  # fmt: skip
    browser_page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    sign_in(browser_page, live_server, staff)

    browser_page.goto(f"{live_server.url}/admin/territory/map/?campaign={campaign.pk}")
    browser_page.wait_for_selector("#territory-map[data-loading=false]")
    first = fills(browser_page)
    assert sorted(first) == [f"41998_000{n}" for n in range(1, 7)]
    assert len(set(first.values())) >= 4  # coloured by abstention, 5 classes
    assert browser_page.locator(".territory-legend").is_visible()

    round1 = ElectionRound.objects.get(
        election=Election.objects.get(name__contains="démo"), number=1
    )
    select = browser_page.locator("[data-territory-indicator]")
    select.select_option(f"nuance:{round1.pk}:SOC")
    browser_page.wait_for_selector(f"#territory-map[data-indicator='nuance:{round1.pk}:SOC']")
    browser_page.wait_for_selector("#territory-map[data-loading=false]")
    second = fills(browser_page)
    assert second != first
    assert "SOC" in browser_page.locator(".territory-legend").inner_text()

    browser_page.locator("#territory-map path[data-bureau='41998_0006']").click()
    card = browser_page.locator("[data-bureau-card='41998_0006']")
    card.wait_for()
    assert "Maison des associations" in card.inner_text()
    assert "BRUNET" in card.inner_text()
    assert card.locator(".territory-bar__fill").count() == 7  # 2 + 5 candidacies

    # Our people, clustered by the server for this zoom, on top of the coloured bureaux.
    browser_page.locator("[data-territory-people]").select_option("all")
    browser_page.wait_for_selector("#territory-map[data-people=loaded]")
    assert browser_page.locator("#territory-map").get_attribute("data-people-total") == "40"
    drawn = browser_page.locator(".territory-cluster").count()
    drawn += browser_page.locator(".territory-person").count()
    assert drawn >= 1
    if browser_page.locator(".territory-cluster").count():
        counts = browser_page.eval_on_selector_all(
            ".territory-cluster span", "els => els.map(e => Number(e.textContent))"
        )
        assert sum(counts) == 40
    assert fills(browser_page) == second  # the people layer adds no bureau path

    SCREENSHOTS.mkdir(exist_ok=True)
    shot = SCREENSHOTS / f"territory-map-{viewport}.png"
    browser_page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000

    # Clicking a cluster zooms in (no animation: the reload starts at once); close enough,
    # the server sends the points themselves.
    for _ in range(3):
        if browser_page.locator("#territory-map").get_attribute("data-people-mode") == "points":
            break
        browser_page.locator(".territory-cluster").first.click(force=True)
        browser_page.wait_for_selector("#territory-map[data-people=loaded]")
    assert browser_page.locator("#territory-map").get_attribute("data-people-mode") == "points"
    assert browser_page.locator("path.territory-person").count() >= 1
    assert not errors, errors
