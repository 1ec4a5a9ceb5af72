"""The one compiler: one SQL query per count, EXISTS semi-joins (never JOIN + DISTINCT),
negations pushed down to anti-joins, an OR of related-table conditions as a UNION."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.segments import services
from tests.crm.segments.conftest import group, leaf

pytestmark = pytest.mark.django_db


def test_counting_and_snapshotting_run_one_query_each(world):
    tree = group(
        "and",
        leaf("tags", match="all", tags=[world.tags["benevole"].pk, world.tags["sympathisant"].pk]),
        group("or", leaf("commune", codes=["41018"]), leaf("action", type="email_clicked")),
        group("not", leaf("donation", min_total="10", last_within_days=90)),
        leaf("age", min=18),
    )
    segment = services.create_segment(actor=None, campaign=world.alpha, name="s", criteria=tree)
    with CaptureQueriesContext(connection) as queries:
        assert services.people_in(segment).count() == 1  # Bruno
    assert len(queries) == 1
    sql = queries[0]["sql"]
    assert "EXISTS" in sql and "DISTINCT" not in sql and " JOIN " not in sql
    static = services.create_list(actor=None, campaign=world.alpha, name="l", source=None)
    with CaptureQueriesContext(connection) as queries:
        assert services.snapshot(segment, into=static) == 1
    inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and "SELECT" in inserts[0]


def test_or_of_related_conditions_is_a_union_and_negations_are_anti_joins(world):
    benevole = world.tags["benevole"].pk
    tree = group(
        "not",
        group(
            "and",
            group("or", leaf("tags", match="any", tags=[benevole]), leaf("sex", sex="F")),
            leaf("consent", channel="email", purpose="news"),
        ),
    )
    people = services.people_matching(tree, campaign=world.alpha)
    sql = str(people.query)
    # NOT (A AND B) = NOT A OR NOT B; NOT (tag OR woman) = no tag AND not a woman.
    assert "UNION ALL" in sql
    assert "NOT (EXISTS" in sql or "NOT EXISTS" in sql
    assert world.names(people) == {"chloe", "dede", "eric"}
    plain_or = services.people_matching(
        group("or", leaf("sex", sex="F"), leaf("commune", codes=["41269"])), campaign=world.alpha
    )
    assert "UNION" not in str(plain_or.query)  # columns of the person row: a plain OR
