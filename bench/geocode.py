"""Offline geocoding speed: addresses matched per second by territory.geocoding.Geocoder,
against a plain dictionary lookup over the same normalised keys, measured in the same run.

    .venv/bin/python bench/geocode.py [--size N]

Runs against DATABASE_URL in a throwaway database (created and dropped here). Prints one JSON
line last: {"bench": "geocode", "addresses": N, "vs_dict_lookup": engine rate / dict rate...}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocarde.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

STREET_TYPES = [
    ("Rue", "r."),
    ("Avenue", "av."),
    ("Boulevard", "bd"),
    ("Place", "pl."),
    ("Chemin", "ch."),
    ("Allée", "all."),
    ("Impasse", "imp."),
    ("Route", "rte"),
]
NAMES = [
    "de la République", "Victor Hugo", "du Général de Gaulle", "Saint-Nicolas", "des Écoles",
    "Jean Jaurès", "de l'Église", "du Moulin", "Pasteur", "Sainte-Anne", "des Tilleuls",
    "Émile Zola", "du Château", "de la Gare", "Jules Ferry", "du Maréchal Foch",
]  # fmt: skip
ABBREVIATE = {"Saint-": "St-", "Sainte-": "Ste-", "Général": "Gal", "Maréchal": "Mal"}
PER_STREET = 60


def build(size: int, rng: random.Random) -> list[dict]:
    """Synthetic BAN rows: 60 numbers per street (every 17th a "bis"), 40 streets a commune."""
    rows = []
    for s in range(max(1, size // PER_STREET)):
        street_type, _abbr = STREET_TYPES[s % len(STREET_TYPES)]
        name = f"{street_type} {NAMES[(s // len(STREET_TYPES)) % len(NAMES)]} {s}"
        for n in range(1, PER_STREET + 1):
            rows.append(
                {
                    "commune": f"{41000 + s // 40:05d}",
                    "street": name,
                    "number": n,
                    "rep": "bis" if n % 17 == 0 else "",
                    "lon": 1.0 + rng.random() / 10,
                    "lat": 47.0 + rng.random() / 10,
                }
            )
    return rows[:size]


def as_written(row: dict, rng: random.Random) -> tuple[str, str]:
    """How people write the address: abbreviated types, any case, 12B for 12 bis."""
    street = row["street"]
    if rng.random() < 0.5:
        for full, abbr in STREET_TYPES:
            if street.startswith(full + " "):
                street = abbr + street[len(full) :]
        for full, abbr in ABBREVIATE.items():
            street = street.replace(full, abbr)
    if rng.random() < 0.3:
        street = street.upper()
    suffix = "B" if row["rep"] and rng.random() < 0.5 else f" {row['rep']}"
    return f"{row['number']}{suffix}".strip(), street


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(20_270)
    old_name = connection.settings_dict["NAME"]
    # Never the test suite's database: a name of our own.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_geocode_{os.getpid()}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from territory.geocoding import AddressQuery, Geocoder
        from territory.geocoding.normalise import normalise_street, split_number
        from territory.models import Address

        rows = build(args.size, rng)
        addresses = [
            Address(
                ban_id=f"b{i}",
                commune_code=r["commune"],
                number=r["number"],
                repetition=r["rep"],
                street=r["street"],
                street_key=normalise_street(r["street"]),
                postcode="41000",
                lon=r["lon"],
                lat=r["lat"],
            )
            for i, r in enumerate(rows)
        ]
        Address.objects.bulk_create(addresses, batch_size=5000)
        queries = [(r["commune"], *as_written(r, rng)) for r in rows]
        rng.shuffle(queries)
        communes = sorted({r["commune"] for r in rows})

        # Baseline: the same normalised keys in a plain dict.
        table = {
            (r["commune"], normalise_street(r["street"]), r["number"], r["rep"]): (
                r["lon"],
                r["lat"],
            )
            for r in rows
        }
        normalise_street.cache_clear()
        start = time.perf_counter()
        dict_matched = 0
        for commune, number, street in queries:
            n, rep, _rest = split_number(number)
            if table.get((commune, normalise_street(street), n, rep)) is not None:
                dict_matched += 1
        dict_seconds = time.perf_counter() - start

        geocoder = Geocoder()
        load_start = time.perf_counter()
        geocoder.preload(communes)
        load_seconds = time.perf_counter() - load_start
        normalise_street.cache_clear()
        start = time.perf_counter()
        matched = 0
        for commune, number, street in queries:
            result = geocoder.geocode(
                AddressQuery(street=street, number=number, commune_code=commune)
            )
            if result is not None and result.precision == "housenumber":
                matched += 1
        engine_seconds = time.perf_counter() - start
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    engine_rate = len(queries) / engine_seconds
    dict_rate = len(queries) / dict_seconds
    print(json.dumps({
        "bench": "geocode",
        "addresses": len(queries),
        "matched": matched,
        "dict_matched": dict_matched,
        "per_second": round(engine_rate),
        "dict_per_second": round(dict_rate),
        "load_seconds": round(load_seconds, 3),
        "vs_dict_lookup": round(engine_rate / dict_rate, 3),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
