"""CRM fixtures: two candidate campaigns, their staff, and a way to put people in them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import RequestFactory

from cocarde.tenancy.models import StaffRole
from crm import abuse
from crm.models import CampaignAttachment, Person
from crm.services import people as people_services
from tests.fixtures.forms import solved

Role = StaffRole.Role
PETITION_TEXT = "J'accepte de recevoir les nouvelles de la campagne par email."


@pytest.fixture
def alpha(make_campaign):
    return make_campaign("Alpha 2027", slug="alpha")


@pytest.fixture
def bravo(make_campaign):
    return make_campaign("Bravo 2027", slug="bravo")


@pytest.fixture
def make_person(db) -> Callable[..., Person]:
    def make(
        campaign: Any = None,
        *,
        emails: tuple[str, ...] = (),
        phones: tuple[str, ...] = (),
        reason: str = CampaignAttachment.Reason.MANUAL,
        **fields: Any,
    ) -> Person:
        return people_services.create_person(
            actor=None,
            campaign=campaign,
            reason=reason,
            emails=list(emails),
            phones=list(phones),
            **fields,
        )

    return make


@pytest.fixture
def form_request() -> Callable[..., Any]:
    """A POST as a browser would send it: honeypot empty, proof of work solved."""
    factory = RequestFactory()

    def make(ip: str = "203.0.113.7", *, honeypot: str = "", proof: bool = True, **data: Any):
        payload = solved(**data) if proof else {abuse.HONEYPOT_FIELD: "", **data}
        payload[abuse.HONEYPOT_FIELD] = honeypot
        return factory.post("/petition/", payload, REMOTE_ADDR=ip)

    return make
