"""The admin screens for campaigns and teams obey the tenancy layer: another campaign's rows
answer 404, are never listed, and cannot be changed."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from cocarde.audit.models import AuditEvent
from cocarde.tenancy.models import Campaign, StaffRole

pytestmark = pytest.mark.django_db
Role = StaffRole.Role


def campaign_form_data(campaign: Campaign, **changes) -> dict[str, str]:
    data = {
        "name": campaign.name,
        "slug": campaign.slug,
        "kind": campaign.kind,
        "parent": campaign.parent_id or "",
        "is_active": "on" if campaign.is_active else "",
        "commune_codes": ", ".join(campaign.commune_codes),
        "circonscription_code": campaign.circonscription_code,
        "election": campaign.election_id or "",
        "legal_framework": campaign.legal_framework,
        "contact_email": campaign.contact_email,
        "contact_phone": campaign.contact_phone,
        "legal_entity_name": campaign.legal_entity_name,
        "legal_address": campaign.legal_address,
        "publication_director": campaign.publication_director,
        "financial_agent_name": campaign.financial_agent_name,
        "financial_agent_address": campaign.financial_agent_address,
        "financial_agent_declared_on": "",
        "host_details": campaign.host_details,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


@pytest.fixture
def two_campaigns(make_campaign, make_staff, login):
    a, b = make_campaign("Alpha", slug="alpha"), make_campaign("Bravo", slug="bravo")
    manager_a = make_staff(a, Role.MANAGER)
    make_staff(b, Role.STAFF)
    return a, b, login(manager_a), manager_a


def test_campaign_list_and_dashboard_show_only_own_campaigns(two_campaigns):
    a, b, client, _ = two_campaigns
    listing = client.get("/admin/campaign/").content.decode()
    assert "Alpha" in listing and "Bravo" not in listing
    dashboard = client.get("/admin/").content.decode()
    assert re.findall(r'data-campaign="([^"]+)"', dashboard) == ["alpha"]


def test_another_campaign_answers_404_and_stays_unchanged(two_campaigns):
    a, b, client, _ = two_campaigns
    url = f"/admin/campaign/edit/{b.pk}/"
    assert client.get(url).status_code == 404
    response = client.post(url, campaign_form_data(b, name="Hijacked"))
    assert response.status_code == 404
    b.refresh_from_db()
    assert b.name == "Bravo"


def test_manager_edits_details_but_not_identity(two_campaigns):
    a, _, client, manager = two_campaigns
    data = campaign_form_data(
        a, contact_email="equipe@alpha.example", slug="renamed", commune_codes="41018 2a004"
    )
    response = client.post(f"/admin/campaign/edit/{a.pk}/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    a.refresh_from_db()
    assert a.contact_email == "equipe@alpha.example"
    assert a.commune_codes == ["41018", "2A004"]
    assert a.slug == "alpha"  # only the national team renames campaigns
    event = AuditEvent.objects.get(action="campaign.update", target_id=str(a.pk))
    assert event.actor_label == manager.email
    assert "contact_email" in event.data["fields"]


def test_bad_commune_codes_are_refused_with_the_culprits(two_campaigns):
    a, _, client, _ = two_campaigns
    response = client.post(
        f"/admin/campaign/edit/{a.pk}/", campaign_form_data(a, commune_codes="41018, 4101")
    )
    assert response.status_code == 200
    assert "4101" in response.content.decode()
    a.refresh_from_db()
    assert a.commune_codes == []


def test_only_national_admins_create_campaigns(two_campaigns, national, make_staff, login):
    _, _, manager_client, _ = two_campaigns
    assert manager_client.get("/admin/campaign/new/").status_code in (302, 403)
    admin_client = login(make_staff(national, Role.NATIONAL_ADMIN))
    response = admin_client.post(
        "/admin/campaign/new/",
        {"name": "Charlie", "slug": "charlie", "kind": "candidate", "parent": national.pk,
         "is_active": "on", "legal_framework": "fr_candidate", "commune_codes": "41018"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    charlie = Campaign.objects.get(slug="charlie")
    assert charlie.parent == national
    assert AuditEvent.objects.filter(action="campaign.create", target_id=str(charlie.pk)).exists()


def test_manager_invites_a_team_member_by_email(two_campaigns, django_user_model):
    a, _, client, _ = two_campaigns
    response = client.post(
        "/admin/staffrole/new/",
        {"email": "Nouvelle@Example.org", "first_name": "Nina", "campaign": a.pk, "role": "staff"},
    )
    assert response.status_code == 302
    invited = django_user_model.objects.get(email="nouvelle@example.org")
    assert StaffRole.objects.filter(user=invited, campaign=a, role=Role.STAFF).exists()
    assert [m.to for m in mail.outbox] == [["nouvelle@example.org"]]  # link to choose a password


def test_manager_cannot_grant_on_another_campaign_or_name_national_admins(
    two_campaigns, django_user_model
):
    a, b, client, _ = two_campaigns
    before = StaffRole.objects.count()
    for data in (
        {"email": "x@example.org", "campaign": b.pk, "role": "manager"},
        {"email": "x@example.org", "campaign": a.pk, "role": "national_admin"},
    ):
        response = client.post("/admin/staffrole/new/", data)
        assert response.status_code == 200  # the form, with its error
    assert StaffRole.objects.count() == before
    assert not django_user_model.objects.filter(email="x@example.org").exists()


def test_team_list_and_revocation_are_scoped(two_campaigns):
    a, b, client, _ = two_campaigns
    listing = client.get("/admin/staffrole/").content.decode()
    assert "Alpha" in listing and "Bravo" not in listing
    foreign = StaffRole.objects.get(campaign=b)
    assert client.post(f"/admin/staffrole/delete/{foreign.pk}/").status_code == 404
    assert StaffRole.objects.filter(pk=foreign.pk).exists()
    own = StaffRole.objects.get(campaign=a)
    assert client.post(f"/admin/staffrole/delete/{own.pk}/").status_code == 302
    assert not StaffRole.objects.filter(pk=own.pk).exists()
    assert AuditEvent.objects.filter(action="role.revoke", campaign=a).exists()
