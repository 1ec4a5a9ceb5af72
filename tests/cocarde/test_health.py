from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_backends(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_readyz_checks_the_database_and_redis_when_configured(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"] is True
    if settings.REDIS_URL:
        assert checks["redis"] is True
    else:
        assert "redis" not in checks


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_readyz_reports_an_unreachable_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": True, "redis": False},
    }
