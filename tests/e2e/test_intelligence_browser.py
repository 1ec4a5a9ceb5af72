"""Territory intelligence in a real browser: import a data layer, toggle it on the map, compute
a forecast for the demo commune and read its ranked polling stations."""

from __future__ import annotations

import io

import pytest

from cocarde.tenancy.models import StaffRole
from territory.intelligence.demo import SAMPLE_LAYER
from territory.intelligence.models import Forecast, Layer
from territory.intelligence.selectors import layer_values
from territory.intelligence.synthetic import generate_history
from territory.selectors import campaign_bureaux
from tests.e2e.test_territory_map import UNREACHABLE_TILES, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, make_campaign, make_staff):
    from territory import demo as territory_demo

    settings.TERRITORY_MAP_TILE_URL = UNREACHABLE_TILES
    territory_demo.load(stdout=io.StringIO())
    campaign = make_campaign("Montrichard 2026", commune_codes=["41998"])
    return campaign, make_staff(campaign, StaffRole.Role.STAFF)


def test_import_a_layer_then_forecast_the_demo_commune(page, live_server, demo):
    campaign, staff = demo
    errors: list[str] = []
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    page.on(
        "console",
        lambda msg: msg.type == "error" and "127.0.0.1:9" not in msg.text
        and "ERR_CONNECTION_REFUSED" not in msg.text and errors.append(msg.text),
    )  # fmt: skip
    sign_in(page, live_server, staff)

    # Import the sample social-housing layer.
    page.goto(f"{live_server.url}/admin/intelligence/?campaign={campaign.pk}")
    page.get_by_role("link", name="Importer une couche").click()
    page.fill("input[name=name]", "Logements sociaux")
    page.set_input_files("input[name=file]", str(SAMPLE_LAYER))
    page.locator("[data-layer-form] button[type=submit]").click()
    page.wait_for_selector("[data-layer-figures]")
    assert "Bâtiment hors base" in page.locator("[data-unplaced]").inner_text()
    layer = Layer.objects.get(campaign=campaign)
    assert layer.feature_count == 44

    # On the map: the layer is a toggle; its buildings appear as markers with a popup.
    page.goto(f"{live_server.url}/admin/territory/map/?campaign={campaign.pk}")
    page.wait_for_selector("#territory-map[data-loading=false]")
    page.locator("[data-overlay='Logements sociaux']").check()
    page.wait_for_selector("[data-overlays] label[data-loaded='44']")
    markers = page.locator("#territory-map path.leaflet-interactive:not([data-bureau])")
    assert markers.count() == 44

    # Past municipal results of the demo commune (generated: the commune is fictional).
    bureaux = list(campaign_bureaux(campaign))
    shares = layer_values(layer, "share", [b.pk for b in bureaux])
    generate_history(bureaux, {b: v or 0.0 for b, v in shares.items()})

    page.goto(f"{live_server.url}/admin/intelligence/{campaign.pk}/forecasts/new/")
    page.fill("input[name=name]", "Municipales 2026")
    page.select_option("select[name=election_kind]", "municipales")
    page.locator("input[name=nuances][value=DVG]").check()
    page.locator(f"input[name=layers][value='{layer.pk}']").check()
    page.fill("input[name=reachable_percent]", "15")
    page.locator("[data-forecast-form] button[type=submit]").click()
    page.wait_for_selector("[data-ranking]")
    forecast = Forecast.objects.get(campaign=campaign)
    expected = [r.bureau.code for r in forecast.bureaux.order_by("rank")]
    shown = page.eval_on_selector_all(
        "[data-ranking] tbody tr", "rows => rows.map(r => r.dataset.bureau)"
    )
    assert shown == expected and len(shown) == 6
    assert page.locator("[data-backtest] tbody tr").count() == 2
    assert page.locator("[data-effects] li").count() >= 2
    assert errors == []
