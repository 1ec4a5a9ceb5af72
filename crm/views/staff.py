"""Staff screens in the Wagtail admin: people list, profile, edit, tag, notes, merge, review
queue, exports, erasure, retention. Thin: access comes from `crm.selectors` (tenancy), changes
from `crm.services`. Another campaign's person answers 404 everywhere."""

from __future__ import annotations

import csv
import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cocarde.audit.services import record_event
from cocarde.tenancy.permissions import Capability, campaign_ids_for, campaigns_for, can
from crm import selectors
from crm.exports import EXPORT_COLUMNS as EXPORT_TABLE_COLUMNS
from crm.exports import person_cell, write_xlsx
from crm.exports import table as export_table
from crm.forms import (
    COLUMNS,
    DEFAULT_COLUMNS,
    SENSITIVE_COLUMNS,
    ColumnsForm,
    NewPersonForm,
    NoteForm,
    PeopleFilterForm,
    PersonForm,
    TagForm,
    WithdrawForm,
    custom_field_form,
)
from crm.models import (
    ActionType,
    CampaignAttachment,
    Consent,
    CustomField,
    CustomFieldValue,
    DuplicateCandidate,
    EmailAddress,
    MergeRecord,
    Note,
    Person,
    PersonTag,
    PhoneNumber,
    RetentionRule,
    StaffListPreference,
    Tag,
)
from crm.models.activity import SENSITIVE_ACTION_TYPES
from crm.services import gdpr as gdpr_services
from crm.services import merge as merge_services
from crm.services import people as people_services
from crm.services import retention as retention_services
from crm.services.consent import withdraw_consent

PAGE_SIZE = 50


# --- access helpers ---------------------------------------------------------------------------


def _ids(user: Any, capability: Capability) -> set[int] | None:
    return campaign_ids_for(user, capability)


ALL = ~Q(pk__in=[])  # always true; unlike Q(), it survives being OR-ed with another Q


def _in(ids: set[int] | None, field: str) -> Q:
    """Rows whose campaign is one of `ids` (None: all)."""
    return ALL if ids is None else Q(**{f"{field}__in": ids})


def _sensitive_for(user: Any, person: Person) -> bool:
    ids = _ids(user, Capability.VIEW_SENSITIVE)
    if ids is None:
        return True
    return person.attachments.filter(campaign_id__in=ids).exists()


def _require_any(user: Any, capability: Capability) -> None:
    ids = _ids(user, capability)
    if ids is not None and not ids:
        raise PermissionDenied


def _visible_tags(user: Any) -> QuerySet[Tag]:
    ids = _ids(user, Capability.VIEW_PEOPLE)
    return Tag.objects.filter(Q(campaign__isnull=True) | _in(ids, "campaign_id"))


def _base(title: str, icon: str = "user", **context: Any) -> dict[str, Any]:
    return {"page_title": title, "header_title": title, "header_icon": icon, **context}


# --- list, export ---------------------------------------------------------------------------


