"""National template sync: new versions reach every clone, except clones edited locally,
which are listed for review with a diff; new template pages can be pushed to every clone."""

from __future__ import annotations

import pytest
from wagtail.models import Page

from sites.models import PageSource, ProgrammePage, SyncConflict, SyncRun
from sites.services import sync

pytestmark = pytest.mark.django_db


def clone_page(site, model):
    return model.objects.descendant_of(site.root_page).get()


def publish_new_intro(template_page, intro, user, capture):
    page = template_page.specific
    page.intro = intro
    with capture(execute=True):
        page.save_revision(user=user).publish(user=user)
    return SyncRun.objects.filter(template_page=page).latest("pk")


@pytest.fixture
def two_clones(clone):
    return clone("Marie Dupont", "marie.example.org").site, clone(
        "Karim Benali", "karim.example.org", commune_name="Vendôme"
    ).site


def test_new_national_version_reaches_every_clone_with_its_own_values(
    template_site, two_clones, national_admin, django_capture_on_commit_callbacks
):
    marie, karim = two_clones
    template_programme = clone_page(template_site.site, ProgrammePage)
    run = publish_new_intro(
        template_programme,
        "Nouveau : vingt engagements pour {{ territory }}.",
        national_admin,
        django_capture_on_commit_callbacks,
    )

    assert run.status == SyncRun.Status.DONE and (run.updated, run.conflicts, run.failed) == (
        2,
        0,
        0,
    )
    for site, town in ((marie, "Blois"), (karim, "Vendôme")):
        page = clone_page(site, ProgrammePage)
        assert page.intro == f"Nouveau : vingt engagements pour {town}."  # live version
        assert not page.has_unpublished_changes
    assert {line["hostname"] for line in run.report} == {"marie.example.org", "karim.example.org"}


def test_unsynchronised_pages_are_left_alone(
    template_site, two_clones, national_admin, django_capture_on_commit_callbacks
):
    from sites.models import ContentPage

    template_about = clone_page(template_site.site, ContentPage)  # not marked synchronised
    page = template_about.specific
    page.intro = "Changé"
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision(user=national_admin).publish(user=national_admin)
    assert not SyncRun.objects.exists()
    assert clone_page(two_clones[0], ContentPage).intro != "Changé"


def test_local_edit_is_kept_and_listed_for_review_then_accepted(
    template_site, two_clones, national_admin, django_capture_on_commit_callbacks, login
):
    marie, karim = two_clones
    local = clone_page(marie, ProgrammePage)
    local.intro = "Notre programme écrit à Blois."
    local.save_revision(user=national_admin).publish(user=national_admin)

    run = publish_new_intro(
        clone_page(template_site.site, ProgrammePage),
        "Version nationale pour {{ territory }}.",
        national_admin,
        django_capture_on_commit_callbacks,
    )
    assert (run.updated, run.conflicts) == (1, 1)
    assert clone_page(marie, ProgrammePage).intro == "Notre programme écrit à Blois."  # untouched
    assert clone_page(karim, ProgrammePage).intro == "Version nationale pour Vendôme."
    conflict = SyncConflict.objects.get(status=SyncConflict.Status.PENDING)
    assert conflict.source.page_id == local.pk

    client = login(national_admin)
    review = client.get(f"/admin/candidate-sites/review/{conflict.pk}/").content.decode()
    assert "écrit" in review and "nationale" in review  # the local words and the national ones
    assert 'class="deletion"' in review and 'class="addition"' in review

    client.post(f"/admin/candidate-sites/review/{conflict.pk}/", {"action": "accept"})
    conflict.refresh_from_db()
    assert conflict.status == SyncConflict.Status.ACCEPTED
    assert clone_page(marie, ProgrammePage).intro == "Version nationale pour Blois."
    # Accepted, so the next national version flows again without review.
    run = publish_new_intro(
        clone_page(template_site.site, ProgrammePage),
        "Troisième version, {{ territory }}.",
        national_admin,
        django_capture_on_commit_callbacks,
    )
    assert (run.updated, run.conflicts) == (2, 0)


def test_keeping_the_local_version_resolves_the_review(
    template_site, two_clones, national_admin, django_capture_on_commit_callbacks
):
    marie, _karim = two_clones
    local = clone_page(marie, ProgrammePage)
    local.intro = "Version locale."
    local.save_revision(user=national_admin).publish(user=national_admin)
    publish_new_intro(
        clone_page(template_site.site, ProgrammePage),
        "Nationale.",
        national_admin,
        django_capture_on_commit_callbacks,
    )
    conflict = SyncConflict.objects.get()
    sync.keep_local_version(conflict, actor=national_admin)
    conflict.refresh_from_db()
    assert conflict.status == SyncConflict.Status.KEPT
    assert clone_page(marie, ProgrammePage).intro == "Version locale."


def test_new_template_page_is_pushed_to_every_clone(
    template_site, two_clones, national_admin, django_capture_on_commit_callbacks
):
    from sites.models import ContentPage

    template_home = template_site.site.root_page
    new = ContentPage(
        title="Notre projet pour {{ territory }}",
        slug="projet-__commune__",
        intro="{{ candidate_name }} s'engage.",
    )
    template_home.add_child(instance=new)
    new.save_revision(user=national_admin).publish(user=national_admin)
    with django_capture_on_commit_callbacks(execute=True):
        sync.push_page_to_clones(new, actor=national_admin)
    run = SyncRun.objects.get(kind=SyncRun.Kind.PUSH)
    assert (run.pushed, run.failed) == (2, 0)
    for site, name, slug in (
        (two_clones[0], "Marie Dupont", "projet-blois"),
        (two_clones[1], "Karim Benali", "projet-vendome"),
    ):
        page = ContentPage.objects.descendant_of(site.root_page).get(slug=slug)
        assert page.live and page.intro == f"{name} s'engage."
        assert PageSource.objects.filter(page=page, template_page=new).exists()
    assert Page.find_problems() == ([], [], [], [], [])
    # Pushing again adds nothing.
    with django_capture_on_commit_callbacks(execute=True):
        sync.push_page_to_clones(new, actor=national_admin)
    assert SyncRun.objects.filter(kind=SyncRun.Kind.PUSH).latest("pk").skipped == 2


def test_staff_see_only_their_own_site_s_reviews(
    template_site, clone, national_admin, make_staff, login, django_capture_on_commit_callbacks
):
    marie = clone("Marie Dupont", "marie.example.org")
    karim = clone("Karim Benali", "karim.example.org")
    for result in (marie, karim):
        page = clone_page(result.site, ProgrammePage)
        page.intro = "local"
        page.save_revision(user=national_admin).publish(user=national_admin)
    publish_new_intro(
        clone_page(template_site.site, ProgrammePage),
        "nationale",
        national_admin,
        django_capture_on_commit_callbacks,
    )
    staff = login(make_staff(marie.campaign))
    listing = staff.get("/admin/candidate-sites/review/").content.decode()
    assert "marie.example.org" in listing and "karim.example.org" not in listing
    karim_conflict = SyncConflict.objects.get(source__campaign_site__site=karim.site)
    assert staff.get(f"/admin/candidate-sites/review/{karim_conflict.pk}/").status_code == 404
    assert (
        staff.post(
            f"/admin/candidate-sites/review/{karim_conflict.pk}/", {"action": "accept"}
        ).status_code
        == 404
    )
