"""Each criterion alone, then combined, against the known world of conftest.py."""

from __future__ import annotations

import pytest

from crm.segments import services
from tests.crm.segments.conftest import group, leaf

pytestmark = pytest.mark.django_db

BLOIS = {"lat": 47.5861, "lon": 1.3359}
EVERYONE = {"anne", "bruno", "chloe", "dede", "eric"}


def match(world, tree, campaign=None, user=None) -> set[str]:
    people = services.people_matching(tree, campaign=campaign or world.alpha, user=user)
    return world.names(people)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sex": "F"}, {"anne", "chloe"}),
        ({"sex": "M"}, {"bruno", "eric"}),
        ({"sex": "unknown"}, {"dede"}),
    ],
)
def test_sex(world, params, expected):
    assert match(world, leaf("sex", **params)) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # Anne turns 35 on 15/06/2025: inclusive on her birthday, not the day before.
        ({"min": 35, "max": 35, "on": "2025-06-15"}, {"anne"}),
        ({"min": 35, "max": 35, "on": "2025-06-14"}, set()),
        ({"max": 34, "on": "2025-06-14"}, {"anne", "chloe"}),
        ({"min": 18, "max": 25, "on": "2025-06-15"}, {"chloe"}),
        # Bruno, born "1961": 63 or 64 in mid-2025, certainly 64 on 31/12/2025.
        ({"min": 64, "max": 64, "on": "2025-06-15"}, {"bruno"}),
        ({"min": 64, "max": 64, "on": "2025-06-15", "partial": "certain"}, set()),
        ({"min": 63, "max": 64, "on": "2025-06-15", "partial": "certain"}, {"bruno"}),
        ({"min": 64, "on": "2025-12-31", "partial": "certain"}, {"bruno"}),
        # Éric, born "00/03/1975": 49 or 50 mid-March 2025, certainly 50 at the month's end.
        ({"min": 50, "on": "2025-03-15"}, {"eric", "bruno"}),
        ({"min": 50, "on": "2025-03-15", "partial": "certain"}, {"bruno"}),
        ({"min": 50, "on": "2025-03-31", "partial": "certain"}, {"eric", "bruno"}),
        ({"max": 49, "on": "2025-03-15"}, {"eric", "anne", "chloe"}),
        ({"max": 49, "on": "2025-04-01", "partial": "certain"}, {"anne", "chloe"}),
    ],
)
def test_age_with_partial_birth_dates(world, params, expected):
    assert match(world, leaf("age", **params)) == expected


@pytest.mark.parametrize(
    ("criterion", "params", "expected"),
    [
        ("member_status", {"status": ["member"]}, {"anne"}),
        ("member_status", {"status": ["lapsed", "member"]}, {"anne", "dede"}),
        ("member_status", {"status": ["none"]}, {"bruno", "chloe", "eric"}),
        ("support_level", {"levels": [1]}, {"anne"}),
        ("support_level", {"levels": ["4", "5"]}, {"dede"}),
        ("support_level", {"levels": ["none"]}, {"bruno", "chloe", "eric"}),
        ("supporter_status", {"status": ["none"]}, EVERYONE),
        ("supporter_status", {"status": ["supporter"]}, set()),
        ("added", {"within_days": 1}, EVERYONE),
        ("added", {"before_days": 1}, set()),
    ],
)
def test_person_fields(world, criterion, params, expected):
    assert match(world, leaf(criterion, **params)) == expected


def test_interests_and_point_person(world):
    door, phoning = world.interests["door"].pk, world.interests["phoning"].pk
    assert match(world, leaf("interests", match="any", interests=[door])) == {"anne", "eric"}
    assert match(world, leaf("interests", match="all", interests=[door, phoning])) == {"eric"}
    manager = world.staff["manager_a"]
    world.people["eric"].point_person = manager
    world.people["eric"].save(update_fields=["point_person"])
    assert match(world, leaf("point_person", users=[manager.pk])) == {"eric"}
    assert match(world, leaf("point_person", users=["none"])) == EVERYONE - {"eric"}


