"""People on the territory map: the aggregation endpoint (territory/<id>/people.json, through
Django's full request cycle: session, admin access, tenancy scope, segment universe, JSON) for
N geocoded people at three zoom levels, against the equivalent hand-written SQL (the same
grid GROUP BY over the same rows, fetched with a raw cursor) in the same run.

    .venv/bin/python bench/map_points.py [--size N]

Runs in a throwaway database next to DATABASE_URL's. Prints one JSON line last:
{"bench": "map_points", "points": N, "vs_sql": endpoint time / SQL time (all zooms), ...}.
Target: vs_sql <= 1.5.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import django_setup, scratch_database

django_setup()

REPEATS = 7
# (zoom, bbox): the whole département, a town, a neighbourhood.
VIEWS = [
    (9, (0.6, 47.0, 2.0, 48.0)),
    (12, (1.25, 47.5, 1.45, 47.65)),
    (15, (1.32, 47.57, 1.345, 47.585)),
]
SQL = """
SELECT floor(p.longitude / %(cell)s) AS gx, floor(p.latitude / %(cell)s) AS gy,
       count(*) AS n, avg(p.longitude) AS lon, avg(p.latitude) AS lat
FROM crm_person p
WHERE p.longitude >= %(west)s AND p.longitude <= %(east)s
  AND p.latitude >= %(south)s AND p.latitude <= %(north)s
  AND EXISTS (SELECT 1 FROM crm_campaignattachment a
              WHERE a.person_id = p.id AND a.campaign_id = %(campaign)s)
GROUP BY 1, 2
"""


def populate(size: int, rng: random.Random) -> tuple[object, object]:
    from cocarde.tenancy import services as tenancy
    from cocarde.tenancy.models import StaffRole
    from crm.models import CampaignAttachment, Person

    ours = tenancy.create_campaign(actor=None, name="Bench", slug="bench")
    theirs = tenancy.create_campaign(actor=None, name="Other", slug="other")
    user = tenancy.create_user("bench@example.org", actor=None, password="x" * 20)
    tenancy.grant_role(user, ours, StaffRole.Role.STAFF, actor=None)
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(user, generate_totp_secret())  # staff have two-factor enrolled
    # Towns of various sizes over a département, people scattered around their centre.
    towns = [
        (rng.uniform(0.7, 1.9), rng.uniform(47.1, 47.9), rng.paretovariate(1.2)) for _ in range(60)
    ]
    towns.append((1.335, 47.58, 40.0))  # the préfecture
    weights = [w for _x, _y, w in towns]
    batch: list[Person] = []
    created = 0
    while created < size:
        n = min(10_000, size - created)
        batch = []
        for _ in range(n):
            x, y, w = rng.choices(towns, weights)[0]
            spread = 0.004 * (1 + w) ** 0.5
            batch.append(
                Person(
                    first_names="x", longitude=rng.gauss(x, spread), latitude=rng.gauss(y, spread)
                )
            )
        Person.objects.bulk_create(batch, batch_size=5000)
        CampaignAttachment.objects.bulk_create(
            [
                CampaignAttachment(
                    person=p, campaign=theirs if i % 10 == 0 else ours, reason="import"
                )
                for i, p in enumerate(batch)
            ],
            batch_size=5000,
        )
        created += n
        print(f"{created} people", file=sys.stderr)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_person; ANALYZE crm_campaignattachment")
    return ours, user


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(2027)
    with scratch_database():
        from django.db import connection
        from django.test import Client

        from territory.people_map import CELL_PX, TILE_PX

        campaign, user = populate(args.size, rng)
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        url = f"/admin/territory/{campaign.pk}/people.json"
        per_zoom = []
        endpoint_total = sql_total = 0.0
        for zoom, (west, south, east, north) in VIEWS:
            query = {"segment": "all", "zoom": str(zoom), "bbox": f"{west},{south},{east},{north}"}
            params = {
                "cell": CELL_PX * 360.0 / (TILE_PX * 2**zoom), "west": west, "east": east,
                "south": south, "north": north, "campaign": campaign.pk,
            }  # fmt: skip
            # Warm both paths (caches, plans), and check they agree.
            data = client.get(url, query).json()
            with connection.cursor() as cursor:
                cursor.execute(SQL, params)
                rows = cursor.fetchall()
            if data["mode"] == "clusters":
                assert data["total"] == sum(r[2] for r in rows), (data["total"], len(rows))
            endpoint_times, sql_times = [], []
            for _ in range(REPEATS):
                start = time.perf_counter()
                response = client.get(url, query)
                response.json()
                endpoint_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                with connection.cursor() as cursor:
                    cursor.execute(SQL, params)
                    cursor.fetchall()
                sql_times.append(time.perf_counter() - start)
            endpoint, sql = statistics.median(endpoint_times), statistics.median(sql_times)
            endpoint_total += endpoint
            sql_total += sql
            per_zoom.append({
                "zoom": zoom, "mode": data["mode"], "people": data["total"],
                "items": len(data.get("clusters") or data.get("points") or []),
                "endpoint_ms": round(endpoint * 1000, 2), "sql_ms": round(sql * 1000, 2),
                "vs_sql": round(endpoint / sql, 3),
            })  # fmt: skip
            print(per_zoom[-1], file=sys.stderr)
    print(json.dumps({
        "bench": "map_points",
        "points": args.size,
        "vs_sql": round(endpoint_total / sql_total, 3),
        "zooms": per_zoom,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
