"""The supporter's own page, reached by a signed link sent by email: see, correct, manage
subscriptions, download, erase. Asking for the link never reveals whether we know you."""

from __future__ import annotations

import json
import re

import pytest
from django.core import mail

from crm import abuse
from crm.models import Person, Suppression
from crm.services.consent import ConsentChoice, record_consent
from crm.services.self_service import self_service_token

pytestmark = pytest.mark.django_db


def ask_link(client, email):
    proof = abuse.solve_challenge(abuse.new_challenge())
    return client.post(
        "/crm/moi/", {"email": email, abuse.HONEYPOT_FIELD: "", abuse.POW_FIELD: proof}
    )


def test_asking_for_the_link_reveals_nothing(alpha, make_person, client):
    make_person(alpha, emails=("lina@example.org",), first_names="Lina")
    known = ask_link(client, "LINA@example.org")
    unknown = ask_link(client, "personne@example.org")
    assert known.status_code == unknown.status_code == 200
    strip = lambda r: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", r.content.decode())  # noqa: E731
    assert strip(known) == strip(unknown)
    assert [m.to for m in mail.outbox] == [["lina@example.org"]]
    assert "/crm/moi/" in mail.outbox[0].body


def test_the_link_form_is_protected_against_abuse(client):
    response = client.post("/crm/moi/", {"email": "x@example.org", abuse.HONEYPOT_FIELD: "bot"})
    assert response.status_code == 200 and "automatisé" in response.content.decode()
    assert not mail.outbox


def test_own_page_corrects_withdraws_downloads_and_erases(alpha, make_person, client):
    person = make_person(alpha, emails=("lina@example.org",), first_names="Lina", birth_name="Roy")
    consent = record_consent(
        person, alpha, ConsentChoice("email", "news", "Oui"), actor=None, source_kind="web"
    )
    url = f"/crm/moi/{self_service_token(person)}/"
    page = client.get(url).content.decode()
    assert "Lina Roy" in page and "Alpha 2027" in page and f'data-consent="{consent.pk}"' in page

    client.post(
        url,
        {
            "action": "update",
            "first_names": "Lina",
            "birth_name": "Roy-Martin",
            "phones": "06 99 88 77 66",
        },
    )
    person.refresh_from_db()
    assert person.birth_name == "Roy-Martin" and person.phones.get().e164 == "+33699887766"

    client.post(url, {"action": "withdraw", "consent": consent.pk})
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert Suppression.objects.filter(campaign=alpha, channel="email").exists()

    data = json.loads(client.get(f"{url}export.json").content)
    assert data["person"]["birth_name"] == "Roy-Martin"

    client.post(url, {"action": "erase"})  # without the confirmation box: nothing happens
    assert Person.objects.filter(pk=person.pk).exists()
    response = client.post(url, {"action": "erase", "confirm": "yes"})
    assert "data-crm-erased" in response.content.decode()
    assert not Person.objects.filter(pk=person.pk).exists()
    assert client.get(url).status_code == 404


def test_forged_or_foreign_tokens_answer_404(alpha, make_person, client):
    person = make_person(alpha, emails=("lina@example.org",))
    token = self_service_token(person)
    assert client.get(f"/crm/moi/{token[:-2]}xx/").status_code == 404
    assert client.get("/crm/moi/abc/").status_code == 404
