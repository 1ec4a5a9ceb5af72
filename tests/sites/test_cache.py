"""The page cache serves anonymous visitors from Redis and is invalidated on publish."""

from __future__ import annotations

import pytest
from django.test import Client

from sites.cache import HEADER
from sites.models import ContentPage, SiteIdentity

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(clone):
    return clone().site


def test_second_anonymous_visit_is_served_from_cache(site):
    client = Client(HTTP_HOST=site.hostname)
    first = client.get("/")
    assert first[HEADER] == "miss"
    second = client.get("/")
    assert second[HEADER] == "hit" and second.content == first.content
    assert second["Content-Type"].startswith("text/html")


def test_publishing_a_page_invalidates_the_site(site, national_admin):
    client = Client(HTTP_HOST=site.hostname)
    client.get("/qui-suis-je/")
    assert client.get("/qui-suis-je/")[HEADER] == "hit"
    home = client.get("/")
    page = ContentPage.objects.descendant_of(site.root_page).get(slug="qui-suis-je")
    page.title = "Mon parcours"
    page.save_revision(user=national_admin).publish(user=national_admin)
    fresh = client.get("/qui-suis-je/")
    assert fresh[HEADER] == "miss" and "Mon parcours" in fresh.content.decode()
    assert client.get("/")[HEADER] == "miss" and home.content  # the menu on every page changed too


def test_settings_change_invalidates_the_site(site):
    client = Client(HTTP_HOST=site.hostname)
    client.get("/")
    identity = SiteIdentity.for_site(site)
    identity.tagline = "Nouvelle accroche"
    identity.save()
    response = client.get("/")
    assert response[HEADER] == "miss" and "Nouvelle accroche" in response.content.decode()


def test_signed_in_visitors_posts_and_query_strings_are_never_cached(site, national_admin, login):
    staff = login(national_admin)
    staff.defaults["HTTP_HOST"] = site.hostname
    assert HEADER not in staff.get("/")
    anonymous = Client(HTTP_HOST=site.hostname)
    assert HEADER not in anonymous.get("/?page=2")
    petition = "/petition-urgences/"
    anonymous.get(petition)
    posted = anonymous.post(petition, {"first_name": ""})
    assert HEADER not in posted


def test_other_sites_are_not_invalidated(clone, site):
    other = clone("Karim Benali", "karim.example.org").site
    client_a, client_b = Client(HTTP_HOST=site.hostname), Client(HTTP_HOST=other.hostname)
    client_a.get("/"), client_b.get("/")
    identity = SiteIdentity.for_site(site)
    identity.tagline = "Changé"
    identity.save()
    assert client_a.get("/")[HEADER] == "miss"
    assert client_b.get("/")[HEADER] == "hit"
