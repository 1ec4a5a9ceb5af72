"""The public donation form (validated server-side; posted by the page's script)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from donations.models import Civility, DonationAttempt, Method


def parse_amount_cents(raw: object) -> int:
    text = str(raw).replace(",", ".").replace("€", "").replace(" ", "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise forms.ValidationError(_("Enter an amount in euros, e.g. 50.")) from None
    cents = int((value * 100).to_integral_value())
    if cents < 100:
        raise forms.ValidationError(_("Enter an amount of at least 1 €."))
    return cents


class DonationForm(forms.Form):
    amount = forms.CharField(label=_("Amount (€)"), max_length=12)
    frequency = forms.ChoiceField(
        label=_("Frequency"),
        choices=DonationAttempt.Frequency.choices,
        initial=DonationAttempt.Frequency.ONCE,
    )
    method = forms.ChoiceField(
        label=_("Payment"),
        choices=[(Method.CARD, Method.CARD.label), (Method.SEPA_DEBIT, Method.SEPA_DEBIT.label)],
        initial=Method.CARD,
        required=False,
    )
    civility = forms.ChoiceField(label=_("Civility"), choices=Civility.choices, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    street = forms.CharField(label=_("Street address (tax address)"), max_length=300)
    postcode = forms.CharField(label=_("Postcode"), max_length=10)
    city = forms.CharField(label=_("City"), max_length=150)
    country = forms.CharField(label=_("Country"), max_length=2, initial="FR", required=False)
    natural_person = forms.BooleanField(
        label=_("I certify that I give as a natural person, from my own funds."), required=False
    )
    french_or_resident = forms.BooleanField(
        label=_("I certify that I am a French national or resident in France."), required=False
    )
    consent_fundraising = forms.BooleanField(
        label=_("I agree to receive news and calls for support from the campaign by email."),
        required=False,
    )
    form_token = forms.CharField(max_length=64, min_length=16)
    blast = forms.CharField(max_length=40, required=False)

    def clean_amount(self) -> int:
        return parse_amount_cents(self.cleaned_data["amount"])

    def identity(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "civility": data.get("civility", ""),
            "first_name": data["first_name"].strip(),
            "last_name": data["last_name"].strip(),
            "email": data["email"].strip(),
            "street": data["street"].strip(),
            "postcode": data["postcode"].strip(),
            "city": data["city"].strip(),
            "country": (data.get("country") or "FR").upper()[:2],
            "natural_person": bool(data.get("natural_person")),
            "french_or_resident": bool(data.get("french_or_resident")),
        }


class OfflineGiftForm(forms.Form):
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=None)  # type: ignore[arg-type]
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("gift", _("Gift")), ("membership_fee", _("Membership fee"))]
    )
    method = forms.ChoiceField(
        label=_("Method"),
        choices=[
            (Method.CHEQUE, Method.CHEQUE.label),
            (Method.TRANSFER, Method.TRANSFER.label),
            (Method.CASH, Method.CASH.label),
        ],
    )
    amount = forms.DecimalField(label=_("Amount (€)"), min_value=Decimal("0.01"), decimal_places=2)
    received_on = forms.DateField(
        label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reference = forms.CharField(
        label=_("Reference (cheque number...)"), max_length=100, required=False
    )
    civility = forms.ChoiceField(label=_("Civility"), choices=Civility.choices, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("Email"), required=False)
    street = forms.CharField(label=_("Street address"), max_length=300)
    postcode = forms.CharField(label=_("Postcode"), max_length=10)
    city = forms.CharField(label=_("City"), max_length=150)
    natural_person = forms.BooleanField(label=_("Natural person (attested)"), required=False)
    french_or_resident = forms.BooleanField(
        label=_("French national or resident (attested)"), required=False
    )

    def __init__(self, *args: Any, campaigns: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns  # type: ignore[attr-defined]

    def identity(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            k: data.get(k) or ""
            for k in ("civility", "first_name", "last_name", "email", "street", "postcode", "city")
        } | {
            "country": "FR",
            "natural_person": bool(data.get("natural_person")),
            "french_or_resident": bool(data.get("french_or_resident")),
        }


class ReceiptRangeForm(forms.Form):
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=None)  # type: ignore[arg-type]
    first_number = forms.IntegerField(label=_("First number"), min_value=1)
    last_number = forms.IntegerField(label=_("Last number"), min_value=1)

    def __init__(self, *args: Any, campaigns: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns  # type: ignore[attr-defined]


class AccountForm(forms.Form):
    stripe_publishable_key = forms.CharField(
        label=_("Stripe publishable key"), max_length=200, required=False
    )
    stripe_secret_key = forms.CharField(
        label=_("Stripe secret key"),
        required=False,
        widget=forms.PasswordInput,
        help_text=_("Leave empty to keep the current key."),
    )
    stripe_webhook_secret = forms.CharField(
        label=_("Webhook signing secret"),
        required=False,
        widget=forms.PasswordInput,
        help_text=_("Leave empty to keep the current secret."),
    )
    collection_opens_on = forms.DateField(
        label=_("Collection opens on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    collection_closes_on = forms.DateField(
        label=_("Collection closes on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    spending_ceiling = forms.DecimalField(
        label=_("Spending ceiling (€)"), required=False, min_value=0
    )
    goal = forms.DecimalField(label=_("Goal (€)"), required=False, min_value=0)
    tax_reduction_percent = forms.IntegerField(
        label=_("Tax reduction (%)"), min_value=0, max_value=100, initial=66
    )
