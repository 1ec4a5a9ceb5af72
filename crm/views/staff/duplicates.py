"""The review queue of likely duplicates, merges and their undo."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cocarde.tenancy.permissions import Capability
from crm import selectors
from crm.models import (
    DuplicateCandidate,
    MergeRecord,
)
from crm.services import merge as merge_services
from crm.views.staff.access import (
    PAGE_SIZE,
    page_context,
    require_any,
    sees_sensitive,
)
from crm.views.staff.person import editable_person


def person_merge(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    # Both must be visible (404 otherwise) before asking whether they may be edited (403).
    selectors.get_person_for(request.user, pk)
    selectors.get_person_for(request.user, other_pk)
    survivor = editable_person(request, pk)
    merged = editable_person(request, other_pk)
    if survivor.pk == merged.pk:
        raise Http404
    if not (sees_sensitive(request.user, survivor) and sees_sensitive(request.user, merged)):
        raise PermissionDenied  # a merge shows and moves opinions
    preview = merge_services.merge_preview(survivor, merged)
    if request.method == "POST":
        choices = {
            row["field"]: request.POST.get(f"choice_{row['field']}", row["default"])
            for row in preview
        }
        try:
            record = merge_services.merge_people(
                survivor, merged, actor=request.user, choices=choices
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Records merged. You can undo it from the merge history."))
            return redirect(reverse("crm_person", args=[record.survivor_id]))
    return render(
        request,
        "crm/admin/person_merge.html",
        page_context(_("Merge two records"), survivor=survivor, merged=merged, preview=preview),
    )


def duplicates(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Capability.EDIT_PEOPLE)
    editable = selectors.people_for(request.user, Capability.EDIT_PEOPLE)
    pairs = DuplicateCandidate.objects.filter(
        status=DuplicateCandidate.Status.OPEN,
        person_a__in=editable.values("pk"),
        person_b__in=editable.values("pk"),
    ).select_related("person_a", "person_b")
    page = Paginator(pairs, PAGE_SIZE).get_page(request.GET.get("p"))
    return render(
        request,
        "crm/admin/duplicates.html",
        page_context(_("Possible duplicates"), "resubmit", page=page),
    )


def _pair_for(request: HttpRequest, pk: int) -> DuplicateCandidate:
    editable = selectors.people_for(request.user, Capability.EDIT_PEOPLE)
    return get_object_or_404(
        DuplicateCandidate.objects.filter(
            person_a__in=editable.values("pk"), person_b__in=editable.values("pk")
        ),
        pk=pk,
    )


@require_POST
def duplicate_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    merge_services.dismiss_duplicate(_pair_for(request, pk), actor=request.user)
    return redirect(reverse("crm_duplicates"))


def merges(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Capability.EDIT_PEOPLE)
    editable = selectors.people_for(request.user, Capability.EDIT_PEOPLE)
    records = MergeRecord.objects.filter(survivor__in=editable.values("pk")).select_related(
        "survivor", "merged_by"
    )
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("p"))
    return render(
        request, "crm/admin/merges.html", page_context(_("Merge history"), "history", page=page)
    )


@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    editable = selectors.people_for(request.user, Capability.EDIT_PEOPLE)
    record = get_object_or_404(
        MergeRecord.objects.filter(survivor__in=editable.values("pk")), pk=pk
    )
    try:
        restored = merge_services.undo_merge(record, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(reverse("crm_merges"))
    messages.success(request, _("Merge undone: both records are back."))
    return redirect(reverse("crm_person", args=[restored.pk]))
