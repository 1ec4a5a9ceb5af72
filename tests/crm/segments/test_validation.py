"""Bad criteria get clear errors naming where they are, and nothing is stored; the criteria
French law forbids are refused, however the request is crafted."""

from __future__ import annotations

import pytest

from crm.models import CustomField, Segment
from crm.segments import registry, services
from crm.segments.errors import CriteriaError, ForbiddenCriterionError
from crm.segments.registry import Criterion, RegistryError, forbidden_reason
from tests.crm.segments.conftest import group, leaf

pytestmark = pytest.mark.django_db


def problems(world, tree, user=None, campaign=None) -> list[str]:
    with pytest.raises(CriteriaError) as caught:
        services.validate(tree, user=user, campaign=campaign or world.alpha)
    return [str(p) for p in caught.value.problems]


def test_every_problem_is_reported_with_its_path(world):
    tree = group(
        "and",
        leaf("tags", match="some", tags=[]),
        group("or", leaf("age", min=50, max=20), {"criterion": "colour"}),
        group("not", leaf("sex", sex="F"), leaf("sex", sex="M")),
        "oops",
        leaf("commune", codes="41018, 999, Blois"),
        leaf("radius", center={"lat": 95, "lon": 1}, km=-3),
        leaf("sex", sex="F", extra=1),
    )
    found = problems(world, tree)
    assert found == [
        "children.0.params.match: “some” is not one of the options.",
        "children.0.params.tags: This parameter is required.",
        "children.1.children.0.params.max: The lower age is above the upper age.",
        "children.1.children.1.criterion: Unknown criterion “colour”.",
        "children.2.children: “not” takes exactly one criterion or group.",
        "children.3: Expected a group or a criterion.",
        "children.4.params.codes: Not valid codes: 999, Blois (expected e.g. 41151, 2A004).",
        "children.5.params.center: The latitude must be between -90 and 90.",
        "children.5.params.km: Enter a number between 0.01 and 500.",
        "children.6.params.extra: Unknown parameter “extra”.",
    ]


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({"op": "xor", "children": []}, "op: A group is “and”, “or” or “not”."),
        ({"op": "and", "children": {}}, "children: Expected a list of criteria."),
        ({"op": "and", "children": [], "x": 1}, "Unknown keys: x."),
        ({"criterion": 3}, "criterion: Name a criterion."),
        ({"criterion": "sex", "params": []}, "params: Expected the parameters as an object."),
        (leaf("age", min="douze"), "params.min: Enter a whole number."),
        (leaf("age"), "Fill in at least one of: from, to."),
        (leaf("age", min=10, on="31/02/2020"), "params.on: Enter a date as YYYY-MM-DD"),
        (leaf("donation", min_total="abc"), "params.min_total: Enter a number."),
        (leaf("action", type="petition", blast="7"), "A message only applies to email and SMS"),
        (leaf("area", points=[[1, 2], [3, 4]]), "An area needs at least 3 points."),
        (leaf("contactable", channel="pigeon"), "“pigeon” is not one of the options."),
    ],
)
def test_clear_errors(world, tree, message):
    assert any(message in p for p in problems(world, tree))


def test_deeply_nested_or_huge_trees_are_refused(world):
    tree = leaf("sex", sex="F")
    for _ in range(10):
        tree = group("and", tree)
    assert any("nested too deeply" in p for p in problems(world, tree))
    wide = group("or", *[leaf("sex", sex="F")] * 250)
    assert any("Too many criteria" in p for p in problems(world, wide))


