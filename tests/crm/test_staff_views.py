"""Staff screens: the cross-campaign matrix over every CRM staff URL (another campaign's
person answers 404, is never listed, counted or exported), sensitive fields hidden from roles
without sensitive access, canvassers kept out, and what each screen does."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import get_resolver, reverse

from cocarde.audit.models import AuditEvent
from cocarde.tenancy.models import StaffRole
from crm import admin_urls
from crm.models import (
    CustomField,
    DuplicateCandidate,
    MergeRecord,
    Note,
    Person,
    StaffListPreference,
    Tag,
)
from crm.services import people as people_services
from crm.services.consent import ConsentChoice, record_consent
from crm.services.merge import merge_people

pytestmark = pytest.mark.django_db
Role = StaffRole.Role


@pytest.fixture
def world(alpha, bravo, make_person, make_staff, login):
    def pair(campaign, first, last, email):
        person = make_person(
            campaign,
            emails=(email,),
            phones=("06 12 34 56 78",),
            first_names=first,
            birth_name=last,
            commune_name="Montrichard",
            support_level=2,
            supporter_status="supporter",
        )
        record_consent(
            person,
            campaign,
            ConsentChoice("email", "news", "Texte de consentement"),
            actor=None,
            source_kind="web",
            source_detail="https://site/p/",
        )
        people_services.add_tags(person, [f"Tag {campaign.slug}"], campaign=campaign, actor=None)
        people_services.add_note(
            person, f"Note secrète {campaign.slug}", campaign=campaign, actor=None
        )
        return person

    a = pair(alpha, "Élodie", "Aubert", "elodie@example.org")
    b = pair(bravo, "Bérénice", "Bravo", "berenice@example.org")
    b2 = make_person(bravo, emails=("b2@example.org",), first_names="Bérénice", birth_name="Bravo")
    b3 = make_person(bravo, first_names="Bertrand", birth_name="Bravo")
    record = merge_people(b2, b3, actor=None)
    pair_b = DuplicateCandidate.objects.create(person_a=b, person_b=b2, reason="name_address")
    users = {
        "manager_a": make_staff(alpha, Role.MANAGER),
        "treasurer_a": make_staff(alpha, Role.TREASURER),
        "canvasser_a": make_staff(alpha, Role.CANVASSER),
        "manager_b": make_staff(bravo, Role.MANAGER),
    }
    return {
        "a": a,
        "b": b,
        "b2": b2,
        "merge_b": record,
        "pair_b": pair_b,
        "alpha": alpha,
        "bravo": bravo,
        "users": users,
        "login": login,
    }


def foreign_urls(w) -> dict[str, list[tuple[str, str, dict]]]:
    """Every CRM staff URL aimed at campaign B's objects, by URL name."""
    b, b2 = w["b"].pk, w["b2"].pk
    tag_b = Tag.objects.get(campaign=w["bravo"]).pk
    return {
        "crm_person": [("get", f"/admin/crm/people/{b}/", {})],
        "crm_person_edit": [
            ("get", f"/admin/crm/people/{b}/edit/", {}),
            ("post", f"/admin/crm/people/{b}/edit/", {"first_names": "Hijack"}),
        ],
        "crm_person_tag": [
            ("post", f"/admin/crm/people/{b}/tags/", {"tags": "x", "campaign": w["alpha"].pk})
        ],
        "crm_person_untag": [("post", f"/admin/crm/people/{b}/tags/{tag_b}/remove/", {})],
        "crm_person_note": [
            ("post", f"/admin/crm/people/{b}/notes/", {"text": "x", "campaign": w["alpha"].pk})
        ],
        "crm_person_withdraw": [
            (
                "post",
                f"/admin/crm/people/{b}/withdraw/",
                {"campaign": w["alpha"].pk, "channel": "email"},
            )
        ],
        "crm_person_export": [("get", f"/admin/crm/people/{b}/export.json", {})],
        "crm_person_erase": [
            ("get", f"/admin/crm/people/{b}/erase/", {}),
            ("post", f"/admin/crm/people/{b}/erase/", {"confirm": "erase"}),
        ],
        "crm_person_merge": [
            ("get", f"/admin/crm/people/{w['a'].pk}/merge/{b}/", {}),
            ("post", f"/admin/crm/people/{w['a'].pk}/merge/{b}/", {}),
            ("post", f"/admin/crm/people/{b}/merge/{w['a'].pk}/", {}),
            ("post", f"/admin/crm/people/{b}/merge/{b2}/", {}),
        ],
        "crm_duplicate_dismiss": [("post", f"/admin/crm/duplicates/{w['pair_b'].pk}/dismiss/", {})],
        "crm_merge_undo": [("post", f"/admin/crm/merges/{w['merge_b'].pk}/undo/", {})],
        "crm_retention_edit": [
            ("get", f"/admin/crm/retention/{w['bravo'].pk}/", {}),
            (
                "post",
                f"/admin/crm/retention/{w['bravo'].pk}/",
                {"months_after_election": 1, "recent_action_months": 1, "apply": "now"},
            ),
        ],
    }


