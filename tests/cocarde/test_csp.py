"""The Content-Security-Policy: no inline script on public pages, Wagtail's admin excepted."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def script_sources(response) -> list[str]:
    directives = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    return directives["script-src"].split()


def test_public_pages_run_no_inline_script(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    sources = script_sources(response)
    assert "'self'" in sources and "https://js.stripe.com" in sources
    assert "'unsafe-inline'" not in sources


def test_wagtail_admin_may_run_its_inline_scripts(make_campaign, make_staff, login):
    from cocarde.tenancy.models import StaffRole

    staff = make_staff(make_campaign("Alpha", slug="alpha"), StaffRole.Role.MANAGER)
    response = login(staff).get("/admin/")
    assert response.status_code == 200
    assert "'unsafe-inline'" in script_sources(response)
