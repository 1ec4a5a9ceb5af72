"""INSEE IRIS data: census figures (population by age, socio-professional categories, housing,
activity), Filosofi income, and IRIS contours.

Columns are resolved by pattern across vintages (P20_POP, P21_POP, C21_POP15P_CS3, DISP_MED21),
so next year's file imports without a code change. Codes are kept as text (2A004, 019990101).
Only a whitelist of figures is read: nationality, immigration and place-of-birth columns are
never imported (CNIL: no targeting on origin).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from territory.formats.common import FormatError, normalise_header, parse_decimal, read_rows
from territory.formats.geojson import read_features
from territory.models import Zone, ZoneFigure
from territory.services.contours import _store_geometry, refresh_assignments
from territory.services.geometry import from_geojson
from territory.services.zones import ZoneSpec, ensure_commune, upsert_zones
from territory.services.zones import changed as _changed

CENSUS_FIGURES = {
    # population by age
    "POP", "POP0002", "POP0305", "POP0610", "POP1117", "POP1824", "POP2539", "POP4054",
    "POP5564", "POP6579", "POP80P", "POP0014", "POP1529", "POP3044", "POP4559", "POP6074",
    "POP75P", "POP0019", "POP2064", "POP65P", "POPH", "POPF", "PMEN", "MEN",
    # socio-professional categories of people aged 15+
    "POP15P", *(f"POP15P_CS{n}" for n in range(1, 9)),
    # housing
    "LOG", "RP", "RSECOCC", "LOGVAC", "MAISON", "APPART", "RP_PROP", "RP_LOC", "RP_LOCHLMV",
    "RP_GRAT",
    # activity
    "POP1564", "ACT1564", "ACTOCC1564", "CHOM1564", "INACT1564", "ETUD1564", "RETR1564",
    # education
    "NSCOL15P", "NSCOL15P_DIPLMIN", "NSCOL15P_BEPC", "NSCOL15P_CAPBEP", "NSCOL15P_BAC",
    "NSCOL15P_SUP2", "NSCOL15P_SUP34", "NSCOL15P_SUP5",
}  # fmt: skip
FILOSOFI_FIGURES = {"MED", "TP60", "Q1", "Q3", "D1", "D9", "GI", "RD", "S80S20"}
CENSUS_COLUMN = re.compile(r"^[PC](\d{2})_(.+)$")
FILOSOFI_COLUMN = re.compile(r"^DISP_([A-Z0-9]+?)(\d{2})$")


def resolve_columns(header: list[str]) -> dict[int, tuple[str, int]]:
    """Column index -> (figure key, year) for every whitelisted figure, whatever the vintage."""
    found: dict[int, tuple[str, int]] = {}
    for index, name in enumerate(header):
        upper = name.strip().upper()
        match = CENSUS_COLUMN.match(upper)
        if match and match.group(2) in CENSUS_FIGURES:
            found[index] = (match.group(2).lower(), 2000 + int(match.group(1)))
            continue
        match = FILOSOFI_COLUMN.match(upper)
        if match and match.group(1) in FILOSOFI_FIGURES:
            found[index] = (f"disp_{match.group(1).lower()}", 2000 + int(match.group(2)))
    return found


@transaction.atomic
def import_insee(path: str | Path, *, actor: Any) -> dict[str, Any]:
    """An IRIS (or commune, CODGEO) figures file, or IRIS contours in GeoJSON."""
    if Path(path).suffix.lower() in {".geojson", ".json", ".topojson"}:
        return _import_iris_contours(path, actor=actor)
    raw_header, rows, _encoding = read_rows(path)
    header = [normalise_header(h) for h in raw_header]
    columns = resolve_columns(raw_header)
    if not columns:
        raise FormatError(
            _(
                "no INSEE figure recognised in the header (expected columns like P21_POP, "
                "C21_POP15P_CS3, P21_RP_LOCHLMV, P21_CHOM1564 or DISP_MED21)"
            ),
            line=1,
        )
    if "iris" in header:
        level, code_col = Zone.Type.IRIS, header.index("iris")
    elif "codgeo" in header:
        level, code_col = Zone.Type.COMMUNE, header.index("codgeo")
    else:
        raise FormatError(_("missing column “IRIS” (or “CODGEO” for communes)"), line=1)
    com_col = header.index("com") if "com" in header else None
    name_col = next(
        (header.index(n) for n in ("libiris", "lib_iris", "nom_iris") if n in header), None
    )
    type_col = header.index("typ_iris") if "typ_iris" in header else None

    values: dict[tuple[str, str, int], float] = {}
    zones: dict[str, dict[str, str]] = {}
    for line, fields in rows:
        code = fields[code_col].strip().upper()
        if level == Zone.Type.IRIS and not re.match(r"^(?:\d{5}|2[AB]\d{3})\d{4}$", code):
            raise FormatError(
                _("“%(value)s” is not a 9-character IRIS code") % {"value": code},
                line=line,
                field="IRIS",
            )
        if level == Zone.Type.COMMUNE and not re.match(r"^(?:\d{5}|2[AB]\d{3})$", code):
            raise FormatError(
                _("“%(value)s” is not an INSEE commune code") % {"value": code},
                line=line,
                field="CODGEO",
            )
        commune = (fields[com_col].strip().upper() if com_col is not None else "") or code[:5]
        zones[code] = {
            "commune": commune,
            "name": fields[name_col].strip() if name_col is not None else "",
            "type": fields[type_col].strip() if type_col is not None else "",
        }
        for index, (key, year) in columns.items():
            value = parse_decimal(
                fields[index] if index < len(fields) else "", line=line, field=raw_header[index]
            )
            if value is not None:  # suppressed values (ns, nd) stay absent, not zero
                values[(code, key, year)] = value
    if level == Zone.Type.IRIS:
        for commune in sorted({z["commune"] for z in zones.values()}):
            ensure_commune(commune)
        existing_names = dict(
            Zone.objects.filter(type=Zone.Type.IRIS, code__in=list(zones)).values_list(
                "code", "name"
            )
        )
        specs = [
            ZoneSpec(
                Zone.Type.IRIS,
                code,
                z["name"] or existing_names.get(code) or _("IRIS %(code)s") % {"code": code[5:]},
                parents=((Zone.Type.COMMUNE, z["commune"]),),
                attributes={"typ_iris": z["type"]} if z["type"] else {},
            )
            for code, z in zones.items()
        ]
        by_key, _c, _u = upsert_zones(specs, update_existing=False)
        zone_ids = {code: by_key[(Zone.Type.IRIS, code)].pk for code in zones}
    else:
        zone_ids = {code: ensure_commune(code).pk for code in zones}
    stored = {
        (f.zone_id, f.key, f.year): f
        for f in ZoneFigure.objects.filter(zone_id__in=list(zone_ids.values()))
    }
    source = Path(path).name[:120]
    to_create, to_update = [], []
    for (code, key, year), value in values.items():
        figure = stored.get((zone_ids[code], key, year))
        if figure is None:
            to_create.append(
                ZoneFigure(zone_id=zone_ids[code], key=key, year=year, value=value, source=source)
            )
        elif figure.value != value:
            figure.value, figure.source = value, source
            to_update.append(figure)
    ZoneFigure.objects.bulk_create(to_create, batch_size=5000)
    ZoneFigure.objects.bulk_update(to_update, ["value", "source"], batch_size=5000)
    summary = {
        "file": Path(path).name,
        "kind": "figures",
        "level": level,
        "zones": len(zones),
        "figures": sorted({f"{k}:{y}" for (_c, k, y) in values}),
        "values": len(values),
        "created": len(to_create),
        "updated": len(to_update),
        "unchanged": len(values) - len(to_create) - len(to_update),
    }
    if _changed(summary):
        record_event(
            "territory.import_insee",
            actor=actor,
            data={k: v for k, v in summary.items() if k != "figures"},
        )
    return summary


IRIS_CODE_KEYS = ("CODE_IRIS", "code_iris", "iris", "IRIS", "DCOMIRIS", "iris_code")
IRIS_NAME_KEYS = ("NOM_IRIS", "nom_iris", "LIB_IRIS", "lib_iris", "LIBIRIS", "iris_name")
IRIS_COMMUNE_KEYS = ("INSEE_COM", "insee_com", "com", "COM", "code_commune", "DEPCOM")


def _import_iris_contours(path: str | Path, *, actor: Any) -> dict[str, Any]:
    features = read_features(path)
    specs, geometries = [], {}
    for index, (props, geometry) in enumerate(features, start=1):
        code = next((str(props[k]).strip().upper() for k in IRIS_CODE_KEYS if props.get(k)), "")
        if not re.match(r"^(?:\d{5}|2[AB]\d{3})\d{4}$", code):
            raise FormatError(
                _("feature %(index)s has no 9-character IRIS code (CODE_IRIS)") % {"index": index},
                field="CODE_IRIS",
            )
        commune = next(
            (str(props[k]).strip().upper() for k in IRIS_COMMUNE_KEYS if props.get(k)), code[:5]
        )
        name = next((str(props[k]).strip() for k in IRIS_NAME_KEYS if props.get(k)), "")
        ensure_commune(commune, name=str(props.get("NOM_COM") or props.get("nom_com") or ""))
        specs.append(
            ZoneSpec(
                Zone.Type.IRIS,
                code,
                name or _("IRIS %(code)s") % {"code": code[5:]},
                parents=((Zone.Type.COMMUNE, commune),),
                attributes={"typ_iris": str(props.get("TYP_IRIS") or props.get("typ_iris") or "")},
            )
        )
        geometries[code] = from_geojson(geometry)
    zones, _c, _u = upsert_zones(specs, update_existing=True)
    changed = []
    for code, geom in geometries.items():
        zone = zones[(Zone.Type.IRIS, code)]
        if _store_geometry(zone, geom, Zone.GeometrySource.IMPORTED):
            changed.append(zone)
    Zone.objects.bulk_update(
        changed, ["geometry", "geometry_source", "centroid_lon", "centroid_lat"]
    )
    communes = sorted({s.parents[0][1] for s in specs})
    assigned = refresh_assignments(communes)
    summary = {
        "file": Path(path).name,
        "kind": "contours",
        "iris": len(specs),
        "updated": len(changed),
        "unchanged": len(specs) - len(changed),
        "communes": len(communes),
        **assigned,
    }
    if _changed(summary):
        record_event("territory.import_insee", actor=actor, data=summary)
    return summary