def test_saving_bad_criteria_stores_nothing(world):
    with pytest.raises(CriteriaError):
        services.create_segment(
            actor=world.staff["manager_a"], campaign=world.alpha, name="Bad",
            criteria=leaf("age", min="x"),
        )  # fmt: skip
    segment = services.create_segment(
        actor=world.staff["manager_a"], campaign=world.alpha, name="Good",
        criteria=leaf("sex", sex="F"),
    )  # fmt: skip
    with pytest.raises(CriteriaError):
        services.update_segment(
            segment, actor=world.staff["manager_a"], name="Renamed", criteria=leaf("nope")
        )
    segment.refresh_from_db()
    assert segment.name == "Good"
    assert segment.criteria == {"op": "and", "children": [leaf("sex", sex="F")]}
    assert Segment.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("birth_place", "place of birth"),
        ("birthplace", "place of birth"),
        ("lieu_de_naissance", "place of birth"),
        ("Pays de naissance", "place of birth"),
        ("birth_country", "place of birth"),
        ("birth_department", "place of birth"),
        ("nationality", "nationality"),
        ("nationalité", "nationality"),
        ("name_sound", "sound of their names"),
        ("soundex", "sound of their names"),
        ("surname", "sound of their names"),
        ("last_name", "sound of their names"),
        ("phonetic_last_name", "sound of their names"),
        ("ethnic_origin", "ethnic origin"),
        ("religion", "ethnic origin"),
    ],
)
def test_forbidden_criteria_are_refused_with_the_reason(world, name, why):
    tree = group("and", leaf("sex", sex="F"), {"criterion": name, "params": {"value": "x"}})
    with pytest.raises(ForbiddenCriterionError) as caught:
        services.validate(tree, user=world.staff["manager_a"], campaign=world.alpha)
    message = str(caught.value.problems[0])
    assert message.startswith("children.1.criterion: ")
    assert why in message
    assert "CNIL" in message or "GDPR" in message
    with pytest.raises(ForbiddenCriterionError):
        services.create_segment(
            actor=world.staff["manager_a"], campaign=world.alpha, name="x", criteria=tree
        )
    assert not Segment.objects.exists()


def test_forbidden_columns_cannot_be_smuggled_through_parameters(world):
    tree = leaf("commune", codes=["41018"], birth_place_code="41018")
    with pytest.raises(ForbiddenCriterionError) as caught:
        services.validate(tree, user=None, campaign=world.alpha)
    assert "params.birth_place_code" in str(caught.value.problems[0])
    tree = leaf("custom_field", field="nationality", op="eq", value="x")
    with pytest.raises(CriteriaError):
        services.validate(tree, user=None, campaign=world.alpha)


def test_custom_fields_about_origin_cannot_be_filtered(world):
    field = CustomField.objects.create(
        campaign=world.alpha, key="lieu-naissance", label="Lieu de naissance", type="text"
    )
    tree = leaf("custom_field", field=field.pk, op="eq", value="Alger")
    found = problems(world, tree)
    assert found[0].startswith("params.field: Segmenting people by place of birth is forbidden")
    catalogue = services.catalogue(user=world.staff["manager_a"], campaign=world.alpha)
    entry = next(c for c in catalogue["criteria"] if c["name"] == "custom_field")
    offered = [choice[1] for choice in entry["params"][0]["choices"]]
    assert "Lieu de naissance" not in offered
    assert "Quartier" in offered
    # A birth *date* field is lawful (age is): only places and origins are refused.
    assert forbidden_reason("date_de_naissance") is None
    assert forbidden_reason("Date of birth") is None


def test_the_registry_refuses_unlawful_criteria():
    class BirthPlace(Criterion):
        name = "birth_place"
        label = "Birth place"

    class Sneaky(Criterion):
        name = "origin_town"
        label = "Town"
        person_fields = ("birth_place_name",)

    class Phonetic(Criterion):
        name = "surname_sounds_like"
        label = "Sounds like"

    for cls in (BirthPlace, Sneaky, Phonetic):
        with pytest.raises(RegistryError):
            registry.register(cls)
        assert registry.get(cls.name) is None


def test_new_criteria_plug_into_the_registry(world):
    from django.db.models import Q

    class Adult(Criterion):
        name = "test_has_birth_year"
        label = "Has a birth year"
        person_fields = ("birth_year",)

        def compile(self, params, ctx):
            return Q(birth_year__isnull=False)

    registry.register(Adult)
    try:
        people = services.people_matching(
            leaf("test_has_birth_year"), campaign=world.alpha, user=None
        )
        assert world.names(people) == {"anne", "bruno", "chloe", "eric"}
        catalogue = services.catalogue(user=world.staff["manager_a"], campaign=world.alpha)
        assert "test_has_birth_year" in {c["name"] for c in catalogue["criteria"]}
    finally:
        registry.unregister("test_has_birth_year")
