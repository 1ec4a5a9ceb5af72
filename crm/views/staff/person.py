"""One person: profile, edit, new, tags, notes, consent withdrawal, access export, erasure."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cocarde.audit.services import record_event
from cocarde.tenancy.permissions import Capability, campaign_ids_for, campaigns_for, can
from crm import selectors
from crm.forms import (
    NewPersonForm,
    NoteForm,
    PersonForm,
    TagForm,
    WithdrawForm,
    custom_field_form,
)
from crm.models import (
    ActionType,
    CustomField,
    CustomFieldValue,
    MergeRecord,
    Note,
    Person,
)
from crm.models.activity import SENSITIVE_ACTION_TYPES
from crm.services import gdpr as gdpr_services
from crm.services import people as people_services
from crm.services.consent import withdraw_consent
from crm.views.staff.access import (
    capability_campaign_ids,
    in_campaigns,
    page_context,
    require_any,
    sees_sensitive,
    visible_tags,
)


def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = selectors.get_person_for(user, pk)
    visible = capability_campaign_ids(user, Capability.VIEW_PEOPLE)
    sensitive = sees_sensitive(user, person)
    sensitive_ids = capability_campaign_ids(user, Capability.VIEW_SENSITIVE)
    timeline = person.actions.filter(
        Q(campaign__isnull=True) | in_campaigns(visible, "campaign_id")
    )
    if not sensitive:
        timeline = timeline.exclude(type__in=SENSITIVE_ACTION_TYPES)
    elif sensitive_ids is not None:
        timeline = timeline.exclude(
            Q(type__in=SENSITIVE_ACTION_TYPES) & ~Q(campaign_id__in=sensitive_ids)
        )
    type_filter = request.GET.get("type", "")
    if type_filter:
        timeline = timeline.filter(type=type_filter)
    consents = person.consents.filter(in_campaigns(visible, "campaign_id")).select_related(
        "text", "campaign"
    )
    notes = (
        Note.objects.filter(person=person)
        .filter(in_campaigns(sensitive_ids, "campaign_id"))
        .select_related("author", "campaign")
        if sensitive
        else Note.objects.none()
    )
    fields = CustomField.objects.filter(
        Q(campaign__isnull=True) | in_campaigns(visible, "campaign_id")
    )
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
        page_context(
            person.display_name or _("Person #%(id)s") % {"id": person.pk},
            person=person,
            sensitive=sensitive,
            emails=person.emails.all(),
            phones=person.phones.all(),
            tags=person.person_tags.filter(
                Q(tag__campaign__isnull=True) | in_campaigns(visible, "tag__campaign_id")
            ).select_related("tag", "tag__campaign"),
            attachments=person.attachments.filter(
                in_campaigns(visible, "campaign_id")
            ).select_related("campaign"),
            consents=consents,
            custom_fields=[(f, values.get(f.pk)) for f in fields],
            timeline=timeline.select_related("campaign", "actor")[:200],
            action_types=ActionType.choices,
            type_filter=type_filter,
            notes=notes,
            household=household,
            external_ids=person.external_ids.filter(
                Q(campaign__isnull=True) | in_campaigns(visible, "campaign_id")
            ),
            registrations=person.registrations.all(),
            can_edit=can_edit,
            can_export=bool(_export_allowed(user, person)),
            can_erase=can_erase_person(user, person),
            tag_form=TagForm(
                campaigns=edit_campaigns,
                national=capability_campaign_ids(user, Capability.EDIT_PEOPLE) is None,
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
    ids = capability_campaign_ids(user, Capability.MANAGE_CAMPAIGN)
    if ids is None:
        return True
    campaigns = set(person.attachments.values_list("campaign_id", flat=True))
    return bool(campaigns) and campaigns <= ids


def editable_person(request: HttpRequest, pk: int) -> Person:
    # Visible but not editable is a 403; invisible is a 404 (never confirm it exists).
    person = selectors.get_person_for(request.user, pk)
    if not can_edit_person(request.user, person):
        raise PermissionDenied
    return person


def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = editable_person(request, pk)
    sensitive = sees_sensitive(request.user, person)
    visible = capability_campaign_ids(request.user, Capability.VIEW_PEOPLE)
    fields_qs = CustomField.objects.filter(
        Q(campaign__isnull=True) | in_campaigns(visible, "campaign_id")
    )
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
        page_context(
            _("Edit %(name)s") % {"name": person}, person=person, form=form, custom_form=custom_form
        ),
    )


def person_new(request: HttpRequest) -> HttpResponse:
    require_any(request.user, Capability.EDIT_PEOPLE)
    campaigns = campaigns_for(request.user, Capability.EDIT_PEOPLE)
    sensitive = bool(
        capability_campaign_ids(request.user, Capability.VIEW_SENSITIVE) is None
        or capability_campaign_ids(request.user, Capability.VIEW_SENSITIVE)
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
    return render(request, "crm/admin/person_form.html", page_context(_("Add a person"), form=form))


@require_POST
def person_tag(request: HttpRequest, pk: int) -> HttpResponse:
    person = editable_person(request, pk)
    form = TagForm(
        request.POST,
        campaigns=campaigns_for(request.user, Capability.EDIT_PEOPLE),
        national=capability_campaign_ids(request.user, Capability.EDIT_PEOPLE) is None,
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
    person = editable_person(request, pk)
    tag = get_object_or_404(visible_tags(request.user), pk=tag_id)
    if (
        tag.campaign_id is None
        and capability_campaign_ids(request.user, Capability.EDIT_PEOPLE) is not None
    ):
        raise PermissionDenied
    if tag.campaign_id and not can(request.user, Capability.EDIT_PEOPLE, tag.campaign_id):
        raise PermissionDenied
    people_services.remove_tag(person, tag, actor=request.user)
    return redirect(reverse("crm_person", args=[person.pk]))


@require_POST
def person_note(request: HttpRequest, pk: int) -> HttpResponse:
    person = editable_person(request, pk)
    if not sees_sensitive(request.user, person):
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
    person = editable_person(request, pk)
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
        campaign_ids=capability_campaign_ids(request.user, Capability.EXPORT_PEOPLE),
        include_sensitive=sees_sensitive(request.user, person),
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
        page_context(_("Erase %(name)s") % {"name": person}, person=person),
    )
