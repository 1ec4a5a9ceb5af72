"""Forms of the staff screens and of the supporter's own page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from cocarde.tenancy.models import Campaign
from crm.models import Channel, CustomField, Interest, Person, Tag

COLUMNS = {
    "name": _("Name"),
    "email": _("Email"),
    "phone": _("Phone"),
    "commune": _("Commune"),
    "postcode": _("Postcode"),
    "polling_station": _("Polling station"),
    "tags": _("Tags"),
    "member_status": _("Membership"),
    "supporter_status": _("Supporter status"),
    "support_level": _("Support level"),
    "created": _("Added"),
    "first_source": _("First source"),
}
SENSITIVE_COLUMNS = frozenset({"supporter_status", "support_level"})
DEFAULT_COLUMNS = ["name", "email", "phone", "commune", "tags"]


class PeopleFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    campaign = forms.ModelChoiceField(
        label=_("Campaign"), queryset=Campaign.objects.none(), required=False
    )
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.none(), required=False)
    member = forms.ChoiceField(
        label=_("Membership"),
        required=False,
        choices=[("", _("Any")), *Person.MemberStatus.choices[1:], ("none", _("Not a member"))],
    )
    email_consent = forms.BooleanField(label=_("Can be emailed"), required=False)
    supporter_status = forms.ChoiceField(
        label=_("Supporter status"),
        required=False,
        choices=[("", _("Any")), *Person.SupporterStatus.choices[1:]],
    )
    support_level = forms.TypedChoiceField(
        label=_("Support level"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any")), *Person.SupportLevel.choices],
    )

    def __init__(self, *args: Any, campaigns: Any, tags: Any, sensitive: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns
        self.fields["tag"].queryset = tags
        if not sensitive:
            del self.fields["supporter_status"]
            del self.fields["support_level"]


class ColumnsForm(forms.Form):
    columns = forms.MultipleChoiceField(
        label=_("Columns"), choices=list(COLUMNS.items()), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, sensitive: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not sensitive:
            self.fields["columns"].choices = [
                c for c in COLUMNS.items() if c[0] not in SENSITIVE_COLUMNS
            ]


class PersonForm(forms.Form):
    first_names = forms.CharField(label=_("First names"), required=False, max_length=200)
    birth_name = forms.CharField(label=_("Birth name"), required=False, max_length=200)
    usage_name = forms.CharField(label=_("Usage name"), required=False, max_length=200)
    sex = forms.ChoiceField(
        label=_("Sex"), required=False, choices=[("", "—"), *Person.Sex.choices]
    )
    birth_date = forms.CharField(
        label=_("Birth date"), required=False, help_text=_("DD/MM/YYYY, 00/00/YYYY or YYYY")
    )
    emails = forms.CharField(
        label=_("Email addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line; the first is the main one."),
    )
    phones = forms.CharField(
        label=_("Phone numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line; the first is the main one."),
    )
    street_number = forms.CharField(label=_("Number"), required=False, max_length=10)
    street_repetition = forms.CharField(label=_("Repetition"), required=False, max_length=10)
    street_name = forms.CharField(label=_("Street"), required=False, max_length=200)
    address_complement = forms.CharField(label=_("Complement"), required=False, max_length=200)
    locality = forms.CharField(label=_("Lieu-dit"), required=False, max_length=200)
    postcode = forms.CharField(label=_("Postcode"), required=False, max_length=10)
    commune_name = forms.CharField(label=_("Commune"), required=False, max_length=200)
    commune_code = forms.CharField(label=_("Commune (INSEE code)"), required=False, max_length=5)
    polling_station_code = forms.CharField(
        label=_("Polling station"), required=False, max_length=10
    )
    member_status = forms.ChoiceField(
        label=_("Membership"), required=False, choices=Person.MemberStatus.choices
    )
    member_since = forms.DateField(label=_("Member since"), required=False)
    membership_last_fee_on = forms.DateField(label=_("Last fee paid on"), required=False)
    supporter_status = forms.ChoiceField(
        label=_("Supporter status"), required=False, choices=Person.SupporterStatus.choices
    )
    support_level = forms.TypedChoiceField(
        label=_("Support level"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *Person.SupportLevel.choices],
    )

    point_person = forms.ModelChoiceField(
        label=_("Point person"),
        required=False,
        queryset=get_user_model().objects.none(),
        help_text=_("The team member who follows this person."),
    )
    interests = forms.ModelMultipleChoiceField(
        label=_("Volunteer interests"),
        required=False,
        queryset=Interest.objects.all(),
        widget=forms.CheckboxSelectMultiple,
    )

    SENSITIVE = ("supporter_status", "support_level")

    def __init__(self, *args: Any, sensitive: bool, point_people: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not sensitive:
            for name in self.SENSITIVE:
                del self.fields[name]
        if point_people is not None:
            self.fields["point_person"].queryset = point_people

    @classmethod
    def initial_for(cls, person: Person) -> dict[str, Any]:
        data = {name: getattr(person, name, "") for name in cls.base_fields}
        data["birth_date"] = person.birth_date.display()
        data["emails"] = "\n".join(e.email for e in person.emails.all())
        data["phones"] = "\n".join(str(p) for p in person.phones.all())
        data["point_person"] = person.point_person_id
        data["interests"] = list(person.interests.values_list("pk", flat=True))
        return data

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["emails"] = [line for line in data["emails"].splitlines() if line.strip()]
        data["phones"] = [line for line in data["phones"].splitlines() if line.strip()]
        return data


class NewPersonForm(PersonForm):
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none())

    def __init__(self, *args: Any, campaigns: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns


class TagForm(forms.Form):
    tags = forms.CharField(
        label=_("Tags to add"), max_length=300, help_text=_("Separate tags with commas.")
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"),
        queryset=Campaign.objects.none(),
        required=False,
        help_text=_("Empty: a national tag (national team only)."),
    )

    def __init__(self, *args: Any, campaigns: Any, national: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns
        self.fields["campaign"].required = not national


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none())

    def __init__(self, *args: Any, campaigns: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns


class WithdrawForm(forms.Form):
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none())
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)

    def __init__(self, *args: Any, campaigns: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns


class SelfServiceForm(forms.Form):
    """What a supporter may correct themselves."""

    first_names = forms.CharField(label=_("First names"), required=False, max_length=200)
    birth_name = forms.CharField(label=_("Birth name"), required=False, max_length=200)
    usage_name = forms.CharField(label=_("Usage name"), required=False, max_length=200)
    phones = forms.CharField(
        label=_("Phone numbers"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    street_number = forms.CharField(label=_("Number"), required=False, max_length=10)
    street_name = forms.CharField(label=_("Street"), required=False, max_length=200)
    address_complement = forms.CharField(label=_("Complement"), required=False, max_length=200)
    postcode = forms.CharField(label=_("Postcode"), required=False, max_length=10)
    commune_name = forms.CharField(label=_("Commune"), required=False, max_length=200)


class RequestLinkForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"))


def custom_field_form(fields: list[CustomField], initial: dict[str, Any]) -> type[forms.Form]:
    attrs: dict[str, Any] = {}
    for field in fields:
        kind = field.type
        if kind == CustomField.Type.NUMBER:
            form_field: forms.Field = forms.DecimalField(label=field.label, required=False)
        elif kind == CustomField.Type.DATE:
            form_field = forms.DateField(label=field.label, required=False)
        elif kind == CustomField.Type.BOOLEAN:
            form_field = forms.NullBooleanField(label=field.label, required=False)
        elif kind == CustomField.Type.CHOICE:
            form_field = forms.ChoiceField(
                label=field.label,
                required=False,
                choices=[("", "—")] + [(c, c) for c in field.choices],
            )
        else:
            form_field = forms.CharField(label=field.label, required=False)
        form_field.initial = initial.get(field.key)
        attrs[f"cf_{field.pk}"] = form_field
    return type("CustomFieldsForm", (forms.Form,), attrs)
