"""Lawful by construction: every registered criterion, compiled, reads none of the columns
French law keeps out of targeting (place of birth, nationality, names)."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from crm.models import Person
from crm.segments import registry, services
from crm.segments.registry import FORBIDDEN_PERSON_FIELDS
from tests.crm.segments.conftest import leaf

pytestmark = pytest.mark.django_db


def examples(world) -> dict[str, dict]:
    """Parameters for every built-in criterion (a new criterion must add its own here)."""
    segment = services.create_segment(
        actor=None, campaign=world.alpha, name="Base", criteria=leaf("sex", sex="F")
    )
    return {
        "sex": {"sex": "F"},
        "age": {"min": 18, "max": 30},
        "member_status": {"status": ["member"]},
        "support_level": {"levels": [1]},
        "supporter_status": {"status": ["supporter"]},
        "interests": {"interests": [world.interests["door"].pk]},
        "point_person": {"users": ["none"]},
        "added": {"within_days": 30},
        "commune": {"codes": ["41018"]},
        "circonscription": {"codes": ["41-01"]},
        "polling_station": {"codes": ["41018_0001"]},
        "iris": {"codes": ["410180101"]},
        "radius": {"center": {"lat": 47.5, "lon": 1.3}, "km": 5},
        "area": {"points": [[47.5, 1.3], [47.6, 1.3], [47.6, 1.4]]},
        "tags": {"match": "all", "tags": [world.tags["benevole"].pk]},
        "campaign": {"campaigns": [world.alpha.pk]},
        "roll_list": {"lists": ["LP"]},
        "custom_field": {"field": world.fields["quartier"].pk, "op": "eq", "value": "Centre"},
        "in_segment": {"segment": segment.pk},
        "consent": {"channel": "email", "purpose": "news"},
        "contactable": {"channel": "sms", "purpose": "news"},
        "action": {"type": "email_opened", "blast": "3", "within_days": 30},
        "donation": {"min_total": "10", "recurring": "yes", "last_before_days": 30},
        "canvass": {"results": ["refused", "never"]},
        **territory_examples(world),  # registered only with the territory app
        **intelligence_examples(world),
    }


def intelligence_examples(world) -> dict:
    """The criteria of territory.intelligence: a layer and a forecast of the campaign."""
    from django.utils import timezone

    from territory.intelligence.models import Forecast, Layer

    layer = Layer.objects.create(campaign=world.alpha, name="Logements sociaux")
    forecast = Forecast.objects.create(
        campaign=world.alpha, name="Municipales", election_kind="municipales",
        computed_at=timezone.now(),
    )  # fmt: skip
    return {
        "layer_address": {"layer": layer.pk},
        "forecast_rank": {"forecast": forecast.pk, "top": 3},
    }


def territory_examples(world) -> dict:
    from crm.segments.criteria.territory import territory_models

    models = territory_models()
    if models is None:
        return {}
    from tests.crm.segments.test_territory import make_results

    round1 = make_results(models)
    # The top-bureaux criterion ranks the campaign's own bureaux: give Alpha its commune.
    zone = models["Zone"]
    commune = zone.objects.create(type="commune", code="41018", name="Blois")
    for bureau in zone.objects.filter(type="bureau", code__startswith="41018_"):
        bureau.parents.add(commune)
    world.alpha.commune_codes = ["41018"]
    world.alpha.save(update_fields=["commune_codes"])
    return {
        "bureau_indicator": {
            "indicator": "abstention", "round": round1.pk, "op": "above", "percent": "50"
        },
        "top_bureaux": {"n": 1, "round": round1.pk, "nuance": "SOC"},
    }  # fmt: skip


def test_no_registered_criterion_reads_a_forbidden_column(world):
    params = examples(world)
    forbidden_columns = {Person._meta.get_field(name).column for name in FORBIDDEN_PERSON_FIELDS}
    names = {c.name for c in registry.criteria()}
    missing = names - set(params)
    assert not missing, f"add example parameters for {missing} to this test"
    for name in sorted(names):
        tree = leaf(name, **params[name])
        people = services.people_matching(tree, campaign=world.alpha, user=None)
        sql, sql_params = people.query.sql_with_params()
        where = sql.split(" WHERE ", 1)[1]
        used = set(re.findall(r'"([a-z_]+)"', where))
        assert not used & forbidden_columns, (name, used & forbidden_columns)
        with connection.cursor() as cursor:  # and it runs
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) q", sql_params)


def test_person_columns_declared_by_criteria_are_lawful():
    for criterion in registry.criteria():
        assert not set(criterion.person_fields) & FORBIDDEN_PERSON_FIELDS, criterion.name
