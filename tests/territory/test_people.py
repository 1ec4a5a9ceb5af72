"""Our people on the territory: offline geocoding of their addresses (precision, report of what
did not match), their bureau (roll first, else address, else point in contour) and IRIS (point
in contour), contact counts per bureau and support level in the score and the report, the
people layer of the map (server-side clusters, points, per viewport, scoped), and the
"top N bureaux" segment criterion."""

from __future__ import annotations

import io
import json
import math

import pytest
from django.core.management import call_command
from shapely.geometry import Point, shape

from cocarde.audit.models import AuditEvent
from cocarde.tenancy.models import StaffRole
from crm.models import CampaignAttachment, Person
from crm.services.people import create_person
from territory.models import ElectionRound, PersonLocation, Zone
from territory.people_map import CELL_PX, TILE_PX
from territory.selectors import contact_counts_by_bureau
from territory.services.people import geocode_people

pytestmark = pytest.mark.django_db

ADDRESSES = {
    # name: (fields, support level)
    "pasteur": (
        {"street_number": "42", "street_repetition": "bis", "street_name": "r. Pasteur",
         "postcode": "41400", "commune_name": "Montrichard-sur-Cher"}, 1,
    ),
    # On the roll at bureau 3, though the address lies in bureau 6: the roll wins.
    "roll": (
        {"street_number": "6", "street_name": "av jean jaures", "postcode": "41400",
         "commune_code": "41998", "polling_station_code": "3"}, 2,
    ),
    "street": ({"street_name": "Rue Saint-Nicolas", "commune_code": "41998"}, None),
    "commune": ({"street_name": "Rue des Inventions", "commune_code": "41998"}, 5),
    "unknown": ({"street_number": "1", "street_name": "Grand Rue", "postcode": "99999"}, None),
    "empty": ({}, None),
}  # fmt: skip


@pytest.fixture
def people(demo_commune, make_campaign):
    ours = make_campaign("Montrichard 2027", commune_codes=["41998"])
    theirs = make_campaign("Autre 2027", commune_codes=["41998"])
    made = {}
    for name, (fields, level) in ADDRESSES.items():
        made[name] = create_person(
            actor=None, campaign=ours, first_names=name, support_level=level, **fields
        )
    made["theirs"] = create_person(
        actor=None, campaign=theirs, first_names="theirs", street_number="1",
        street_name="Rue Pasteur", commune_code="41998",
    )  # fmt: skip
    return ours, theirs, made


def zone_containing(zone_type: str, lon: float, lat: float) -> Zone | None:
    """Independent point-in-polygon over the stored contours."""
    for zone in Zone.objects.filter(type=zone_type, geometry__isnull=False):
        if shape(zone.geometry).covers(Point(lon, lat)):
            return zone
    return None


def test_geocode_people_records_precision_bureau_and_iris(people):
    ours, _theirs, made = people
    summary = geocode_people(campaign=ours)
    assert summary["people"] == 6
    assert (summary["housenumber"], summary["street"], summary["municipality"]) == (2, 1, 1)
    assert summary["no_address"] == 1
    assert summary["unmatched_count"] == 1
    assert summary["unmatched"] == [{"person": made["unknown"].pk, "address": "1 Grand Rue, 99999"}]
    loc = {name: PersonLocation.objects.filter(person=p).first() for name, p in made.items()}
    assert loc["theirs"] is None  # another campaign's person was not touched

    pasteur = Person.objects.get(pk=made["pasteur"].pk)
    assert loc["pasteur"].precision == "housenumber"
    assert loc["pasteur"].bureau.code == "41998_0001"
    assert loc["pasteur"].bureau_source == "address"
    iris = zone_containing(Zone.Type.IRIS, pasteur.longitude, pasteur.latitude)
    assert iris is not None and pasteur.iris_code == iris.code == loc["pasteur"].iris.code
    assert "42 bis" in loc["pasteur"].label

    roll = Person.objects.get(pk=made["roll"].pk)
    assert loc["roll"].bureau.code == "41998_0003" and loc["roll"].bureau_source == "roll"
    # ...while its point lies in bureau 6's (approximate) contour.
    assert zone_containing(Zone.Type.BUREAU, roll.longitude, roll.latitude).code == "41998_0006"

    street = Person.objects.get(pk=made["street"].pk)
    assert loc["street"].precision == "street"
    inside = zone_containing(Zone.Type.BUREAU, street.longitude, street.latitude)
    # The street spans three bureaux: its point gives the bureau, marked as such.
    assert loc["street"].bureau == inside and loc["street"].bureau_source == "point"
    assert (
        street.iris_code == zone_containing(Zone.Type.IRIS, street.longitude, street.latitude).code
    )

    assert loc["commune"].precision == "municipality"
    # A commune's centre gives no bureau (six of them) and no IRIS.
    assert loc["commune"].bureau is None and loc["commune"].iris is None
    assert loc["unknown"].precision == "unmatched" and loc["unknown"].bureau is None
    assert Person.objects.get(pk=made["unknown"].pk).latitude is None
    assert loc["empty"].precision == "none"
    assert AuditEvent.objects.filter(action="territory.geocode_people", campaign=ours).count() == 1


