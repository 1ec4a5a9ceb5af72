"""Communes from the pinned dataset, BAN, INSEE polling-station tables, contours, IRIS."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from shapely.geometry import Point, shape

from territory.models import Address, BureauAddress, BureauIrisWeight, Zone, ZoneFigure
from territory.services.insee import resolve_columns
from territory.services.zones import RollBureau, register_bureaux_from_roll
from tests.territory.conftest import BAN, INSEE_POP, IRIS_CONTOURS, REU_ADDRESSES, REU_BUREAUX

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def command(*args) -> dict:
    out = io.StringIO()
    call_command(*map(str, args), stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_load_communes_offline_from_the_pinned_dataset_is_idempotent():
    summary = command("load_communes", "--departement", "41", "--departement", "2A")
    assert summary["source"] == "@etalab/decoupage-administratif 6.0.0"
    blois = Zone.objects.get(type=Zone.Type.COMMUNE, code="41018")
    assert blois.name == "Blois"
    assert blois.parent_of_type(Zone.Type.DEPARTEMENT).name == "Loir-et-Cher"
    assert blois.parent_of_type(Zone.Type.DEPARTEMENT).parent_of_type(Zone.Type.REGION).name == (
        "Centre-Val de Loire"
    )
    assert "41000" in blois.postal_codes and blois.population > 40000
    assert Zone.objects.get(type=Zone.Type.COMMUNE, code="2A004").name == "Ajaccio"
    again = command("load_communes", "--departement", "41", "--departement", "2A")
    assert (again["created"], again["updated"]) == (0, 0)
    with pytest.raises(CommandError, match="99"):
        command("load_communes", "--departement", "99")


def test_load_all_communes_links_municipal_arrondissements_to_their_commune():
    summary = command("load_communes")
    assert summary["communes"] > 34000
    lyon3 = Zone.objects.get(type=Zone.Type.ARRONDISSEMENT, code="69383")
    assert lyon3.parent_of_type(Zone.Type.COMMUNE).code == "69123"


def test_roll_rows_create_and_name_bureaux():
    rows = [RollBureau("41998", "1", "Mairie", "4102", "Canton de Montrichard")] * 3 + [
        RollBureau("41998", "2", "École Jules Ferry")
    ]
    zones = register_bureaux_from_roll(rows, actor=None)
    assert sorted(zones) == ["41998_0001", "41998_0002"]
    mairie = zones["41998_0001"]
    assert mairie.name == "Mairie"
    assert mairie.parent_of_type(Zone.Type.CIRCONSCRIPTION).code == "41-02"
    assert mairie.attribute("canton") == "Canton de Montrichard"
    with pytest.raises(ValueError, match="two labels"):
        register_bureaux_from_roll(
            [RollBureau("41998", "3", "Gymnase"), RollBureau("41998", "0003", "Salle")], actor=None
        )
    assert not Zone.objects.filter(code="41998_0003").exists()


def test_ban_import_normalises_streets_and_reimport_changes_nothing(truth):
    summary = command("import_ban", BAN, "--commune", "41998")
    assert summary["addresses"] == summary["created"] == truth["ban_addresses"]
    bis = Address.objects.get(street="Rue Pasteur", number=42)
    assert (bis.repetition, bis.street_key, bis.postcode) == ("bis", "rue pasteur", "41400")
    again = command("import_ban", BAN, "--commune", "41998")
    assert (again["created"], again["updated"], again["deleted"]) == (0, 0, 0)
    other = command("import_ban", BAN, "--commune", "41018")
    assert other["addresses"] == 0 and other["skipped_other_communes"] == truth["ban_addresses"]


def test_ban_bad_row_names_the_line_and_stores_nothing(tmp_path):
    lines = BAN.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace(";1.20", ";abc", 1)
    bad = tmp_path / "ban.csv"
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CommandError, match="line 6"):
        command("import_ban", bad)
    assert not Address.objects.exists()


def test_reu_tables_create_bureaux_with_labels_and_approximate_contours():
    labels = command("import_bureaux", REU_BUREAUX)
    assert labels["created"] == 6
    summary = command("import_bureaux", REU_ADDRESSES)
    assert (summary["bureaux"], summary["contours_computed"]) == (6, 6)
    bureaux = {z.code: z for z in Zone.objects.filter(type=Zone.Type.BUREAU)}
    assert bureaux["41998_0002"].name == "École Jules Ferry"
    assert all(z.geometry_source == Zone.GeometrySource.VORONOI for z in bureaux.values())
    assert all(z.is_approximate for z in bureaux.values())
    shapes = {code: shape(z.geometry) for code, z in bureaux.items()}
    # Every well-geocoded voter address lies in (or on the edge of) its own bureau's contour.
    good = BureauAddress.objects.filter(geo_type="housenumber").select_related("bureau")
    outside = [a for a in good if shapes[a.bureau.code].distance(Point(a.lon, a.lat)) > 1e-5]
    assert not outside
    # The badly geocoded point of bureau 1 (far east) did not pull the contour there.
    assert not shapes["41998_0001"].contains(Point(1.2150, 47.3300))
    # Contours tile the commune: no real overlap between bureaux.
    codes = sorted(shapes)
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            assert shapes[a].intersection(shapes[b]).area < 1e-3 * shapes[a].area
    again = command("import_bureaux", REU_ADDRESSES)
    assert (again["created"], again["updated"], again["deleted"]) == (0, 0, 0)


def test_imported_contours_replace_computed_ones_and_are_exact(tmp_path):
    command("import_bureaux", REU_BUREAUX, REU_ADDRESSES)
    ring = [[1.14, 47.32], [1.17, 47.32], [1.17, 47.372], [1.14, 47.372], [1.14, 47.32]]
    west = {"type": "Polygon", "coordinates": [ring]}
    # TopoJSON: one quantised, delta-encoded arc; bureau named by commune + number.
    properties = {"codeCommune": "41998", "numeroBureauVote": "2"}
    polygon = {"type": "Polygon", "arcs": [[0]], "properties": properties}
    topo = {
        "type": "Topology",
        "transform": {"scale": [0.001, 0.001], "translate": [1.17, 47.32]},
        "arcs": [[[0, 0], [55, 0], [0, 52], [-55, 0], [0, -52]]],
        "objects": {"bv": {"type": "GeometryCollection", "geometries": [polygon]}},
    }
    feature = {"type": "Feature", "properties": {"id_bv": "41998_1"}, "geometry": west}
    geojson = tmp_path / "bv.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    topojson = tmp_path / "bv.topojson"
    topojson.write_text(json.dumps(topo))
    command("import_bureaux", geojson, topojson)
    first = Zone.objects.get(code="41998_0001")
    second = Zone.objects.get(code="41998_0002")
    assert first.geometry_source == second.geometry_source == Zone.GeometrySource.IMPORTED
    assert not first.is_approximate
    assert shape(second.geometry).bounds == pytest.approx((1.17, 47.32, 1.225, 47.372))
    # Addresses now take their bureau from the exact contours.
    assert Address.objects.filter(bureau=first).count() == 0  # no BAN imported yet
    command("import_ban", BAN)
    located = Address.objects.filter(lon__lt=1.1695, lat__gt=47.33).exclude(bureau=None)
    assert located.exists() and set(located.values_list("bureau__code", flat=True)) == {
        "41998_0001"
    }


def test_projected_geojson_is_refused(tmp_path):
    path = tmp_path / "lambert.geojson"
    ring = [[600000, 6700000], [600100, 6700000], [600100, 6700100], [600000, 6700000]]
    feature = {
        "type": "Feature",
        "properties": {"id_bv": "41998_1"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}}
    path.write_text(json.dumps({"type": "FeatureCollection", "crs": crs, "features": [feature]}))
    with pytest.raises(CommandError, match="WGS84"):
        command("import_bureaux", path)
    assert not Zone.objects.exists()


def test_insee_columns_resolve_across_vintages_and_skip_origin_columns():
    header = ["IRIS", "P20_POP", "P21_POP65P", "C19_POP15P_CS3", "P21_POP_ETR", "P21_POP_IMM",
              "DISP_MED21", "DISP_TP6020", "P21_RP_LOCHLMV"]  # fmt: skip
    resolved = {header[i]: v for i, v in resolve_columns(header).items()}
    assert resolved == {
        "P20_POP": ("pop", 2020),
        "P21_POP65P": ("pop65p", 2021),
        "C19_POP15P_CS3": ("pop15p_cs3", 2019),
        "DISP_MED21": ("disp_med", 2021),
        "DISP_TP6020": ("disp_tp60", 2020),
        "P21_RP_LOCHLMV": ("rp_lochlmv", 2021),
    }


def test_insee_iris_figures_and_contours(tmp_path):
    summary = command("import_insee", INSEE_POP)
    assert (summary["level"], summary["zones"], summary["created"]) == ("iris", 4, 64)
    iris = Zone.objects.get(type=Zone.Type.IRIS, code="419980001")
    assert iris.parent_of_type(Zone.Type.COMMUNE).code == "41998"
    cs1 = ZoneFigure.objects.get(zone=iris, key="pop15p_cs1", year=2021)
    assert cs1.value == pytest.approx(346.61)  # French decimal comma
    assert command("import_insee", INSEE_POP)["created"] == 0
    filosofi = tmp_path / "BASE_TD_FILO_IRIS_2021_DISP.csv"
    filosofi.write_text("IRIS;DISP_MED21;DISP_TP6021\n419980001;21340;12,5\n419980002;ns;nd\n")
    assert command("import_insee", filosofi)["values"] == 2  # suppressed values are absent
    contours = command("import_insee", IRIS_CONTOURS)
    assert contours["iris"] == 4
    assert Zone.objects.get(code="419980002", type=Zone.Type.IRIS).name == "Les Coteaux"


def test_iris_weights_come_from_voter_addresses():
    command("import_insee", IRIS_CONTOURS)
    command("import_bureaux", REU_BUREAUX, REU_ADDRESSES)
    weights = {
        (w.bureau.code, w.iris.code): w.addresses
        for w in BureauIrisWeight.objects.select_related("bureau", "iris")
    }
    good = BureauAddress.objects.filter(geo_type="housenumber").count()
    assert sum(weights.values()) == good
    # Bureau 6 (far east) lies in the eastern IRIS 0002 and 0004 only.
    assert {i for (b, i) in weights if b == "41998_0006"} <= {"419980002", "419980004"}
    assert BureauAddress.objects.exclude(iris=None).count() == BureauAddress.objects.count()


def test_bad_insee_file_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("IRIS;P21_POP\n41998001;12\n")
    with pytest.raises(CommandError, match="9-character IRIS"):
        command("import_insee", path)
    assert not ZoneFigure.objects.exists()
