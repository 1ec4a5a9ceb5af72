"""The polling-station indicator criterion, which plugs in once the territory app provides
its models (skipped without them): abstention, turnout and a nuance's share of the person's
bureau, matched by commune and station code (“1” and “0001” alike)."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.segments import services
from crm.segments.criteria.territory import territory_models
from tests.crm.segments.conftest import leaf

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(territory_models() is None, reason="the territory app has no models yet"),
]


def make_results(models):
    """Round 1 in Blois: bureau 0001 abstains 60 % (SOC 100/390), bureau 0002 30 % (SOC
    300/680). Returns the round."""
    election = (
        models["ElectionRound"]
        ._meta.get_field("election")
        .related_model.objects.create(kind="legislatives", name="Législatives test", year=2024)
    )
    round1 = models["ElectionRound"].objects.create(
        election=election, number=1, date=dt.date(2024, 6, 30)
    )
    candidacy_model = models["CandidateVotes"]._meta.get_field("candidacy").related_model
    soc = candidacy_model.objects.create(round=round1, key="A", last_name="A", nuance="SOC")
    other = candidacy_model.objects.create(round=round1, key="B", last_name="B", nuance="RN")
    figures = {"0001": (1000, 600, 400, 390, 100), "0002": (1000, 300, 700, 680, 300)}
    for station, (registered, abstentions, voters, expressed, soc_votes) in figures.items():
        bureau = models["Zone"].objects.create(
            type="bureau", code=f"41018_{station}", name=f"Bureau {station}"
        )
        result = models["BureauResult"].objects.create(
            round=round1, bureau=bureau, registered=registered, abstentions=abstentions,
            voters=voters, expressed=expressed,
        )  # fmt: skip
        models["CandidateVotes"].objects.create(result=result, candidacy=soc, votes=soc_votes)
        models["CandidateVotes"].objects.create(
            result=result, candidacy=other, votes=expressed - soc_votes
        )
    return round1


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"indicator": "abstention", "op": "above", "percent": "50"}, {"anne", "eric"}),
        ({"indicator": "abstention", "op": "below", "percent": "50"}, {"bruno"}),
        ({"indicator": "turnout", "op": "above", "percent": "65"}, {"bruno"}),
        ({"indicator": "nuance", "nuance": "SOC", "op": "above", "percent": "40"}, {"bruno"}),
        (
            {"indicator": "nuance", "nuance": "SOC", "op": "below", "percent": "30"},
            {"anne", "eric"},
        ),  # fmt: skip
        ({"indicator": "nuance", "nuance": "ECO", "op": "above", "percent": "1"}, set()),
    ],
)
def test_polling_station_indicators(world, params, expected):
    round1 = make_results(territory_models())
    people = services.people_matching(
        leaf("bureau_indicator", round=round1.pk, **params), campaign=world.alpha, user=None
    )
    assert world.names(people) == expected


def test_offered_once_results_exist(world):
    def names():
        catalogue = services.catalogue(user=world.staff["manager_a"], campaign=world.alpha)
        return {c["name"] for c in catalogue["criteria"]}

    assert "bureau_indicator" not in names()
    make_results(territory_models())
    assert "bureau_indicator" in names()