@pytest.mark.parametrize(
    ("criterion", "params", "expected"),
    [
        ("commune", {"codes": ["41018"]}, {"anne", "bruno", "eric"}),
        ("commune", {"codes": "41018, 41269"}, {"anne", "bruno", "chloe", "eric"}),
        ("circonscription", {"codes": ["41-01"]}, {"anne", "bruno"}),
        ("circonscription", {"codes": "41-3"}, {"chloe"}),
        # "0001" also finds a station written "1" (Éric).
        ("polling_station", {"codes": ["41018_0001"]}, {"anne", "eric"}),
        ("polling_station", {"codes": "41018-2"}, {"bruno"}),
        ("iris", {"codes": ["410180101"]}, {"anne"}),
        # Vendôme is about 30 km from Blois.
        ("radius", {"center": BLOIS, "km": "25"}, {"anne"}),
        ("radius", {"center": BLOIS, "km": 35}, {"anne", "chloe"}),
        ("radius", {"center": {"lat": 48.85, "lon": 2.35}, "km": 100}, set()),
        (
            "area",
            {"points": [[47.55, 1.30], [47.62, 1.30], [47.62, 1.38], [47.55, 1.38]]},
            {"anne"},
        ),
        (
            "area",  # a triangle holding both towns; its bounding box also holds Blois-est
            {"points": [[47.50, 1.00], [47.90, 1.00], [47.50, 1.60]]},
            {"anne", "chloe"},
        ),
        (
            "area",  # a triangle whose bounding box holds Blois, but not the triangle itself
            {"points": [[47.50, 1.00], [47.90, 1.00], [47.90, 1.60]]},
            {"chloe"},
        ),
    ],
)
def test_place(world, criterion, params, expected):
    assert match(world, leaf(criterion, **params)) == expected


def test_tags_any_all_none(world):
    benevole, sympathisant = world.tags["benevole"].pk, world.tags["sympathisant"].pk
    assert match(world, leaf("tags", match="any", tags=[benevole])) == {"anne", "bruno"}
    assert match(world, leaf("tags", match="any", tags=[benevole, sympathisant])) == {
        "anne", "bruno", "eric",
    }  # fmt: skip
    assert match(world, leaf("tags", match="all", tags=[benevole, sympathisant])) == {"bruno"}
    assert match(world, leaf("tags", match="none", tags=[benevole])) == {"chloe", "dede", "eric"}


def test_campaign_and_roll(world, national):
    assert match(world, leaf("campaign", campaigns=[world.alpha.pk])) == EVERYONE
    assert match(world, leaf("campaign", campaigns=[world.alpha.pk], reasons=["site"])) == set()
    both = leaf("campaign", campaigns=[world.bravo.pk])
    assert match(world, both, campaign=national) == {"eric", "fanny"}
    assert match(world, leaf("roll_list", lists=["LCE"])) == {"chloe"}
    assert match(world, leaf("roll_list", lists=["LP", "LCM"])) == set()
    assert match(world, leaf("roll_list", lists=["LCE"], communes="41018")) == set()


@pytest.mark.parametrize(
    ("field", "op", "value", "value2", "expected"),
    [
        ("quartier", "eq", "Centre", None, {"anne"}),
        ("quartier", "contains", "ENT", None, {"anne"}),
        ("quartier", "set", None, None, {"anne"}),
        ("quartier", "unset", None, None, {"bruno", "chloe", "dede", "eric"}),
        ("enfants", "gte", "2", None, {"chloe"}),
        ("enfants", "lte", "2", None, set()),
        ("enfants", "between", "4", "2,5", {"chloe"}),
        ("opinion", "in", "contre", None, {"bruno"}),
    ],
)
def test_custom_fields(world, field, op, value, value2, expected):
    params = {"field": world.fields[field].pk, "op": op}
    if value is not None:
        params["value"] = value
    if value2 is not None:
        params["value2"] = value2
    assert match(world, leaf("custom_field", **params)) == expected


@pytest.mark.parametrize(
    ("criterion", "params", "expected"),
    [
        ("consent", {"channel": "email", "purpose": "news"}, {"anne", "bruno"}),
        ("consent", {"channel": "sms", "purpose": "news"}, {"dede"}),
        ("consent", {"channel": "email", "purpose": "fundraising"}, set()),
        # Bruno's address bounced; Chloé withdrew (her address is suppressed).
        ("contactable", {"channel": "email"}, {"anne"}),
        ("contactable", {"channel": "email", "purpose": "news"}, {"anne"}),
        ("contactable", {"channel": "sms", "purpose": "news"}, {"dede"}),
        ("contactable", {"channel": "phone"}, {"dede"}),
        ("contactable", {"channel": "post"}, {"anne"}),
    ],
)
def test_consent_and_contactability(world, criterion, params, expected):
    assert match(world, leaf(criterion, **params)) == expected


