"""Signing in: allauth only, two-factor for staff, rate limits, no account enumeration."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client, override_settings

from cocarde.tenancy.models import StaffRole
from tests.fixtures.people import PASSWORD, totp_code

pytestmark = pytest.mark.django_db


def sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def test_wagtail_login_and_password_reset_are_closed(make_staff, national):
    user = make_staff(national, StaffRole.Role.NATIONAL_ADMIN)
    client = Client()
    for path in ("/admin/login/", "/admin/password_reset/"):
        response = client.post(path, {"username": user.email, "password": PASSWORD})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_staff_sign_in_asks_for_the_second_factor(make_staff, national):
    user = make_staff(national, StaffRole.Role.NATIONAL_ADMIN)
    client = Client()
    response = sign_in(client, user.email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/admin/").status_code == 302  # not signed in yet

    response = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert response.status_code == 200  # wrong code: form shown again
    assert client.get("/admin/").status_code == 302

    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(user.totp_secret)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_staff_without_two_factor_must_enrol_before_the_admin(make_staff, make_campaign, login):
    user = make_staff(make_campaign(), StaffRole.Role.MANAGER, totp=False)
    response = login(user).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/totp/activate/")


@override_settings(COCARDE_STAFF_MFA_REQUIRED=False)
def test_development_may_relax_two_factor(make_staff, make_campaign, login):
    user = make_staff(make_campaign(), StaffRole.Role.MANAGER, totp=False)
    assert login(user).get("/admin/").status_code == 200


def test_supporters_and_canvassers_do_not_reach_the_admin(
    make_user, make_staff, make_campaign, login
):
    canvasser = make_staff(make_campaign(), StaffRole.Role.CANVASSER, totp=False)
    for user in (make_user(), canvasser):
        response = login(user).get("/admin/")
        assert response.status_code == 302
        assert "/accounts/2fa/" not in response["Location"]  # refused, not asked to enrol


def test_failed_logins_are_rate_limited(make_user):
    user = make_user()
    client = Client()
    for _ in range(5):
        assert sign_in(client, user.email, "wrong password").status_code == 200
    response = sign_in(client, user.email)  # even the right password is refused for now
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_password_reset_never_reveals_whether_an_account_exists(make_user):
    user = make_user()
    known = Client().post("/accounts/password/reset/", {"email": user.email})
    unknown = Client().post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    # Only the real account gets mail: unknown addresses are never written to.
    assert [message.to for message in mail.outbox] == [[user.email]]


def test_emails_are_unique_whatever_their_case(make_user):
    from django.db import IntegrityError

    make_user("Camille@Example.org")
    with pytest.raises(IntegrityError):
        make_user("camille@example.ORG")
