"""Wagtail is not multi-tenant; Cocarde is. Campaign staff edit their own site only: another
campaign's pages and settings answer 404 and are never listed; only national admins create
sites or manage the templates."""

from __future__ import annotations

import pytest
from wagtail.models import Page

from cocarde.tenancy.models import StaffRole
from sites.models import ProgrammePage, SiteIdentity
from sites.permissions import CampaignPagePermissionPolicy
from tests.fixtures.forms import solved

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sites(clone, make_staff, login):
    marie = clone("Marie Dupont", "marie.example.org")
    karim = clone("Karim Benali", "karim.example.org")
    staff = make_staff(marie.campaign, StaffRole.Role.STAFF)
    return marie, karim, staff, login(staff)


def test_staff_edit_their_own_site_pages(two_sites):
    marie, _karim, staff, client = two_sites
    page = ProgrammePage.objects.descendant_of(marie.site.root_page).get()
    assert client.get(f"/admin/pages/{page.pk}/edit/").status_code == 200
    assert page.permissions_for_user(staff).can_edit()
    assert page.permissions_for_user(staff).can_publish()


def test_another_campaign_s_pages_answer_404_and_cannot_be_changed(two_sites):
    _marie, karim, staff, client = two_sites
    page = ProgrammePage.objects.descendant_of(karim.site.root_page).get()
    for url in (
        f"/admin/pages/{page.pk}/edit/",
        f"/admin/pages/{page.pk}/",
        f"/admin/pages/{page.pk}/delete/",
        f"/admin/pages/{page.pk}/history/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/admin/pages/{page.pk}/edit/", {"title": "Piraté"}).status_code == 404
    assert not page.permissions_for_user(staff).can_edit()
    page.refresh_from_db()
    assert page.title != "Piraté"


def test_page_permissions_list_only_own_site(two_sites):
    marie, karim, staff, _client = two_sites
    editable = CampaignPagePermissionPolicy().instances_user_has_any_permission_for(
        staff, {"change"}
    )
    assert editable.descendant_of(marie.site.root_page, inclusive=True).count() == 17
    assert not editable.descendant_of(karim.site.root_page, inclusive=True).exists()
    national_pages = Page.objects.filter(depth=2).exclude(
        pk__in=[marie.site.root_page_id, karim.site.root_page_id]
    )
    assert not editable.filter(pk__in=national_pages).exists()


def test_site_settings_of_another_campaign_answer_404(two_sites):
    marie, karim, _staff, client = two_sites
    own = client.get(f"/admin/settings/sites/siteidentity/{marie.site.pk}/")
    assert own.status_code == 200 and "Marie Dupont" in own.content.decode()
    assert client.get(f"/admin/settings/sites/siteidentity/{karim.site.pk}/").status_code == 404
    assert (
        client.post(
            f"/admin/settings/sites/siteidentity/{karim.site.pk}/", {"candidate_name": "X"}
        ).status_code
        == 404
    )
    assert SiteIdentity.for_site(karim.site).candidate_name == "Karim Benali"
    # The site switcher of the settings screen offers their own site only.
    assert "karim.example.org" not in own.content.decode()


def test_only_national_admins_create_sites(two_sites, login, national_admin):
    _marie, _karim, _staff, client = two_sites
    for url in (
        "/admin/candidate-sites/new/",
        "/admin/candidate-sites/bulk/",
        "/admin/candidate-sites/sync/",
    ):
        assert client.get(url).status_code == 404
    assert client.get("/admin/sites/").status_code in (302, 403, 404)
    admin = login(national_admin)
    assert admin.get("/admin/candidate-sites/new/").status_code == 200
    assert admin.get("/admin/sites/").status_code == 200


def test_national_admin_edits_every_site(two_sites, national_admin, login):
    _marie, karim, _staff, _client = two_sites
    page = ProgrammePage.objects.descendant_of(karim.site.root_page).get()
    assert login(national_admin).get(f"/admin/pages/{page.pk}/edit/").status_code == 200


def test_form_answers_are_scoped_to_the_campaign(two_sites, login, make_staff):
    from django.test import Client

    from sites.models import PetitionPage

    marie, karim, _staff, client = two_sites
    for result, name in ((marie, "Alice"), (karim, "Bruno")):
        petition = PetitionPage.objects.descendant_of(result.site.root_page).get()
        Client(HTTP_HOST=result.site.hostname).post(
            petition.get_url_parts()[-1],
            solved(
                first_name=name, last_name="Votant", email=f"{name}@example.org", postcode="41000"
            ),
        )
    listing = client.get("/admin/candidate-sites/answers/").content.decode()
    assert "Alice Votant" in listing and "Bruno" not in listing


def test_page_chooser_and_search_list_only_own_site(two_sites):
    marie, karim, _staff, client = two_sites
    top = client.get("/admin/choose-page/").content.decode()
    assert "Marie Dupont, pour" in top and "Karim Benali, pour" not in top
    assert client.get(f"/admin/choose-page/{karim.site.root_page_id}/").status_code == 404
    assert (
        "Qui suis-je"
        in client.get(f"/admin/choose-page/{marie.site.root_page_id}/").content.decode()
    )
    found = client.get("/admin/pages/search/?q=Benali").content.decode()
    assert "Karim Benali, pour" not in found
    assert (
        "Karim Benali, pour"
        not in client.get("/admin/choose-page/search/?q=Benali").content.decode()
    )


def test_staff_manage_media_in_their_own_collection_only(two_sites):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from wagtail.images import get_image_model

    from tests.sites.images import png_bytes

    marie, karim, staff, client = two_sites
    assert client.get("/admin/images/").status_code == 200
    foreign = get_image_model().objects.create(
        title="Affiche Karim",
        file=SimpleUploadedFile("k.png", png_bytes()),
        collection=karim.campaign_site.collection,
    )
    listing = client.get("/admin/images/").content.decode()
    assert "Affiche Karim" not in listing
    assert client.get(f"/admin/images/{foreign.pk}/").status_code == 404
    assert client.post(f"/admin/images/{foreign.pk}/delete/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.title == "Affiche Karim"
