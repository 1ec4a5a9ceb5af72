"""Admin forms: the composer (blocks in order), sender identities, test send, schedule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from cocarde.tenancy.models import Campaign
from crm.models import Segment
from messaging.models import Blast, SenderIdentity

BLOCK_ROWS = 6
BLOCK_CHOICES = [
    ("", "—"),
    ("text", _("Text")),
    ("image", _("Image")),
    ("button", _("Button")),
    ("quote", _("Quote")),
    ("donation", _("Donation ask")),
]


class BlastForm(forms.ModelForm):
    variant_b_subject = forms.CharField(
        label=_("A/B test: subject of variant B"), required=False, max_length=200
    )

    class Meta:
        model = Blast
        fields = [
            "campaign",
            "name",
            "channel",
            "purpose",
            "segment",
            "sender",
            "subject",
            "preheader",
            "sms_text",
            "track_clicks",
            "transactional",
            "ab_sample_percent",
            "ab_metric",
            "ab_wait_minutes",
        ]
        widgets = {"sms_text": forms.Textarea(attrs={"rows": 3, "data-sms-text": ""})}

    def __init__(
        self,
        *args: Any,
        campaigns: QuerySet[Campaign],
        segments: QuerySet[Segment],
        senders: QuerySet[SenderIdentity],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns  # type: ignore[attr-defined]
        self.fields["segment"].queryset = segments  # type: ignore[attr-defined]
        self.fields["sender"].queryset = senders  # type: ignore[attr-defined]
        self.fields["segment"].required = True
        blocks = list(self.instance.blocks or []) if self.instance else []
        for index in range(BLOCK_ROWS):
            block = blocks[index] if index < len(blocks) else {}
            prefix = f"block_{index}_"
            self.fields[prefix + "type"] = forms.ChoiceField(
                label=_("Block %(n)s") % {"n": index + 1},
                choices=BLOCK_CHOICES,
                required=False,
                initial=block.get("type", ""),
            )
            self.fields[prefix + "text"] = forms.CharField(
                label=_("Text"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                initial=block.get("text", ""),
            )
            self.fields[prefix + "url"] = forms.URLField(
                label=_("Link or image address"),
                required=False,
                assume_scheme="https",
                initial=block.get("url", ""),
            )
            self.fields[prefix + "label"] = forms.CharField(
                label=_("Button label, image description or quote author"),
                required=False,
                initial=block.get("label") or block.get("alt") or block.get("author", ""),
            )

    def blocks(self) -> list[dict[str, Any]]:
        out = []
        for index in range(BLOCK_ROWS):
            prefix = f"block_{index}_"
            kind = self.cleaned_data.get(prefix + "type")
            if not kind:
                continue
            text = self.cleaned_data.get(prefix + "text", "")
            url = self.cleaned_data.get(prefix + "url", "")
            label = self.cleaned_data.get(prefix + "label", "")
            block: dict[str, Any] = {"type": kind}
            if kind in ("text", "quote", "donation"):
                block["text"] = text
            if kind in ("image", "button", "donation"):
                block["url"] = url
            if kind in ("button", "donation"):
                block["label"] = label
            if kind == "image":
                block["alt"] = label
            if kind == "quote":
                block["author"] = label
            out.append(block)
        return out

    def block_rows(self) -> list[list[Any]]:
        return [
            [self[f"block_{i}_{name}"] for name in ("type", "text", "url", "label")]
            for i in range(BLOCK_ROWS)
        ]


class SenderForm(forms.ModelForm):
    class Meta:
        model = SenderIdentity
        fields = [
            "campaign",
            "from_name",
            "from_email",
            "reply_to",
            "sms_sender",
            "sms_can_receive_replies",
            "is_default",
        ]

    def __init__(self, *args: Any, campaigns: QuerySet[Campaign], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns  # type: ignore[attr-defined]


class TestSendForm(forms.Form):
    to = forms.CharField(label=_("Send a test to (email or mobile number)"), max_length=254)


class ScheduleForm(forms.Form):
    when = forms.DateTimeField(
        label=_("Send on"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"],
    )
