"""Where people live and vote: commune, constituency, polling station, IRIS, radius, drawn area."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cocarde.tenancy.models import CIRCONSCRIPTION_CODE, INSEE_COMMUNE_CODE
from crm.segments import geometry
from crm.segments.params import Codes, DecimalAmount, Point, Polygon
from crm.segments.registry import PLACE, BuildContext, Criterion, register

IRIS_CODE = re.compile(r"^(?:[0-9]{2}|2[AB])[0-9]{3}[0-9]{4}$")
BUREAU_CODE = re.compile(r"^(?:[0-9]{2}|2[AB])[0-9]{3}_[0-9A-Z]{1,10}$")
SUGGESTIONS_TTL = 15 * 60
MAX_SUGGESTIONS = 1000


def _commune_code(raw: str) -> str:
    code = raw.strip().upper()
    return code.zfill(5) if code.isdigit() and len(code) == 4 else code


def _circonscription(raw: str) -> str:
    code = raw.strip().upper().replace(" ", "")
    match = re.fullmatch(r"([0-9]{2,3}|2[AB]|ZZ)[-_/]?([0-9]{1,2})", code)
    if match and (len(code) > 3 or "-" in code):
        return f"{match.group(1)}-{match.group(2).zfill(2)}"
    return code


def _bureau(raw: str) -> str:
    code = raw.strip().upper()
    match = re.fullmatch(r"((?:[0-9]{2}|2[AB])[0-9]{3})\s*[-_/ :]\s*([0-9A-Z]{1,10})", code)
    return f"{match.group(1)}_{match.group(2)}" if match else code


def _universe_values(ctx: BuildContext, key: str, *fields: str) -> list[tuple[Any, ...]]:
    """Distinct values of these columns among the campaign's people, cached for a while (the
    builder suggests them; nothing is decided on them)."""
    from crm.segments.compiler import universe

    cache_key = f"crm:segments:suggest:{key}:{ctx.campaign.pk}:{ctx.user.pk if ctx.user else 0}"
    found = cache.get(cache_key)
    if found is None:
        rows = (
            universe(ctx)
            .exclude(**{fields[0]: ""})
            .values_list(*fields)
            .distinct()
            .order_by(*fields)[:MAX_SUGGESTIONS]
        )
        found = [tuple(row) for row in rows]
        cache.set(cache_key, found, SUGGESTIONS_TTL)
    return found


def _commune_suggestions(ctx: BuildContext) -> list[tuple[Any, Any]]:
    names: dict[str, str] = {}
    for code, name in _universe_values(ctx, "communes", "commune_code", "commune_name"):
        names.setdefault(code, name)
    for code in ctx.campaign.commune_codes or []:
        names.setdefault(code, "")
    return [(code, f"{code} {name}".strip()) for code, name in sorted(names.items())]


def _bureau_suggestions(ctx: BuildContext) -> list[tuple[Any, Any]]:
    rows = _universe_values(ctx, "bureaux", "polling_station_code", "commune_code")
    return sorted(
        (f"{commune}_{station}", f"{commune} · {station}") for station, commune in rows if commune
    )


def _code_suggestions(field: str) -> Any:
    def suggest(ctx: BuildContext) -> list[tuple[Any, Any]]:
        return [(code, code) for (code,) in _universe_values(ctx, field, field)]

    return suggest


@register
class Commune(Criterion):
    name = "commune"
    label = gettext_lazy("Commune")
    group = PLACE
    person_fields = ("commune_code",)
    params = (
        Codes(
            "codes",
            gettext_lazy("INSEE codes"),
            pattern=INSEE_COMMUNE_CODE,
            example="41151, 2A004",
            normalise=_commune_code,
            suggestions=_commune_suggestions,
        ),
    )

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        codes = params["codes"]
        return Q(commune_code=codes[0]) if len(codes) == 1 else Q(commune_code__in=codes)


@register
class Circonscription(Criterion):
    """The legislative constituency of the person's polling station, as the roll gives it."""

    name = "circonscription"
    label = gettext_lazy("Constituency (circonscription)")
    group = PLACE
    person_fields = ("circonscription_code",)
    params = (
        Codes(
            "codes",
            gettext_lazy("codes"),
            pattern=CIRCONSCRIPTION_CODE,
            example="41-01, ZZ-05",
            normalise=_circonscription,
            suggestions=_code_suggestions("circonscription_code"),
        ),
    )

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        return Q(circonscription_code__in=params["codes"])


def bureau_variants(station: str) -> list[str]:
    """A station code as rolls and results files write it: "0001", "001", "1"."""
    variants = {station}
    if station.isdigit():
        variants |= {str(int(station)), station.zfill(4), station.zfill(3)}
    return sorted(variants)


@register
class PollingStation(Criterion):
    name = "polling_station"
    label = gettext_lazy("Polling station (bureau de vote)")
    group = PLACE
    person_fields = ("commune_code", "polling_station_code")
    help_text = gettext_lazy("Commune INSEE code and station number, e.g. 41151_0003.")
    params = (
        Codes(
            "codes",
            gettext_lazy("stations"),
            pattern=BUREAU_CODE,
            example="41151_0003",
            normalise=_bureau,
            suggestions=_bureau_suggestions,
        ),
    )

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        by_commune: dict[str, set[str]] = defaultdict(set)
        for code in params["codes"]:
            commune, station = code.split("_", 1)
            by_commune[commune].update(bureau_variants(station))
        q = Q(pk__in=[])
        for commune, stations in sorted(by_commune.items()):
            q |= Q(commune_code=commune, polling_station_code__in=sorted(stations))
        return q


@register
class Iris(Criterion):
    name = "iris"
    label = gettext_lazy("IRIS (INSEE neighbourhood)")
    group = PLACE
    person_fields = ("iris_code",)
    params = (
        Codes(
            "codes",
            gettext_lazy("codes"),
            pattern=IRIS_CODE,
            example="411510101",
            suggestions=_code_suggestions("iris_code"),
        ),
    )

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        return Q(iris_code__in=params["codes"])


@register
class Radius(Criterion):
    """Within a distance of a point, on the stored coordinates (geocoded addresses)."""

    name = "radius"
    label = gettext_lazy("Within a distance of a point")
    group = PLACE
    person_fields = ("latitude", "longitude")
    params = (
        Point("center", gettext_lazy("around")),
        DecimalAmount(
            "km",
            gettext_lazy("distance (km)"),
            min_value=Decimal("0.01"),
            max_value=Decimal(500),
        ),
    )

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        center = params["center"]
        return geometry.within_radius(center["lat"], center["lon"], float(params["km"]))

    def describe(self, params: dict[str, Any], ctx: BuildContext) -> str:
        return _("Within %(km)s km of %(point)s") % {
            "km": params["km"],
            "point": self.params[0].display(params["center"], ctx),
        }


@register
class Area(Criterion):
    """Inside an area drawn on a map (a polygon of latitude/longitude points)."""

    name = "area"
    label = gettext_lazy("Inside a drawn area")
    group = PLACE
    person_fields = ("latitude", "longitude")
    help_text = gettext_lazy("One point per line: latitude, longitude.")
    params = (Polygon("points", gettext_lazy("area")),)

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        return geometry.inside_polygon(params["points"])
