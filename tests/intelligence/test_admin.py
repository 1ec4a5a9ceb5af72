"""The admin screens: import a layer, see it on the map and in the score, compute a forecast and
read its backtest and ranking, study vote transfers; another campaign's data is a 404."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cocarde.tenancy.models import StaffRole
from territory.intelligence.models import Forecast, Layer, TransferStudy
from territory.models import Election, Zone

from .test_layers import CSV
from .test_transfers import make_two_rounds

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaigns(demo_commune, make_campaign):
    return (
        make_campaign("Montrichard", commune_codes=["41998"]),
        make_campaign("Ailleurs", commune_codes=["41018"]),
    )


def upload(client, campaign, name="HLM", content: bytes | None = None, filename="hlm.csv"):
    return client.post(
        f"/admin/intelligence/{campaign.pk}/layers/new/",
        {"name": name, "description": "", "color": "#e7298a",
         "file": SimpleUploadedFile(filename, content or CSV.encode(), content_type="text/csv")},
    )  # fmt: skip


def test_import_a_layer_and_see_it_on_the_map(campaigns, make_staff, login):
    ours, theirs = campaigns
    client = login(make_staff(ours))
    response = upload(client, ours)
    layer = Layer.objects.get(campaign=ours)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/intelligence/{ours.pk}/layers/{layer.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Rue Imaginaire des Songes" not in page  # the label, not the address, is reported
    assert "Nulle part" in page and "data-layer-figures" in page
    geojson = client.get(f"/admin/intelligence/{ours.pk}/layers/{layer.pk}.geojson").json()
    assert len(geojson["features"]) == 3
    assert geojson["features"][0]["properties"]["fields"]["nom"] == "Peupliers 1"
    # The map offers the layer as an indicator and as an overlay.
    map_page = client.get(f"/admin/territory/map/?campaign={ours.pk}").content.decode()
    assert f"layer:{layer.pk}:share" in map_page
    assert "intelligence/overlays.js" in map_page
    assert f"/admin/intelligence/{ours.pk}/layers/{layer.pk}.geojson" in map_page
    data = client.get(
        f"/admin/territory/{ours.pk}/bureaux.json?indicator=layer:{layer.pk}:share"
    ).json()
    values = {f["properties"]["code"]: f["properties"]["value"] for f in data["features"]}
    covered = {
        str(z.code)
        for z in Zone.objects.filter(pk__in=layer.zone_figures.values("zone_id"), type="bureau")
    }
    assert covered and all(values[c] > 0 for c in covered)
    assert all(v == 0 for c, v in values.items() if c not in covered)


def test_another_campaign_sees_nothing_of_ours(campaigns, make_staff, login):
    ours, theirs = campaigns
    upload(login(make_staff(ours)), ours)
    layer = Layer.objects.get()
    client = login(make_staff(theirs))
    for url in (
        f"/admin/intelligence/{ours.pk}/layers/{layer.pk}/",
        f"/admin/intelligence/{ours.pk}/layers/{layer.pk}.geojson",
        f"/admin/intelligence/{theirs.pk}/layers/{layer.pk}/",
        f"/admin/intelligence/{theirs.pk}/layers/{layer.pk}.geojson",
        f"/admin/territory/{theirs.pk}/bureaux.json?indicator=layer:{layer.pk}:share",
    ):
        assert client.get(url).status_code == 404, url
    # A treasurer sees the campaign but may not import.
    treasurer = login(make_staff(ours, StaffRole.Role.TREASURER))
    refused = upload(treasurer, ours, name="Autre")
    assert refused.status_code in (302, 403) and refused.get("Location", "/admin/") == "/admin/"
    assert Layer.objects.count() == 1


def test_a_bad_file_is_reported_on_the_form(campaigns, make_staff, login):
    ours, _theirs = campaigns
    response = upload(login(make_staff(ours)), ours, content=b"a;b\n1;2\n")
    assert response.status_code == 200
    assert "ni coordonnées (lat, lon) ni colonne d&#x27;adresse" in response.content.decode()
    assert not Layer.objects.exists()


def test_the_layer_weighs_in_the_target_score(campaigns, make_staff, login):
    ours, _theirs = campaigns
    client = login(make_staff(ours))
    upload(client, ours)
    layer = Layer.objects.get()
    round1 = Election.objects.get().rounds.get(number=1)
    base = (
        f"/admin/territory/{ours.pk}/targets/?round={round1.pk}"
        "&weight_abstention=0&weight_share=0&weight_contacts=0"
    )
    only_layer = client.get(
        f"{base}&extra_indicator=layer:{layer.pk}:share&weight_extra=1&format=csv"
    )
    rows = list(only_layer.content.decode("utf-8-sig").splitlines())[1:]
    covered = set(
        Zone.objects.filter(pk__in=layer.zone_figures.values("zone_id"), type="bureau").values_list(
            "code", flat=True
        )
    )
    top = [r.split(";")[1] for r in rows[: len(covered)]]
    assert set(top) == covered


def test_forecast_from_the_admin(campaigns, make_staff, login, django_capture_on_commit_callbacks):
    ours, theirs = campaigns
    client = login(make_staff(ours))
    upload(client, ours)
    from territory.intelligence import demo as intelligence_demo

    intelligence_demo.sample_forecast(ours, Layer.objects.get())  # the past municipal results
    layer = Layer.objects.get()
    form = {"name": "Municipales 2026", "election_kind": "municipales", "round_number": 1,
            "nuances": ["DVG"], "use_insee": "on", "reachable_percent": "20"}  # fmt: skip
    # Computed in the background: the page says so until the task has run.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pending = client.post(f"/admin/intelligence/{ours.pk}/forecasts/new/", form)
    waiting = client.get(pending["Location"]).content.decode()
    assert "data-forecast-pending" in waiting and "data-ranking" not in waiting
    assert len(callbacks) == 1
    callbacks[0]()  # the task runs (eagerly in tests)
    assert "data-ranking" in client.get(pending["Location"]).content.decode()
    Forecast.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/intelligence/{ours.pk}/forecasts/new/",
        {"name": "Municipales 2026", "election_kind": "municipales", "round_number": 1,
         "nuances": ["DVG"], "candidate_names": "", "use_insee": "on", "layers": [layer.pk],
         "use_field_results": "on", "reachable_percent": "20", "expected_turnout_percent": ""},
        )  # fmt: skip
    forecast = Forecast.objects.get(name="Municipales 2026")
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response["Location"]).content.decode()
    assert "data-backtest" in page and "data-ranking" in page and "data-effects" in page
    ranked = [r.bureau.code for r in forecast.bureaux.order_by("rank")]
    positions = [page.index(f'data-bureau="{code}"') for code in ranked]
    assert positions == sorted(positions) and len(ranked) == 6
    # Edit an assumption: votes to win follow.
    before = {r.bureau_id: r.votes_to_win for r in forecast.bureaux.all()}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/admin/intelligence/{ours.pk}/forecasts/{forecast.pk}/edit/",
        {"name": "Municipales 2026", "election_kind": "municipales", "round_number": 1,
         "nuances": ["DVG"], "use_insee": "on", "layers": [layer.pk], "use_field_results": "on",
         "reachable_percent": "10"},
        )  # fmt: skip
    after = {r.bureau_id: r.votes_to_win for r in forecast.bureaux.all()}
    assert all(after[b] == pytest.approx(before[b] / 2, abs=0.2) for b in before)
    # On the map, and not for another campaign.
    data = client.get(
        f"/admin/territory/{ours.pk}/bureaux.json?indicator=forecast:{forecast.pk}:votes"
    )
    assert data.status_code == 200 and all(
        f["properties"]["value"] for f in data.json()["features"]
    )
    other = login(make_staff(theirs))
    assert other.get(f"/admin/intelligence/{theirs.pk}/forecasts/{forecast.pk}/").status_code == 404
    assert other.get(f"/admin/intelligence/{ours.pk}/forecasts/{forecast.pk}/").status_code == 404


def test_transfers_from_the_admin(make_campaign, make_staff, login):
    campaign, first, second = make_two_rounds(make_campaign, 40)
    client = login(make_staff(campaign))
    response = client.post(
        f"/admin/intelligence/{campaign.pk}/transfers/",
        {"source_round": first.pk, "target_round": second.pk},
    )
    study = TransferStudy.objects.get()
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "data-transfers" in page and "data-flow-chart" in page
    assert page.count("<path ") >= 5
    same = client.post(
        f"/admin/intelligence/{campaign.pk}/transfers/",
        {"source_round": first.pk, "target_round": first.pk},
    )
    assert same.status_code == 200 and TransferStudy.objects.count() == 1
    assert json.dumps(study.result)


def test_a_forecast_that_cannot_be_computed_says_why(
    make_campaign, make_staff, login, django_capture_on_commit_callbacks
):
    campaign = make_campaign("Sans bureaux", commune_codes=["41998"])
    client = login(make_staff(campaign))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/intelligence/{campaign.pk}/forecasts/new/",
            {"name": "X", "election_kind": "municipales", "round_number": 1,
             "reachable_percent": "10"},
        )  # fmt: skip
    page = client.get(response["Location"]).content.decode()
    assert "data-forecast-error" in page and "aucun bureau de vote" in page
    # Not offered on the map nor in segments while it has no result.
    forecast = Forecast.objects.get()
    assert forecast.computed_at is None and not forecast.bureaux.exists()
