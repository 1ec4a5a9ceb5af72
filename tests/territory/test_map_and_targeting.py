"""Indicators per bureau, the targeting score, territory_report, and the admin screens with
their tenancy scoping."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command

from cocarde.tenancy.models import StaffRole
from territory.indicators import Indicator, classify, insee_by_bureau, values_by_bureau
from territory.models import Candidacy, Zone, ZoneFigure
from territory.selectors import campaign_bureaux, contact_counts_by_bureau
from territory.targeting import ScoreSettings, score_bureaux

pytestmark = pytest.mark.django_db


def bureaux() -> dict[str, Zone]:
    return {z.local_code: z for z in Zone.objects.filter(type=Zone.Type.BUREAU)}


def test_result_indicators(demo_commune, truth):
    r1, r2 = demo_commune.rounds.get(number=1), demo_commune.rounds.get(number=2)
    zones = bureaux()
    ids = [z.pk for z in zones.values()]
    abstention = values_by_bureau(Indicator("abstention", round_id=r1.pk), ids)
    first = truth["results_t1"]["0001"]
    assert abstention[zones["0001"].pk] == pytest.approx(first["abstentions"] / first["inscrits"])
    brunet = Candidacy.objects.get(round=r1, last_name="BRUNET")
    share = values_by_bureau(Indicator("candidate", round_id=r1.pk, candidacy_id=brunet.pk), ids)
    assert share[zones["0006"].pk] == pytest.approx(70 / 235)
    soc = values_by_bureau(Indicator("nuance", round_id=r1.pk, nuance="SOC"), ids)
    assert soc == share
    change = values_by_bureau(
        Indicator("turnout_change", other_round_id=r1.pk, round_id=r2.pk), ids
    )
    t2 = truth["results_t2"]["0001"]
    assert change[zones["0001"].pk] == pytest.approx(
        t2["votants"] / t2["inscrits"] - first["votants"] / first["inscrits"]
    )


def test_insee_indicator_is_carried_to_bureaux_by_address_weights(demo_commune):
    zones = bureaux()
    over_60 = insee_by_bureau("over_60", [z.pk for z in zones.values()])
    # By hand for bureau 6: its addresses split between IRIS 0002 and 0004.
    from territory.models import BureauIrisWeight

    numerator = denominator = 0.0
    for w in BureauIrisWeight.objects.filter(bureau=zones["0006"]):
        total = sum(
            BureauIrisWeight.objects.filter(iris=w.iris).values_list("addresses", flat=True)
        )
        figures = dict(ZoneFigure.objects.filter(zone=w.iris).values_list("key", "value"))
        share = w.addresses / total
        numerator += share * (figures["pop6074"] + figures["pop75p"])
        denominator += share * figures["pop"]
    assert over_60[zones["0006"].pk] == pytest.approx(numerator / denominator)
    population = insee_by_bureau("population", [z.pk for z in zones.values()])
    assert sum(population.values()) == pytest.approx(2643 + 2804 + 3115 + 2568)


def test_classes_and_legend():
    colors, legend = classify({1: 0.1, 2: 0.2, 3: 0.3, 4: None})
    assert colors[4] == "#d9d9d9"
    assert len({colors[1], colors[2], colors[3]}) == 3
    assert legend[0].low == 0.1 and legend[-1].high == 0.3
    colors, legend = classify({1: -0.05, 2: 0.0, 3: 0.1}, diverging=True)
    assert legend[0].low == pytest.approx(-0.1) and legend[-1].high == pytest.approx(0.1)


def test_score_combines_abstention_and_chosen_share(demo_commune):
    r1 = demo_commune.rounds.get(number=1)
    zones = list(bureaux().values())
    only_abstention = score_bureaux(zones, ScoreSettings(round_id=r1.pk), contacts=None)
    assert only_abstention[0].bureau.local_code == "0002"  # 60.6 % abstention, the highest
    assert only_abstention[0].score == 100.0
    assert only_abstention[-1].score == 0.0  # bureau 6, 31.0 %
    assert all(s.contacts is None and "untapped" not in s.terms for s in only_abstention)

    brunet = Candidacy.objects.get(round=r1, last_name="BRUNET")
    settings = ScoreSettings(round_id=r1.pk, candidacy_ids=(brunet.pk,), weight_share=3.0)
    ranked = score_bureaux(zones, settings, contacts=None)
    by_code = {s.bureau.local_code: s for s in ranked}
    a = (by_code["0001"].abstention_rate, by_code["0001"].share)
    assert a == (pytest.approx(300 / 523), pytest.approx(78 / 219))
    # Documented formula, recomputed by hand for bureau 3.
    abst = {k: s.abstention_rate for k, s in by_code.items()}
    share = {k: s.share for k, s in by_code.items()}

    def rescale(values, key):
        return (values[key] - min(values.values())) / (max(values.values()) - min(values.values()))

    expected = 100 * (1 * rescale(abst, "0003") + 3 * rescale(share, "0003")) / 4
    assert by_code["0003"].score == pytest.approx(expected, abs=0.05)
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)


def test_contacts_term_when_counts_are_known(demo_commune):
    from territory.selectors import ContactCounts

    r1 = demo_commune.rounds.get(number=1)
    zones = bureaux()
    contacts = {zones["0001"].pk: ContactCounts(400), zones["0002"].pk: ContactCounts(0)}
    settings = ScoreSettings(round_id=r1.pk, weight_abstention=0, weight_contacts=1)
    by_code = {
        s.bureau.local_code: s for s in score_bureaux(list(zones.values()), settings, contacts)
    }
    assert by_code["0001"].score == 0.0  # we already know most of its voters
    assert by_code["0002"].score == 100.0
    assert by_code["0001"].coverage == pytest.approx(400 / 523)


def test_the_contact_selector_counts_zero_without_people(demo_commune, make_campaign):
    campaign = make_campaign(commune_codes=["41998"])
    ids = list(campaign_bureaux(campaign).values_list("pk", flat=True))
    counts = contact_counts_by_bureau(campaign, ids)
    assert counts is not None and sorted(counts) == sorted(ids)
    assert all(c.total == 0 and c.by_support_level == {} for c in counts.values())


def test_territory_report_json(demo_commune, truth):
    out = io.StringIO()
    call_command("territory_report", "--commune", "41998", "--json", "--nuance", "RN", stdout=out)
    report = json.loads(out.getvalue())
    assert report["commune"] == {"code": "41998", "name": "Montrichard-sur-Cher"}
    assert [r["round"] for r in report["rounds"]] == [2, 1]
    assert report["score"]["contacts_connected"] is False
    rows = {row["number"]: row for row in report["bureaux"]}
    assert sorted(rows) == truth["bureaux"]
    for code, expected in truth["results_t1"].items():
        t1 = next(r for r in rows[code]["rounds"] if r["round"] == 1)
        assert t1["registered"] == expected["inscrits"]
        assert t1["abstention_rate"] == pytest.approx(
            expected["abstentions"] / expected["inscrits"], abs=1e-4
        )
        assert t1["expressed"] == expected["exprimes"]
        assert {k.split()[-1]: v for k, v in t1["votes"].items()} == expected["voix"]
        assert rows[code]["contacts"] is None
        assert rows[code]["score"] is not None
    t2 = next(r for r in rows["0003"]["rounds"] if r["round"] == 2)
    assert t2["votes"] == {"Henri DUVAL": 80, "Odile LACROIX": 62}


# --- admin screens -------------------------------------------------------------------------


@pytest.fixture
def campaigns(demo_commune, make_campaign, make_staff):
    ours = make_campaign("Montrichard 2027", commune_codes=["41998"])
    theirs = make_campaign("Blois 2027", commune_codes=["41018"])
    return ours, theirs, make_staff(ours, StaffRole.Role.STAFF)


def test_campaign_sees_only_its_territory(campaigns, login):
    ours, theirs, staff = campaigns
    client = login(staff)
    bureau = campaign_bureaux(ours).first()
    assert client.get(f"/admin/territory/map/?campaign={ours.pk}").status_code == 200
    assert client.get(f"/admin/territory/map/?campaign={theirs.pk}").status_code == 404
    assert (
        client.get(
            f"/admin/territory/{theirs.pk}/bureaux.json?indicator=insee:population"
        ).status_code
        == 404
    )
    assert client.get(f"/admin/territory/{theirs.pk}/bureau/{bureau.pk}/").status_code == 404
    assert client.get(f"/admin/territory/{theirs.pk}/targets/").status_code == 404
    # A bureau outside the campaign's territory answers 404 even through our campaign.
    from territory.services.zones import RollBureau, register_bureaux_from_roll

    elsewhere = register_bureaux_from_roll([RollBureau("41018", "1", "Blois 1")], actor=None)
    assert (
        client.get(f"/admin/territory/{ours.pk}/bureau/{elsewhere['41018_0001'].pk}/").status_code
        == 404
    )
    page = client.get("/admin/territory/map/").content.decode()
    assert "Blois 2027" not in page


def test_map_data_colours_every_bureau(campaigns, login):
    ours, _theirs, staff = campaigns
    client = login(staff)
    r1 = Candidacy.objects.get(last_name="BRUNET", round__number=1).round
    data = client.get(
        f"/admin/territory/{ours.pk}/bureaux.json?indicator=abstention:{r1.pk}"
    ).json()
    assert len(data["features"]) == 6
    assert all(f["geometry"]["type"] in {"Polygon", "MultiPolygon"} for f in data["features"])
    assert all(f["properties"]["approximate"] for f in data["features"])
    assert len({f["properties"]["color"] for f in data["features"]}) >= 4
    assert data["legend"] and data["features"][0]["properties"]["display"].endswith("%")
    for bad in ("abstention:999999", "candidate:1:x", "insee:nationality", "whatever"):
        assert (
            client.get(f"/admin/territory/{ours.pk}/bureaux.json?indicator={bad}").status_code
            == 404
        )
    score = client.get(f"/admin/territory/{ours.pk}/bureaux.json?indicator=score").json()
    values = [f["properties"]["value"] for f in score["features"]]
    # No contact yet: the contacts term is the same everywhere (0.5), the others spread.
    assert all(v is not None for v in values) and 0 < min(values) < max(values) < 100


def test_no_origin_indicator_is_offered(campaigns, login):
    ours, _theirs, staff = campaigns
    page = login(staff).get(f"/admin/territory/map/?campaign={ours.pk}").content.decode().lower()
    for word in ("nationalit", "naissance", "birth", "etranger", "étranger", "immigr"):
        assert word not in page


def test_bureau_card_shows_results_and_indicators(campaigns, login):
    ours, _theirs, staff = campaigns
    bureau = campaign_bureaux(ours).get(code="41998_0006")
    html = login(staff).get(f"/admin/territory/{ours.pk}/bureau/{bureau.pk}/").content.decode()
    assert "Maison des associations" in html
    assert "BRUNET" in html and "70 · 29,8 %" in html
    assert "data-contacts-not-connected" not in html  # staff see the campaign's people
    assert "territory-bar__fill" in html


def test_targets_table_and_csv_export(campaigns, login):
    ours, _theirs, staff = campaigns
    client = login(staff)
    r1 = Candidacy.objects.get(last_name="BRUNET", round__number=1).round
    query = f"round={r1.pk}&nuances=SOC&weight_abstention=1&weight_share=2&weight_contacts=0.5"
    page = client.get(f"/admin/territory/{ours.pk}/targets/?{query}").content.decode()
    assert page.count("data-bureau=") == 6
    assert "data-contacts-not-connected" not in page
    response = client.get(f"/admin/territory/{ours.pk}/targets/?{query}&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 7
    scores = [float(r[7].replace(",", ".")) for r in rows[1:]]
    assert scores == sorted(scores, reverse=True) and 0 <= scores[-1] < scores[0] <= 100
    bad = client.get(
        f"/admin/territory/{ours.pk}/targets/?round={r1.pk}&weight_abstention=99&weight_share=1&weight_contacts=1"
    )
    assert bad.status_code == 200 and "data-bureau=" not in bad.content.decode()
