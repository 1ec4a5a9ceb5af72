"""Segments against hand-written SQL, on generated people.

    .venv/bin/python bench/segments.py [--size N] [--repeat R]

Generates N people (default 1,000,000) with set-based SQL (generate_series): 3 tags each on
average out of 500 (popularity skewed), 2 actions each (petitions, opens, clicks, RSVPs…),
0.3 N donations, one email for 80 %, email consent for 40 %, roll-like birth dates (10 % year
only), 300 communes, coordinates. Two candidate campaigns share them (70 % and 40 %).

Ten canonical segments of the first campaign (tag any / all / none, commune, age, donated in
90 days, clicked, consent, and two nested AND / OR / NOT of these) are counted and
snapshotted into a table by our compiler (`crm.segments.services`, as the campaign's manager:
tenancy included) and by hand-written SQL doing the same work on the same indexes, in the same
run, alternately. Both must find the same people. Each plan is read with EXPLAIN: a segment
whose plan sequentially scans a table the hand-written plan reaches through an index is
flagged.

Runs inside one transaction that is rolled back: DATABASE_URL is left as it was (migrated
first if needed). Prints progress on stderr and, last, one JSON line: `count_vs_sql_median`
and `snapshot_vs_sql_median` are medians over the ten segments of ours / hand-written
(1.0 = as fast as hand-written SQL).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cocarde import use_settings_for_environment

use_settings_for_environment()
import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from cocarde.accounts.models import User  # noqa: E402
from cocarde.tenancy.models import Campaign, StaffRole  # noqa: E402
from crm.models import (  # noqa: E402
    Action,
    CampaignAttachment,
    Consent,
    ConsentText,
    EmailAddress,
    Person,
    Segment,
    Tag,
)
from crm.segments import services  # noqa: E402
from crm.segments.criteria.people import _years_before  # noqa: E402

BENCH_SOURCE = "bench:segments"
TAGS = 500
COMMUNES = 300


class Rollback(Exception):
    pass


def log(message: str) -> None:
    print(f"[segments] {message}", file=sys.stderr, flush=True)


def insert_select(model: type[models.Model], values: dict[str, str], source: str) -> None:
    """INSERT INTO <model> (<every column>) SELECT <expressions> FROM <source>: the columns
    not given get what the model would store by default (blank text, false, now…)."""
    columns, expressions = [], []
    for field in model._meta.concrete_fields:
        column = field.column
        if field.primary_key and column not in values:
            continue
        if column in values:
            expression = values[column]
        elif field.null:
            expression = "NULL"
        elif isinstance(field, models.UUIDField):
            expression = "gen_random_uuid()"
        elif isinstance(field, models.DateTimeField):
            expression = "now()"
        elif isinstance(field, models.BooleanField):
            expression = "false"
        elif isinstance(field, models.JSONField):
            expression = "'{}'::jsonb"
        elif isinstance(field, models.CharField | models.TextField):
            expression = "''"
        else:
            raise RuntimeError(f"no default for {model.__name__}.{field.name}")
        columns.append(f'"{column}"')
        expressions.append(expression)
    sql = (
        f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) '
        f"SELECT {', '.join(expressions)} FROM {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)


def generate(size: int) -> dict[str, Any]:
    """The people and everything about them, set-wise. Returns the ids the segments use."""
    alpha = Campaign.objects.create(name="Bench Alpha", slug="bench-segments-alpha")
    bravo = Campaign.objects.create(name="Bench Bravo", slug="bench-segments-bravo")
    manager = User.objects.create(email="bench-segments@example.org", is_active=True)
    StaffRole.objects.create(user=manager, campaign=alpha, role=StaffRole.Role.MANAGER)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
    t0 = time.perf_counter()
    # People: g is the generated number; random() drives what should look random.
    insert_select(
        Person,
        {
            "sex": "CASE WHEN g % 40 = 0 THEN '' WHEN g % 2 = 0 THEN 'F' ELSE 'M' END",
            "first_names": "'P' || g",
            "birth_name": "'N' || g",
            "birth_year": "1930 + floor(random() * 78)::int",
            "birth_month": "CASE WHEN g % 10 = 0 THEN NULL "
                           "ELSE 1 + floor(random() * 12)::int END",
            "birth_day": "CASE WHEN g % 10 IN (0, 1) THEN NULL "
                         "ELSE 1 + floor(random() * 28)::int END",
            "commune_code": "'41' || lpad((floor(power(random(), 1.5) * "
                            f"{COMMUNES}))::int::text, 3, '0')",
            "polling_station_code": "lpad((1 + g % 12)::text, 4, '0')",
            "latitude": "47.2 + random() * 0.8",
            "longitude": "0.8 + random() * 1.2",
            "member_status": "CASE WHEN g % 20 = 0 THEN 'member' ELSE '' END",
            "support_level": "CASE WHEN g % 5 = 0 THEN 1 + g % 5 ELSE NULL END",
            "first_source": f"'{BENCH_SOURCE}'",
            "country": "'FR'",
        },
        f"generate_series(1, {size}) g",
    )  # fmt: skip
    with connection.cursor() as cursor:
        # The sequence moved on in earlier (rolled back) runs: read where this one started.
        cursor.execute(
            "SELECT MIN(id), MAX(id) FROM crm_person WHERE first_source = %s", [BENCH_SOURCE]
        )
        first_id, last_id = cursor.fetchone()
    assert last_id - first_id + 1 == size, "people ids are not contiguous"
    people = f"(SELECT id FROM crm_person WHERE id >= {first_id}) p"
    insert_select(
        CampaignAttachment,
        {"person_id": "p.id", "campaign_id": str(alpha.pk), "reason": "'import'"},
        f"{people} WHERE p.id % 10 < 7",
    )
    insert_select(
        CampaignAttachment,
        {"person_id": "p.id", "campaign_id": str(bravo.pk), "reason": "'import'"},
        f"{people} WHERE p.id % 10 >= 6",
    )
    insert_select(
        EmailAddress,
        {
            "person_id": "p.id",
            "email": "'p' || p.id || '@bench.example'",
            "is_primary": "true",
            "status": "CASE WHEN p.id % 20 = 0 THEN 'bounced' ELSE 'valid' END",
            "suppression_key": "md5(p.id::text)",
        },
        f"{people} WHERE p.id % 5 <> 0",
    )
    log(f"{size} people in {time.perf_counter() - t0:.1f}s")

    t0 = time.perf_counter()
    Tag.objects.bulk_create(
        Tag(campaign=alpha, name=f"Tag {i}", slug=f"tag-{i}") for i in range(TAGS)
    )
    tag_ids = list(Tag.objects.filter(campaign=alpha).order_by("pk").values_list("pk", flat=True))
    first_tag = tag_ids[0]
    # 1 to 5 tags per person (3 on average); popularity skewed towards the first tags.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_persontag (person_id, tag_id, added_at, added_by_id) "
            f"SELECT p.id, {first_tag} + floor(power(random(), 2) * {TAGS})::int, now(), NULL "
            f"FROM {people} CROSS JOIN LATERAL generate_series(1, 1 + (p.id * 7919) % 5) k "
            "ON CONFLICT DO NOTHING"
        )
    log(f"tags in {time.perf_counter() - t0:.1f}s")

    t0 = time.perf_counter()
    # Two actions per person over the last year, split between the two campaigns.
    insert_select(
        Action,
        {
            "person_id": "p.id",
            "campaign_id": f"CASE WHEN random() < 0.75 THEN {alpha.pk} ELSE {bravo.pk} END",
            "type": "(ARRAY['petition','petition','petition','email_opened','email_opened',"
            "'email_opened','email_clicked','signup','rsvp','sms_replied'])"
            "[1 + floor(random() * 10)::int]",
            "occurred_at": "now() - random() * interval '365 days'",
            "source_page_id": "1 + (p.id % 10)",
            "data": "jsonb_build_object('blast_id', (p.id + k) % 40)",
        },
        f"{people} CROSS JOIN generate_series(1, 2) k",
    )
    # Donations: 0.3 N gifts over two years, several per donor, 10 % monthly.
    insert_select(
        Action,
        {
            "person_id": f"{first_id} + floor(power(random(), 1.3) * {size})::int",
            "campaign_id": f"CASE WHEN random() < 0.8 THEN {alpha.pk} ELSE {bravo.pk} END",
            "type": "'donation'",
            "occurred_at": "now() - random() * interval '730 days'",
            "data": "jsonb_build_object('amount', (5 + floor(random() * 200))::text, "
            "'currency', 'EUR', 'recurring', random() < 0.1)",
        },
        f"generate_series(1, {int(size * 0.3)}) g",
    )
    log(f"actions and donations in {time.perf_counter() - t0:.1f}s")

    t0 = time.perf_counter()
    text = ConsentText.objects.create(campaign=alpha, purpose="news", version=1, text="Bench")
    insert_select(
        Consent,
        {
            "person_id": "p.id",
            "campaign_id": str(alpha.pk),
            "channel": "'email'",
            "purpose": "'news'",
            "text_id": str(text.pk),
            "given_at": "now() - random() * interval '500 days'",
            "source_kind": "'web'",
            "withdrawn_at": "CASE WHEN p.id % 20 = 0 THEN now() ELSE NULL END",
        },
        f"{people} WHERE p.id % 5 IN (1, 2)",
    )
    log(f"consents in {time.perf_counter() - t0:.1f}s")
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("crm_person", "crm_persontag", "crm_action", "crm_campaignattachment",
                      "crm_consent", "crm_emailaddress", "crm_tag"):  # fmt: skip
            cursor.execute(f"ANALYZE {table}")
    log(f"analyze in {time.perf_counter() - t0:.1f}s")
    return {"alpha": alpha, "bravo": bravo, "manager": manager, "tags": tag_ids}


def canonical(ids: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(name, criteria, hand-written WHERE over `p`) for the ten canonical segments."""
    tags = ids["tags"]
    alpha = ids["alpha"].pk
    today = timezone.localdate()
    communes = ["41003", "41010", "41042", "41100", "41250"]

    def age(low: int, high: int) -> str:
        cut = _years_before(today, low)
        earliest = _years_before(today, high + 1) + dt.timedelta(days=1)
        # A partial birth date spans days: it counts when the span meets the range.
        return (
            f"p.birth_year BETWEEN {earliest.year} AND {cut.year} "
            f"AND (p.birth_year, COALESCE(p.birth_month, 1), COALESCE(p.birth_day, 1)) "
            f"<= ({cut.year}, {cut.month}, {cut.day}) "
            f"AND (p.birth_year, COALESCE(p.birth_month, 12), COALESCE(p.birth_day, 31)) "
            f">= ({earliest.year}, {earliest.month}, {earliest.day})"
        )

    def tagged(tag_ids: list[int]) -> str:
        return (
            "EXISTS (SELECT 1 FROM crm_persontag t WHERE t.person_id = p.id "
            f"AND t.tag_id IN ({', '.join(map(str, tag_ids))}))"
        )

    def acted(kind: str, days: int) -> str:
        return (
            "EXISTS (SELECT 1 FROM crm_action a WHERE a.person_id = p.id "
            f"AND a.campaign_id = {alpha} AND a.type = '{kind}' "
            f"AND a.occurred_at >= statement_timestamp() - interval '{days} days')"
        )

    consent = (
        "EXISTS (SELECT 1 FROM crm_consent c WHERE c.person_id = p.id "
        f"AND c.campaign_id = {alpha} AND c.channel = 'email' AND c.purpose = 'news' "
        "AND c.withdrawn_at IS NULL "
        "AND (NOT c.confirmation_required OR c.confirmed_at IS NOT NULL))"
    )
    in_communes = f"p.commune_code IN ({', '.join(repr(c) for c in communes)})"

    def leaf(name: str, **params: Any) -> dict[str, Any]:
        return {"criterion": name, "params": params}

    donated = leaf("donation", last_within_days=90)
    clicked = leaf("action", type="email_clicked", within_days=30)
    consent_leaf = leaf("consent", channel="email", purpose="news")
    return [
        ("tag_any", leaf("tags", match="any", tags=tags[20:23]), tagged(tags[20:23])),
        (
            "tag_all",
            leaf("tags", match="all", tags=tags[:2]),
            f"{tagged(tags[:1])} AND {tagged(tags[1:2])}",
        ),
        ("tag_none", leaf("tags", match="none", tags=tags[:1]), f"NOT {tagged(tags[:1])}"),
        ("commune", leaf("commune", codes=communes), in_communes),
        ("age", leaf("age", min=25, max=40), age(25, 40)),
        ("donated_90d", donated, acted("donation", 90)),
        ("clicked_30d", clicked, acted("email_clicked", 30)),
        ("consent", consent_leaf, consent),
        (
            "nested_or_not",
            {"op": "and", "children": [
                {"op": "or", "children": [leaf("tags", match="any", tags=tags[50:51]),
                                          leaf("commune", codes=communes[:2])]},
                {"op": "not", "children": [donated]},
            ]},
            f"({tagged(tags[50:51])} OR p.commune_code IN ({communes[0]!r}, {communes[1]!r})) "
            f"AND NOT {acted('donation', 90)}",
        ),
        (
            "nested_three",
            {"op": "and", "children": [
                leaf("age", min=18, max=35),
                {"op": "or", "children": [clicked, consent_leaf]},
                {"op": "not", "children": [leaf("tags", match="any", tags=tags[5:6])]},
            ]},
            f"{age(18, 35)} AND ({acted('email_clicked', 30)} OR {consent}) "
            f"AND NOT {tagged(tags[5:6])}",
        ),
    ]  # fmt: skip


