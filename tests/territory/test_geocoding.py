"""The offline geocoder: precision levels, normalised street matching, bureau and IRIS."""

from __future__ import annotations

import pytest

from territory.geocoding import AddressQuery, Geocoder, Precision, geocode, normalise_street
from territory.geocoding.normalise import split_number
from territory.models import Address

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Av. du Général de Gaulle", "AVENUE DU GENERAL DE GAULLE"),
        ("avenue Gal De-Gaulle", "Avenue du Général de Gaulle"),
        ("R. St-Nicolas", "Rue Saint-Nicolas"),
        ("Place de l'Église", "PL EGLISE"),
        ("Bd Gambetta", "Boulevard Gambetta"),
        ("Chem. des Vignes", "Chemin des Vignes"),
        ("Rés. les Peupliers", "Résidence Les Peupliers"),
    ],
)
def test_street_names_normalise_to_the_same_key(a, b):
    assert normalise_street(a) == normalise_street(b)


def test_different_streets_keep_different_keys():
    assert normalise_street("Rue Pasteur") != normalise_street("Avenue Pasteur")
    assert normalise_street("Rue de la Gare") != normalise_street("Rue du Château")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42 bis", (42, "bis", "")),
        ("42B", (42, "bis", "")),
        ("7 ter, rue Y", (7, "ter", "rue Y")),
        ("3 r. Pasteur", (3, "", "r. Pasteur")),
        ("12", (12, "", "")),
        ("Rue sans numéro", (None, "", "Rue sans numéro")),
    ],
)
def test_numbers_and_repetitions_are_split(text, expected):
    assert split_number(text) == expected


def test_house_number_match_gives_point_bureau_and_iris(demo_commune):
    result = Geocoder().geocode(
        AddressQuery(number="42 bis", street="r. Pasteur", postcode="41400")
    )
    ban = Address.objects.get(
        commune_code="41998", street="Rue Pasteur", number=42, repetition="bis"
    )
    assert result.precision == Precision.HOUSENUMBER
    assert (result.lon, result.lat, result.address_id) == (ban.lon, ban.lat, ban.pk)
    # The roll puts 42 bis rue Pasteur in bureau 1; IRIS 0001 is the north-west quadrant.
    assert result.bureau_code == "41998_0001"
    assert result.iris_code == "419980001"
    assert result.commune_code == "41998"
    assert result.label == "42 bis Rue Pasteur 41400 Montrichard-sur-Cher"


def test_number_in_the_street_field_and_abbreviations(demo_commune):
    result = geocode("6 av jean jaures", postcode="41400")
    assert result.precision == Precision.HOUSENUMBER
    assert result.label.startswith("6 Avenue Jean Jaurès")
    assert result.bureau_code == "41998_0006"


def test_repetition_missing_from_the_ban_falls_back_to_the_number(demo_commune):
    exact = geocode("Rue Pasteur", number="10", commune_code="41998")
    result = geocode("Rue Pasteur", number="10 ter", commune_code="41998")
    assert result.precision == Precision.HOUSENUMBER
    assert (result.lon, result.lat) == (exact.lon, exact.lat)
    assert result.score < exact.score


def test_street_without_type_and_with_a_typo(demo_commune):
    assert geocode("Jules Ferry", number="29", commune_code="41998").precision == (
        Precision.HOUSENUMBER
    )
    typo = geocode("Rue Victor Hugot", number="6", commune_code="41998")
    assert typo.precision == Precision.HOUSENUMBER
    assert "Rue Victor Hugo" in typo.label
    assert typo.score < 1


def test_unknown_number_is_interpolated_on_the_same_side_at_street_precision(demo_commune):
    missing = 20
    Address.objects.filter(street="Rue Pasteur", number=missing).delete()
    result = geocode("Rue Pasteur", number=missing, commune_code="41998")
    below = Address.objects.get(street="Rue Pasteur", number=missing - 2, repetition="")
    above = Address.objects.get(street="Rue Pasteur", number=missing + 2, repetition="")
    assert result.precision == Precision.STREET
    assert result.address_id is None
    assert min(below.lat, above.lat) <= result.lat <= max(below.lat, above.lat)
    assert result.bureau_code == "41998_0001"  # the whole of rue Pasteur votes at bureau 1


def test_street_only_gives_no_bureau_when_the_street_spans_several(demo_commune):
    result = geocode("Rue Saint-Nicolas", commune_code="41998")  # bureaux 1, 2 and 3
    assert result.precision == Precision.STREET
    assert result.bureau_code is None
    one_bureau = geocode("Rue Pasteur", commune_code="41998")
    assert one_bureau.bureau_code == "41998_0001"


def test_unknown_street_gives_the_commune_and_unknown_commune_gives_nothing(demo_commune):
    result = geocode("Rue Inexistante", number="3", commune_code="41998")
    assert result.precision == Precision.MUNICIPALITY
    assert result.bureau_code is None  # six bureaux: no guess
    assert geocode("Rue Pasteur", number="1", postcode="99999") is None
    assert geocode("Rue Pasteur", number="1") is None


def test_one_geocoder_reads_each_commune_once(demo_commune, django_assert_max_num_queries):
    geocoder = Geocoder()
    geocoder.geocode(AddressQuery(street="Rue Pasteur", number="1", commune_code="41998"))
    with django_assert_max_num_queries(0):
        for n in range(1, 30):
            geocoder.geocode(AddressQuery(street="Rue Pasteur", number=n, commune_code="41998"))
