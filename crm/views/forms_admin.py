"""Model forms of the admin screens."""

from __future__ import annotations

from django import forms

from crm.models import RetentionRule


class RetentionRuleForm(forms.ModelForm):
    class Meta:
        model = RetentionRule
        fields = [
            "months_after_election",
            "recent_action_months",
            "keep_members",
            "keep_donors",
            "is_active",
        ]
