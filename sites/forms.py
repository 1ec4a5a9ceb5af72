"""The public forms of candidate sites, built from each page's settings and extra questions."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from sites.models import ActionFormPage, FieldMode, FormQuestion, VolunteerPage

PHONE = re.compile(r"^\+?[0-9 .\-()]{6,25}$")
POSTCODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z \-]{1,9}$")


def validate_phone(value: str) -> None:
    if not PHONE.match(value) or sum(ch.isdigit() for ch in value) < 6:
        raise ValidationError(_("Enter a phone number, e.g. 06 12 34 56 78 or +33 6 12 34 56 78."))


def validate_postcode(value: str) -> None:
    if not POSTCODE.match(value):
        raise ValidationError(_("Enter a postcode, e.g. 41000."))


class ActionForm(forms.Form):
    """Identity fields first; extra questions and consent are added per page."""

    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    page: ActionFormPage
    question_fields: list[tuple[str, str]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["answers"] = [
            {"question": label, "answer": _plain(data.get(name))}
            for name, label in self.question_fields
        ]
        return data

    def identity_fields(self) -> list[Any]:
        return [
            self[name]
            for name in ("first_name", "last_name", "email", "phone", "postcode")
            if name in self.fields
        ]

    def extra_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith(("q_", "help_offered"))]


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return value


def _question_field(question: FormQuestion) -> forms.Field:
    common: dict[str, Any] = {
        "label": question.label,
        "required": question.required,
        "help_text": question.help_text,
    }
    kind = question.kind
    if kind == FormQuestion.Kind.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000, **common)
    if kind == FormQuestion.Kind.CHOICE:
        return forms.ChoiceField(
            choices=[(c, c) for c in question.choice_list()], widget=forms.RadioSelect, **common
        )
    if kind == FormQuestion.Kind.MULTIPLE:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in question.choice_list()],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    if kind == FormQuestion.Kind.CHECKBOX:
        return forms.BooleanField(**common)
    if kind == FormQuestion.Kind.NUMBER:
        return forms.IntegerField(min_value=0, max_value=1_000_000, **common)
    return forms.CharField(max_length=500, **common)


def action_form_class(page: ActionFormPage) -> type[ActionForm]:
    fields: dict[str, forms.Field] = {}
    if page.phone_field != FieldMode.HIDDEN:
        fields["phone"] = forms.CharField(
            label=_("Phone"),
            required=page.phone_field == FieldMode.REQUIRED,
            max_length=25,
            validators=[validate_phone],
            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        )
    if page.postcode_field != FieldMode.HIDDEN:
        fields["postcode"] = forms.CharField(
            label=_("Postcode"),
            required=page.postcode_field == FieldMode.REQUIRED,
            max_length=10,
            validators=[validate_postcode],
            widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
        )
    question_fields: list[tuple[str, str]] = []
    if isinstance(page, VolunteerPage) and page.help_labels():
        fields["help_offered"] = forms.MultipleChoiceField(
            label=_("I can help with"),
            choices=[(label, label) for label in page.help_labels()],
            widget=forms.CheckboxSelectMultiple,
            required=True,
        )
        question_fields.append(("help_offered", str(_("I can help with"))))
    for index, question in enumerate(page.form_questions.all(), start=1):
        name = f"q_{index}"
        fields[name] = _question_field(question)
        question_fields.append((name, question.label))
    if page.consent_text:
        fields["consent"] = forms.BooleanField(
            label=page.consent_text, required=page.consent_required
        )
    attrs: dict[str, Any] = {**fields, "page": page, "question_fields": question_fields}
    return type(f"{type(page).__name__}Form", (ActionForm,), attrs)
