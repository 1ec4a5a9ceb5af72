"""Planning in a real browser: the turfs on the map, and redrawing a turf by clicking a building."""

from __future__ import annotations

import re

import pytest

from canvassing.models import Building, Door
from tests.fixtures.people import PASSWORD, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_turfs_on_the_map_and_redraw_by_click(page, live_server, make_field, settings):
    settings.TERRITORY_MAP_TILE_URL = ""  # no network in tests: our own data still shows
    field = make_field(doors_per_turf=14)
    dc = field.door_campaign
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    page.goto(f"{live_server.url}/admin/canvassing/{dc.pk}/")
    page.fill("input[name=login]", field.manager.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_code(field.manager.totp_secret))
    page.press("input[name=code]", "Enter")
    page.wait_for_url(re.compile(rf"/admin/canvassing/{dc.pk}/$"))
    markers = page.locator("[data-planning-map] path.leaflet-interactive")
    markers.first.wait_for()
    assert markers.count() == Building.objects.filter(door_campaign=dc).count()

    target = field.turfs[-1]
    page.select_option("[data-move-to]", str(target.pk))
    before = set(Door.objects.filter(turf=target).values_list("building_id", flat=True))
    with page.expect_response(re.compile(r"/move/$")):
        markers.first.dispatch_event("click")
    after = set(Door.objects.filter(turf=target).values_list("building_id", flat=True))
    assert len(after - before) == 1
    assert not errors, errors
