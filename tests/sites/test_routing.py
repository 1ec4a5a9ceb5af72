"""Fifty candidate sites side by side: each host name serves its own site."""

from __future__ import annotations

import pytest
from django.test import Client
from wagtail.models import Page

from sites.models import HomePage, PetitionPage
from sites.services.cloning import clone_site
from sites.services.sites import create_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_template(wagtail_roots, national, national_admin):
    home = HomePage(
        title="{{ candidate_name }}",
        slug="mini",
        hero_title="{{ candidate_first_name }} pour {{ commune }}",
    )
    Page.get_first_root_node().add_child(instance=home)
    home.save_revision().publish()
    petition = PetitionPage(title="Pétition de {{ commune }}", slug="petition", consent_text="")
    home.add_child(instance=petition)
    petition.save_revision().publish()
    return create_site(
        actor=national_admin,
        campaign=national,
        home=home,
        hostname="mini.example.org",
        is_template=True,
    )


def test_fifty_sites_each_answer_on_their_own_host_name(small_template, national_admin):
    sites = [
        clone_site(
            actor=national_admin, template=small_template, candidate_name=f"Prénom{n} Nom",
            hostname=f"candidat-{n}.example.org", commune_name=f"Commune {n}",
        ).site
        for n in range(50)
    ]  # fmt: skip
    client = Client()
    for n, site in enumerate(sites):
        home = client.get("/", HTTP_HOST=site.hostname)
        assert home.status_code == 200
        assert f"<h1>Prénom{n} pour Commune {n}</h1>" in home.content.decode()
        petition = client.get("/petition/", HTTP_HOST=site.hostname).content.decode()
        assert f"<h1>Pétition de Commune {n}</h1>" in petition
    # The template still answers on its own host name, with sample values.
    assert (
        "<h1>Camille pour Votre-Commune</h1>"
        in client.get("/", HTTP_HOST="mini.example.org").content.decode()
    )
    # An unknown host name falls back to no candidate's site.
    assert client.get("/petition/", HTTP_HOST="unknown.example.org").status_code == 404
