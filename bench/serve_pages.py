"""Benchmark: requests per second for a candidate's home page, cached and uncached, against a
constant Django view, all through the same gunicorn server in the same run.

    .venv/bin/python bench/serve_pages.py [--seconds S] [--clients C]

Builds the demo's national template and one cloned candidate site in a scratch database,
starts gunicorn (2 sync workers) on a free local port, and drives it with C client processes
for S seconds per target: the constant view (/healthz), the home page from the page cache, and
the home page rendered each time (a query string bypasses the cache). Uses REDIS_URL for the
cache when set (as in production), else each worker's memory.
Prints one JSON line: bench, cached_vs_constant_view, uncached_vs_constant_view.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import time

from _setup import django_setup, gunicorn, scratch_database

HOST = "candidat.example.org"


def hammer(args: tuple[int, str, float, bool]) -> int:
    port, path, seconds, unique = args
    done, deadline, n = 0, time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        n += 1
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        target = f"{path}?n={os.getpid()}-{n}" if unique else path
        conn.request("GET", target, headers={"Host": HOST})
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status == 200:
            done += 1
    return done


def rate(port: int, path: str, seconds: float, clients: int, unique: bool = False) -> float:
    with multiprocessing.Pool(clients) as pool:
        counts = pool.map(hammer, [(port, path, seconds, unique)] * clients)
    return sum(counts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    django_setup()

    with scratch_database() as database_url:
        from sites.demo import CANDIDATES, build_template
        from sites.services.cloning import clone_site

        setup_site(database_url, build_template, clone_site, CANDIDATES)
        with gunicorn("cocarde.wsgi:application", database_url, args=["--workers", "2"]) as port:
            for _ in range(4):  # warm both workers and the page cache
                hammer((port, "/", 0.3, False))
            check_cache(port)
            constant = rate(port, "/healthz", args.seconds, args.clients)
            cached = rate(port, "/", args.seconds, args.clients)
            uncached = rate(port, "/", args.seconds, args.clients, unique=True)
        print(
            json.dumps(
                {
                    "bench": "serve_pages",
                    "cached_vs_constant_view": round(cached / constant, 3),
                    "uncached_vs_constant_view": round(uncached / constant, 3),
                    "constant_view_rps": round(constant, 1),
                    "cached_rps": round(cached, 1),
                    "uncached_rps": round(uncached, 1),
                    "cache": "redis" if os.environ.get("REDIS_URL") else "per-process memory",
                }
            )
        )


def setup_site(database_url, build_template, clone_site, candidates) -> None:
    from django.contrib.auth import get_user_model

    from cocarde.tenancy.models import Campaign, StaffRole
    from cocarde.tenancy.services import create_campaign, grant_role

    admin = get_user_model().objects.create_user("bench@example.org", "bench-password-123")
    import datetime as dt

    from territory.models import Election, ElectionRound

    election = Election.objects.create(kind="legislatives", name="Législatives 2027", year=2027)
    ElectionRound.objects.create(election=election, number=1, date=dt.date(2027, 6, 13))
    national = create_campaign(
        actor=None,
        name="Parti Cocarde",
        slug="national",
        kind=Campaign.Kind.NATIONAL,
        election=election,
    )
    grant_role(admin, national, StaffRole.Role.NATIONAL_ADMIN, actor=None)
    template = build_template(admin, national)
    clone_site(actor=admin, template=template, **{**candidates[0], "hostname": HOST})
    from django.db import connection

    connection.close()  # the server's workers get their own connections


def check_cache(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/", headers={"Host": HOST})
    response = conn.getresponse()
    body = response.read().decode()
    if (
        response.status != 200
        or "Marie" not in body
        or response.getheader("X-Cocarde-Cache") != "hit"
    ):
        raise SystemExit(
            f"the candidate's home page is not served from the cache: {response.status}, "
            f"headers {response.getheaders()}"
        )


if __name__ == "__main__":
    main()
