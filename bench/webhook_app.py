"""The WSGI application bench/webhooks.py serves with gunicorn: Cocarde's own, plus a baseline
view at /bench/signature-only/<campaign>/ that only verifies the Stripe signature, and a floor
view at /bench/durable-insert/<campaign>/ that verifies it and then commits the body with one
raw prepared INSERT, the least any endpoint that stores events durably must do."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import django_setup

django_setup()

import psycopg  # noqa: E402
import stripe  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import clear_url_caches, path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

from cocarde import urls  # noqa: E402
from cocarde.celery import app as celery_app  # noqa: E402
from donations.services.webhooks import TOLERANCE_SECONDS, secret_for  # noqa: E402

celery_app.conf.task_always_eager = False  # the endpoint queues; it does not apply inline


@csrf_exempt
def signature_only(request: HttpRequest, campaign_id: int) -> HttpResponse:
    try:  # the same secret look-up as ours (per-process cache), then the signature check only
        stripe.WebhookSignature.verify_header(
            request.body.decode(),
            request.headers["Stripe-Signature"],
            secret_for(campaign_id),
            TOLERANCE_SECONDS,
        )
    except stripe.SignatureVerificationError:
        return HttpResponse(status=400)
    return HttpResponse("ok")


@csrf_exempt
def durable_insert(request: HttpRequest, campaign_id: int) -> HttpResponse:
    response = signature_only(request, campaign_id)
    if response.status_code == 200:
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                "INSERT INTO bench_inbox (payload) VALUES (%s::jsonb)", [request.body.decode()],
                prepare=True,
            )  # fmt: skip
    return response


urls.urlpatterns.insert(0, path("bench/durable-insert/<int:campaign_id>/", durable_insert))
urls.urlpatterns.insert(0, path("bench/signature-only/<int:campaign_id>/", signature_only))
clear_url_caches()
application = get_wsgi_application()
