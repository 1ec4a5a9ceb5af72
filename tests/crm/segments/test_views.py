"""Segment screens: builder with live count, save, detail, freeze, split, export (gated and
logged), batch actions; every URL aimed at another campaign's segment answers 404."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from cocarde.audit.models import AuditEvent
from crm.models import Person, Segment, SegmentMember, Tag
from crm.segments import services
from crm.segments import urls as segment_urls
from tests.crm.segments.conftest import group, leaf

pytestmark = pytest.mark.django_db


@pytest.fixture
def segments(world):
    alpha = services.create_segment(
        actor=None, campaign=world.alpha, name="Bénévoles Alpha",
        criteria=leaf("tags", match="any", tags=[world.tags["benevole"].pk]),
    )  # fmt: skip
    bravo = services.create_segment(
        actor=None, campaign=world.bravo, name="Tout Bravo", criteria={}
    )
    return {"alpha": alpha, "bravo": bravo}


def refused(response) -> bool:
    """Wagtail turns a PermissionDenied into a redirect to the dashboard with a message."""
    return response.status_code == 403 or (
        response.status_code == 302 and response.url == "/admin/"
    )


def preview(client, world, criteria, campaign=None):
    return client.post(
        reverse("crm_segment_preview"),
        json.dumps({"campaign": (campaign or world.alpha).pk, "criteria": criteria}),
        content_type="application/json",
    )


def test_live_count_and_sample(world, login):
    client = login(world.staff["manager_a"])
    response = preview(client, world, leaf("commune", codes=["41018"]))
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3
    assert data["count_display"] == "3 personnes"
    assert {row["name"] for row in data["sample"]} == {"Anne Aubry", "Bruno Bernard", "Éric Emery"}
    assert data["description"]["children"][0]["text"].startswith("Commune")
    # Errors come back with their path, in the user's language.
    response = preview(client, world, group("and", leaf("age", min=40, max=20)))
    assert response.status_code == 200 and response.json()["count"] is None
    assert response.json()["errors"] == [
        {"path": "children.0.params.max", "message": "L’âge minimum dépasse l’âge maximum."}
    ]
    response = preview(client, world, leaf("nationality", value="FR"))
    assert response.json()["count"] is None
    assert "CNIL" in response.json()["errors"][0]["message"]


def test_builder_saves_a_segment(world, login):
    client = login(world.staff["manager_a"])
    page = client.get(reverse("crm_segment_new"), {"campaign": world.alpha.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="segment-builder-config"' in html and "crm/segments.js" in html
    config = json.loads(html.split('id="segment-builder-config" type="application/json">')[1]
                        .split("</script>")[0])  # fmt: skip
    names = {c["name"] for c in config["catalogue"]["criteria"]}
    assert {"tags", "age", "commune", "consent", "donation", "canvass"} <= names
    assert not names & {"birth_place", "nationality", "name_sound"}
    criteria = group("and", leaf("sex", sex="F"), group("not", leaf("commune", codes="41269")))
    response = client.post(
        reverse("crm_segment_new"),
        {"name": "Femmes hors Vendôme", "description": "", "campaign": world.alpha.pk,
         "criteria": json.dumps(criteria)},
    )  # fmt: skip
    segment = Segment.objects.get(name="Femmes hors Vendôme")
    assert response.status_code == 302 and response.url == reverse("crm_segment", args=[segment.pk])
    assert world.names(services.people_in(segment)) == {"anne"}
    detail = client.get(response.url).content.decode()
    assert "1 personne" in detail and "Anne Aubry" in detail
    # Bad criteria: the form comes back with the problems; nothing saved.
    response = client.post(
        reverse("crm_segment_edit", args=[segment.pk]),
        {"name": "Renamed", "campaign": world.alpha.pk,
         "criteria": json.dumps(leaf("age", min="x"))},
    )  # fmt: skip
    assert response.status_code == 200
    assert "params.min" in response.content.decode()
    segment.refresh_from_db()
    assert segment.name == "Femmes hors Vendôme"


def test_roles(world, login, segments):
    alpha = segments["alpha"]
    treasurer = login(world.staff["treasurer_a"])
    assert preview(treasurer, world, leaf("sex", sex="F")).json()["count"] == 2
    assert treasurer.get(reverse("crm_segment", args=[alpha.pk])).status_code == 200
    for name in ("crm_segment_freeze", "crm_segment_split", "crm_segment_batch",
                 "crm_segment_delete"):  # fmt: skip
        assert refused(treasurer.post(reverse(name, args=[alpha.pk]), {})), name
    assert refused(treasurer.get(reverse("crm_segment_export", args=[alpha.pk])))
    assert refused(treasurer.get(reverse("crm_segment_edit", args=[alpha.pk])))
    response = treasurer.post(
        reverse("crm_segment_new"),
        {"name": "x", "campaign": world.alpha.pk, "criteria": "{}"},
    )
    assert refused(response)
    assert (
        Segment.objects.count() == 2
        and not AuditEvent.objects.filter(
            action__startswith="crm.segment.", actor=world.staff["treasurer_a"]
        ).exists()
    )
    # Opinions: the treasurer's builder does not offer them, and the count refuses them.
    refusal = preview(treasurer, world, leaf("support_level", levels=[1])).json()
    assert refusal["count"] is None and "opinions politiques" in refusal["errors"][0]["message"]
    staff = login(world.staff["staff_a"])  # edits, but has no export right
    assert refused(staff.get(reverse("crm_segment_export", args=[alpha.pk])))
    assert not AuditEvent.objects.filter(action="crm.segment.export").exists()
    canvasser = login(world.staff["canvasser_a"])
    assert canvasser.get(reverse("crm_segments")).status_code in (302, 403)
    assert preview(canvasser, world, {}).status_code in (302, 403)


def test_export_is_gated_and_logged(world, login, segments):
    client = login(world.staff["manager_a"])
    response = client.get(reverse("crm_segment_export", args=[segments["alpha"].pk]))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "id" and len(rows) == 3
    assert {r[1] for r in rows[1:]} == {"Anne Aubry", "Bruno Bernard"}
    event = AuditEvent.objects.get(action="crm.segment.export")
    assert event.actor == world.staff["manager_a"]
    assert event.campaign_id == world.alpha.pk
    assert event.target_id == str(segments["alpha"].pk)
    assert event.data == {"count": 2, "kind": "dynamic", "criteria": ["tags"]}


def test_freeze_split_and_batch_from_the_screens(world, login, segments, settings):
    client = login(world.staff["manager_a"])
    alpha = segments["alpha"]
    response = client.post(reverse("crm_segment_freeze", args=[alpha.pk]), {"name": "Gelée"})
    frozen = Segment.objects.get(name="Gelée")
    assert response.url == reverse("crm_segment", args=[frozen.pk])
    assert SegmentMember.objects.filter(segment=frozen).count() == 2
    client.post(reverse("crm_segment_split", args=[alpha.pk]), {"parts": "50, 50", "seed": "x"})
    halves = Segment.objects.filter(source=alpha, name__contains="50 %")
    assert sorted(s.last_count for s in halves) == [1, 1]
    response = client.post(reverse("crm_segment_split", args=[alpha.pk]), {"parts": "60, 60"})
    assert Segment.objects.filter(source=alpha).count() == 3  # refused: nothing made

    client.post(reverse("crm_segment_batch", args=[alpha.pk]), {"action": "tag", "tags": "Relance"})
    tag = Tag.objects.get(slug="relance", campaign=world.alpha)
    assert world.names(Person.objects.filter(person_tags__tag=tag)) == {"anne", "bruno"}
    client.post(reverse("crm_segment_batch", args=[alpha.pk]),
                {"action": "list", "new_list": "À appeler"})  # fmt: skip
    assert world.names(services.people_in(Segment.objects.get(name="À appeler"))) == {
        "anne", "bruno",
    }  # fmt: skip
    staff = world.staff["staff_a"]
    client.post(reverse("crm_segment_batch", args=[alpha.pk]),
                {"action": "point_person", "point_person": staff.pk})  # fmt: skip
    assert world.names(Person.objects.filter(point_person=staff)) == {"anne", "bruno"}
    client.post(reverse("crm_segment_batch", args=[alpha.pk]), {"action": "untag", "tag": tag.pk})
    assert not Person.objects.filter(person_tags__tag=tag).exists()
    # Past the inline limit the same action runs as a task (eager in tests) after commit.
    settings.CRM_SEGMENT_BATCH_INLINE_LIMIT = 1
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        response = client.post(
            reverse("crm_segment_batch", args=[alpha.pk]), {"action": "tag", "tags": "Tâche"}
        )
    assert len(callbacks) == 1
    tag = Tag.objects.get(slug="tache", campaign=world.alpha)
    assert world.names(Person.objects.filter(person_tags__tag=tag)) == {"anne", "bruno"}
    # A form without its value is refused, naming the field.
    before = Tag.objects.count()
    client.post(reverse("crm_segment_batch", args=[alpha.pk]), {"action": "tag", "tags": " "})
    assert Tag.objects.count() == before


def test_another_campaigns_segment_answers_404_everywhere(world, login, segments):
    bravo = segments["bravo"].pk
    calls = {
        "crm_segment": [("get", {})],
        "crm_segment_edit": [("get", {}), ("post", {"name": "x", "criteria": "{}"})],
        "crm_segment_freeze": [("post", {})],
        "crm_segment_split": [("post", {"parts": "2"})],
        "crm_segment_export": [("get", {})],
        "crm_segment_batch": [("post", {"action": "tag", "tags": "x"})],
        "crm_segment_delete": [("post", {})],
    }
    lists = {"crm_segments", "crm_segment_new", "crm_segment_preview"}
    assert {p.name for p in segment_urls.urlpatterns} == set(calls) | lists
    before = (Segment.objects.count(), Tag.objects.count(), AuditEvent.objects.count())
    for user in ("manager_a", "treasurer_a"):
        client = login(world.staff[user])
        for name, requests in calls.items():
            for method, data in requests:
                response = getattr(client, method)(reverse(name, args=[bravo]), data)
                assert response.status_code == 404, (user, name, method)
        listing = client.get(reverse("crm_segments")).content.decode()
        assert "Bénévoles Alpha" in listing and "Tout Bravo" not in listing
        assert (
            client.get(reverse("crm_segment_new"), {"campaign": world.bravo.pk}).status_code == 404
        )
        assert preview(client, world, {}, campaign=world.bravo).status_code == 404
        response = client.post(
            reverse("crm_segment_preview"),
            json.dumps({"campaign": world.alpha.pk, "segment": bravo, "criteria": {}}),
            content_type="application/json",
        )
        assert response.status_code == 404
    assert (Segment.objects.count(), Tag.objects.count(), AuditEvent.objects.count()) == before


def test_unreadable_previews_are_refused(world, login):
    client = login(world.staff["manager_a"])
    response = client.post(reverse("crm_segment_preview"), "{nope", content_type="application/json")
    assert response.status_code == 400
    response = client.post(reverse("crm_segment_preview"), "[1]", content_type="application/json")
    assert response.status_code == 400