def test_contactable_selector_is_the_same_condition(world):
    from crm.selectors import contactable

    assert world.names(contactable(world.alpha.pk, "email", "news")) == {"anne"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "petition"}, {"anne"}),
        ({"type": "petition", "page": 10}, {"anne"}),
        ({"type": "petition", "page": 11}, set()),
        ({"type": "petition", "within_days": 5}, set()),
        ({"type": "petition", "within_days": 15}, {"anne"}),
        ({"type": "email_clicked", "blast": "7"}, {"bruno"}),
        ({"type": "email_clicked", "blast": "8"}, set()),
        ({"type": "rsvp", "page": 20, "within_days": 60}, {"dede"}),
    ],
)
def test_actions(world, params, expected):
    assert match(world, leaf("action", **params)) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"anne", "bruno"}),  # Éric's gift went to Bravo
        ({"min_total": "30"}, {"anne", "bruno"}),  # Bruno: 20 + 15
        ({"min_total": "40"}, {"anne"}),
        ({"max_total": "40"}, {"bruno"}),
        ({"min_total": "30", "period_days": 365}, {"anne"}),
        ({"recurring": "yes"}, {"anne"}),
        ({"recurring": "no"}, {"bruno"}),
        ({"last_within_days": 90}, {"anne"}),
        ({"last_before_days": 90}, {"bruno"}),
    ],
)
def test_donations(world, params, expected):
    assert match(world, leaf("donation", **params)) == expected


def test_donations_to_another_campaign_in_a_national_segment(world, national):
    tree = leaf("donation", campaign=world.bravo.pk, min_total="100")
    assert match(world, tree, campaign=national) == {"eric"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"results": ["answered"]}, {"anne"}),
        ({"results": ["refused"]}, {"bruno"}),
        ({"results": ["revisit"]}, set()),  # Bruno's latest result is "refused"
        ({"results": ["never"]}, {"chloe", "dede", "eric"}),
        ({"results": ["refused", "never"]}, {"bruno", "chloe", "dede", "eric"}),
        ({"results": ["refused"], "within_days": 10}, {"bruno"}),
        ({"results": ["never"], "within_days": 3}, {"anne", "chloe", "dede", "eric"}),
        ({"channel": "phone", "results": ["never"]}, EVERYONE),
    ],
)
def test_canvass_latest_result(world, params, expected):
    assert match(world, leaf("canvass", **params)) == expected


def test_combinations(world):
    benevole, sympathisant = world.tags["benevole"].pk, world.tags["sympathisant"].pk
    tree = group(
        "and",
        leaf("tags", match="any", tags=[benevole]),
        group("not", leaf("donation", last_within_days=90)),
    )
    assert match(world, tree) == {"bruno"}
    tree = group("or", leaf("commune", codes=["41269"]), leaf("support_level", levels=[4]))
    assert match(world, tree) == {"chloe", "dede"}
    tree = group(
        "and",
        group("or", leaf("sex", sex="F"), leaf("tags", match="any", tags=[sympathisant])),
        group(
            "not",
            group(
                "or",
                leaf("age", min=60, on="2025-01-01"),
                leaf("consent", channel="email", purpose="news"),
            ),
        ),
    )
    assert match(world, tree) == {"chloe", "eric"}


def test_empty_groups(world):
    assert match(world, {}) == EVERYONE
    assert match(world, group("and")) == EVERYONE
    assert match(world, group("and", leaf("sex", sex="F"), group("or"))) == {"anne", "chloe"}
    assert match(world, group("or", leaf("sex", sex="F"), group("and"))) == EVERYONE
    assert match(world, group("not", group("and"))) == set()
    assert match(world, leaf("sex", sex="M")) == {"bruno", "eric"}  # a bare leaf is a tree


def test_negation_keeps_people_with_unknown_values(world):
    # NOT in the area: everyone without coordinates too, as NOT commune keeps those without one.
    area = leaf("area", points=[[47.55, 1.30], [47.62, 1.30], [47.62, 1.38]])
    assert match(world, group("not", area)) == EVERYONE - match(world, area)
    radius = leaf("radius", center=BLOIS, km=25)
    assert match(world, group("not", radius)) == EVERYONE - {"anne"}
    assert match(world, group("not", leaf("support_level", levels=[1]))) == EVERYONE - {"anne"}
