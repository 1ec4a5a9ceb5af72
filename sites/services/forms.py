"""Form submissions from candidate sites.

Every valid submission of a petition, signup, volunteer, RSVP or contact form goes through
`handle_form_submission`. Today it stores the answer whole and bumps the page's live counter;
the CRM replaces its body with find-or-create person, action and consent records.
"""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest

from sites.models import ActionFormPage, FormCounter, FormSubmission
from sites.selectors import campaign_for_page

IDENTITY_FIELDS = ("first_name", "last_name", "email", "phone", "postcode")
THANKS_MAX_AGE = 60 * 60


@transaction.atomic
def handle_form_submission(
    page: ActionFormPage, cleaned_data: dict[str, Any], *, request: HttpRequest | None
) -> FormSubmission | None:
    """Store one valid submission and count it. Returns None for a bot caught by the honeypot
    (answered like a success, so it learns nothing, but nothing is stored or counted)."""
    if cleaned_data.get("website"):
        return None
    submission = FormSubmission.objects.create(
        page=page,
        page_title=page.title[:255],
        campaign=campaign_for_page(page),
        kind=page.form_kind,
        first_name=cleaned_data["first_name"],
        last_name=cleaned_data["last_name"],
        email=cleaned_data["email"],
        phone=cleaned_data.get("phone") or "",
        postcode=cleaned_data.get("postcode") or "",
        answers=list(cleaned_data.get("answers", [])),
        consent_text=page.consent_text if page.consent_text else "",
        consent_given=bool(cleaned_data.get("consent")),
        source_url=request.build_absolute_uri(page.url) if request is not None and page.url else "",
    )
    FormCounter.objects.get_or_create(page_id=page.pk)
    FormCounter.objects.filter(page_id=page.pk).update(count=F("count") + 1)
    return submission


def submission_from_token(page: ActionFormPage, token: str) -> FormSubmission | None:
    """The submission a thank-you link names, if the link is genuine, recent and for this page."""
    try:
        pk = signing.loads(token, salt="sites.thanks", max_age=THANKS_MAX_AGE)
    except signing.BadSignature:
        return None
    return FormSubmission.objects.filter(pk=pk, page_id=page.pk).first() if pk else None


RATE_LIMIT = 20  # answers per page, per connection, per window
RATE_WINDOW = 10 * 60


def too_many_submissions(page: ActionFormPage, request: HttpRequest) -> bool:
    """A cheap brake on scripted submissions: counts POSTs per IP address and page."""
    from django.core.cache import cache

    key = f"sites:posts:{page.pk}:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW)
        count = 1
    return count > RATE_LIMIT
