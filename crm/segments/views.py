"""Segment screens in the Wagtail admin: list, filter builder with a live count, detail with
freeze, split, export and batch actions. Thin: access comes from the tenancy layer, every
change from `crm.segments.services`. Another campaign's segment answers 404."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cocarde.tenancy.models import Campaign, StaffRole
from cocarde.tenancy.permissions import Capability, campaign_ids_for, campaigns_for, can
from crm.models import Person, Segment, Tag
from crm.segments import services
from crm.segments.errors import CriteriaError
from crm.segments.forms import BatchForm, FreezeForm, SegmentForm, SplitForm
from crm.segments.selectors import get_segment_for, segments_for
from crm.segments.tasks import bulk_segment_batch
from crm.views.staff import people_csv_response

PAGE_SIZE = 50


def batch_inline_limit() -> int:
    """Batch actions on more people than this run in the background (Celery), after commit."""
    return int(getattr(settings, "CRM_SEGMENT_BATCH_INLINE_LIMIT", 20_000))


def _base(title: str, icon: str = "crosshairs", **context: Any) -> dict[str, Any]:
    return {"page_title": title, "header_title": title, "header_icon": icon, **context}


def _require_any(user: Any, capability: Capability) -> None:
    ids = campaign_ids_for(user, capability)
    if ids is not None and not ids:
        raise PermissionDenied


def _editable_segment(request: HttpRequest, pk: int) -> Segment:
    """Visible but not editable is a 403; invisible is a 404."""
    segment = get_segment_for(request.user, pk)
    if not can(request.user, Capability.EDIT_PEOPLE, segment.campaign_id):
        raise PermissionDenied
    return segment


def _problems(error: CriteriaError) -> list[dict[str, str]]:
    return [{"path": p.path, "message": p.message} for p in error.problems]


# --- list ---------------------------------------------------------------------------------------


def segment_list(request: HttpRequest) -> HttpResponse:
    _require_any(request.user, Capability.VIEW_PEOPLE)
    segments = segments_for(request.user)
    kind = request.GET.get("kind", "")
    if kind in Segment.Kind.values:
        segments = segments.filter(kind=kind)
    campaign_id = request.GET.get("campaign", "")
    if campaign_id.isdigit():
        segments = segments.filter(campaign_id=int(campaign_id))
    page = Paginator(segments.select_related("created_by"), PAGE_SIZE).get_page(
        request.GET.get("p")
    )
    edit_ids = campaign_ids_for(request.user, Capability.EDIT_PEOPLE)
    return render(
        request,
        "crm/segments/list.html",
        _base(
            _("Segments"),
            page=page,
            kinds=Segment.Kind.choices,
            kind=kind,
            campaigns=campaigns_for(request.user, Capability.VIEW_PEOPLE),
            campaign_id=campaign_id,
            can_create=edit_ids is None or bool(edit_ids),
        ),
    )


# --- builder ------------------------------------------------------------------------------------


def _builder(request: HttpRequest, segment: Segment | None) -> HttpResponse:
    user = request.user
    campaigns = campaigns_for(user, Capability.VIEW_PEOPLE)
    if segment is not None:
        campaign = segment.campaign
    else:
        chosen = request.POST.get("campaign") or request.GET.get("campaign")
        campaign = (
            get_object_or_404(campaigns, pk=chosen)
            if chosen and str(chosen).isdigit()
            else campaigns.order_by("kind", "name").first()
        )
        if campaign is None:
            raise PermissionDenied
    can_save = can(user, Capability.EDIT_PEOPLE, campaign)
    initial_criteria = segment.criteria if segment is not None else None
    form = SegmentForm(
        request.POST or None,
        campaigns=campaigns if segment is None else Campaign.objects.filter(pk=campaign.pk),
        initial={
            "name": segment.name if segment else "",
            "description": segment.description if segment else "",
            "campaign": campaign.pk,
        },
    )
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        if not can_save:
            raise PermissionDenied
        criteria = request.POST.get("criteria") or "{}"
        try:
            tree = json.loads(criteria)
        except ValueError:
            tree = None
            form.add_error(None, _("The criteria could not be read."))
        initial_criteria = tree
        if form.is_valid() and tree is not None:
            try:
                if segment is None:
                    saved = services.create_segment(
                        actor=user,
                        campaign=campaign,
                        name=form.cleaned_data["name"],
                        description=form.cleaned_data["description"],
                        criteria=tree,
                    )
                else:
                    saved = services.update_segment(
                        segment,
                        actor=user,
                        name=form.cleaned_data["name"],
                        description=form.cleaned_data["description"],
                        criteria=tree,
                    )
            except CriteriaError as error:
                errors = _problems(error)
                form.add_error(None, _("Some criteria need attention."))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Segment saved."))
                return redirect(reverse("crm_segment", args=[saved.pk]))
    catalogue = services.catalogue(user=user, campaign=campaign, segment=segment)
    labels = {
        "and": _("All of these (AND)"),
        "or": _("Any of these (OR)"),
        "combine": _("Combine"),
        "exclude": _("Exclude (NOT)"),
        "add_criterion": _("+ Criterion"),
        "add_group": _("+ Group"),
        "remove": _("Remove"),
        "criterion": _("Criterion"),
        "choose": _("Choose a criterion…"),
        "counting": _("Counting…"),
        "error": _("The count failed; try again."),
        "nobody": _("Nobody matches."),
        "any": "—",
        "yes": _("yes"),
        "no": _("no"),
        "lat": _("latitude"),
        "lon": _("longitude"),
        "suggestions": _("Add from the list…"),
        "polygon_help": _("One point per line: latitude, longitude"),
    }
    title = _("New segment") if segment is None else _("Edit %(name)s") % {"name": segment.name}
    return render(
        request,
        "crm/segments/builder.html",
        _base(
            title,
            form=form,
            segment=segment,
            campaign=campaign,
            can_save=can_save,
            labels=labels,
            builder={
                "catalogue": catalogue,
                "criteria": initial_criteria or {"op": "and", "children": []},
                "errors": errors,
                "preview_url": reverse("crm_segment_preview"),
                "campaign": campaign.pk,
                "segment": segment.pk if segment else None,
            },
        ),
    )


def segment_new(request: HttpRequest) -> HttpResponse:
    _require_any(request.user, Capability.VIEW_PEOPLE)
    return _builder(request, None)


def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _editable_segment(request, pk)
    if segment.is_static:
        return redirect(reverse("crm_segment", args=[segment.pk]))
    return _builder(request, segment)


def _sample_rows(people: list[Person]) -> list[dict[str, Any]]:
    return [
        {
            "id": person.pk,
            "name": person.display_name or _("(no name)"),
            "commune": " ".join(p for p in (person.postcode, person.commune_name) if p),
            "url": reverse("crm_person", args=[person.pk]),
        }
        for person in people
    ]


@require_POST
def segment_preview(request: HttpRequest) -> JsonResponse:
    """The live count: {"count", "count_display", "sample", "description"}, or
    {"count": null, "errors": [{"path", "message"}]} while the criteria are not valid."""
    _require_any(request.user, Capability.VIEW_PEOPLE)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse(
            {"errors": [{"path": "", "message": _("Unreadable request.")}]}, status=400
        )
    if not isinstance(body, dict):
        return JsonResponse(
            {"errors": [{"path": "", "message": _("Unreadable request.")}]}, status=400
        )
    campaign = get_object_or_404(
        campaigns_for(request.user, Capability.VIEW_PEOPLE), pk=_int(body.get("campaign"))
    )
    segment = None
    if body.get("segment"):
        segment = get_object_or_404(
            segments_for(request.user, campaign=campaign), pk=_int(body["segment"])
        )
    try:
        preview = services.preview(
            body.get("criteria"), user=request.user, campaign=campaign, segment=segment
        )
    except CriteriaError as error:
        # A tree being built is often incomplete: an answer, not a failed request.
        return JsonResponse({"count": None, "errors": _problems(error)})
    except services.PreviewTooSlow:
        return JsonResponse(
            {
                "errors": [
                    {"path": "", "message": _("Counting took too long: narrow the criteria.")}
                ]
            },
            status=503,
        )
    return JsonResponse(
        {
            "count": preview.count,
            "count_display": ngettext("%(n)s person", "%(n)s people", preview.count)
            % {"n": number_format(preview.count, force_grouping=True)},
            "sample": _sample_rows(preview.sample),
            "description": services.describe(
                preview.criteria, campaign=campaign, user=request.user
            ),
        }
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# --- detail and actions -------------------------------------------------------------------------


def _team(campaign: Campaign) -> list[tuple[Any, str]]:
    roles = StaffRole.objects.filter(campaign=campaign).exclude(role=StaffRole.Role.CANVASSER)
    users = {}
    for role in roles.select_related("user"):
        user = role.user
        users[user.pk] = user.get_full_name() or user.email
    return sorted(users.items(), key=lambda kv: kv[1])


def _batch_form(segment: Segment, data: Any = None) -> BatchForm:
    tags: QuerySet[Tag] = Tag.objects.filter(
        Q(campaign=segment.campaign) | Q(campaign__isnull=True)
        if segment.campaign.is_national
        else Q(campaign=segment.campaign)
    )
    lists = Segment.objects.filter(campaign=segment.campaign, kind=Segment.Kind.STATIC).exclude(
        pk=segment.pk
    )
    return BatchForm(data, tags=tags, lists=lists, team=_team(segment.campaign))


def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_segment_for(request.user, pk)
    user = request.user
    people = services.people_in(segment, user=user)
    total = services.count(segment, user=user)
    sample = services.sample(people) if total else []
    can_edit = can(user, Capability.EDIT_PEOPLE, segment.campaign_id)
    return render(
        request,
        "crm/segments/detail.html",
        _base(
            segment.name,
            segment=segment,
            total=total,
            sample=_sample_rows(sample),
            description=services.describe(
                segment.criteria or {}, campaign=segment.campaign, user=user
            ),
            can_edit=can_edit,
            can_export=can(user, Capability.EXPORT_PEOPLE, segment.campaign_id),
            freeze_form=FreezeForm(),
            split_form=SplitForm(),
            batch_form=_batch_form(segment) if can_edit else None,
            derived=segment.derived.all()[:20],
        ),
    )


@require_POST
def segment_freeze(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _editable_segment(request, pk)
    form = FreezeForm(request.POST)
    if form.is_valid():
        static = services.freeze(
            segment, actor=request.user, name=form.cleaned_data["name"] or None
        )
        messages.success(
            request,
            ngettext(
                "Frozen: %(n)s person in the list.", "Frozen: %(n)s people in the list.",
                static.last_count or 0,
            ) % {"n": static.last_count},
        )  # fmt: skip
        return redirect(reverse("crm_segment", args=[static.pk]))
    messages.error(request, _("Check the name of the list."))
    return redirect(reverse("crm_segment", args=[segment.pk]))


@require_POST
def segment_split(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _editable_segment(request, pk)
    form = SplitForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("parts", [_("Check the parts.")])))
        return redirect(reverse("crm_segment", args=[segment.pk]))
    try:
        lists = services.split(
            segment,
            actor=request.user,
            parts=form.cleaned_data["parts"],
            seed=form.cleaned_data["seed"] or None,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Split into %(parts)s lists: %(sizes)s.")
            % {
                "parts": len(lists),
                "sizes": ", ".join(f"{s.name} ({s.last_count})" for s in lists),
            },
        )
    return redirect(reverse("crm_segment", args=[segment.pk]))


def segment_export(request: HttpRequest, pk: int) -> HttpResponse:
    """CSV of the segment's people: permission-gated (export right on the segment's campaign)
    and logged (who, which segment, how many)."""
    segment = get_segment_for(request.user, pk)
    if not can(request.user, Capability.EXPORT_PEOPLE, segment.campaign_id):
        raise PermissionDenied
    people = services.people_in(segment, user=request.user, capability=Capability.EXPORT_PEOPLE)
    services.record_export(segment, actor=request.user, count=people.count(), request=request)
    return people_csv_response(
        request,
        people,
        sensitive=can(request.user, Capability.VIEW_SENSITIVE, segment.campaign_id),
        filename=f"segment-{segment.pk}",
    )


@require_POST
def segment_batch(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _editable_segment(request, pk)
    form = _batch_form(segment, request.POST)
    back = redirect(reverse("crm_segment", args=[segment.pk]))
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return back
    data = form.cleaned_data
    payload: dict[str, Any] = {}
    if data["action"] == "tag":
        payload["names"] = [n for n in data["tags"].split(",") if n.strip()]
    elif data["action"] == "untag":
        payload["tag"] = data["tag"].pk
    elif data["action"] == "list":
        target = data["target"] or services.create_list(
            actor=request.user, campaign=segment.campaign, name=data["new_list"], source=segment
        )
        payload["target"] = target.pk
    else:
        payload["point_person"] = int(data["point_person"]) if data["point_person"] else None
    size = services.people_in(segment, user=request.user, capability=Capability.EDIT_PEOPLE).count()
    if size > batch_inline_limit():
        transaction.on_commit(
            lambda: bulk_segment_batch.delay(segment.pk, data["action"], request.user.pk, payload)
        )
        messages.success(
            request,
            _("%(n)s people: the action runs in the background and shows in their timelines.")
            % {"n": number_format(size, force_grouping=True)},
        )
        return back
    try:
        changed = services.apply_batch(segment, data["action"], actor=request.user, **payload)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            ngettext("Done: %(n)s person changed.", "Done: %(n)s people changed.", changed)
            % {"n": changed},
        )
    return back


@require_POST
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _editable_segment(request, pk)
    try:
        services.delete_segment(segment, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(reverse("crm_segment", args=[segment.pk]))
    messages.success(request, _("Segment deleted."))
    return redirect(reverse("crm_segments"))
