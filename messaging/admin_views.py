"""Messaging screens in the Wagtail admin: blasts (compose, preview, test, schedule, send,
pause, resume, cancel, progress and statistics), the outbox and sender identities.

Thin: access comes from the tenancy layer (another campaign's blast is a 404), every change
from `messaging.services.blasts`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from cocarde.tenancy.permissions import Capability, campaign_ids_for, campaigns_for, scope
from crm.models import Channel, Person
from crm.segments.selectors import segments_for
from messaging.forms import BlastForm, ScheduleForm, SenderForm, TestSendForm
from messaging.models import Blast, Delivery, OutboxMessage, SenderIdentity
from messaging.services import blasts as service
from messaging.services.senders import dns_records
from messaging.services.sms import sms_length

CAP = Capability.SEND_MESSAGES


def _base(title: str, icon: str = "mail", **context: Any) -> dict[str, Any]:
    return {"page_title": title, "header_title": title, "header_icon": icon, **context}


def _require_any(request: HttpRequest) -> None:
    ids = campaign_ids_for(request.user, CAP)
    if ids is not None and not ids:
        raise PermissionDenied


def _blasts(request: HttpRequest) -> QuerySet[Blast]:
    return scope(Blast.objects.select_related("campaign", "segment", "sender"), request.user, CAP)


def _blast(request: HttpRequest, pk: int) -> Blast:
    return get_object_or_404(_blasts(request), pk=pk)


def blast_list(request: HttpRequest) -> HttpResponse:
    _require_any(request)
    rows = _blasts(request).order_by("-created_at")
    page = Paginator(rows, 50).get_page(request.GET.get("p"))
    return render(request, "messaging/admin/list.html", _base(_("Blasts"), page=page))


def _form(request: HttpRequest, blast: Blast | None) -> BlastForm:
    campaigns = campaigns_for(request.user, CAP)
    return BlastForm(
        request.POST or None,
        instance=blast,
        campaigns=campaigns,
        segments=segments_for(request.user, Capability.VIEW_PEOPLE).filter(campaign__in=campaigns),
        senders=SenderIdentity.objects.filter(campaign__in=campaigns),
        initial={
            "variant_b_subject": _variant_b_subject(blast),
            # One campaign: chosen already.
            "campaign": campaigns.first() if blast is None and campaigns.count() == 1 else None,
        },
    )


def _variant_b_subject(blast: Blast | None) -> str:
    if blast is None or blast.pk is None:
        return ""
    variant = blast.variants.filter(key="B").first()
    return variant.subject if variant else ""


def blast_compose(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_any(request)
    blast = _blast(request, pk) if pk else None
    if blast is not None and not blast.editable:
        messages.error(request, _("A blast that has started can no longer be changed."))
        return redirect("messaging_blast", blast.pk)
    form = _form(request, blast)
    if request.method == "POST" and form.is_valid():
        saved: Blast = form.save(commit=False)
        if saved.segment is not None and saved.segment.campaign_id != saved.campaign_id:
            form.add_error("segment", _("The segment belongs to another campaign."))
        elif saved.sender is not None and saved.sender.campaign_id != saved.campaign_id:
            form.add_error("sender", _("This sender belongs to another campaign."))
        else:
            saved.blocks = form.blocks()
            try:
                service.save_blast(saved, actor=request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                subject_b = form.cleaned_data.get("variant_b_subject", "")
                if subject_b:
                    service.add_variant(saved, "A", actor=request.user, subject=saved.subject)
                    service.add_variant(saved, "B", actor=request.user, subject=subject_b)
                else:
                    saved.variants.all().delete()
                messages.success(request, _("Blast saved."))
                return redirect("messaging_blast", saved.pk)
    title = _("New blast") if blast is None else _("Edit %(name)s") % {"name": blast.name}
    return render(
        request,
        "messaging/admin/compose.html",
        _base(title, form=form, blast=blast, gsm_price=_sms_price()),
    )


def _sms_price() -> str:
    from django.conf import settings

    return str(settings.MESSAGING_SMS_PRICE_PER_SEGMENT)


def blast_detail(request: HttpRequest, pk: int) -> HttpResponse:
    blast = _blast(request, pk)
    stats = service.blast_stats(blast)
    chart = _chart(stats, blast)
    sms = sms_length(blast.sms_text) if blast.channel == Channel.SMS else None
    return render(
        request,
        "messaging/admin/detail.html",
        _base(
            blast.name,
            blast=blast,
            stats=stats,
            chart=chart,
            variants=service.variant_stats(blast),
            test_form=TestSendForm(),
            schedule_form=ScheduleForm(),
            sms=sms,
            dns=dns_records(blast.sender) if blast.sender else [],
            recent=Delivery.objects.filter(blast=blast).order_by("-id")[:20],
            sample=_sample(request, blast),
            refresh=blast.status == Blast.Status.SENDING,
        ),
    )


def _sample(request: HttpRequest, blast: Blast) -> list[Person]:
    """A few people of the audience, to preview the message as each of them would get it."""
    if blast.segment is None:
        return []
    from crm.segments.services import people_in

    return list(people_in(blast.segment, user=request.user).order_by("pk")[:5])


CHART_ROWS = [
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("opened", "Opened"),
    ("clicked", "Clicked"),
    ("bounced", "Bounced"),
    ("unsubscribed", "Unsubscribed"),
    ("complained", "Complaints"),
    ("suppressed", "Not sent (opted out)"),
]


def _chart(stats: dict[str, int], blast: Blast) -> list[dict[str, Any]]:
    labels = {
        "sent": _("Sent"),
        "delivered": _("Delivered"),
        "opened": _("Opened"),
        "clicked": _("Clicked"),
        "bounced": _("Bounced"),
        "unsubscribed": _("Unsubscribed"),
        "complained": _("Complaints"),
        "suppressed": _("Not sent (opted out)"),
    }
    total = max(stats.get("total") or 0, 1)
    rows = []
    for key, _label in CHART_ROWS:
        if key == "opened" and blast.channel == Channel.SMS:
            continue
        value = stats.get(key) or 0
        rows.append(
            {
                "key": key,
                "label": labels[key],
                "value": value,
                "width": round(100 * value / total, 1),
            }
        )
    return rows


@xframe_options_sameorigin
def blast_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The message as one recipient of the audience would see it (or with fallbacks)."""
    blast = _blast(request, pk)
    person = None
    if request.GET.get("person", "").isdigit():
        person = Person.objects.filter(
            campaign_attachments_exist(blast), pk=int(request.GET["person"])
        ).first()
        if person is None:
            raise Http404
    message = service.preview(blast, person)
    if blast.channel == Channel.SMS:
        return HttpResponse(message["text"], content_type="text/plain; charset=utf-8")
    return HttpResponse(message["html"])


