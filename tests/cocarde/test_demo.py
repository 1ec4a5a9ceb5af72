from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from cocarde.demo import ADMIN_EMAIL, demo_admin_password
from cocarde.tenancy.models import Campaign, StaffRole
from cocarde.tenancy.permissions import is_national_admin
from territory.models import Election

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_demo_prints_credentials_and_is_idempotent(django_user_model):
    out = StringIO()
    call_command("demo", stdout=out)
    assert ADMIN_EMAIL in out.getvalue() and demo_admin_password() in out.getvalue()
    first = row_counts()

    call_command("demo", stdout=StringIO())
    assert row_counts() == first

    admin = django_user_model.objects.get(email=ADMIN_EMAIL)
    assert admin.check_password(demo_admin_password())
    assert is_national_admin(admin)
    national = Campaign.objects.get(kind=Campaign.Kind.NATIONAL)
    assert StaffRole.objects.filter(user=admin, campaign=national).exists()
    assert national.legal_framework == Campaign.LegalFramework.FR_PARTY
    assert Election.objects.get(year=2027).rounds.count() == 2


def test_demo_refuses_production(settings):
    from django.core.management.base import CommandError

    settings.DJANGO_ENV = "production"
    with pytest.raises(CommandError):
        call_command("demo", stdout=StringIO())
