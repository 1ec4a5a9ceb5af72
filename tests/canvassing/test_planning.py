"""Planning: doors from the target, turfs in walking order, manual split/merge/redraw,
assignments, survey validation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from canvassing import services
from canvassing.models import Building, Door, DoorCampaign, Turf
from cocarde.audit.models import AuditEvent
from tests.fixtures.canvassing import bureau, place_people

pytestmark = pytest.mark.django_db


def test_people_grouped_into_buildings_and_doors(make_field):
    field = make_field()
    dc = field.door_campaign
    # 3 streets × (8 houses + 1 building of 6 flats)
    assert Building.objects.filter(door_campaign=dc).count() == 27
    flats = Building.objects.get(door_campaign=dc, street_name="Rue 1", street_number="100")
    assert flats.kind == Building.Kind.BUILDING
    assert flats.doors.count() == 6
    assert all(d.people.count() == 1 for d in flats.doors.all())
    # Building again is idempotent: nobody placed twice.
    assert services.build_doors(dc, actor=None) == 0
    assert Door.objects.filter(building__door_campaign=dc).count() == 42


def test_bureaux_target_takes_only_their_people(make_campaign, make_staff):
    campaign = make_campaign(commune_codes=["41998"])
    place_people(campaign, streets=3)
    dc = services.create_door_campaign(
        actor=None,
        campaign=campaign,
        name="Bureau 2",
        target_kind=DoorCampaign.TargetKind.BUREAUX,
        bureaux=[bureau("41998_0002")],
    )
    assert services.target_people(dc).count() == 14  # only the third street
    area = services.create_door_campaign(
        actor=None,
        campaign=campaign,
        name="Zone",
        target_kind=DoorCampaign.TargetKind.AREA,
        area=[
            {"lat": 47.3450, "lon": 1.2080},
            {"lat": 47.3450, "lon": 1.2200},
            {"lat": 47.3462, "lon": 1.2200},
            {"lat": 47.3462, "lon": 1.2080},
        ],
    )
    assert services.target_people(area).count() == 14  # only the first street


def test_another_campaigns_people_are_never_targeted(make_campaign):
    mine = make_campaign(commune_codes=["41998"])
    other = make_campaign(commune_codes=["41998"])
    place_people(other, streets=1)
    dc = services.create_door_campaign(
        actor=None,
        campaign=mine,
        name="x",
        target_kind=DoorCampaign.TargetKind.BUREAUX,
        bureaux=[bureau("41998_0001")],
    )
    assert services.target_people(dc).count() == 0


def test_turfs_hold_every_door_once_in_walking_order(make_field):
    field = make_field(doors_per_turf=12)
    dc = field.door_campaign
    doors = Door.objects.filter(building__door_campaign=dc)
    assert doors.filter(turf__isnull=True).count() == 0
    sizes = [t.door_count for t in Turf.objects.filter(door_campaign=dc)]
    assert sum(sizes) == doors.count() == 42
    assert max(sizes) - min(sizes) <= 6
    for turf in Turf.objects.filter(door_campaign=dc):
        positions = list(turf.doors.order_by("route_position"))
        assert [d.route_position for d in positions] == list(range(len(positions)))
        # A building's doors come together in the walk.
        seen, previous = set(), None
        for door in positions:
            if door.building_id != previous:
                assert door.building_id not in seen
                seen.add(door.building_id)
                previous = door.building_id
        assert turf.estimated_minutes >= turf.door_count * 1.5


def test_turfs_never_cross_a_polling_station_when_asked(make_field):
    field = make_field(doors_per_turf=20)
    dc = field.door_campaign
    services.cut_turfs(dc, actor=None, doors_per_turf=20, respect_bureaux=True)
    for turf in Turf.objects.filter(door_campaign=dc):
        codes = set(turf.doors.values_list("building__bureau_code", flat=True))
        assert len(codes) == 1
        assert turf.bureau_code in {"41998_0001", "41998_0002"}


def test_cutting_again_keeps_turfs_already_given_out(make_field, make_canvasser):
    field = make_field(doors_per_turf=12)
    given = field.turfs[0]
    make_canvasser(field.campaign, given)
    kept_doors = set(given.doors.values_list("pk", flat=True))
    services.cut_turfs(field.door_campaign, actor=None, doors_per_turf=8)
    assert set(Turf.objects.get(pk=given.pk).doors.values_list("pk", flat=True)) == kept_doors
    assert Door.objects.filter(building__door_campaign=field.door_campaign, turf=None).count() == 0


def test_split_merge_and_redraw(make_field):
    field = make_field(doors_per_turf=42)
    (turf,) = field.turfs
    new = services.split_turf(turf, actor=field.manager)
    turf.refresh_from_db()
    assert turf.door_count + new.door_count == 42
    assert abs(turf.door_count - new.door_count) <= 8
    building = Building.objects.filter(doors__turf=new).first()
    moved = services.move_buildings([building.pk], turf, actor=field.manager)
    assert moved == building.doors.count()
    assert set(building.doors.values_list("turf_id", flat=True)) == {turf.pk}
    services.merge_turfs(turf, new, actor=field.manager)
    turf.refresh_from_db()
    assert turf.door_count == 42
    assert not Turf.objects.filter(pk=new.pk).exists()
    actions = set(
        AuditEvent.objects.filter(action__startswith="canvassing.turf").values_list(
            "action", flat=True
        )
    )
    assert {"canvassing.turf.split", "canvassing.turf.redraw", "canvassing.turf.merge"} <= actions


def test_assignment_needs_a_canvasser_of_the_campaign_and_a_future_expiry(
    make_field, make_user, make_canvasser
):
    field = make_field()
    turf = field.turfs[0]
    stranger = make_user()
    with pytest.raises(ValidationError):
        services.assign_turf(
            turf, [stranger], actor=None, expires_at=timezone.now() + dt.timedelta(hours=1)
        )
    canvasser = make_canvasser(field.campaign)
    with pytest.raises(ValidationError):
        services.assign_turf(
            turf, [canvasser], actor=None, expires_at=timezone.now() - dt.timedelta(hours=1)
        )


@pytest.mark.parametrize(
    "survey, message",
    [
        ([{"key": "a", "label": "A ?", "type": "colour"}], "type"),
        ([{"key": "a", "label": "A ?", "type": "choice", "choices": ["x"]}], "two"),
        (
            [{"key": "a", "label": "A ?", "type": "text", "show_if": {"question": "b"}}],
            "earlier",
        ),
        ([{"key": "a", "label": "A", "type": "text"}, {"key": "a", "label": "B", "type": "text"}],
         "unique"),
        ([{"key": "a", "label": "A ?", "type": "text", "show_if": "b"}], "earlier"),
        # Branching on an answer the earlier question cannot give, or on none.
        ([{"key": "a", "label": "A ?", "type": "choice", "choices": ["x", "y"]},
          {"key": "b", "label": "B", "type": "text", "show_if": {"question": "a", "equals": "z"}}],
         "answers"),
        ([{"key": "a", "label": "A ?", "type": "scale"},
          {"key": "b", "label": "B ?", "type": "text", "show_if": {"question": "a", "equals": 9}}],
         "answers"),
        ([{"key": "a", "label": "A ?", "type": "yes_no"},
          {"key": "b", "label": "B ?", "type": "text", "show_if": {"question": "a"}}],
         "answers"),
    ],
)  # fmt: skip
def test_bad_survey_scripts_are_refused_naming_the_question(survey, message):
    with translation.override("en"), pytest.raises(ValidationError) as error:
        services.validate_survey(survey)
    assert message in str(error.value)


def test_branching_answers_are_stored_in_the_question_type():
    survey = services.validate_survey(
        [{"key": "a", "label": "A ?", "type": "yes_no"},
         {"key": "b", "label": "B", "type": "scale", "show_if": {"question": "a", "equals": "oui"}},
         {"key": "c", "label": "C ?", "type": "text", "show_if": {"question": "b", "equals": "4"}}]
    )  # fmt: skip
    assert [q["show_if"]["equals"] for q in survey[1:]] == [True, 4]
    assert services.clean_answers(survey, {"a": "oui", "b": "4", "c": "x"}) == {
        "a": True,
        "b": 4,
        "c": "x",
    }


def test_answers_follow_the_branching():
    from tests.fixtures.canvassing import SURVEY

    survey = services.validate_survey(SURVEY)
    assert services.clean_answers(
        survey, {"priority": "Écoles", "will_vote": True, "why_not": "x"}
    ) == {"priority": "Écoles", "will_vote": True}
    assert services.clean_answers(survey, {"will_vote": "false", "why_not": "travail"}) == {
        "will_vote": False,
        "why_not": "travail",
    }
    assert services.clean_answers(survey, {"priority": "Autre"}) == {}
