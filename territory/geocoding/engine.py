"""The offline geocoding engine: French address in, point + precision + bureau + IRIS out.

Matching, in order (each step only when the previous one found nothing):
1. the commune: its INSEE code, else the communes of the postcode (narrowed by the commune name
   when one is given);
2. the street: same normalised key (see normalise.py), else the same name without its type
   ("Victor Hugo" for "rue Victor Hugo") when only one street has it, else the closest key
   (rapidfuzz ratio >= 85: typos, missing words);
3. the number: the exact number and repetition (housenumber precision); the number without its
   repetition ("42 bis" where the BAN only has 42); else a point interpolated between the nearest
   numbers on the same side of the street (street precision); no number: the street's middle;
4. no street: the commune's centre (municipality precision), only when the commune is certain.

The bureau de vote and IRIS come from the matched BAN address (assigned when contours or
voter addresses were imported); for an interpolated point, from the nearest number; for a
street or commune, only when the whole street or commune lies in one bureau or IRIS.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from rapidfuzz import fuzz, process

from territory.geocoding.normalise import (
    normalise_repetition,
    normalise_street,
    split_number,
    without_street_type,
)
from territory.models import Address, Zone

FUZZY_CUTOFF = 85.0


class Precision(StrEnum):
    HOUSENUMBER = "housenumber"
    STREET = "street"
    MUNICIPALITY = "municipality"


@dataclass(frozen=True)
class AddressQuery:
    """A French address as people write it. `number` may carry the repetition ("42 bis"); a
    street given with its number ("12 rue X") and no `number` is split."""

    street: str
    number: str | int | None = None
    repetition: str | None = None
    postcode: str | None = None
    commune_code: str | None = None
    commune_name: str | None = None


@dataclass(frozen=True)
class GeocodeResult:
    lon: float
    lat: float
    precision: Precision
    score: float  # 0..1, how sure the match is
    commune_code: str
    label: str  # the matched address, as the BAN writes it
    address_id: int | None = None  # territory.Address matched exactly (housenumber precision)
    bureau_id: int | None = None
    bureau_code: str | None = None  # e.g. "41998_0001"
    iris_id: int | None = None
    iris_code: str | None = None


@dataclass
class _Point:
    number: int | None
    repetition: str
    lon: float
    lat: float
    address_id: int
    bureau_id: int | None
    iris_id: int | None


@dataclass
class _Street:
    name: str
    postcode: str
    points: dict[tuple[int | None, str], _Point] = field(default_factory=dict)
    numbered: list[_Point] = field(default_factory=list)
    lon: float = 0.0
    lat: float = 0.0
    bureau_id: int | None = None  # when the whole street lies in one bureau
    iris_id: int | None = None


@dataclass
class _Commune:
    code: str
    name: str
    streets: dict[str, _Street]
    short_names: dict[str, list[str]]
    keys: list[str]
    lon: float
    lat: float
    bureau_id: int | None
    iris_id: int | None


def _single(values: Iterable[int | None]) -> int | None:
    distinct = set(values)
    if len(distinct) == 1:
        return next(iter(distinct))
    return None


class Geocoder:
    """Geocode many addresses: each commune's BAN addresses are read once, on first use."""

    def __init__(self) -> None:
        self._communes: dict[str, _Commune | None] = {}
        self._postcodes: dict[str, list[str]] = {}
        self._zone_codes: dict[int, str] = {}

    # --- loading -----------------------------------------------------------------------------

    def preload(self, commune_codes: Iterable[str]) -> None:
        wanted = [c for c in commune_codes if c not in self._communes]
        rows = (
            Address.objects.filter(commune_code__in=wanted)
            .order_by("commune_code", "street_key", "number", "repetition")
            .values_list(
                "pk",
                "commune_code",
                "commune_name",
                "postcode",
                "number",
                "repetition",
                "street",
                "street_key",
                "lon",
                "lat",
                "bureau_id",
                "iris_id",
            )
        )
        grouped: dict[str, list[tuple]] = {code: [] for code in wanted}
        for row in rows.iterator(chunk_size=5000):
            grouped[row[1]].append(row)
        zone_ids = {r[10] for rs in grouped.values() for r in rs} | {
            r[11] for rs in grouped.values() for r in rs
        }
        zone_ids -= {None, *self._zone_codes}
        if zone_ids:
            self._zone_codes.update(Zone.objects.filter(pk__in=zone_ids).values_list("pk", "code"))
        for code, commune_rows in grouped.items():
            self._communes[code] = self._build(code, commune_rows) if commune_rows else None

    def _build(self, code: str, rows: list[tuple]) -> _Commune:
        streets: dict[str, _Street] = {}
        for (
            pk,
            _c,
            _name,
            postcode,
            number,
            repetition,
            street,
            key,
            lon,
            lat,
            bureau,
            iris,
        ) in rows:
            entry = streets.get(key)
            if entry is None:
                entry = streets[key] = _Street(name=street, postcode=postcode)
            point = _Point(number, repetition, lon, lat, pk, bureau, iris)
            entry.points.setdefault((number, repetition), point)
            if number is not None:
                entry.numbered.append(point)
        all_points = [p for s in streets.values() for p in s.points.values()]
        short_names: dict[str, list[str]] = {}
        for key, entry in streets.items():
            points = list(entry.points.values())
            entry.lon = sum(p.lon for p in points) / len(points)
            entry.lat = sum(p.lat for p in points) / len(points)
            entry.bureau_id = _single(p.bureau_id for p in points)
            entry.iris_id = _single(p.iris_id for p in points)
            short_names.setdefault(without_street_type(key), []).append(key)
        return _Commune(
            code=code,
            name=rows[0][2],
            streets=streets,
            short_names=short_names,
            keys=list(streets),
            lon=sum(p.lon for p in all_points) / len(all_points),
            lat=sum(p.lat for p in all_points) / len(all_points),
            bureau_id=_single(p.bureau_id for p in all_points),
            iris_id=_single(p.iris_id for p in all_points),
        )

    def _commune(self, code: str) -> _Commune | None:
        if code not in self._communes:
            self.preload([code])
        return self._communes[code]

    def _communes_for(self, query: AddressQuery) -> list[_Commune]:
        if query.commune_code:
            commune = self._commune(query.commune_code.strip().upper())
            return [commune] if commune else []
        postcode = (query.postcode or "").strip()
        if not postcode:
            return []
        if postcode not in self._postcodes:
            codes = set(
                Address.objects.filter(postcode=postcode).values_list("commune_code", flat=True)
            )
            self._postcodes[postcode] = sorted(codes)
        communes = [c for code in self._postcodes[postcode] if (c := self._commune(code))]
        if query.commune_name and len(communes) > 1:
            wanted = normalise_street(query.commune_name)
            named = [c for c in communes if normalise_street(c.name) == wanted]
            communes = named or communes
        return communes

    # --- matching ----------------------------------------------------------------------------

    def _street(self, commune: _Commune, key: str) -> tuple[str, float] | None:
        if key in commune.streets:
            return key, 1.0
        short = commune.short_names.get(without_street_type(key))
        if short and len(short) == 1:
            return short[0], 0.95
        if not commune.keys:
            return None
        match = process.extractOne(key, commune.keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if match is None:
            return None
        return match[0], 0.9 * match[1] / 100

    def geocode(self, query: AddressQuery) -> GeocodeResult | None:
        """The best match, or None when not even the commune is known."""
        number, repetition, rest = split_number(query.number)
        street_text = query.street
        if number is None:
            number, repetition, rest = split_number(query.street)
            if number is None:
                street_text = query.street
            else:
                street_text = rest
        if query.repetition:
            repetition = normalise_repetition(query.repetition)
        key = normalise_street(street_text)
        communes = self._communes_for(query)
        best: tuple[float, _Commune, str] | None = None
        for commune in communes:
            found = self._street(commune, key) if key else None
            if found and (best is None or found[1] > best[0]):
                best = (found[1], commune, found[0])
        if best is None:
            if len(communes) != 1:
                return None
            commune = communes[0]
            return self._result(
                commune,
                commune.lon,
                commune.lat,
                Precision.MUNICIPALITY,
                0.3,
                commune.name,
                bureau=commune.bureau_id,
                iris=commune.iris_id,
            )
        street_score, commune, street_key = best
        street = commune.streets[street_key]
        if number is not None:
            point = street.points.get((number, repetition))
            score = street_score
            if point is None:
                # "42 ter" where the BAN has 42, or "42" where it only has "42 bis".
                point = street.points.get((number, "")) or next(
                    (p for p in street.numbered if p.number == number), None
                )
                score *= 0.9
            if point is not None:
                return self._result(
                    commune,
                    point.lon,
                    point.lat,
                    Precision.HOUSENUMBER,
                    score,
                    self._label(number, point.repetition, street, commune),
                    address=point.address_id,
                    bureau=point.bureau_id,
                    iris=point.iris_id,
                )
            interpolated = self._interpolate(street, number)
            if interpolated is not None:
                lon, lat, nearest = interpolated
                return self._result(
                    commune,
                    lon,
                    lat,
                    Precision.STREET,
                    street_score * 0.7,
                    self._label(number, repetition, street, commune),
                    bureau=nearest.bureau_id,
                    iris=nearest.iris_id,
                )
        return self._result(
            commune,
            street.lon,
            street.lat,
            Precision.STREET,
            street_score * 0.6,
            f"{street.name} {street.postcode} {commune.name}",
            bureau=street.bureau_id,
            iris=street.iris_id,
        )

    @staticmethod
    def _interpolate(street: _Street, number: int) -> tuple[float, float, _Point] | None:
        """Between the nearest lower and higher numbers of the same parity (the same side)."""
        side = [p for p in street.numbered if p.number is not None and p.number % 2 == number % 2]
        candidates = side or street.numbered
        if not candidates:
            return None
        lower = max(
            (p for p in candidates if p.number is not None and p.number < number),
            key=lambda p: p.number or 0,
            default=None,
        )
        higher = min(
            (p for p in candidates if p.number is not None and p.number > number),
            key=lambda p: p.number or 0,
            default=None,
        )
        if lower is not None and higher is not None and lower.number and higher.number:
            t = (number - lower.number) / (higher.number - lower.number)
            lon = lower.lon + t * (higher.lon - lower.lon)
            lat = lower.lat + t * (higher.lat - lower.lat)
            nearest = lower if t <= 0.5 else higher
            return lon, lat, nearest
        closest = lower or higher
        assert closest is not None
        return closest.lon, closest.lat, closest

    @staticmethod
    def _label(number: int, repetition: str, street: _Street, commune: _Commune) -> str:
        rep = f" {repetition}" if repetition else ""
        return f"{number}{rep} {street.name} {street.postcode} {commune.name}"

    def _result(
        self,
        commune: _Commune,
        lon: float,
        lat: float,
        precision: Precision,
        score: float,
        label: str,
        *,
        address: int | None = None,
        bureau: int | None = None,
        iris: int | None = None,
    ) -> GeocodeResult:
        return GeocodeResult(
            lon=lon,
            lat=lat,
            precision=precision,
            score=round(score, 3),
            commune_code=commune.code,
            label=label,
            address_id=address,
            bureau_id=bureau,
            bureau_code=self._zone_codes.get(bureau) if bureau else None,
            iris_id=iris,
            iris_code=self._zone_codes.get(iris) if iris else None,
        )


def geocode(
    street: str,
    *,
    number: str | int | None = None,
    repetition: str | None = None,
    postcode: str | None = None,
    commune_code: str | None = None,
    commune_name: str | None = None,
) -> GeocodeResult | None:
    """Geocode one address. For many, make one `Geocoder()` and call its `geocode()`."""
    return Geocoder().geocode(
        AddressQuery(
            street=street,
            number=number,
            repetition=repetition,
            postcode=postcode,
            commune_code=commune_code,
            commune_name=commune_name,
        )
    )