def campaign_attachments_exist(blast: Blast) -> Any:
    from django.db.models import Exists, OuterRef

    from crm.models import CampaignAttachment

    return Exists(
        CampaignAttachment.objects.filter(person=OuterRef("pk"), campaign_id=blast.campaign_id)
    )


@require_POST
def blast_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    blast = _blast(request, pk)
    try:
        if action == "test":
            form = TestSendForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Give an address or a number."))
            outcome = service.test_send(blast, to=form.cleaned_data["to"], actor=request.user)
            if outcome.status == "sent":
                messages.success(request, _("Test sent."))
            else:
                messages.error(request, _("The test was not sent: %(e)s") % {"e": outcome.error})
        elif action == "send":
            if service.start_blast(blast.pk, actor=request.user):
                messages.success(request, _("Sending started."))
        elif action == "schedule":
            schedule = ScheduleForm(request.POST)
            if not schedule.is_valid():
                raise ValidationError(_("Give a date and time."))
            when = schedule.cleaned_data["when"]
            if timezone.is_naive(when):
                when = timezone.make_aware(when)
            service.schedule_blast(blast, when, actor=request.user)
            messages.success(request, _("Blast scheduled."))
        elif action == "pause":
            service.pause_blast(blast, actor=request.user)
        elif action == "resume":
            service.resume_blast(blast, actor=request.user)
        elif action == "cancel":
            service.cancel_blast(blast, actor=request.user)
        else:
            raise Http404
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("messaging_blast", blast.pk)


# --- outbox -------------------------------------------------------------------------------------


def _outbox(request: HttpRequest) -> QuerySet[OutboxMessage]:
    return scope(OutboxMessage.objects.all(), request.user, CAP).select_related("campaign")


def outbox_list(request: HttpRequest) -> HttpResponse:
    _require_any(request)
    page = Paginator(_outbox(request), 50).get_page(request.GET.get("p"))
    return render(request, "messaging/admin/outbox.html", _base(_("Outbox"), "mail", page=page))


def outbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(_outbox(request), pk=pk)
    return render(
        request,
        "messaging/admin/outbox_detail.html",
        _base(message.subject or message.to, "mail", message=message),
    )


# --- senders ------------------------------------------------------------------------------------


def sender_list(request: HttpRequest) -> HttpResponse:
    _require_any(request)
    campaigns = campaigns_for(request.user, CAP)
    form = SenderForm(request.POST or None, campaigns=campaigns)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Sender saved."))
        return redirect("messaging_senders")
    senders = [
        (s, dns_records(s))
        for s in SenderIdentity.objects.filter(campaign__in=campaigns).select_related("campaign")
    ]
    return render(
        request,
        "messaging/admin/senders.html",
        _base(_("Sender identities"), "user", senders=senders, form=form),
    )
