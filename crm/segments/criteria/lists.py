"""Tags, campaigns, electoral rolls, custom fields and membership of other segments or lists."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cocarde.tenancy.models import INSEE_COMMUNE_CODE, Campaign
from crm.models import (
    CampaignAttachment,
    CustomField,
    CustomFieldValue,
    ElectoralRegistration,
    PersonTag,
    Segment,
    SegmentMember,
    Tag,
)
from crm.segments.errors import CriteriaError, ParamError
from crm.segments.params import Choice, Codes, MultiChoice, Text
from crm.segments.registry import (
    LISTS,
    WHO,
    BuildContext,
    Criterion,
    forbidden_reason,
    register,
    semi_join,
)

MAX_LIST_DEPTH = 5


def _tags(ctx: BuildContext) -> list[tuple[Any, Any]]:
    tags = Tag.objects.select_related("campaign").order_by("name", "pk")
    ids = ctx.data_campaign_ids
    if ids is not None:
        tags = tags.filter(Q(campaign__isnull=True) | Q(campaign_id__in=ids))
    several = ids is None or len(ids) > 1
    return [
        (tag.pk, f"{tag.name} ({tag.campaign})" if several and tag.campaign else tag.name)
        for tag in tags
    ]


@register
class Tags(Criterion):
    name = "tags"
    label = gettext_lazy("Tags")
    group = LISTS
    params = (
        Choice(
            "match",
            gettext_lazy("has"),
            [
                ("any", gettext_lazy("any of")),
                ("all", gettext_lazy("all of")),
                ("none", gettext_lazy("none of")),
            ],
            default="any",
        ),
        MultiChoice("tags", gettext_lazy("tags"), _tags),
    )

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        ids = params["tags"]
        if params["match"] == "all":
            q = Q()
            for tag in ids:
                q &= Q(Exists(PersonTag.objects.filter(person=OuterRef("pk"), tag_id=tag)))
            return q
        tagged = PersonTag.objects.all()
        tagged = tagged.filter(tag_id=ids[0]) if len(ids) == 1 else tagged.filter(tag_id__in=ids)
        return ~semi_join(tagged) if params["match"] == "none" else semi_join(tagged)

    def describe(self, params: dict[str, Any], ctx: BuildContext) -> str:
        names = self.params[1].display(params["tags"], ctx)
        return {
            "any": _("Tags: any of %(names)s"),
            "all": _("Tags: all of %(names)s"),
            "none": _("Tags: none of %(names)s"),
        }[params["match"]] % {"names": names}


def campaign_choices(ctx: BuildContext) -> list[tuple[Any, Any]]:
    campaigns = Campaign.objects.order_by("kind", "name")
    if ctx.data_campaign_ids is not None:
        campaigns = campaigns.filter(pk__in=ctx.data_campaign_ids)
    return list(campaigns.values_list("pk", "name"))


@register
class CampaignCriterion(Criterion):
    """People a campaign knows, and why (acted on its site, imported, donated, on its roll…)."""

    name = "campaign"
    label = gettext_lazy("Known by a campaign")
    group = WHO
    params = (
        MultiChoice("campaigns", gettext_lazy("campaigns"), campaign_choices),
        MultiChoice(
            "reasons",
            gettext_lazy("because"),
            CampaignAttachment.Reason.choices,
            required=False,
        ),
    )

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        rows = CampaignAttachment.objects.filter(ctx.campaign_q("campaign_id", params["campaigns"]))
        if params.get("reasons"):
            rows = rows.filter(reason__in=params["reasons"])
        return semi_join(rows)


@register
class RollList(Criterion):
    name = "roll_list"
    label = gettext_lazy("Electoral roll")
    group = WHO
    params = (
        MultiChoice("lists", gettext_lazy("registered on"), ElectoralRegistration.ListType.choices),
        Codes(
            "communes",
            gettext_lazy("in communes"),
            pattern=INSEE_COMMUNE_CODE,
            example="41151",
            required=False,
        ),
    )

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        rows = ElectoralRegistration.objects.filter(list_type__in=params["lists"])
        if params.get("communes"):
            rows = rows.filter(commune_code__in=params["communes"])
        return semi_join(rows)


# --- custom fields ----------------------------------------------------------------------------

T = CustomField.Type
OPERATORS: dict[str, Any] = {
    "eq": gettext_lazy("is"),
    "contains": gettext_lazy("contains"),
    "in": gettext_lazy("is one of"),
    "gte": gettext_lazy("is at least"),
    "lte": gettext_lazy("is at most"),
    "between": gettext_lazy("is between"),
    "before": gettext_lazy("is before"),
    "after": gettext_lazy("is after"),
    "within_days": gettext_lazy("is within the last (days)"),
    "true": gettext_lazy("is yes"),
    "false": gettext_lazy("is no"),
    "set": gettext_lazy("is filled in"),
    "unset": gettext_lazy("is empty"),
}
OPERATORS_BY_TYPE: dict[str, tuple[str, ...]] = {
    T.TEXT: ("eq", "contains", "set", "unset"),
    T.NUMBER: ("eq", "gte", "lte", "between", "set", "unset"),
    T.DATE: ("eq", "before", "after", "between", "within_days", "set", "unset"),
    T.BOOLEAN: ("true", "false", "unset"),
    T.CHOICE: ("in", "set", "unset"),
}
NO_VALUE = {"set", "unset", "true", "false"}
VALUE_COLUMN: dict[str, str] = {
    T.TEXT: "value_text",
    T.CHOICE: "value_text",
    T.NUMBER: "value_number",
    T.DATE: "value_date",
    T.BOOLEAN: "value_bool",
}


def _visible_fields(ctx: BuildContext) -> Any:
    fields = CustomField.objects.order_by("label", "pk")
    if ctx.data_campaign_ids is not None:
        fields = fields.filter(Q(campaign__isnull=True) | Q(campaign_id__in=ctx.data_campaign_ids))
    return fields


def _field_lawful(field: CustomField) -> str | None:
    return forbidden_reason(field.key) or forbidden_reason(field.label)


class FieldChoice(Choice):
    """Every visible field validates (so a refusal can say why); the builder lists only the
    fields the user may filter on."""

    def describe(self, ctx: BuildContext) -> dict[str, Any]:
        spec = super().describe(ctx)
        allowed = {
            f.pk: f
            for f in _visible_fields(ctx)
            if not _field_lawful(f) and (ctx.may_see_sensitive or not f.is_sensitive)
        }
        spec["choices"] = [
            [pk, label, allowed[pk].type, allowed[pk].choices]
            for pk, label in spec["choices"]
            if pk in allowed
        ]
        return spec


def _field_choices(ctx: BuildContext) -> list[tuple[Any, Any]]:
    return [(f.pk, f.label) for f in _visible_fields(ctx)]


def _parse(field: CustomField, raw: Any, param: str) -> Any:
    if field.type == T.NUMBER:
        try:
            return str(Decimal(str(raw).replace(",", ".").replace(" ", "")))
        except InvalidOperation as error:
            raise ParamError(_("Enter a number."), param=param) from error
    if field.type == T.DATE:
        text = str(raw).strip()
        for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return dt.datetime.strptime(text, pattern).date().isoformat()
            except ValueError:
                continue
        raise ParamError(_("Enter a date as YYYY-MM-DD or DD/MM/YYYY."), param=param)
    return str(raw).strip()


@register
class CustomFieldCriterion(Criterion):
    name = "custom_field"
    label = gettext_lazy("Custom field")
    group = LISTS
    params = (
        FieldChoice("field", gettext_lazy("field"), _field_choices),
        Choice("op", gettext_lazy("condition"), list(OPERATORS.items())),
        Text("value", gettext_lazy("value"), required=False, max_length=500),
        Text("value2", gettext_lazy("and"), required=False, max_length=500),
    )

    def clean(self, params: dict[str, Any], ctx: BuildContext) -> dict[str, Any]:
        field = CustomField.objects.get(pk=params["field"])
        reason = _field_lawful(field)
        if reason:
            raise ParamError(reason, param="field")
        if field.is_sensitive and not ctx.may_see_sensitive:
            raise ParamError(
                _("You may not filter on this field: it holds political opinions."), param="field"
            )
        op = params["op"]
        if op not in OPERATORS_BY_TYPE[field.type]:
            raise ParamError(
                _("This condition does not apply to a field of type %(type)s.")
                % {"type": field.get_type_display()},
                param="op",
            )
        if op in NO_VALUE:
            params.pop("value", None)
            params.pop("value2", None)
            return params
        if params.get("value") is None:
            raise ParamError(_("This parameter is required."), param="value")
        if op == "within_days":
            if not str(params["value"]).isdigit() or int(params["value"]) < 1:
                raise ParamError(_("Enter a number of days."), param="value")
            params["value"] = str(int(params["value"]))
        elif op == "in":
            options = [v.strip() for v in str(params["value"]).split(",") if v.strip()]
            unknown = [v for v in options if field.choices and v not in field.choices]
            if unknown:
                raise ParamError(
                    _("Not among the field's choices: %(values)s") % {"values": ", ".join(unknown)},
                    param="value",
                )
            params["value"] = ",".join(options)
        else:
            params["value"] = _parse(field, params["value"], "value")
        if op == "between":
            if params.get("value2") is None:
                raise ParamError(_("This parameter is required."), param="value2")
            params["value2"] = _parse(field, params["value2"], "value2")
        else:
            params.pop("value2", None)
        return params

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        field = CustomField.objects.get(pk=params["field"])
        column = VALUE_COLUMN[field.type]
        op = params["op"]
        rows = CustomFieldValue.objects.filter(field_id=field.pk)
        filled = ~Q(value_text="") if column == "value_text" else Q(**{f"{column}__isnull": False})
        if op in ("set", "unset"):
            found = semi_join(rows.filter(filled))
            return found if op == "set" else ~found
        value = params.get("value")
        if op == "true" or op == "false":
            condition = Q(value_bool=op == "true")
        elif op == "contains":
            condition = Q(value_text__icontains=value)
        elif op == "in":
            condition = Q(value_text__in=str(value).split(","))
        elif op == "within_days":
            since = (ctx.now - dt.timedelta(days=int(str(value)))).date()
            condition = Q(value_date__gte=since, value_date__lte=ctx.now.date())
        elif op == "between":
            low, high = sorted([value, params["value2"]], key=_sort_key(field))
            condition = Q(**{f"{column}__gte": low, f"{column}__lte": high})
        else:
            lookup = {"eq": "exact", "gte": "gte", "lte": "lte", "before": "lt", "after": "gt"}[op]
            condition = Q(**{f"{column}__{lookup}": value})
        return semi_join(rows.filter(condition))

    def describe(self, params: dict[str, Any], ctx: BuildContext) -> str:
        field = CustomField.objects.filter(pk=params["field"]).first()
        text = f"{field.label if field else '?'} {OPERATORS[params['op']]}"
        if params.get("value") is not None:
            text += f" {params['value']}"
        if params.get("value2") is not None:
            text += f" {_('and')} {params['value2']}"
        return text


def _sort_key(field: CustomField) -> Any:
    if field.type == T.NUMBER:
        return Decimal
    return str


# --- other segments and lists -----------------------------------------------------------------


def _segments(ctx: BuildContext) -> list[tuple[Any, Any]]:
    segments = Segment.objects.filter(campaign=ctx.campaign).order_by("name", "pk")
    if ctx.segment_id:
        segments = segments.exclude(pk=ctx.segment_id)
    return [
        (s.pk, f"{s.name} ({s.get_kind_display().lower()})")
        for s in segments.only("pk", "name", "kind")
    ]


@register
class InSegment(Criterion):
    """In a static list (its frozen members) or a dynamic segment (its criteria, now)."""

    name = "in_segment"
    label = gettext_lazy("In a segment or list")
    group = LISTS
    params = (Choice("segment", gettext_lazy("segment"), _segments),)

    def clean(self, params: dict[str, Any], ctx: BuildContext) -> dict[str, Any]:
        from crm.segments.validation import validate_tree

        segment = Segment.objects.get(pk=params["segment"])
        chain = (*ctx.stack, *([ctx.segment_id] if ctx.segment_id else []))
        if segment.pk in chain:
            raise ParamError(_("A segment cannot include itself."), param="segment")
        if len(chain) >= MAX_LIST_DEPTH:
            raise ParamError(_("Segments are nested too deeply."), param="segment")
        if not segment.is_static:
            inner = BuildContext(
                campaign=ctx.campaign,
                user=ctx.user,
                segment_id=segment.pk,
                now=ctx.now,
                capability=ctx.capability,
                stack=chain,
            )
            try:
                validate_tree(segment.criteria, inner)
            except CriteriaError as error:
                raise ParamError(
                    _("The segment “%(name)s” cannot be used here: %(reason)s")
                    % {"name": segment.name, "reason": error.problems[0]},
                    param="segment",
                ) from error
        return params

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        from crm.segments.compiler import compile_tree

        segment = Segment.objects.get(pk=params["segment"])
        if segment.is_static:
            return semi_join(SegmentMember.objects.filter(segment_id=segment.pk))
        chain = (*ctx.stack, *([ctx.segment_id] if ctx.segment_id else []))
        if segment.pk in chain or len(chain) >= MAX_LIST_DEPTH:
            return Q(pk__in=[])  # a cycle made after validation: match nobody, never loop
        inner = BuildContext(
            campaign=ctx.campaign,
            user=ctx.user,
            segment_id=segment.pk,
            now=ctx.now,
            capability=ctx.capability,
            stack=chain,
        )
        return compile_tree(segment.criteria, inner)
