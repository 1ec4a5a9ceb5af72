"""Criteria on the person's own record: sex, age, membership, support, interests, point person."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cocarde.tenancy.models import StaffRole
from crm.models import Interest, Person
from crm.segments.errors import ParamError
from crm.segments.params import Choice, DateParam, Integer, MultiChoice
from crm.segments.registry import ENGAGEMENT, WHO, BuildContext, Criterion, register, semi_join


@register
class Sex(Criterion):
    name = "sex"
    label = gettext_lazy("Sex")
    group = WHO
    person_fields = ("sex",)
    params = (
        Choice(
            "sex",
            gettext_lazy("is"),
            [*Person.Sex.choices, ("unknown", gettext_lazy("Unknown"))],
        ),
    )

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        return Q(sex="" if params["sex"] == "unknown" else params["sex"])


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def born_on_or_before(cut: dt.date, possible: bool) -> Q:
    """People whose (partial) birth date is on or before `cut`.

    A partial date covers a span of days: `possible` counts it when some day of the span
    qualifies, otherwise only when every day does."""
    same_year = Q(birth_year=cut.year)
    q = Q(birth_year__lt=cut.year) | (same_year & Q(birth_month__lt=cut.month))
    same_month = same_year & Q(birth_month=cut.month)
    q |= same_month & Q(birth_day__lte=cut.day)
    if possible or cut.day == _last_day(cut.year, cut.month):
        q |= same_month & Q(birth_day__isnull=True)
    if possible or (cut.month, cut.day) == (12, 31):
        q |= same_year & Q(birth_month__isnull=True)
    return q


def born_on_or_after(cut: dt.date, possible: bool) -> Q:
    same_year = Q(birth_year=cut.year)
    q = Q(birth_year__gt=cut.year) | (same_year & Q(birth_month__gt=cut.month))
    same_month = same_year & Q(birth_month=cut.month)
    q |= same_month & Q(birth_day__gte=cut.day)
    if possible or cut.day == 1:
        q |= same_month & Q(birth_day__isnull=True)
    if possible or (cut.month, cut.day) == (1, 1):
        q |= same_year & Q(birth_month__isnull=True)
    return q


@register
class Age(Criterion):
    """Age in whole years on a date (today by default, or e.g. the election day).

    Rolls often give only the year ("00/00/1961") or the month: such a person counts when
    their age *may* be in the range (default) or only when it certainly is."""

    name = "age"
    label = gettext_lazy("Age")
    group = WHO
    person_fields = ("birth_year", "birth_month", "birth_day")
    help_text = gettext_lazy(
        "Birth dates known only by year or month: “possibly” counts a person whose age may be "
        "in the range, “certainly” only one whose age is."
    )
    params = (
        Integer("min", gettext_lazy("from"), required=False, max_value=130),
        Integer("max", gettext_lazy("to"), required=False, max_value=130),
        DateParam("on", gettext_lazy("on"), required=False),
        Choice(
            "partial",
            gettext_lazy("partial birth dates"),
            [("possible", gettext_lazy("possibly")), ("certain", gettext_lazy("certainly"))],
            default="possible",
        ),
    )

    def clean(self, params: dict[str, Any], ctx: BuildContext) -> dict[str, Any]:
        self.require(params, "min", "max")
        low, high = params.get("min"), params.get("max")
        if low is not None and high is not None and low > high:
            raise ParamError(_("The lower age is above the upper age."), param="max")
        return params

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        on = (
            dt.date.fromisoformat(params["on"]) if params.get("on") else timezone.localdate(ctx.now)
        )
        possible = params.get("partial", "possible") == "possible"
        q = Q(birth_year__isnull=False)
        if params.get("min") is not None:
            # Aged at least N on `on`: born on or before `on` N years earlier.
            cut = _years_before(on, params["min"])
            q &= Q(birth_year__lte=cut.year) & born_on_or_before(cut, possible)
        if params.get("max") is not None:
            # Aged at most N: born after `on` N+1 years earlier.
            cut = _years_before(on, params["max"] + 1) + dt.timedelta(days=1)
            q &= Q(birth_year__gte=cut.year) & born_on_or_after(cut, possible)
        return q

    def describe(self, params: dict[str, Any], ctx: BuildContext) -> str:
        low, high = params.get("min"), params.get("max")
        if low is not None and high is not None:
            text = _("Age: %(low)s to %(high)s") % {"low": low, "high": high}
        elif low is not None:
            text = _("Age: %(low)s or more") % {"low": low}
        else:
            text = _("Age: %(high)s or less") % {"high": high}
        if params.get("on"):
            text += " " + _("on %(date)s") % {"date": self.params[2].display(params["on"], ctx)}
        if params.get("partial") == "certain":
            text += " " + _("(certainly)")
        return text


def _blank_as_none(choices: Any) -> list[tuple[Any, Any]]:
    """Model choices where the blank value is offered as "none" (a value a form can send)."""
    return [("none" if value == "" else value, label) for value, label in choices.choices]


@register
class MemberStatus(Criterion):
    name = "member_status"
    label = gettext_lazy("Membership")
    group = ENGAGEMENT
    person_fields = ("member_status",)
    params = (MultiChoice("status", gettext_lazy("is"), _blank_as_none(Person.MemberStatus)),)

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        statuses = ["" if s == "none" else s for s in params["status"]]
        return Q(member_status=statuses[0]) if len(statuses) == 1 else Q(member_status__in=statuses)


def _support_levels(ctx: BuildContext) -> list[tuple[Any, Any]]:
    return [*Person.SupportLevel.choices, ("none", gettext_lazy("Unknown"))]


@register
class SupportLevel(Criterion):
    """Political opinion (GDPR art. 9): only for users who may see it for the campaign."""

    name = "support_level"
    label = gettext_lazy("Support level")
    group = ENGAGEMENT
    sensitive = True
    person_fields = ("support_level",)
    params = (MultiChoice("levels", gettext_lazy("is"), _support_levels),)

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        levels = [level for level in params["levels"] if level != "none"]
        q = Q(support_level__in=levels) if levels else Q(pk__in=[])
        if "none" in params["levels"]:
            q |= Q(support_level__isnull=True)
        return q


@register
class SupporterStatus(Criterion):
    name = "supporter_status"
    label = gettext_lazy("Supporter status")
    group = ENGAGEMENT
    sensitive = True
    person_fields = ("supporter_status",)
    params = (MultiChoice("status", gettext_lazy("is"), _blank_as_none(Person.SupporterStatus)),)

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        return Q(supporter_status__in=["" if s == "none" else s for s in params["status"]])


def _interests(ctx: BuildContext) -> list[tuple[Any, Any]]:
    return list(Interest.objects.order_by("name").values_list("pk", "name"))


@register
class Interests(Criterion):
    name = "interests"
    label = gettext_lazy("Volunteer interests")
    group = ENGAGEMENT
    params = (
        Choice(
            "match",
            gettext_lazy("has"),
            [("any", gettext_lazy("any of")), ("all", gettext_lazy("all of"))],
            default="any",
        ),
        MultiChoice("interests", gettext_lazy("interests"), _interests),
    )

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        through = Person.interests.through
        ids = params["interests"]
        if params["match"] == "all":
            q = Q()
            for interest in ids:
                q &= Q(
                    Exists(through.objects.filter(person_id=OuterRef("pk"), interest_id=interest))
                )
            return q
        return semi_join(through.objects.filter(interest_id__in=ids))

    def describe(self, params: dict[str, Any], ctx: BuildContext) -> str:
        names = self.params[1].display(params["interests"], ctx)
        if params["match"] == "all":
            return _("Volunteer interests: all of %(names)s") % {"names": names}
        return _("Volunteer interests: any of %(names)s") % {"names": names}


def _point_people(ctx: BuildContext) -> list[tuple[Any, Any]]:
    roles = StaffRole.objects.exclude(role=StaffRole.Role.CANVASSER)
    if ctx.data_campaign_ids is not None:
        roles = roles.filter(campaign_id__in=ctx.data_campaign_ids)
    users = {
        user_id: (first, last, email)
        for user_id, first, last, email in roles.values_list(
            "user_id", "user__first_name", "user__last_name", "user__email"
        )
    }
    choices: list[tuple[Any, Any]] = [("none", gettext_lazy("Nobody"))]
    for user_id, (first, last, email) in sorted(users.items(), key=lambda kv: kv[1][2]):
        choices.append((user_id, f"{first} {last}".strip() or email))
    return choices


@register
class PointPerson(Criterion):
    name = "point_person"
    label = gettext_lazy("Point person")
    group = ENGAGEMENT
    person_fields = ("point_person",)
    params = (MultiChoice("users", gettext_lazy("is"), _point_people),)

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        ids = [u for u in params["users"] if u != "none"]
        q = Q(point_person_id__in=ids) if ids else Q(pk__in=[])
        if "none" in params["users"]:
            q |= Q(point_person__isnull=True)
        return q


@register
class Added(Criterion):
    name = "added"
    label = gettext_lazy("Added to the file")
    group = WHO
    person_fields = ("created_at",)
    params = (
        Integer("within_days", gettext_lazy("in the last (days)"), required=False, min_value=1),
        Integer("before_days", gettext_lazy("more than (days) ago"), required=False, min_value=1),
    )

    def clean(self, params: dict[str, Any], ctx: BuildContext) -> dict[str, Any]:
        self.require(params, "within_days", "before_days")
        return params

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        q = Q()
        if params.get("within_days"):
            q &= Q(created_at__gte=ctx.now - dt.timedelta(days=params["within_days"]))
        if params.get("before_days"):
            q &= Q(created_at__lt=ctx.now - dt.timedelta(days=params["before_days"]))
        return q
