"""Lawful by construction: forecasts concern polling stations, never people. No person-level
field, export or segment carries a forecast, and no model reads individual political data."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import models

from crm import exports
from crm.models import Person
from crm.segments import services as segments
from crm.services.people import create_person
from territory.intelligence.services.forecasting import compute_forecast, create_forecast
from territory.models import Election

pytestmark = pytest.mark.django_db

PREDICTIVE = re.compile(r"forecast|predict|votes_to_win|transfer_stud|propensit|likel")


def person_models() -> list[type[models.Model]]:
    """Person and every model holding a row per person (a relation to Person)."""
    found = [Person]
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.related_model is Person and field.concrete:
                found.append(model)
                break
    return found


def test_no_person_level_field_carries_a_forecast():
    intelligence = set(apps.get_app_config("intelligence").get_models())
    for model in person_models():
        for field in model._meta.get_fields():
            name = getattr(field, "name", "")
            assert not PREDICTIVE.search(name), (model, name)
            if field.is_relation:
                assert field.related_model not in intelligence, (model, name)
    # And the other way round: nothing of the intelligence app points at a person or CRM row.
    for model in intelligence:
        for field in model._meta.get_fields():
            if field.is_relation and field.related_model is not None:
                assert field.related_model._meta.app_label != "crm", (model, field.name)


def test_exports_carry_no_forecast(territory):
    forecast = create_forecast(
        actor=None, campaign=territory.campaign, name="F", election_kind=Election.Kind.MUNICIPAL,
        nuances=["DVG"],
    )  # fmt: skip
    assert not any(PREDICTIVE.search(c) for c in exports.COLUMNS)
    top = forecast.bureaux.get(rank=1)
    person = create_person(
        actor=None, campaign=territory.campaign, first_names="Ada", usage_name="Lovelace",
        commune_code="41999", polling_station_code=top.bureau.local_code,
    )  # fmt: skip
    rows = list(exports.table(Person.objects.filter(pk=person.pk), list(exports.COLUMNS)))
    text = " ".join(" ".join(row) for row in rows)
    for value in (top.turnout, top.share, top.votes_to_win):
        for shown in (f"{value}", f"{value:.2f}", f"{value * 100:.1f}", f"{value:.1f}"):
            assert shown not in text.replace(",", ".")


def test_the_ranking_segment_selects_whole_polling_stations(territory):
    forecast = create_forecast(
        actor=None, campaign=territory.campaign, name="F", election_kind=Election.Kind.MUNICIPAL
    )
    first, last = forecast.bureaux.get(rank=1).bureau, forecast.bureaux.order_by("-rank")[0].bureau

    def person(name: str, bureau, **fields) -> Person:
        return create_person(
            actor=None, campaign=territory.campaign, first_names=name,
            commune_code="41999", polling_station_code=bureau.local_code.lstrip("0"), **fields,
        )  # fmt: skip

    ada, bob = person("Ada", first, support_level=1), person("Bob", first, support_level=5)
    person("Cy", last)
    tree = {"criterion": "forecast_rank", "params": {"forecast": forecast.pk, "top": 1}}
    people = segments.people_matching(tree, campaign=territory.campaign, user=None)
    assert set(people) == {ada, bob}


def test_forecasts_ignore_individual_political_data(territory):
    bureau = territory.bureaux[0]
    people = [
        create_person(
            actor=None, campaign=territory.campaign, first_names="X", support_level=level,
            commune_code="41999", polling_station_code=bureau.local_code,
        )
        for level in (1, 1, 1, 5)
    ]  # fmt: skip
    forecast = create_forecast(
        actor=None, campaign=territory.campaign, name="F", election_kind=Election.Kind.MUNICIPAL,
        nuances=["DVG"],
    )  # fmt: skip

    def figures() -> list[tuple[int, float, float]]:
        return sorted(forecast.bureaux.values_list("bureau_id", "turnout", "share"))

    before = figures()
    # The same people with opposite opinions: the forecast does not move.
    Person.objects.filter(pk__in=[p.pk for p in people]).update(support_level=5)
    compute_forecast(forecast, actor=None)
    after = figures()
    assert [b for b, _t, _s in after] == [b for b, _t, _s in before]
    for (_b, t1, s1), (_b2, t2, s2) in zip(before, after, strict=True):
        assert t1 == pytest.approx(t2) and s1 == pytest.approx(s2)
    keys = {e["key"] for m in ("turnout", "share") for e in forecast.summary[m]["effects"]}
    allowed = {"last", "mean", "field:contacts"}
    assert all(k in allowed or k.startswith(("insee:", "layer:")) for k in keys)