def universe(alpha: int) -> str:
    return (
        "EXISTS (SELECT 1 FROM crm_campaignattachment u WHERE u.person_id = p.id "
        f"AND u.campaign_id = {alpha})"
    )


def seq_scans(sql: str, params: Any) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    found: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        if node.get("Node Type") == "Seq Scan":
            found.add(node.get("Relation Name", "?"))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found


def median_times(
    ours: Callable[[], Any], baseline: Callable[[], Any], repeat: int
) -> tuple[float, float]:
    """Median time of each, run alternately (who goes first alternates too), so a load
    change on a shared machine weighs on both alike."""
    times: dict[str, list[float]] = {"ours": [], "baseline": []}
    for i in range(repeat):
        pair = [("ours", ours), ("baseline", baseline)]
        for key, fn in pair if i % 2 else reversed(pair):
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    return statistics.median(times["ours"]), statistics.median(times["baseline"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/segments.py needs PostgreSQL (set DATABASE_URL)")
    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        # Earlier runs were rolled back: their rows are dead tuples until vacuumed.
        cursor.execute(
            "VACUUM crm_person, crm_persontag, crm_action, crm_campaignattachment, crm_consent, "
            "crm_emailaddress, crm_tag, crm_segmentmember"
        )
    results: dict[str, Any] = {"bench": "segments", "people": args.size}
    details: list[dict[str, Any]] = []
    mismatches: list[str] = []
    regressions: list[str] = []
    try:
        with transaction.atomic():
            ids = generate(args.size)
            alpha, manager = ids["alpha"], ids["manager"]
            with connection.cursor() as cursor:
                cursor.execute("CREATE TEMPORARY TABLE bench_snapshot (person_id bigint)")
            target = services.Into(table="bench_snapshot", ignore_conflicts=False)
            for name, criteria, where in canonical(ids):
                segment = services.create_segment(
                    actor=manager, campaign=alpha, name=name, criteria=criteria
                )
                segment = Segment.objects.select_related("campaign").get(pk=segment.pk)
                raw_where = f"{universe(alpha.pk)} AND {where}"
                raw_count = f"SELECT count(*) FROM crm_person p WHERE {raw_where}"
                raw_insert = (
                    f"INSERT INTO bench_snapshot (person_id) "
                    f"SELECT p.id FROM crm_person p WHERE {raw_where}"
                )

                def ours_count(segment: Segment = segment) -> int:
                    return services.people_in(segment, user=manager).count()

                def sql_count(sql: str = raw_count) -> int:
                    with connection.cursor() as cursor:
                        cursor.execute(sql)
                        return cursor.fetchone()[0]

                def ours_snapshot(segment: Segment = segment) -> int:
                    with connection.cursor() as cursor:
                        cursor.execute("TRUNCATE bench_snapshot")
                    return services.snapshot(segment, into=target, user=manager)

                def sql_snapshot(sql: str = raw_insert) -> int:
                    with connection.cursor() as cursor:
                        cursor.execute("TRUNCATE bench_snapshot")
                        cursor.execute(sql)
                        return cursor.rowcount

                expected = sql_count()
                if ours_count() != expected or ours_snapshot() != expected:
                    mismatches.append(name)

                def ours_sample(segment: Segment = segment) -> int:
                    # The builder's sample (20 most recently added): no pathological LIMIT plan.
                    return len(services.sample(services.people_in(segment, user=manager)))

                sample_ms, _ = median_times(ours_sample, lambda: None, args.repeat)
                count_ours, count_sql = median_times(ours_count, sql_count, args.repeat)
                snap_ours, snap_sql = median_times(ours_snapshot, sql_snapshot, args.repeat)
                ours_sql, ours_params = (
                    services.people_in(segment, user=manager).values("id").query.sql_with_params()
                )
                ours_scans = seq_scans(f"SELECT count(*) FROM ({ours_sql}) q", ours_params)
                sql_scans = seq_scans(raw_count, None)
                if ours_scans - sql_scans:
                    regressions.append(f"{name}: {', '.join(sorted(ours_scans - sql_scans))}")
                details.append(
                    {
                        "segment": name,
                        "people": expected,
                        "count_ms": round(count_ours * 1000, 1),
                        "count_sql_ms": round(count_sql * 1000, 1),
                        "count_ratio": round(count_ours / count_sql, 3),
                        "snapshot_ms": round(snap_ours * 1000, 1),
                        "snapshot_sql_ms": round(snap_sql * 1000, 1),
                        "snapshot_ratio": round(snap_ours / snap_sql, 3),
                        "seq_scans": sorted(ours_scans),
                        "sample_ms": round(sample_ms * 1000, 1),
                    }
                )
                log(json.dumps(details[-1]))
            raise Rollback
    except Rollback:
        pass
    results["count_vs_sql_median"] = round(statistics.median(d["count_ratio"] for d in details), 3)
    results["snapshot_vs_sql_median"] = round(
        statistics.median(d["snapshot_ratio"] for d in details), 3
    )
    results["seq_scan_regressions"] = regressions
    results["mismatches"] = mismatches
    results["segments"] = details
    print(json.dumps(results))
    if mismatches:
        raise SystemExit(f"our segments and the hand-written SQL disagree: {mismatches}")


if __name__ == "__main__":
    main()
