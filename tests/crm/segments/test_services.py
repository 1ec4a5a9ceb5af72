"""Saving, freezing, snapshotting, splitting and batch actions; tenancy throughout."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from cocarde.audit.models import AuditEvent
from crm.models import Action, Person, PersonTag, Segment, SegmentMember, Tag
from crm.segments import services
from crm.segments.errors import CriteriaError
from crm.segments.selectors import segments_for
from tests.crm.segments.conftest import group, leaf

pytestmark = pytest.mark.django_db
EVERYONE = {"anne", "bruno", "chloe", "dede", "eric"}


def make(world, criteria, *, campaign=None, actor=None, name="Segment"):
    return services.create_segment(
        actor=actor or world.staff["manager_a"],
        campaign=campaign or world.alpha,
        name=name,
        criteria=criteria,
    )


# --- tenancy ----------------------------------------------------------------------------------


def test_campaign_staff_only_count_and_see_their_campaigns_people(world, national, make_staff):
    from cocarde.tenancy.models import StaffRole

    women = leaf("sex", sex="F")
    alpha_segment = make(world, women)
    bravo_segment = make(world, women, campaign=world.bravo, actor=world.staff["manager_b"])
    assert world.names(services.people_in(alpha_segment)) == {"anne", "chloe"}
    assert world.names(services.people_in(bravo_segment)) == {"fanny"}
    manager_a, manager_b = world.staff["manager_a"], world.staff["manager_b"]
    assert services.people_in(alpha_segment, user=manager_a).count() == 2
    # Bravo's staff cannot count Alpha's segment, even through the service.
    assert services.people_in(alpha_segment, user=manager_b).count() == 0
    with pytest.raises(PermissionDenied):
        services.preview(women, user=manager_b, campaign=world.alpha)
    # A national segment counts everyone its author may see.
    admin = make_staff(national, StaffRole.Role.NATIONAL_ADMIN)
    national_segment = make(world, women, campaign=national, actor=admin)
    assert world.names(services.people_in(national_segment, user=admin)) == {
        "anne", "chloe", "fanny",
    }  # fmt: skip
    # Someone on both teams, building Alpha's segment, still gets Alpha's people only.
    both = make_staff(world.alpha, StaffRole.Role.STAFF)
    from cocarde.tenancy import services as tenancy_services

    tenancy_services.grant_role(both, world.bravo, StaffRole.Role.STAFF, actor=None)
    preview = services.preview({}, user=both, campaign=world.alpha)
    assert preview.count == 5
    assert world.names(preview.sample) == EVERYONE
    assert set(segments_for(manager_a)) == {alpha_segment}
    assert set(segments_for(manager_b)) == {bravo_segment}
    assert set(segments_for(admin)) == {alpha_segment, bravo_segment, national_segment}


def test_other_campaigns_data_cannot_be_used_in_criteria(world):
    bravo_tag = world.tags["benevole_bravo"].pk
    tree = leaf("tags", match="any", tags=[bravo_tag])
    with pytest.raises(CriteriaError) as caught:
        services.validate(tree, user=world.staff["manager_a"], campaign=world.alpha)
    # The same message as for a tag that does not exist: nothing leaks.
    assert str(caught.value.problems[0]) == (
        f"params.tags: “{bravo_tag}” is not one of the options."
    )
    for bad in (
        leaf("campaign", campaigns=[world.bravo.pk]),
        leaf("consent", channel="email", purpose="news", campaign=world.bravo.pk),
        leaf("donation", campaign=world.bravo.pk),
    ):
        with pytest.raises(CriteriaError):
            services.validate(bad, user=world.staff["manager_a"], campaign=world.alpha)


def test_opinions_are_filtered_only_by_roles_that_see_them(world):
    treasurer = world.staff["treasurer_a"]
    for tree in (
        leaf("support_level", levels=[1]),
        leaf("canvass", results=["refused"]),
        leaf("custom_field", field=world.fields["opinion"].pk, op="in", value="contre"),
    ):
        with pytest.raises(CriteriaError) as caught:
            services.validate(tree, user=treasurer, campaign=world.alpha)
        assert "political opinions" in str(caught.value.problems[0])
        services.validate(tree, user=world.staff["staff_a"], campaign=world.alpha)
    names = {
        c["name"] for c in services.catalogue(user=treasurer, campaign=world.alpha)["criteria"]
    }
    assert "support_level" not in names and "canvass" not in names and "sex" in names


def test_saving_needs_edit_rights(world):
    with pytest.raises(PermissionDenied):
        make(world, {}, actor=world.staff["treasurer_a"])
    with pytest.raises(PermissionDenied):
        make(world, {}, actor=world.staff["manager_b"])
    segment = make(world, leaf("sex", sex="F"), name="Femmes")
    assert AuditEvent.objects.filter(action="crm.segment.create", target_id=str(segment.pk)).get(
    ).data == {"criteria": ["sex"]}  # fmt: skip


# --- dynamic and static ------------------------------------------------------------------------


def test_a_dynamic_segment_follows_the_data_and_a_frozen_list_does_not(world):
    benevoles = make(world, leaf("tags", match="any", tags=[world.tags["benevole"].pk]))
    assert services.count(benevoles) == 2
    assert Segment.objects.get(pk=benevoles.pk).last_count == 2
    frozen = services.freeze(benevoles, actor=world.staff["manager_a"], name="Bénévoles juin")
    assert frozen.is_static and frozen.source == benevoles and frozen.last_count == 2
    assert world.names(services.people_in(frozen)) == {"anne", "bruno"}
    # Bruno loses the tag, Dédé gains it: the segment changes, the frozen list does not.
    from crm.services import people as people_services

    people_services.remove_tag(world.people["bruno"], world.tags["benevole"], actor=None)
    people_services.add_tags(world.people["dede"], ["Bénévole"], campaign=world.alpha, actor=None)
    assert world.names(services.people_in(benevoles)) == {"anne", "dede"}
    assert world.names(services.people_in(frozen)) == {"anne", "bruno"}
    # A frozen member the campaign no longer knows is no longer counted (tenancy holds).
    world.people["bruno"].attachments.all().delete()
    assert world.names(services.people_in(frozen)) == {"anne"}
    with pytest.raises(ValidationError):
        services.update_segment(frozen, actor=world.staff["manager_a"], criteria={})


def test_segments_of_segments(world):
    women = make(world, leaf("sex", sex="F"), name="Femmes")
    frozen = services.freeze(women, actor=None)
    blois_women = make(world, group("and", leaf("in_segment", segment=women.pk),
                                     leaf("commune", codes=["41018"])))  # fmt: skip
    assert world.names(services.people_in(blois_women)) == {"anne"}
    not_frozen = make(world, group("not", leaf("in_segment", segment=frozen.pk)))
    assert world.names(services.people_in(not_frozen)) == {"bruno", "dede", "eric"}
    with pytest.raises(CriteriaError) as caught:
        services.update_segment(
            women, actor=None, criteria=leaf("in_segment", segment=blois_women.pk)
        )
    assert "cannot be used here" in str(caught.value) or "itself" in str(caught.value)
    with pytest.raises(ValidationError):
        services.delete_segment(women, actor=world.staff["manager_a"])
    services.delete_segment(blois_women, actor=world.staff["manager_a"])
    services.delete_segment(women, actor=world.staff["manager_a"])
    # Another campaign's segment is not an option.
    bravo_segment = make(world, {}, campaign=world.bravo, actor=world.staff["manager_b"])
    with pytest.raises(CriteriaError):
        services.validate(
            leaf("in_segment", segment=bravo_segment.pk),
            user=world.staff["manager_a"],
            campaign=world.alpha,
        )


def test_snapshot_into_a_table_uses_the_same_query(world):
    segment = make(world, leaf("consent", channel="email", purpose="news"))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE audience (run_id int, person_id bigint UNIQUE)")
    target = services.Into(table="audience", values={"run_id": 7})
    assert services.snapshot(segment, into=target) == 2
    assert services.snapshot(segment, into=target) == 0  # already there: nothing doubled
    with connection.cursor() as cursor:
        cursor.execute("SELECT run_id, person_id FROM audience ORDER BY person_id")
        rows = cursor.fetchall()
    expected = sorted(services.people_in(segment).values_list("pk", flat=True))
    assert rows == [(7, pk) for pk in expected]
    assert len(expected) == services.people_in(segment).count() == 2
    # Into a static list of the same campaign (not another campaign's).
    static = services.create_list(
        actor=world.staff["manager_a"], campaign=world.alpha, name="Liste", source=None
    )
    assert services.snapshot(segment, into=static) == 2
    assert world.names(services.people_in(static)) == {"anne", "bruno"}
    other = services.create_list(
        actor=world.staff["manager_b"], campaign=world.bravo, name="B", source=None
    )
    with pytest.raises(ValidationError):
        services.snapshot(segment, into=other)


def test_snapshot_of_an_empty_segment_writes_nothing(world):
    segment = make(world, group("not", group("and")))
    static = services.create_list(actor=None, campaign=world.alpha, name="Vide", source=None)
    assert services.snapshot(segment, into=static) == 0


# --- random split ----------------------------------------------------------------------------


@pytest.fixture
def crowd(world, make_person):
    """Alpha with 203 people in total."""
    Person.objects.bulk_create([Person(first_names=f"P{i}") for i in range(198)])
    from crm.models import CampaignAttachment

    CampaignAttachment.objects.bulk_create(
        CampaignAttachment(person=p, campaign=world.alpha, reason="import")
        for p in Person.objects.filter(first_names__startswith="P")
    )
    return make(world, {}, name="Tout le monde")


def test_random_split_into_equal_parts(world, crowd):
    lists = services.split(crowd, actor=world.staff["manager_a"], parts=3, seed="s1")
    sizes = [SegmentMember.objects.filter(segment=s).count() for s in lists]
    assert sizes == [68, 68, 67] == [s.last_count for s in lists]
    members = [set(SegmentMember.objects.filter(segment=s).values_list("person_id", flat=True))
               for s in lists]  # fmt: skip
    assert not (members[0] & members[1]) and not (members[1] & members[2])
    assert set.union(*members) == set(services.people_in(crowd).values_list("pk", flat=True))
    # Random, not by id ranges; reproducible with the same seed.
    first = sorted(members[0])
    assert first != sorted(services.people_in(crowd).values_list("pk", flat=True))[:68]
    again = services.split(crowd, actor=None, parts=3, seed="s1")
    assert set(SegmentMember.objects.filter(segment=again[0]).values_list("person_id", flat=True)
               ) == members[0]  # fmt: skip
    other = services.split(crowd, actor=None, parts=3, seed="s2")
    assert set(SegmentMember.objects.filter(segment=other[0]).values_list("person_id", flat=True)
               ) != members[0]  # fmt: skip
    assert all(s.source == crowd and s.is_static for s in lists)
    event = AuditEvent.objects.filter(action="crm.segment.split", data__seed="s1").earliest("id")
    assert event.data["sizes"] == [68, 68, 67]


@pytest.mark.parametrize(
    ("parts", "sizes"),
    [([10, 90], [20, 183]), ([50, 25, 25], [102, 50, 51]), ([1, 99], [2, 201])],
)
def test_random_split_by_percentages(world, crowd, parts, sizes):
    lists = services.split(crowd, actor=world.staff["manager_a"], parts=parts)
    assert [SegmentMember.objects.filter(segment=s).count() for s in lists] == sizes
    assert sum(sizes) == 203


@pytest.mark.parametrize("parts", [1, 11, [50, 40], [100, 0], [-10, 110], [50]])
def test_bad_splits_are_refused(world, crowd, parts):
    before = Segment.objects.count()
    with pytest.raises(ValidationError):
        services.split(crowd, actor=world.staff["manager_a"], parts=parts)
    assert Segment.objects.count() == before


# --- batch actions ---------------------------------------------------------------------------


def test_batch_tag_and_untag(world):
    manager = world.staff["manager_a"]
    blois = make(world, leaf("commune", codes=["41018"]))
    assert services.tag_people(blois, actor=manager, names=["Blois", "Bénévole"]) == 4
    blois_tag = Tag.objects.get(campaign=world.alpha, slug="blois")
    assert world.names(Person.objects.filter(person_tags__tag=blois_tag)) == {
        "anne", "bruno", "eric",
    }  # fmt: skip
    benevole = world.tags["benevole"]
    assert world.names(Person.objects.filter(person_tags__tag=benevole)) == {
        "anne", "bruno", "eric",
    }  # fmt: skip
    # The timeline says it, once per person actually tagged; one audit line for the batch.
    assert Action.objects.filter(type="tag_added", data__tag="Bénévole", actor=manager).count() == 1
    assert Action.objects.filter(type="tag_added", data__tag="Blois").count() == 3
    event = AuditEvent.objects.get(action="crm.segment.tag")
    assert event.data["count"] == 4 and event.campaign_id == world.alpha.pk
    assert services.tag_people(blois, actor=manager, names=["Blois"]) == 0  # idempotent
    assert services.untag_people(blois, actor=manager, tag=benevole) == 3
    assert not PersonTag.objects.filter(tag=benevole).exists()
    assert Action.objects.filter(type="tag_removed").count() == 3
    with pytest.raises(ValidationError):
        services.untag_people(blois, actor=manager, tag=world.tags["benevole_bravo"])
    with pytest.raises(PermissionDenied):
        services.tag_people(blois, actor=world.staff["treasurer_a"], names=["x"])


def test_batch_add_to_list_and_point_person(world):
    manager = world.staff["manager_a"]
    women = make(world, leaf("sex", sex="F"))
    men = make(world, leaf("sex", sex="M"))
    static = services.create_list(actor=manager, campaign=world.alpha, name="Appel", source=None)
    assert services.add_to_list(women, actor=manager, target=static) == 2
    assert services.add_to_list(men, actor=manager, target=static) == 2
    assert services.add_to_list(women, actor=manager, target=static) == 0
    assert world.names(services.people_in(static)) == {"anne", "bruno", "chloe", "eric"}
    assert Segment.objects.get(pk=static.pk).last_count == 4
    with pytest.raises(ValidationError):
        services.add_to_list(women, actor=manager, target=men)
    assert services.remove_from_list(static, actor=manager, person_ids=[world.people["eric"].pk])
    assert world.names(services.people_in(static)) == {"anne", "bruno", "chloe"}

    staff = world.staff["staff_a"]
    assert services.set_point_person(women, actor=manager, point_person=staff) == 2
    assert world.names(Person.objects.filter(point_person=staff)) == {"anne", "chloe"}
    assert services.set_point_person(women, actor=manager, point_person=staff) == 0
    assert Action.objects.filter(type="updated", data__fields=["point_person"]).count() == 2
    with pytest.raises(ValidationError):  # not on Alpha's team
        services.set_point_person(women, actor=manager, point_person=world.staff["manager_b"])
    assert services.set_point_person(women, actor=manager, point_person=None) == 2
    assert not Person.objects.filter(point_person__isnull=False).exists()


def test_batch_actions_touch_only_the_campaigns_people(world, national, make_staff):
    """Éric is in Alpha and Bravo: Bravo's staff tagging Bravo's segment reach Éric and Fanny,
    never Alpha's other people."""
    everyone_b = make(world, {}, campaign=world.bravo, actor=world.staff["manager_b"])
    assert services.tag_people(everyone_b, actor=world.staff["manager_b"], names=["B"]) == 2
    tag = Tag.objects.get(campaign=world.bravo, slug="b")
    assert world.names(Person.objects.filter(person_tags__tag=tag)) == {"eric", "fanny"}


def test_list_members_follow_a_merge_and_its_undo(world):
    from crm.services.merge import merge_people, undo_merge

    anne, bruno, chloe = (world.people[n] for n in ("anne", "bruno", "chloe"))
    static = services.create_list(actor=None, campaign=world.alpha, name="Appel", source=None)
    other = services.create_list(actor=None, campaign=world.alpha, name="Relance", source=None)
    SegmentMember.objects.create(segment=static, person=anne)
    SegmentMember.objects.create(segment=static, person=bruno)
    SegmentMember.objects.create(segment=other, person=bruno)
    record = merge_people(anne, bruno, actor=None)
    assert world.names(services.people_in(static)) == {"anne"}  # once, not twice
    assert world.names(services.people_in(other)) == {"anne"}  # moved to the survivor
    restored = undo_merge(record, actor=None)

    def members(segment):
        return set(
            SegmentMember.objects.filter(segment=segment).values_list("person_id", flat=True)
        )

    assert members(static) == {anne.pk, restored.pk}
    assert members(other) == {restored.pk}
    assert chloe.pk not in SegmentMember.objects.values_list("person_id", flat=True)
