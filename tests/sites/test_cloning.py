"""Cloning a template site: every page, setting and placeholder, in one transaction."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from wagtail.models import Page, Revision, Site

from cocarde.audit.models import AuditEvent
from cocarde.tenancy.models import Campaign
from sites.models import (
    CampaignSite,
    HomePage,
    PageSource,
    PetitionPage,
    SignupPage,
    SiteIdentity,
    SiteNavigation,
    VolunteerPage,
)
from sites.services.cloning import CloneError

pytestmark = pytest.mark.django_db


def tree(root: Page) -> list[Page]:
    return list(Page.objects.descendant_of(root, inclusive=True).order_by("path").specific())


def stored_text(page: Page) -> str:
    """Everything a page stores as content: its latest revision (fields, bodies, questions)."""
    return json.dumps(page.latest_revision.content, ensure_ascii=False)


def test_clone_copies_every_page_with_placeholders_substituted(template_site, clone):
    result = clone("Marie Dupont", "marie-dupont.example.org", commune_name="Blois")
    template_pages = tree(template_site.site.root_page)
    cloned = tree(result.site.root_page)

    assert result.page_count == len(template_pages) == len(cloned) == 17
    assert [type(p) for p in cloned] == [type(p) for p in template_pages]
    assert [p.depth for p in cloned] == [p.depth for p in template_pages]
    assert all(p.live for p in cloned)
    assert Page.find_problems() == ([], [], [], [], [])  # treebeard: paths, depths, numchild sound

    home = cloned[0]
    assert home.title == "Marie Dupont, pour Blois"
    assert home.hero_title == "Marie : une voix utile pour Blois"
    assert "13 juin 2027" in home.hero_text
    assert home.seo_title == "Marie Dupont – Élections législatives 2027"
    for page in cloned:
        assert "{{" not in stored_text(page), page.title
        assert page.latest_revision_id and page.live_revision_id == page.latest_revision_id
        assert page.url_path.startswith(f"/{home.slug}/")
    petition = next(p for p in cloned if isinstance(p, PetitionPage))
    assert petition.title == "Sauvons les urgences de nuit à Blois"
    assert "campagne de Marie Dupont" in petition.consent_text
    volunteer = next(p for p in cloned if isinstance(p, VolunteerPage))
    assert [q.label for q in volunteer.form_questions.all()] == ["Vos disponibilités"]
    assert home.get_url_parts()[2] == "/" and petition.get_url_parts()[2] == "/petition-urgences/"


def test_page_references_point_at_the_clone_and_images_are_shared(template_site, clone):
    result = clone()
    cloned_ids = {p.pk for p in tree(result.site.root_page)}
    home = result.site.root_page.specific
    template_home = template_site.site.root_page.specific

    assert (
        isinstance(home.hero_cta_page.specific, SignupPage) and home.hero_cta_page_id in cloned_ids
    )
    choosers = [block.value["page"] for block in home.body if block.block_type == "call_to_action"]
    assert choosers and all(page.pk in cloned_ids for page in choosers)
    signup = next(p for p in tree(result.site.root_page) if isinstance(p, SignupPage))
    assert signup.next_action_page_id in cloned_ids
    navigation = SiteNavigation.for_site(result.site)
    menu_pages = [item.value["page"].pk for item in navigation.main_menu]
    assert menu_pages and set(menu_pages) <= cloned_ids
    assert navigation.header_button_page_id in cloned_ids
    assert "Marie Dupont" in navigation.footer_text
    # The same image rows, not copies.
    assert home.hero_image_id == template_home.hero_image_id


def test_settings_campaign_and_ownership(template_site, clone, national):
    result = clone(theme="horizon", contact_email="marie@example.org", commune_codes=["41018"])
    identity = SiteIdentity.for_site(result.site)
    assert identity.theme == "horizon"
    assert identity.primary_colour == "#0b6e4f"  # the theme's own colour, since none was chosen
    assert identity.candidate_name == "Marie Dupont"
    assert identity.publisher_name == "Marie Dupont"
    assert identity.host_details == national.host_details
    assert identity.party_name == "Parti Cocarde"

    campaign = result.campaign
    assert campaign.parent == national and campaign.kind == Campaign.Kind.CANDIDATE
    assert campaign.slug == "marie-dupont" and campaign.commune_codes == ["41018"]
    assert campaign.election == national.election
    link = CampaignSite.objects.get(site=result.site)
    assert link.template == template_site and not link.is_template
    assert link.editors_group.page_permissions.filter(page=result.site.root_page).exists()
    assert PageSource.objects.filter(campaign_site=link).count() == 17
    assert AuditEvent.objects.filter(action="site.clone", campaign=campaign).count() == 1


def test_clone_as_draft_keeps_every_page_unpublished(clone):
    result = clone(publish=False)
    pages = tree(result.site.root_page)
    assert not any(p.live for p in pages)
    assert all(p.latest_revision_id and p.live_revision_id is None for p in pages)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"hostname": "not a host"}, "hostname"),
        ({"hostname": "modele.localhost"}, "hostname"),  # taken by the template
        ({"campaign_slug": "national"}, "campaign_slug"),  # taken by the national team
        ({"theme": "nope"}, "theme"),
        ({"circonscription_code": ""}, "placeholders"),  # {{ territory }} gets no value
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(clone, changes, field):
    before = (
        Page.objects.count(),
        Site.objects.count(),
        Campaign.objects.count(),
        Revision.objects.count(),
    )
    with pytest.raises(CloneError) as error:
        clone(**{"commune_name": "", **changes})
    assert error.value.field == field
    after = (
        Page.objects.count(),
        Site.objects.count(),
        Campaign.objects.count(),
        Revision.objects.count(),
    )
    assert after == before


def test_failure_after_pages_were_written_rolls_everything_back(clone):
    pages, sites, campaigns = Page.objects.count(), Site.objects.count(), Campaign.objects.count()
    # An unreadable colour is refused by the site settings, after the pages were written.
    with pytest.raises(CloneError, match="primary_colour"):
        clone("Marie Dupont", "two.example.org", primary_colour="#777777")
    assert (Page.objects.count(), Site.objects.count(), Campaign.objects.count()) == (
        pages,
        sites,
        campaigns,
    )


def test_clone_site_command_prints_one_json_line(template_site):
    out = StringIO()
    call_command(
        "clone_site", "--template", "modele.localhost", "--name", "Karim Benali",
        "--hostname", "karim.example.org", "--theme", "proximite", "--commune", "41269",
        "--commune-name", "Vendôme", stdout=out,
    )  # fmt: skip
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    site = Site.objects.get(hostname="karim.example.org")
    assert line == {
        "site_id": site.pk, "hostname": "karim.example.org", "port": 80,
        "campaign_slug": "karim-benali", "page_count": 17,
    }  # fmt: skip
    assert HomePage.objects.get(pk=site.root_page_id).title == "Karim Benali, pour Vendôme"


def test_clone_site_command_rejects_bad_input_clearly(template_site):
    with pytest.raises(CommandError, match="hostname"):
        call_command(
            "clone_site",
            "--template",
            "modele.localhost",
            "--name",
            "X Y",
            "--hostname",
            "bad host",
        )
    with pytest.raises(CommandError, match="template"):
        call_command(
            "clone_site",
            "--template",
            "nowhere.example",
            "--name",
            "X Y",
            "--hostname",
            "x.example.org",
        )


def test_cloned_pages_are_indexed_for_search_after_commit(
    clone, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = clone("Marie Dupont", "marie.example.org")
    found = Page.objects.descendant_of(result.site.root_page).search("urgences")
    assert "Sauvons les urgences de nuit à Blois" in {page.title for page in found}


def test_a_page_renders_with_its_own_site_s_theme_even_on_another_host(clone, rf):
    """Admin previews are served on the admin's host name, not the candidate's."""
    result = clone(theme="proximite")
    page = result.site.root_page.specific
    response = page.serve(rf.get("/", HTTP_HOST="modele.localhost"))
    html = response.content.decode()
    assert 'class="theme-proximite"' in html and "Marie : une voix utile pour Blois" in html
    assert "Camille" not in html  # no template sample values on a candidate's page


def test_slug_placeholders_and_clashing_addresses(template_site, clone):
    from sites.models import ContentPage

    home = template_site.site.root_page
    for slug in ("agir-a-__commune__", "agir-a-blois"):
        home.add_child(instance=ContentPage(title="Agir", slug=slug))
    pages = Page.objects.count()
    with pytest.raises(CloneError) as error:
        clone(commune_name="Blois")
    assert error.value.field == "slug" and "agir-a-blois" in str(error.value)
    assert Page.objects.count() == pages
    result = clone("Karim Benali", "karim.example.org", commune_name="Vendôme")
    slugs = set(Page.objects.child_of(result.site.root_page).values_list("slug", flat=True))
    assert {"agir-a-vendome", "agir-a-blois"} <= slugs