def test_geocoding_again_only_processes_changed_addresses(people):
    ours, _theirs, made = people
    geocode_people(campaign=ours)
    before = {loc.person_id: loc.geocoded_at for loc in PersonLocation.objects.all()}
    again = geocode_people(campaign=ours)
    # Settled people are skipped; the unresolved ones (street, commune, not found) are retried.
    assert again["people"] == 3 and again["skipped_unchanged"] == 3
    assert (again["street"], again["municipality"], again["unmatched_count"]) == (1, 1, 1)
    for name in ("pasteur", "roll", "empty"):
        location = PersonLocation.objects.get(person=made[name])
        assert location.geocoded_at == before[made[name].pk]
    person = made["commune"]
    person.street_number, person.street_name = "3", "Rue Pasteur"
    person.save()
    third = geocode_people(campaign=ours)
    assert third["people"] == 3 and third["housenumber"] == 1  # and street, unknown again
    location = PersonLocation.objects.get(person=person)
    assert location.precision == "housenumber" and location.bureau.code == "41998_0001"
    assert geocode_people(campaign=ours, force=True)["people"] == 6


def test_geocode_people_command_prints_a_json_summary(people):
    ours, theirs, _made = people
    out = io.StringIO()
    call_command("geocode_people", "--campaign", theirs.slug, stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["campaign"] == theirs.slug
    assert summary["people"] == 1 and summary["housenumber"] == 1
    out = io.StringIO()
    call_command("geocode_people", stdout=out)  # everyone not yet done
    assert json.loads(out.getvalue().splitlines()[-1])["people"] == 6


def test_contacts_per_bureau_and_support_level(people, make_staff):
    ours, theirs, _made = people
    geocode_people()
    bureaux = {z.code: z.pk for z in Zone.objects.filter(type=Zone.Type.BUREAU)}
    counts = contact_counts_by_bureau(ours, list(bureaux.values()))
    assert counts[bureaux["41998_0001"]].total == 1  # pasteur; "theirs" is another campaign's
    assert counts[bureaux["41998_0001"]].by_support_level == {"1": 1}
    assert counts[bureaux["41998_0003"]].by_support_level == {"2": 1}
    assert sum(c.total for c in counts.values()) == 3  # pasteur, roll, street
    assert (
        contact_counts_by_bureau(theirs, [bureaux["41998_0001"]])[bureaux["41998_0001"]].total == 1
    )
    # A treasurer sees counts, not opinions (GDPR art. 9); a canvasser sees nothing.
    treasurer = make_staff(ours, StaffRole.Role.TREASURER)
    seen = contact_counts_by_bureau(ours, [bureaux["41998_0001"]], user=treasurer)
    assert seen[bureaux["41998_0001"]].total == 1
    assert seen[bureaux["41998_0001"]].by_support_level == {}
    canvasser = make_staff(ours, StaffRole.Role.CANVASSER)
    assert contact_counts_by_bureau(ours, [bureaux["41998_0001"]], user=canvasser) is None


def test_report_and_score_count_our_contacts(people):
    ours, _theirs, _made = people
    geocode_people(campaign=ours)
    out = io.StringIO()
    call_command(
        "territory_report", "--commune", "41998", "--json", "--campaign", ours.slug,
        "--weight-abstention", "0", "--weight-contacts", "1", stdout=out,
    )  # fmt: skip
    report = json.loads(out.getvalue())
    assert report["score"]["contacts_connected"] is True
    rows = {row["number"]: row for row in report["bureaux"]}
    assert rows["0001"]["contacts"] == {"total": 1, "by_support_level": {"1": 1}}
    assert rows["0003"]["contacts"] == {"total": 1, "by_support_level": {"2": 1}}
    assert rows["0005"]["contacts"]["total"] == 0
    # Only the contacts term weighs: bureaux without contacts share the top score.
    empty = [r["score"] for r in rows.values() if r["contacts"]["total"] == 0]
    known = [r["score"] for r in rows.values() if r["contacts"]["total"] > 0]
    assert set(empty) == {100.0} and max(known) < 100.0


def test_bureau_card_and_targets_show_contacts(people, make_staff, login):
    ours, _theirs, _made = people
    geocode_people(campaign=ours)
    staff = make_staff(ours, StaffRole.Role.STAFF)
    bureau = Zone.objects.get(code="41998_0001")
    html = login(staff).get(f"/admin/territory/{ours.pk}/bureau/{bureau.pk}/").content.decode()
    assert "data-support-levels" in html and "data-contacts-not-connected" not in html
    treasurer = make_staff(ours, StaffRole.Role.TREASURER)
    html = login(treasurer).get(f"/admin/territory/{ours.pk}/bureau/{bureau.pk}/").content.decode()
    assert "data-support-levels" not in html
    page = login(staff).get(f"/admin/territory/{ours.pk}/targets/").content.decode()
    assert "data-contacts-not-connected" not in page


# --- people on the map --------------------------------------------------------------------------


@pytest.fixture
def crowd(db, make_campaign, make_staff):
    """400 people of ours on a 20 × 20 grid around Montrichard, 50 of another campaign."""
    ours = make_campaign("Ours", commune_codes=["41998"])
    theirs = make_campaign("Theirs", commune_codes=["41998"])
    rows = []
    for i in range(20):
        for j in range(20):
            rows.append(Person(first_names=f"p{i}-{j}", longitude=1.10 + i * 0.01,
                               latitude=47.30 + j * 0.005))  # fmt: skip
    others = [Person(first_names=f"o{i}", longitude=1.15, latitude=47.33) for i in range(50)]
    Person.objects.bulk_create(rows + others)
    CampaignAttachment.objects.bulk_create(
        [CampaignAttachment(person=p, campaign=ours, reason="manual") for p in rows]
        + [CampaignAttachment(person=p, campaign=theirs, reason="manual") for p in others]
    )
    return ours, theirs, rows, make_staff(ours, StaffRole.Role.STAFF)


def expected_clusters(points, zoom):
    cell = CELL_PX * 360 / (TILE_PX * 2**zoom)
    cells: dict = {}
    for lon, lat in points:
        cells.setdefault((math.floor(lon / cell), math.floor(lat / cell)), []).append((lon, lat))
    return cells


def test_people_are_clustered_on_the_server_at_low_zoom(crowd, login):
    ours, _theirs, rows, staff = crowd
    client = login(staff)
    url = f"/admin/territory/{ours.pk}/people.json"
    data = client.get(url, {"bbox": "0,46,3,48", "zoom": "10"}).json()
    assert data["mode"] == "clusters" and data["total"] == 400  # not the other campaign's 50
    cells = expected_clusters([(p.longitude, p.latitude) for p in rows], 10)
    assert len(data["clusters"]) == len(cells) < 400
    got = sorted((round(c[0], 5), round(c[1], 5), c[2]) for c in data["clusters"])
    want = sorted(
        (round(sum(x for x, _ in pts) / len(pts), 5), round(sum(y for _, y in pts) / len(pts), 5),
         len(pts)) for pts in cells.values()
    )  # fmt: skip
    assert got == want
    # Zooming in splits the clusters; the viewport limits them.
    finer = client.get(url, {"bbox": "0,46,3,48", "zoom": "13"}).json()
    assert len(finer["clusters"]) > len(data["clusters"]) and finer["total"] == 400
    west = client.get(url, {"bbox": "1.0,47.0,1.145,48", "zoom": "10"}).json()
    assert west["total"] == 5 * 20  # longitudes 1.10 … 1.14


def test_people_are_points_at_high_zoom_and_segments_filter_them(crowd, login):
    from crm.segments.services import create_segment

    ours, theirs, rows, staff = crowd
    client = login(staff)
    url = f"/admin/territory/{ours.pk}/people.json"
    data = client.get(url, {"bbox": "1.095,47.295,1.115,47.31", "zoom": "16"}).json()
    assert data["mode"] == "points"
    assert sorted(map(tuple, data["points"])) == sorted(
        (round(p.longitude, 6), round(p.latitude, 6))
        for p in rows
        if 1.095 <= p.longitude <= 1.115 and 47.295 <= p.latitude <= 47.31
    )
    assert set(data) == {"mode", "points", "total"}  # positions only: no name, no opinion
    segment = create_segment(
        actor=staff, campaign=ours, name="p0",
        criteria={"op": "and", "children": [
            {"criterion": "radius", "params": {"center": {"lat": 47.30, "lon": 1.10}, "km": 0.3}}
        ]},
    )  # fmt: skip
    only = client.get(url, {"segment": segment.pk, "bbox": "0,46,3,48", "zoom": "10"}).json()
    assert only["total"] == 1


def test_people_layer_is_scoped(crowd, login, make_staff):
    from crm.segments.services import create_segment

    ours, theirs, _rows, staff = crowd
    client = login(staff)
    query = {"bbox": "0,46,3,48", "zoom": "10"}
    assert client.get(f"/admin/territory/{theirs.pk}/people.json", query).status_code == 404
    their_segment = create_segment(
        actor=None, campaign=theirs, name="theirs", criteria={"op": "and", "children": []}
    )
    assert (
        client.get(
            f"/admin/territory/{ours.pk}/people.json", {**query, "segment": their_segment.pk}
        ).status_code
        == 404
    )
    bad_queries = [
        {"bbox": "1,2,3", "zoom": "10"},
        {"bbox": "3,46,0,48", "zoom": "10"},
        {"bbox": "0,46,3,48", "zoom": "99"},
        {"bbox": "nan,1,2,3", "zoom": "1"},
    ]
    for bad in bad_queries:
        assert client.get(f"/admin/territory/{ours.pk}/people.json", bad).status_code == 400
    page = client.get(f"/admin/territory/map/?campaign={ours.pk}").content.decode()
    assert "data-territory-people" in page and "theirs" not in page


# --- segment criterion ----------------------------------------------------------------------------


def test_people_in_the_top_bureaux(people):
    from crm.segments.services import people_matching
    from territory.selectors import campaign_bureaux
    from territory.targeting import ScoreSettings, score_bureaux

    ours, _theirs, made = people
    geocode_people(campaign=ours)
    r1 = ElectionRound.objects.get(number=1, election__name="Législatives test")
    bureaux = list(campaign_bureaux(ours))
    contacts = contact_counts_by_bureau(ours, [b.pk for b in bureaux])
    ranking = [
        s.bureau.code for s in score_bureaux(bureaux, ScoreSettings(round_id=r1.pk), contacts)
    ]
    by_bureau = {
        name: PersonLocation.objects.get(person=p).bureau.code
        for name, p in made.items()
        if PersonLocation.objects.filter(person=p, bureau__isnull=False).exists()
    }
    for n in (1, 3, 6):
        tree = {"criterion": "top_bureaux", "params": {"n": n, "round": r1.pk}}
        found = {p.first_names for p in people_matching(tree, campaign=ours, user=None)}
        assert found == {name for name, code in by_bureau.items() if code in ranking[:n]}
    tree = {"criterion": "top_bureaux", "params": {"n": 6, "round": r1.pk}}
    assert {p.first_names for p in people_matching(tree, campaign=ours, user=None)} == {
        "pasteur", "roll", "street"
    }  # fmt: skip


def test_the_demo_places_the_people_on_the_map(db, make_campaign):
    from territory import demo

    campaign = make_campaign("Démo", commune_codes=["41998"])
    person = create_person(
        actor=None, campaign=campaign, first_names="Démo", street_number="42",
        street_repetition="bis", street_name="Rue Pasteur", commune_code="41998",
        polling_station_code="1",
    )  # fmt: skip
    out = io.StringIO()
    demo.load(stdout=out)
    location = PersonLocation.objects.get(person=person)
    assert location.precision == "housenumber" and location.bureau.code == "41998_0001"
    assert Person.objects.get(pk=person.pk).latitude is not None
    assert "1 people geocoded" in out.getvalue()
    demo.load(stdout=out)  # idempotent: nothing to geocode again
    assert "0 people geocoded" in out.getvalue()


def test_merging_two_located_people_keeps_the_survivors_location(people):
    from crm.services.merge import merge_people

    ours, _theirs, made = people
    geocode_people(campaign=ours)
    survivor, merged = made["pasteur"], made["roll"]
    merge_people(survivor, merged, actor=None)
    assert PersonLocation.objects.get(person=survivor).bureau.code == "41998_0001"
    assert not PersonLocation.objects.filter(person_id=merged.pk).exists()
    # The survivor took the roll's bureau from the merged record (it had none): its location
    # is recomputed on the next run, and the roll wins.
    assert Person.objects.get(pk=survivor.pk).polling_station_code == "3"
    rerun = geocode_people(campaign=ours)
    assert rerun["people"] == 4  # the survivor, and the three unresolved ones retried
    assert rerun["bureau_from_roll"] == 1
    location = PersonLocation.objects.get(person=survivor)
    assert location.bureau.code == "41998_0003" and location.bureau_source == "roll"
    assert geocode_people(campaign=ours)["people"] == 3  # the survivor is settled


def test_people_not_found_are_placed_once_the_addresses_are_imported(db, make_campaign):
    from territory.services.addresses import import_ban
    from tests.territory.conftest import BAN

    campaign = make_campaign("Montrichard", commune_codes=["41998"])
    person = create_person(
        actor=None, campaign=campaign, first_names="Tôt", street_number="42",
        street_name="Rue Pasteur", commune_code="41998",
    )  # fmt: skip
    first = geocode_people(campaign=campaign)
    assert first["unmatched_count"] == 1  # no BAN address of the commune yet
    assert PersonLocation.objects.get(person=person).precision == "unmatched"
    import_ban(BAN, actor=None, communes=["41998"])
    second = geocode_people(campaign=campaign)  # same address: retried all the same
    assert second["people"] == 1 and second["housenumber"] == 1
    assert Person.objects.get(pk=person.pk).latitude is not None