LISTS = [
    "crm_people",
    "crm_people_export",
    "crm_people_export_xlsx",
    "crm_people_bulk_tag",
    "crm_person_new",
    "crm_duplicates",
    "crm_merges",
    "crm_retention",
]


def state(w) -> tuple:
    b = Person.objects.get(pk=w["b"].pk)
    return (
        b.first_names,
        b.person_tags.count(),
        Note.objects.filter(person=b).count(),
        b.consents.filter(withdrawn_at__isnull=True).count(),
        Person.objects.count(),
        DuplicateCandidate.objects.get(pk=w["pair_b"].pk).status,
        MergeRecord.objects.get(pk=w["merge_b"].pk).undone_at,
    )


def test_the_matrix_covers_every_crm_staff_url(world):
    names = {p.name for p in admin_urls.urlpatterns}
    assert names == set(foreign_urls(world)) | set(LISTS)


@pytest.mark.parametrize("user_key", ["manager_a", "treasurer_a"])
def test_another_campaigns_objects_answer_404_and_stay_unchanged(world, user_key):
    client = world["login"](world["users"][user_key])
    before = state(world)
    for name, calls in foreign_urls(world).items():
        for method, url, data in calls:
            response = getattr(client, method)(url, data)
            assert response.status_code == 404, (name, method, url, response.status_code)
    assert state(world) == before


def test_lists_counts_and_exports_never_show_another_campaign(world):
    client = world["login"](world["users"]["manager_a"])
    listing = client.get("/admin/crm/people/?q=zzz").content.decode()
    assert "Aubert" not in listing  # sanity of the search itself
    for url in (
        "/admin/crm/people/",
        "/admin/crm/people/?q=bravo",
        "/admin/crm/people/?q=berenice",
        "/admin/crm/people/?q=0612345678",
        f"/admin/crm/people/?campaign={world['bravo'].pk}",
    ):
        page = client.get(url).content.decode()
        assert "Bérénice" not in page and "berenice@" not in page, url
    full = client.get("/admin/crm/people/").content.decode()
    assert "Élodie" in full and re.search(r"\b1 personne\b", full)
    csv_text = b"".join(client.get("/admin/crm/people/export.csv").streaming_content).decode()
    assert "elodie@example.org" in csv_text and "berenice" not in csv_text.lower()
    for url in ("/admin/crm/duplicates/", "/admin/crm/merges/", "/admin/crm/retention/"):
        page = client.get(url).content.decode()
        assert "Bérénice" not in page and "Bertrand" not in page and "Bravo 2027" not in page, url
    dashboard = client.get("/admin/").content.decode()
    assert "Bravo 2027" not in dashboard
    tags = client.get("/admin/crm_tag/").content.decode()
    assert "Tag alpha" in tags and "Tag bravo" not in tags
    tag_b = Tag.objects.get(campaign=world["bravo"])
    assert client.get(f"/admin/crm_tag/edit/{tag_b.pk}/").status_code == 404


def test_accent_insensitive_search_on_name_email_phone_and_commune(world):
    client = world["login"](world["users"]["manager_b"])
    for q in (
        "berenice",
        "BÉRÉNICE",
        "bravo",
        "berenice@example",
        "06 12 34 56 78",
        "+33612345678",
        "montrichard",
    ):
        page = client.get("/admin/crm/people/", {"q": q}).content.decode()
        assert f'data-person="{world["b"].pk}"' in page, q
    page = client.get("/admin/crm/people/", {"q": "introuvable"}).content.decode()
    assert "data-person=" not in page


def test_canvassers_see_no_crm(world):
    client = world["login"](world["users"]["canvasser_a"])
    for url in (
        "/admin/crm/people/",
        f"/admin/crm/people/{world['a'].pk}/",
        "/admin/crm/people/export.csv",
    ):
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        assert b"Aubert" not in response.content


