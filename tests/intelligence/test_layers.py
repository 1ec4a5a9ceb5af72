"""Custom layers: CSV of addresses geocoded against the BAN table, coordinates, GeoJSON points
and areas; the report of what could not be placed; re-import replaces; per bureau and IRIS."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import Point, shape

from territory.intelligence.models import Layer, LayerAddress, LayerZoneFigure
from territory.intelligence.selectors import campaign_layers, layer_values
from territory.intelligence.services.layers import LayerImportError, import_layer
from territory.models import Address, Zone

pytestmark = pytest.mark.django_db

CSV = (
    "nom;numero;voie;code_postal;commune\n"
    "Peupliers 1;1;Résidence Les Peupliers;41400;Montrichard-sur-Cher\n"
    "Peupliers 2;2;residence les peupliers;41400;Montrichard\n"  # case, accents, short name
    "Ferry 4;4;Rue Jules Ferry;41400;Montrichard-sur-Cher\n"
    "Nulle part;3;Rue Imaginaire des Songes;41400;Montrichard-sur-Cher\n"
    "Sans adresse;;;;\n"
)


def bureau_of(street: str, number: int) -> Address:
    return Address.objects.get(commune_code="41998", street=street, number=number, repetition="")


def test_csv_of_addresses_is_geocoded_counted_and_reported(demo_commune, make_campaign):
    campaign = make_campaign("Montrichard", commune_codes=["41998"])
    layer = import_layer(
        CSV.encode(), actor=None, filename="hlm.csv", name="HLM", campaign=campaign
    )
    assert layer.feature_count == 3
    assert [(u["line"], u["label"]) for u in layer.unplaced] == [
        (5, "Nulle part"),
        (6, "Sans adresse"),
    ]
    assert all(u["reason"] for u in layer.unplaced)
    placed = {
        bureau_of("Résidence Les Peupliers", 1).pk,
        bureau_of("Résidence Les Peupliers", 2).pk,
        bureau_of("Rue Jules Ferry", 4).pk,
    }
    assert set(layer.addresses.values_list("address_id", flat=True)) == placed
    # Per bureau: features, covered addresses and the share of the bureau's BAN addresses.
    for zone_id in {Address.objects.get(pk=a).bureau_id for a in placed}:
        figure = LayerZoneFigure.objects.get(layer=layer, zone_id=zone_id)
        expected = Address.objects.filter(pk__in=placed, bureau_id=zone_id).count()
        assert figure.addresses == expected == figure.features
        assert figure.zone_addresses == Address.objects.filter(bureau_id=zone_id).count()
        assert figure.share == pytest.approx(expected / figure.zone_addresses)
    iris_ids = set(Address.objects.filter(pk__in=placed).values_list("iris_id", flat=True))
    assert LayerZoneFigure.objects.filter(
        layer=layer, zone__type=Zone.Type.IRIS, zone_id__in=iris_ids
    ).count() == len(iris_ids)
    bureaux = list(Zone.objects.filter(type=Zone.Type.BUREAU).values_list("pk", flat=True))
    shares = layer_values(layer, "share", bureaux)
    assert sum(1 for v in shares.values() if v) == len(
        {Address.objects.get(pk=a).bureau_id for a in placed}
    )
    assert all(v == 0.0 for b, v in shares.items() if b not in {
        Address.objects.get(pk=a).bureau_id for a in placed
    })  # fmt: skip


def test_reimport_replaces_the_layer(demo_commune, make_campaign):
    campaign = make_campaign("Montrichard", commune_codes=["41998"])
    first = import_layer(CSV.encode(), actor=None, filename="a.csv", name="HLM", campaign=campaign)
    smaller = "nom;numero;voie;code_postal\nFerry 6;6;Rue Jules Ferry;41400\n"
    second = import_layer(
        smaller.encode(), actor=None, filename="b.csv", name="HLM", campaign=campaign
    )
    assert second.pk == first.pk and Layer.objects.count() == 1
    assert second.feature_count == 1 and second.unplaced == []
    assert list(second.addresses.values_list("address_id", flat=True)) == [
        bureau_of("Rue Jules Ferry", 6).pk
    ]
    assert LayerZoneFigure.objects.filter(layer=second).count() == 2  # its bureau and IRIS


def test_an_unreadable_file_changes_nothing(demo_commune, make_campaign, english):
    campaign = make_campaign("Montrichard", commune_codes=["41998"])
    layer = import_layer(CSV.encode(), actor=None, filename="a.csv", name="HLM", campaign=campaign)
    before = list(LayerAddress.objects.values_list("pk", flat=True))
    with pytest.raises(LayerImportError, match="no coordinates"):
        import_layer(b"foo;bar\n1;2\n", actor=None, filename="x.csv", name="HLM", campaign=campaign)
    with pytest.raises(LayerImportError, match="GeoJSON"):
        import_layer(b"{not json", actor=None, filename="x.geojson", name="HLM", campaign=campaign)
    with pytest.raises(LayerImportError, match="colour"):
        import_layer(
            CSV.encode(), actor=None, filename="a.csv", name="HLM", campaign=campaign,
            color="red; background: url(x)",
        )  # fmt: skip
    layer.refresh_from_db()
    assert layer.feature_count == 3
    assert list(LayerAddress.objects.values_list("pk", flat=True)) == before


def test_coordinates_and_geojson_points_and_areas(demo_commune, make_campaign):
    campaign = make_campaign("Montrichard", commune_codes=["41998"])
    target = bureau_of("Rue Victor Hugo", 10)
    csv_points = (
        "name,lat,lon\n"
        f"Marché,{target.lat + 0.00005},{target.lon}\n"  # about 5 m from the address
        "Loin,48.85,2.35\n"  # Paris: no BAN address near, not in a bureau
        "Faux,abc,1.2\n"
    )
    points = import_layer(
        csv_points.encode(), actor=None, filename="m.csv", name="Marchés", campaign=campaign
    )
    assert points.feature_count == 2
    assert [u["line"] for u in points.unplaced] == [4]
    assert list(points.addresses.values_list("address_id", flat=True)) == [target.pk]
    market = points.features.get(label="Marché")
    assert market.bureau_id == target.bureau_id
    # An area covers every BAN address inside it.
    lon, lat = target.lon, target.lat
    square = [[lon - 0.001, lat - 0.001], [lon + 0.001, lat - 0.001], [lon + 0.001, lat + 0.001],
              [lon - 0.001, lat + 0.001], [lon - 0.001, lat - 0.001]]  # fmt: skip
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"nom": "Quartier"},
             "geometry": {"type": "Polygon", "coordinates": [square]}},
            {"type": "Feature", "properties": {"nom": "Ligne"},
             "geometry": {"type": "LineString", "coordinates": square[:2]}},
        ],
    }  # fmt: skip
    area = import_layer(
        json.dumps(geojson).encode(), actor=None, filename="q.geojson", name="Quartier",
        campaign=campaign,
    )  # fmt: skip
    assert area.geometry == Layer.Geometry.AREAS
    assert [u["label"] for u in area.unplaced] == ["Ligne"]
    polygon = shape({"type": "Polygon", "coordinates": [square]})
    inside = {
        a.pk
        for a in Address.objects.filter(commune_code="41998")
        if polygon.contains(Point(a.lon, a.lat))
    }
    assert inside and set(area.addresses.values_list("address_id", flat=True)) == inside


def test_layers_are_per_campaign_or_national(demo_commune, make_campaign):
    ours = make_campaign("Ours", commune_codes=["41998"])
    theirs = make_campaign("Theirs", commune_codes=["41998"])
    mine = import_layer(CSV.encode(), actor=None, filename="a.csv", name="HLM", campaign=ours)
    national = import_layer(CSV.encode(), actor=None, filename="a.csv", name="HLM", campaign=None)
    assert set(campaign_layers(ours)) == {mine, national}
    assert set(campaign_layers(theirs)) == {national}


def test_segment_of_people_living_at_an_address_of_the_layer(demo_commune, make_campaign):
    from crm.segments import services as segments
    from crm.services.people import create_person

    campaign = make_campaign("Montrichard", commune_codes=["41998"])
    layer = import_layer(CSV.encode(), actor=None, filename="a.csv", name="HLM", campaign=campaign)

    def person(name: str, **fields):
        return create_person(actor=None, campaign=campaign, first_names=name, **fields)

    # Written differently from the BAN, with a flat number: same letterbox street address.
    ada = person("Ada", street_number="4", street_name="RUE JULES FERRY", postcode="41400",
                 address_complement="Appartement 12")  # fmt: skip
    ferry8 = bureau_of("Rue Jules Ferry", 8)
    bob = person("Bob", latitude=ferry8.lat, longitude=ferry8.lon)  # geocoded, no layer there
    peupliers = bureau_of("Résidence Les Peupliers", 1)
    cy = person("Cy", latitude=peupliers.lat + 0.00003, longitude=peupliers.lon)  # 3 m away
    person("Dan", street_number="4", street_name="Rue Jules Ferry", postcode="75011")  # Paris
    tree = {"criterion": "layer_address", "params": {"layer": layer.pk}}
    people = set(segments.people_matching(tree, campaign=campaign, user=None))
    assert people == {ada, cy}
    assert bob not in people
    other = make_campaign("Other", commune_codes=["41998"])
    from crm.segments.errors import CriteriaError

    with pytest.raises(CriteriaError):
        segments.people_matching(tree, campaign=other, user=None)  # not its layer
