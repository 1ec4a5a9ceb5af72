"""The people list (filters, columns, pagination), its CSV/XLSX exports and bulk tagging."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cocarde.audit.services import record_event
from cocarde.tenancy.permissions import Capability, campaigns_for
from crm import selectors
from crm.exports import EXPORT_COLUMNS as EXPORT_TABLE_COLUMNS
from crm.exports import person_cell, write_xlsx
from crm.exports import table as export_table
from crm.forms import (
    COLUMNS,
    DEFAULT_COLUMNS,
    SENSITIVE_COLUMNS,
    ColumnsForm,
    PeopleFilterForm,
    TagForm,
)
from crm.models import (
    CampaignAttachment,
    Consent,
    EmailAddress,
    Person,
    PersonTag,
    PhoneNumber,
    StaffListPreference,
)
from crm.services import people as people_services
from crm.views.staff.access import (
    PAGE_SIZE,
    capability_campaign_ids,
    in_campaigns,
    page_context,
    require_any,
    visible_tags,
)


def _filtered_people(
    request: HttpRequest, capability: Capability
) -> tuple[Any, QuerySet[Person], bool]:
    user = request.user
    people = selectors.people_for(user, capability)
    sensitive_ids = capability_campaign_ids(user, Capability.VIEW_SENSITIVE)
    sensitive_anywhere = sensitive_ids is None or bool(sensitive_ids)
    form = PeopleFilterForm(
        request.GET or None,
        campaigns=campaigns_for(user, Capability.VIEW_PEOPLE),
        tags=visible_tags(user),
        sensitive=sensitive_anywhere,
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        people = selectors.search_people(people, data["q"])
        if data["campaign"]:
            people = people.filter(
                Exists(
                    CampaignAttachment.objects.filter(
                        person=OuterRef("pk"), campaign=data["campaign"]
                    )
                )
            )
        if data["tag"]:
            people = people.filter(
                Exists(PersonTag.objects.filter(person=OuterRef("pk"), tag=data["tag"]))
            )
        if data["member"] == "none":
            people = people.filter(member_status="")
        elif data["member"]:
            people = people.filter(member_status=data["member"])
        if data["email_consent"]:
            visible = capability_campaign_ids(user, Capability.VIEW_PEOPLE)
            consents = Consent.objects.filter(
                in_campaigns(visible, "campaign_id"),
                person=OuterRef("pk"),
                channel="email",
                withdrawn_at__isnull=True,
            ).filter(Q(confirmation_required=False) | Q(confirmed_at__isnull=False))
            people = people.filter(Exists(consents))
        # Opinion filters only match through campaigns where the user may see opinions.
        for name in ("supporter_status", "support_level"):
            if data.get(name) not in (None, ""):
                people = people.filter(**{name: data[name]})
                if sensitive_ids is not None:
                    people = people.filter(
                        Exists(
                            CampaignAttachment.objects.filter(
                                person=OuterRef("pk"), campaign_id__in=sensitive_ids
                            )
                        )
                    )
    return form, people, sensitive_anywhere


def _annotate_sensitive(people: QuerySet[Person], user: Any) -> QuerySet[Person]:
    ids = capability_campaign_ids(user, Capability.VIEW_SENSITIVE)
    if ids is None:
        return people.annotate(can_see_sensitive=Q(pk__isnull=False))
    return people.annotate(
        can_see_sensitive=Exists(
            CampaignAttachment.objects.filter(person=OuterRef("pk"), campaign_id__in=ids or [0])
        )
    )


def _with_contacts(people: QuerySet[Person], user: Any) -> QuerySet[Person]:
    return people.prefetch_related(
        Prefetch("emails", queryset=EmailAddress.objects.order_by("-is_primary", "id")),
        Prefetch("phones", queryset=PhoneNumber.objects.order_by("-is_primary", "id")),
        Prefetch(
            "person_tags",
            queryset=PersonTag.objects.filter(
                Q(tag__campaign__isnull=True)
                | in_campaigns(
                    capability_campaign_ids(user, Capability.VIEW_PEOPLE), "tag__campaign_id"
                )
            ).select_related("tag"),
        ),
    )


def _columns_for(request: HttpRequest, sensitive: bool) -> list[str]:
    preference = StaffListPreference.objects.filter(user=request.user).first()
    columns = list(preference.columns) if preference else list(DEFAULT_COLUMNS)
    columns = [c for c in columns if c in COLUMNS and (sensitive or c not in SENSITIVE_COLUMNS)]
    return columns or ["name"]


def _cell(person: Person, column: str) -> str:
    return person_cell(person, column)


def people_list(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Capability.VIEW_PEOPLE)
    form, people, sensitive = _filtered_people(request, Capability.VIEW_PEOPLE)
    if "columns" in request.GET:
        columns_form = ColumnsForm(request.GET, sensitive=sensitive)
        if columns_form.is_valid():
            StaffListPreference.objects.update_or_create(
                user=request.user, defaults={"columns": columns_form.cleaned_data["columns"]}
            )
    columns = _columns_for(request, sensitive)
    people = _with_contacts(_annotate_sensitive(people, request.user), request.user)
    page = Paginator(people.order_by("last_name_key", "first_names_key", "id"), PAGE_SIZE).get_page(
        request.GET.get("p")
    )
    rows = [
        {"person": person, "cells": [_cell(person, c) for c in columns]}
        for person in page.object_list
    ]
    query = request.GET.copy()
    query.pop("p", None)
    query.pop("columns", None)
    return render(
        request,
        "crm/admin/people_list.html",
        page_context(
            _("People"),
            "group",
            form=form,
            page=page,
            rows=rows,
            headers=[COLUMNS[c] for c in columns],
            columns_form=ColumnsForm(initial={"columns": columns}, sensitive=sensitive),
            query=query.urlencode(),
            can_export=bool(
                capability_campaign_ids(request.user, Capability.EXPORT_PEOPLE) is None
                or capability_campaign_ids(request.user, Capability.EXPORT_PEOPLE)
            ),
            can_edit=bool(
                capability_campaign_ids(request.user, Capability.EDIT_PEOPLE) is None
                or capability_campaign_ids(request.user, Capability.EDIT_PEOPLE)
            ),
        ),
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _export_rows(request: HttpRequest, people: QuerySet[Person], sensitive: bool) -> Any:
    """The export table (header first) of these people: the same columns in CSV and XLSX."""
    people = _with_contacts(_annotate_sensitive(people, request.user), request.user).order_by(
        "last_name_key", "first_names_key", "id"
    )
    columns = list(EXPORT_TABLE_COLUMNS)
    if sensitive:
        columns += ["supporter_status", "support_level"]
    return export_table(people.iterator(chunk_size=500), columns)


def people_csv_response(
    request: HttpRequest, people: QuerySet[Person], *, sensitive: bool, filename: str
) -> StreamingHttpResponse:
    """Stream people as CSV (semicolons, BOM for spreadsheets, formulas neutralised).
    Sensitive columns only when `sensitive`, and filled only for the people whose campaigns
    let this user see opinions. The caller checks the permission and writes the audit line."""
    writer = csv.writer(_Echo(), delimiter=";")

    def lines() -> Any:
        yield "\ufeff"
        for row in _export_rows(request, people, sensitive):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response


def people_export(request: HttpRequest) -> HttpResponse:
    """CSV of the filtered list, permission-gated and logged. Sensitive columns only for the
    people whose campaigns let this user see opinions."""
    require_any(request.user, Capability.EXPORT_PEOPLE)
    _form, people, sensitive = _filtered_people(request, Capability.EXPORT_PEOPLE)
    count = people.count()
    record_event(
        "crm.people.export",
        actor=request.user,
        data={"count": count, "filters": {k: v for k, v in request.GET.items() if k != "p"}},
        request=request,
    )
    return people_csv_response(request, people, sensitive=sensitive, filename="people")


def people_export_xlsx(request: HttpRequest) -> HttpResponse:
    """The same export as a spreadsheet (formulas neutralised, every cell text)."""
    import io

    require_any(request.user, Capability.EXPORT_PEOPLE)
    _form, people, sensitive = _filtered_people(request, Capability.EXPORT_PEOPLE)
    record_event(
        "crm.people.export",
        actor=request.user,
        data={
            "count": people.count(),
            "format": "xlsx",
            "filters": {k: v for k, v in request.GET.items() if k != "p"},
        },
        request=request,
    )
    buffer = io.BytesIO()
    write_xlsx(_export_rows(request, people, sensitive), buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="people-{stamp}.xlsx"'
    return response


@require_POST
def people_bulk_tag(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Capability.EDIT_PEOPLE)
    ids = [int(i) for i in request.POST.getlist("person") if i.isdigit()]
    people = selectors.people_for(request.user, Capability.EDIT_PEOPLE).filter(pk__in=ids)
    form = TagForm(
        request.POST,
        campaigns=campaigns_for(request.user, Capability.EDIT_PEOPLE),
        national=capability_campaign_ids(request.user, Capability.EDIT_PEOPLE) is None,
    )
    if not form.is_valid() or not people:
        messages.error(request, _("Choose people and a tag."))
        return redirect(reverse("crm_people"))
    names = [n for n in form.cleaned_data["tags"].split(",") if n.strip()]
    for person in people:
        people_services.add_tags(
            person, names, campaign=form.cleaned_data["campaign"], actor=request.user
        )
    messages.success(request, _("Tagged %(count)s people.") % {"count": len(people)})
    return redirect(reverse("crm_people"))