def test_sensitive_fields_hidden_without_sensitive_access(world):
    person = world["a"]
    treasurer = world["login"](world["users"]["treasurer_a"])
    page = treasurer.get(f"/admin/crm/people/{person.pk}/").content.decode()
    assert "Élodie" in page and "Texte de consentement" in page
    assert "Note secrète" not in page and "data-crm-sensitive" not in page
    assert "Soutien" not in page and "Sympathisant" not in page
    listing = treasurer.get(
        "/admin/crm/people/", {"columns": ["name", "support_level"]}
    ).content.decode()
    assert "Niveau de soutien" not in listing
    assert treasurer.get("/admin/crm/people/", {"support_level": 2}).status_code == 200
    # Visible but not allowed: refused (Wagtail turns the 403 into a redirect with a message).
    for url in (
        f"/admin/crm/people/{person.pk}/export.json",
        "/admin/crm/people/export.csv",
        f"/admin/crm/people/{person.pk}/edit/",
    ):
        response = treasurer.get(url)
        assert response.status_code in (302, 403) and b"elodie@" not in response.content, url
    manager = world["login"](world["users"]["manager_a"])
    page = manager.get(f"/admin/crm/people/{person.pk}/").content.decode()
    assert "Note secrète alpha" in page and "data-crm-sensitive" in page


def test_national_admins_see_every_campaigns_tags_and_timeline(world, national, make_staff):
    client = world["login"](make_staff(national, Role.NATIONAL_ADMIN))
    listing = client.get("/admin/crm/people/").content.decode()
    assert "Tag alpha" in listing and "Tag bravo" in listing
    page = client.get(f"/admin/crm/people/{world['b'].pk}/").content.decode()
    assert "Tag bravo" in page and 'data-action="consent_given"' in page
    assert "Note secrète bravo" in page


def test_profile_shows_consent_proof_and_timeline_and_is_audited(world):
    user = world["users"]["manager_a"]
    client = world["login"](user)
    person = world["a"]
    page = client.get(f"/admin/crm/people/{person.pk}/").content.decode()
    assert "Texte de consentement" in page and "https://site/p/" in page and "SHA-256" in page
    assert 'data-action="consent_given"' in page and 'data-action="tag_added"' in page
    filtered = client.get(f"/admin/crm/people/{person.pk}/", {"type": "tag_added"}).content.decode()
    assert 'data-action="consent_given"' not in filtered
    assert AuditEvent.objects.filter(
        action="crm.person.view", actor=user, target_id=str(person.pk)
    ).exists()


def test_csv_export_neutralises_formulas_and_is_logged(world, make_person):
    make_person(
        world["alpha"],
        first_names='=HYPERLINK("http://evil")',
        birth_name="+Cmd",
        commune_name="@SUM(A1)",
    )
    user = world["users"]["manager_a"]
    client = world["login"](user)
    body = b"".join(client.get("/admin/crm/people/export.csv").streaming_content).decode(
        "utf-8-sig"
    )
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    cells = [cell for row in rows[1:] for cell in row]
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells), cells
    assert '\'=HYPERLINK("http://evil") +Cmd' in cells and "'@SUM(A1)" in cells
    event = AuditEvent.objects.get(action="crm.people.export", actor=user)
    assert event.data["count"] == 2


def test_columns_chosen_by_the_user_are_remembered(world):
    user = world["users"]["manager_a"]
    client = world["login"](user)
    client.get("/admin/crm/people/", {"columns": ["name", "postcode", "support_level"]})
    assert StaffListPreference.objects.get(user=user).columns == [
        "name",
        "postcode",
        "support_level",
    ]
    page = client.get("/admin/crm/people/").content.decode()
    assert "Code postal" in page and "Niveau de soutien" in page and "<th>Email</th>" not in page