def _filtered_people(
    request: HttpRequest, capability: Capability
) -> tuple[Any, QuerySet[Person], bool]:
    user = request.user
    people = selectors.people_for(user, capability)
    sensitive_ids = _ids(user, Capability.VIEW_SENSITIVE)
    sensitive_anywhere = sensitive_ids is None or bool(sensitive_ids)
    form = PeopleFilterForm(
        request.GET or None,
        campaigns=campaigns_for(user, Capability.VIEW_PEOPLE),
        tags=_visible_tags(user),
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
            visible = _ids(user, Capability.VIEW_PEOPLE)
            consents = Consent.objects.filter(
                _in(visible, "campaign_id"),
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
    ids = _ids(user, Capability.VIEW_SENSITIVE)
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
                | _in(_ids(user, Capability.VIEW_PEOPLE), "tag__campaign_id")
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
    _require_any(request.user, Capability.VIEW_PEOPLE)
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
        _base(
            _("People"),
            "group",
            form=form,
            page=page,
            rows=rows,
            headers=[COLUMNS[c] for c in columns],
            columns_form=ColumnsForm(initial={"columns": columns}, sensitive=sensitive),
            query=query.urlencode(),
            can_export=bool(
                _ids(request.user, Capability.EXPORT_PEOPLE) is None
                or _ids(request.user, Capability.EXPORT_PEOPLE)
            ),
            can_edit=bool(
                _ids(request.user, Capability.EDIT_PEOPLE) is None
                or _ids(request.user, Capability.EDIT_PEOPLE)
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
    _require_any(request.user, Capability.EXPORT_PEOPLE)
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

    _require_any(request.user, Capability.EXPORT_PEOPLE)
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
    _require_any(request.user, Capability.EDIT_PEOPLE)
    ids = [int(i) for i in request.POST.getlist("person") if i.isdigit()]
    people = selectors.people_for(request.user, Capability.EDIT_PEOPLE).filter(pk__in=ids)
    form = TagForm(
        request.POST,
        campaigns=campaigns_for(request.user, Capability.EDIT_PEOPLE),
        national=_ids(request.user, Capability.EDIT_PEOPLE) is None,
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


def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = selectors.get_person_for(user, pk)
    visible = _ids(user, Capability.VIEW_PEOPLE)
    sensitive = _sensitive_for(user, person)
    sensitive_ids = _ids(user, Capability.VIEW_SENSITIVE)
    timeline = person.actions.filter(Q(campaign__isnull=True) | _in(visible, "campaign_id"))
    if not sensitive:
        timeline = timeline.exclude(type__in=SENSITIVE_ACTION_TYPES)
    elif sensitive_ids is not None:
        timeline = timeline.exclude(
            Q(type__in=SENSITIVE_ACTION_TYPES) & ~Q(campaign_id__in=sensitive_ids)
        )
    type_filter = request.GET.get("type", "")
    if type_filter:
        timeline = timeline.filter(type=type_filter)
    consents = person.consents.filter(_in(visible, "campaign_id")).select_related(
        "text", "campaign"
    )
    notes = (
        Note.objects.filter(person=person)
        .filter(_in(sensitive_ids, "campaign_id"))
        .select_related("author", "campaign")
        if sensitive
        else Note.objects.none()
    )
    fields = CustomField.objects.filter(Q(campaign__isnull=True) | _in(visible, "campaign_id"))
    if not sensitive:
        fields = fields.filter(is_sensitive=False)
    values = {
        v.field_id: v for v in CustomFieldValue.objects.filter(person=person, field__in=fields)
    }
    household = (
        selectors.people_for(user).filter(address_key=person.address_key).exclude(pk=person.pk)[:20]
        if person.address_key
        else []
    )
    can_edit = can_edit_person(user, person)
    edit_campaigns = (
        campaigns_for(user, Capability.EDIT_PEOPLE)
        .filter(person_attachments__person=person)
        .distinct()
    )
    record_event("crm.person.view", actor=user, target=person, request=request)
    return render(
        request,
        "crm/admin/person_detail.html",
        _base(
            person.display_name or _("Person #%(id)s") % {"id": person.pk},
            person=person,
            sensitive=sensitive,
            emails=person.emails.all(),
            phones=person.phones.all(),
            tags=person.person_tags.filter(
                Q(tag__campaign__isnull=True) | _in(visible, "tag__campaign_id")
            ).select_related("tag", "tag__campaign"),
            attachments=person.attachments.filter(_in(visible, "campaign_id")).select_related(
                "campaign"
            ),
            consents=consents,
            custom_fields=[(f, values.get(f.pk)) for f in fields],
            timeline=timeline.select_related("campaign", "actor")[:200],
            action_types=ActionType.choices,
            type_filter=type_filter,
            notes=notes,
            household=household,
            external_ids=person.external_ids.filter(
                Q(campaign__isnull=True) | _in(visible, "campaign_id")
            ),
            registrations=person.registrations.all(),
            can_edit=can_edit,
            can_export=bool(_export_allowed(user, person)),
            can_erase=can_erase_person(user, person),
            tag_form=TagForm(
                campaigns=edit_campaigns, national=_ids(user, Capability.EDIT_PEOPLE) is None
            ),
            note_form=NoteForm(campaigns=edit_campaigns) if sensitive else None,
            withdraw_form=WithdrawForm(campaigns=edit_campaigns),
            merges=MergeRecord.objects.filter(survivor=person),
        ),
    )


def can_edit_person(user: Any, person: Person) -> bool:
    return selectors.people_for(user, Capability.EDIT_PEOPLE).filter(pk=person.pk).exists()


def _export_allowed(user: Any, person: Person) -> bool:
    return selectors.people_for(user, Capability.EXPORT_PEOPLE).filter(pk=person.pk).exists()


def can_erase_person(user: Any, person: Person) -> bool:
    """Erasure touches every campaign's data: the user must manage all of them."""
    ids = _ids(user, Capability.MANAGE_CAMPAIGN)
    if ids is None:
        return True
    campaigns = set(person.attachments.values_list("campaign_id", flat=True))
    return bool(campaigns) and campaigns <= ids


def _editable(request: HttpRequest, pk: int) -> Person:
    # Visible but not editable is a 403; invisible is a 404 (never confirm it exists).
    person = selectors.get_person_for(request.user, pk)
    if not can_edit_person(request.user, person):
        raise PermissionDenied
    return person


def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable(request, pk)
    sensitive = _sensitive_for(request.user, person)
    visible = _ids(request.user, Capability.VIEW_PEOPLE)
    fields_qs = CustomField.objects.filter(Q(campaign__isnull=True) | _in(visible, "campaign_id"))
    if not sensitive:
        fields_qs = fields_qs.filter(is_sensitive=False)
    fields = list(fields_qs)
    current = {v.field.key: v.value for v in person.custom_values.select_related("field")}
    CustomForm = custom_field_form(fields, current)
    if request.method == "POST":
        form = PersonForm(
            request.POST,
            sensitive=sensitive,
            point_people=selectors.point_person_choices(request.user),
        )
        custom_form = CustomForm(request.POST)
        if form.is_valid() and custom_form.is_valid():
            try:
                people_services.update_person(person, actor=request.user, **form.changes())
                people_services.set_custom_values(
                    person,
                    {f: custom_form.cleaned_data[f"cf_{f.pk}"] for f in fields},
                    actor=request.user,
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Saved."))
                return redirect(reverse("crm_person", args=[person.pk]))
    else:
        form = PersonForm(
            initial=PersonForm.initial_for(person),
            sensitive=sensitive,
            point_people=selectors.point_person_choices(request.user),
        )
        custom_form = CustomForm()
    return render(
        request,
        "crm/admin/person_form.html",
        _base(
            _("Edit %(name)s") % {"name": person}, person=person, form=form, custom_form=custom_form
        ),
    )


def person_new(request: HttpRequest) -> HttpResponse:
    _require_any(request.user, Capability.EDIT_PEOPLE)
    campaigns = campaigns_for(request.user, Capability.EDIT_PEOPLE)
    sensitive = bool(
        _ids(request.user, Capability.VIEW_SENSITIVE) is None
        or _ids(request.user, Capability.VIEW_SENSITIVE)
    )
    form = NewPersonForm(
        request.POST or None,
        campaigns=campaigns,
        sensitive=sensitive,
        point_people=selectors.point_person_choices(request.user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.changes()
        campaign = data.pop("campaign")
        if not can(request.user, Capability.VIEW_SENSITIVE, campaign):
            data.pop("supporter_status", None)
            data.pop("support_level", None)
        try:
            person = people_services.create_person(
                actor=request.user, campaign=campaign, source=_("Added by staff"), **data
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            from crm.services.matching import flag_duplicates

            flag_duplicates(person)
            messages.success(request, _("Person added."))
            return redirect(reverse("crm_person", args=[person.pk]))
    return render(request, "crm/admin/person_form.html", _base(_("Add a person"), form=form))


@require_POST
def person_tag(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable(request, pk)
    form = TagForm(
        request.POST,
        campaigns=campaigns_for(request.user, Capability.EDIT_PEOPLE),
        national=_ids(request.user, Capability.EDIT_PEOPLE) is None,
    )
    if form.is_valid():
        names = [n for n in form.cleaned_data["tags"].split(",") if n.strip()]
        people_services.add_tags(
            person, names, campaign=form.cleaned_data["campaign"], actor=request.user
        )
    else:
        messages.error(request, _("Give a tag and a campaign."))
    return redirect(reverse("crm_person", args=[person.pk]))


@require_POST
def person_untag(request: HttpRequest, pk: int, tag_id: int) -> HttpResponse:
    person = _editable(request, pk)
    tag = get_object_or_404(_visible_tags(request.user), pk=tag_id)
    if tag.campaign_id is None and _ids(request.user, Capability.EDIT_PEOPLE) is not None:
        raise PermissionDenied
    if tag.campaign_id and not can(request.user, Capability.EDIT_PEOPLE, tag.campaign_id):
        raise PermissionDenied
    people_services.remove_tag(person, tag, actor=request.user)
    return redirect(reverse("crm_person", args=[person.pk]))


@require_POST
def person_note(request: HttpRequest, pk: int) -> HttpResponse:
    person = _editable(request, pk)
    if not _sensitive_for(request.user, person):
        raise PermissionDenied
    campaigns = campaigns_for(request.user, Capability.EDIT_PEOPLE)
    sensitive_ids = campaign_ids_for(request.user, Capability.VIEW_SENSITIVE)
    if sensitive_ids is not None:
        campaigns = campaigns.filter(pk__in=sensitive_ids)
    form = NoteForm(request.POST, campaigns=campaigns)
    if form.is_valid():
        people_services.add_note(
            person,
            form.cleaned_data["text"],
            campaign=form.cleaned_data["campaign"],
            actor=request.user,
        )
    return redirect(reverse("crm_person", args=[person.pk]))


@require_POST
def person_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff record a withdrawal the person asked for (by phone, by letter…)."""
    person = _editable(request, pk)
    form = WithdrawForm(request.POST, campaigns=campaigns_for(request.user, Capability.EDIT_PEOPLE))
    if form.is_valid():
        withdraw_consent(
            person,
            form.cleaned_data["campaign"],
            form.cleaned_data["channel"],
            actor=request.user,
            source=_("Staff, at the person's request"),
        )
        messages.success(request, _("Consent withdrawn; the address will not be contacted."))
    return redirect(reverse("crm_person", args=[person.pk]))


def person_export_json(request: HttpRequest, pk: int) -> HttpResponse:
    """GDPR access export of what the user's campaigns hold about the person."""
    person = selectors.get_person_for(request.user, pk)
    if not _export_allowed(request.user, person):
        raise PermissionDenied
    data = gdpr_services.export_person(
        person,
        campaign_ids=_ids(request.user, Capability.EXPORT_PEOPLE),
        include_sensitive=_sensitive_for(request.user, person),
    )
    record_event("crm.person.export", actor=request.user, target=person, request=request)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="person-{person.pk}.json"'
    return response


def person_erase(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.get_person_for(request.user, pk)
    if not can_erase_person(request.user, person):
        raise PermissionDenied
    if request.method == "POST" and request.POST.get("confirm") == "erase":
        gdpr_services.erase_person(person, actor=request.user, reason="staff")
        messages.success(request, _("The person's data was erased. Their opt-outs are kept."))
        return redirect(reverse("crm_people"))
    return render(
        request,
        "crm/admin/person_erase.html",
        _base(_("Erase %(name)s") % {"name": person}, person=person),
    )


# --- duplicates and merges ------------------------------------------------------------------


def person_merge(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    # Both must be visible (404 otherwise) before asking whether they may be edited (403).
    selectors.get_person_for(request.user, pk)
    selectors.get_person_for(request.user, other_pk)
    survivor = _editable(request, pk)
    merged = _editable(request, other_pk)
    if survivor.pk == merged.pk:
        raise Http404
    if not (_sensitive_for(request.user, survivor) and _sensitive_for(request.user, merged)):
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
        _base(_("Merge two records"), survivor=survivor, merged=merged, preview=preview),
    )


def duplicates(request: HttpRequest) -> HttpResponse:
    _require_any(request.user, Capability.EDIT_PEOPLE)
    editable = selectors.people_for(request.user, Capability.EDIT_PEOPLE)
    pairs = DuplicateCandidate.objects.filter(
        status=DuplicateCandidate.Status.OPEN,
        person_a__in=editable.values("pk"),
        person_b__in=editable.values("pk"),
    ).select_related("person_a", "person_b")
    page = Paginator(pairs, PAGE_SIZE).get_page(request.GET.get("p"))
    return render(
        request, "crm/admin/duplicates.html", _base(_("Possible duplicates"), "resubmit", page=page)
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
    _require_any(request.user, Capability.EDIT_PEOPLE)
    editable = selectors.people_for(request.user, Capability.EDIT_PEOPLE)
    records = MergeRecord.objects.filter(survivor__in=editable.values("pk")).select_related(
        "survivor", "merged_by"
    )
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("p"))
    return render(request, "crm/admin/merges.html", _base(_("Merge history"), "history", page=page))


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


# --- retention ------------------------------------------------------------------------------


def retention(request: HttpRequest) -> HttpResponse:
    campaigns = campaigns_for(request.user, Capability.MANAGE_CAMPAIGN)
    if not campaigns.exists():
        raise PermissionDenied
    plans = []
    for campaign in campaigns.select_related("election"):
        rule = RetentionRule.objects.filter(campaign=campaign).first()
        plans.append(
            {
                "campaign": campaign,
                "rule": rule,
                "plan": retention_services.plan_retention(rule) if rule else None,
            }
        )
    return render(request, "crm/admin/retention.html", _base(_("Retention"), "time", plans=plans))


def retention_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(
        campaigns_for(request.user, Capability.MANAGE_CAMPAIGN), pk=campaign_id
    )
    from crm.views.forms_admin import RetentionRuleForm

    rule = RetentionRule.objects.filter(campaign=campaign).first() or RetentionRule(
        campaign=campaign
    )
    form = RetentionRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        record_event("crm.retention.rule", actor=request.user, campaign=campaign, target=saved)
        if request.POST.get("apply") == "now":
            plan = retention_services.apply_retention(saved, actor=request.user)
            messages.success(
                request,
                _("Retention applied: %(d)s detached, %(e)s erased.")
                % {"d": plan.detach_count, "e": plan.erase_count},
            )
        return redirect(reverse("crm_retention"))
    plan = retention_services.plan_retention(rule) if rule.pk else None
    return render(
        request,
        "crm/admin/retention_form.html",
        _base(
            _("Retention for %(c)s") % {"c": campaign},
            "time",
            form=form,
            plan=plan,
            campaign=campaign,
        ),
    )
