"""Import screens in the Wagtail admin: list, upload, mapping, dry run, run with a progress bar,
per-row report, undo. Thin: everything goes through `crm.imports.services`. Imports of another
campaign answer 404."""

from __future__ import annotations

from itertools import islice
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cocarde.audit.services import record_event
from cocarde.tenancy.permissions import Capability, campaign_ids_for, campaigns_for, scope
from crm.imports import services
from crm.imports.columns import field_label
from crm.imports.formats import ImportRefused, iter_rows, sniff
from crm.imports.forms import MappingForm, UploadForm
from crm.models import ImportFormat, ImportRun

Status = ImportRun.Status


def _runs(user: Any) -> QuerySet[ImportRun]:
    ids = campaign_ids_for(user, Capability.IMPORT_PEOPLE)
    if ids is not None and not ids:
        raise PermissionDenied
    return scope(ImportRun.objects.all(), user, Capability.IMPORT_PEOPLE).select_related(
        "campaign", "created_by"
    )


def _run(request: HttpRequest, pk: int) -> ImportRun:
    return get_object_or_404(_runs(request.user), pk=pk)


def _base(title: str, **context: Any) -> dict[str, Any]:
    return {"page_title": title, "header_title": title, "header_icon": "upload", **context}


def import_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(_runs(request.user), 50).get_page(request.GET.get("p"))
    return render(request, "crm/admin/imports/list.html", _base(_("Imports"), page=page))


def import_new(request: HttpRequest) -> HttpResponse:
    _runs(request.user)
    campaigns = campaigns_for(request.user, Capability.IMPORT_PEOPLE)
    form = UploadForm(request.POST or None, request.FILES or None, campaigns=campaigns)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        try:
            run = services.create_import(
                actor=request.user,
                campaign=data["campaign"],
                file=upload,
                original_name=upload.name,
                requested_format=data["requested_format"],
                legal_basis=data["legal_basis"],
                tags=form.tag_list(),
                consent_channels=data["consent_channels"],
                consent_text=data["consent_text"],
                external_id_source=data["external_id_source"],
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if run.detected_format == ImportFormat.TABLE:
                return redirect(reverse("crm_import_mapping", args=[run.pk]))
            return redirect(reverse("crm_import", args=[run.pk]))
    return render(request, "crm/admin/imports/new.html", _base(_("New import"), form=form))


def _samples(run: ImportRun, count: int = 3) -> list[list[str]]:
    try:
        info = sniff(run.file.path, run.original_name)
        return [
            cells
            for _line, cells in islice(iter_rows(run.file.path, info), count)
            if isinstance(cells, list)
        ]
    except (ImportRefused, OSError):
        return []


def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    if run.detected_format != ImportFormat.TABLE:
        return redirect(reverse("crm_import", args=[run.pk]))
    initial = {f"col_{i}": f for i, f in run.mapping.items()}
    form = MappingForm(
        request.POST or None, initial=initial, headers=run.headers, samples=_samples(run)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.set_mapping(
                run, form.mapping(), actor=request.user, save_as=form.cleaned_data["save_as"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(reverse("crm_import", args=[run.pk]))
    return render(
        request,
        "crm/admin/imports/mapping.html",
        _base(_("Columns of %(name)s") % {"name": run.original_name}, run=run, form=form),
    )


def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    mapped = [
        (run.headers[int(i)] if int(i) < len(run.headers) else i, field_label(f))
        for i, f in sorted(run.mapping.items(), key=lambda item: int(item[0]))
    ]
    undoable = run.status == Status.DONE
    undo_blocked = ""
    if undoable:
        try:
            services.check_undoable(run)
        except ValidationError as error:
            undo_blocked = " ".join(error.messages)
    return render(
        request,
        "crm/admin/imports/detail.html",
        _base(
            str(run),
            run=run,
            mapped=mapped,
            progress=services.progress(run),
            errors=run.row_errors.all()[:50],
            undoable=undoable,
            undo_blocked=undo_blocked,
            working=run.status in (Status.QUEUED, Status.RUNNING, Status.CHECKING, Status.UNDOING),
        ),
    )


def import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(services.progress(_run(request, pk)))


def _act(request: HttpRequest, pk: int, action: Any, success: str) -> HttpResponse:
    run = _run(request, pk)
    try:
        action(run)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success)
    return redirect(reverse("crm_import", args=[run.pk]))


@require_POST
def import_check(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda run: services.start_import(run, actor=request.user, dry_run=True),
        _("Dry run started: nothing is written."),
    )


@require_POST
def import_start(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda run: services.start_import(run, actor=request.user),
        _("Import started."),
    )


@require_POST
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda run: services.start_undo(run, actor=request.user),
        _("Undo started: the people this import created will be removed."),
    )


def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    record_event("crm.import.report", actor=request.user, campaign=run.campaign, target=run)
    response = HttpResponse(services.report_csv(run), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-report.csv"'
    return response
