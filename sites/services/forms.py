"""Form submissions from candidate sites, written into the CRM.

Every valid submission of a petition, signup, volunteer, RSVP or contact form goes through
`handle_form_submission`, which hands it to `crm.services.web_actions.record_web_action`
(abuse checks, find-or-create person, action, consent with the exact text shown, tags, campaign
attachment, optional double opt-in) and counts it on the page. The CRM is the only store of the
person's data; the thank-you step only learns the first name, from a signed link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils.translation import gettext as _

from crm.abuse import SubmissionRefused
from crm.models import ActionType, Channel, Purpose
from crm.services.consent import ConsentChoice
from crm.services.web_actions import record_web_action
from sites.models import ActionFormPage, FormCounter
from sites.selectors import campaign_for_page

THANKS_SALT = "sites.thanks"
THANKS_MAX_AGE = 60 * 60

# What each kind of page records in the CRM, and what its consent box is for.
ACTION_TYPES = {
    "petition": ActionType.SIGNED_PETITION,
    "signup": ActionType.SIGNED_UP,
    "volunteer": ActionType.VOLUNTEERED,
    "rsvp": ActionType.RSVPED,
    "contact": ActionType.CONTACTED,
}
CONSENT_PURPOSES = {
    "volunteer": Purpose.VOLUNTEERING,
    "rsvp": Purpose.EVENTS,
}


@dataclass(frozen=True)
class Receipt:
    """What the thank-you step may show: nothing that says whether the person was known."""

    first_name: str
    confirmation_sent: bool

    def token(self) -> str:
        return signing.dumps({"n": self.first_name, "c": self.confirmation_sent}, salt=THANKS_SALT)


def handle_form_submission(
    page: ActionFormPage, cleaned_data: dict[str, Any], *, request: HttpRequest | None
) -> Receipt:
    """Record one valid submission in the CRM and count it on the page.

    Raises `crm.abuse.SubmissionRefused` (spam, rate limit: nothing stored) and
    `django.core.exceptions.ValidationError` (an email or phone the CRM refuses).
    """
    consents = []
    if cleaned_data.get("consent") and page.consent_text:
        purpose = CONSENT_PURPOSES.get(page.form_kind, Purpose.NEWS)
        consents.append(ConsentChoice(Channel.EMAIL, purpose, page.consent_text))
    identity = {
        "first_names": cleaned_data["first_name"],
        "last_name": cleaned_data["last_name"],
        "email": cleaned_data["email"],
        "phone": cleaned_data.get("phone") or "",
        "postcode": cleaned_data.get("postcode") or "",
    }
    campaign = campaign_for_page(page)
    if campaign is None:  # a site no campaign owns (being set up): it cannot collect data
        raise SubmissionRefused(_("This site is not open yet: the form cannot be sent."))
    with transaction.atomic():
        result = record_web_action(
            campaign=campaign,
            action_type=ACTION_TYPES[page.form_kind],
            identity=identity,
            consents=consents,
            tags=page.crm_tag_list(),
            source_url=request.build_absolute_uri(page.url) if request and page.url else "",
            page_id=page.pk,
            request=request,
            double_opt_in=page.double_opt_in,
            data={"page": page.title, "answers": _answers(cleaned_data)},
        )
        if result.first_on_page:
            FormCounter.objects.get_or_create(page_id=page.pk)
            FormCounter.objects.filter(page_id=page.pk).update(count=F("count") + 1)
    return Receipt(cleaned_data["first_name"], result.confirmation_sent)


def _answers(cleaned_data: dict[str, Any]) -> list[dict[str, str]]:
    """Extra questions and their answers as text (several choices joined)."""
    answers = []
    for item in cleaned_data.get("answers", []):
        answer = item["answer"]
        if isinstance(answer, (list, tuple)):
            answer = ", ".join(str(a) for a in answer)
        answers.append(
            {"question": str(item["question"]), "answer": "" if answer is None else str(answer)}
        )
    return answers


def receipt_from_token(token: str) -> Receipt | None:
    """The receipt a thank-you link carries, if the link is genuine and recent."""
    try:
        data = signing.loads(token, salt=THANKS_SALT, max_age=THANKS_MAX_AGE)
    except signing.BadSignature:
        return None
    return Receipt(str(data.get("n", ""))[:150], bool(data.get("c")))