def test_edit_tag_note_withdraw_and_erase_through_the_screens(world):
    client = world["login"](world["users"]["manager_a"])
    person = world["a"]
    url = f"/admin/crm/people/{person.pk}/edit/"
    response = client.post(
        url,
        {
            "first_names": "Élodie",
            "birth_name": "Aubert-Lenoir",
            "emails": "elodie@example.org\nelo@example.org",
            "phones": "0611111111",
            "birth_date": "00/00/1970",
            "support_level": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    person.refresh_from_db()
    assert (
        person.birth_name == "Aubert-Lenoir"
        and person.birth_year == 1970
        and person.birth_month is None
    )
    assert [e.email for e in person.emails.all()] == ["elodie@example.org", "elo@example.org"]
    assert person.support_level == 1
    bad = client.post(url, {"birth_name": "X", "emails": "berenice@example.org"})
    assert bad.status_code == 200 and "appartient à une autre personne" in bad.content.decode()
    bad = client.post(
        url, {"birth_name": "X", "emails": "elodie@example.org", "birth_date": "31/02/1990"}
    )
    assert bad.status_code == 200 and "JJ/MM/AAAA" in bad.content.decode()
    person.refresh_from_db()
    assert person.birth_name == "Aubert-Lenoir"
    client.post(
        f"/admin/crm/people/{person.pk}/tags/",
        {"tags": "Porte-à-porte, Tractage", "campaign": world["alpha"].pk},
    )
    assert {"Porte-à-porte", "Tractage"} <= set(
        person.person_tags.values_list("tag__name", flat=True)
    )
    client.post(
        f"/admin/crm/people/{person.pk}/withdraw/",
        {"campaign": world["alpha"].pk, "channel": "email"},
    )
    assert not person.consents.filter(withdrawn_at__isnull=True).exists()
    client.post(f"/admin/crm/people/{person.pk}/erase/", {"confirm": "erase"})
    assert not Person.objects.filter(pk=person.pk).exists()


def test_merge_from_the_review_queue_and_undo(world):
    client = world["login"](world["users"]["manager_b"])
    pair = world["pair_b"]
    page = client.get("/admin/crm/duplicates/").content.decode()
    assert f'data-pair="{pair.pk}"' in page
    response = client.post(
        f"/admin/crm/people/{pair.person_a_id}/merge/{pair.person_b_id}/",
        {"choice_first_names": "merged"},
    )
    assert response.status_code == 302
    assert not Person.objects.filter(pk=pair.person_b_id).exists()
    record = MergeRecord.objects.filter(survivor_id=pair.person_a_id).latest("pk")
    assert client.post(f"/admin/crm/merges/{record.pk}/undo/").status_code == 302
    assert Person.objects.filter(pk=pair.person_b_id).exists()


def test_custom_fields_defined_in_the_admin_are_scoped(world):
    client = world["login"](world["users"]["manager_a"])
    response = client.post(
        "/admin/crm_customfield/new/",
        {
            "label": "Quartier",
            "key": "quartier",
            "type": "text",
            "choices": "[]",
            "campaign": world["bravo"].pk,
        },
    )
    assert response.status_code == 200 and not CustomField.objects.exists()
    response = client.post(
        "/admin/crm_customfield/new/",
        {
            "label": "Quartier",
            "key": "quartier",
            "type": "text",
            "choices": "[]",
            "campaign": world["alpha"].pk,
        },
    )
    assert response.status_code == 302
    field = CustomField.objects.get()
    assert field.campaign == world["alpha"]
    person = world["a"]
    page = client.get(f"/admin/crm/people/{person.pk}/edit/").content.decode()
    assert f"cf_{field.pk}" in page
    other = world["login"](world["users"]["manager_b"])
    assert other.get(f"/admin/crm_customfield/edit/{field.pk}/").status_code == 404


def test_reverse_names_exist():
    resolver = get_resolver()
    assert resolver and reverse("crm_people") == "/admin/crm/people/"


def test_point_person_and_interests_are_edited_within_the_campaign(world):
    from crm.models import Interest

    manager = world["users"]["manager_a"]
    treasurer = world["users"]["treasurer_a"]
    outsider = world["users"]["manager_b"]
    phoning = Interest.objects.create(slug="phoning", name="Phoning")
    client = world["login"](manager)
    person = world["a"]
    url = f"/admin/crm/people/{person.pk}/edit/"
    form = client.get(url).content.decode()
    # Only the point person's own list: other selects (the support scale 1-5) share small values.
    select = re.search(r'<select name="point_person".*?</select>', form, re.DOTALL)
    assert select is not None
    choices = set(re.findall(r'<option value="([^"]*)"', select.group()))
    assert str(treasurer.pk) in choices and str(outsider.pk) not in choices
    base = {"first_names": "Élodie", "birth_name": "Aubert", "emails": "elodie@example.org"}
    response = client.post(url, {**base, "point_person": treasurer.pk, "interests": [phoning.pk]})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.point_person == treasurer
    assert list(person.interests.all()) == [phoning]
    # Another campaign's team member cannot be chosen: the form refuses, nothing changes.
    refused = client.post(url, {**base, "point_person": outsider.pk})
    assert refused.status_code == 200
    person.refresh_from_db()
    assert person.point_person == treasurer
