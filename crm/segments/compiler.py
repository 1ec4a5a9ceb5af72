"""The one compiler: a valid criteria tree becomes ONE SQL query over `crm_person`.

Each criterion compiles to a `Q` on the person row: plain column conditions for the person's
own fields, `EXISTS (SELECT 1 FROM <related> WHERE person_id = crm_person.id AND …)` for
related rows (tags, consents, actions…), never JOIN + DISTINCT, so each person is counted once
and PostgreSQL plans semi-joins (or anti-joins under NOT) on the indexes behind each criterion.
Groups combine them with AND / OR / NOT.

The universe comes first: the campaign's people (an EXISTS on its attachments) and, when a user
builds or reads the segment, only people that user may see (`crm.selectors.people_for()`, the
tenancy layer). Counting, sampling, exporting and snapshotting all run this same query.
"""

from __future__ import annotations

from functools import reduce
from operator import and_, or_
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from crm.models import CampaignAttachment, Person
from crm.segments import registry
from crm.segments.errors import CriteriaError, Problem
from crm.segments.registry import BuildContext
from crm.selectors import people_for

NOBODY = Q(pk__in=[])


def universe(ctx: BuildContext) -> QuerySet[Person]:
    """The people a segment of `ctx.campaign` may contain, as `ctx.user` may see them."""
    campaign = ctx.campaign
    if ctx.user is not None:
        ids = ctx.visible_campaign_ids
        if ids is not None and campaign.pk not in ids:
            return Person.objects.none()
    if campaign.is_national:
        # The national team's segments range over everyone its author may see.
        if ctx.user is None:
            return Person.objects.all()
        return people_for(ctx.user, ctx.capability)
    # A candidate's segments: that campaign's people. The user sees them (checked above), so
    # this one EXISTS is the whole tenancy condition.
    return Person.objects.filter(
        Exists(CampaignAttachment.objects.filter(person=OuterRef("pk"), campaign_id=campaign.pk))
    )


def _compile(node: dict[str, Any], ctx: BuildContext) -> Q | None:
    """A Q, or None for "everyone" (an empty group), which the combinations respect."""
    if "criterion" in node:
        criterion = registry.get(node["criterion"])
        if criterion is None:  # e.g. the territory app was removed since the segment was saved
            raise CriteriaError(
                [Problem("", f"criterion {node['criterion']!r} is no longer available")]
            )
        return criterion.compile(node.get("params", {}), ctx)
    children = [_compile(child, ctx) for child in node.get("children", [])]
    op = node.get("op", "and")
    if op == "not":
        inner = children[0] if children else None
        return NOBODY if inner is None else ~inner
    if op == "or":
        if not children or any(c is None for c in children):
            return None
        return reduce(or_, [c for c in children if c is not None])
    present = [c for c in children if c is not None]
    return reduce(and_, present) if present else None


def compile_tree(tree: dict[str, Any], ctx: BuildContext) -> Q:
    """The condition of a valid tree (validate it first: `validation.validate_tree`)."""
    compiled = _compile(tree, ctx)
    return Q() if compiled is None else compiled


def matching(tree: dict[str, Any], ctx: BuildContext) -> QuerySet[Person]:
    """The people matching a valid tree, unordered (order them, or not, as you need)."""
    compiled = _compile(tree, ctx)
    people = universe(ctx)
    if compiled is not None:
        people = people.filter(compiled)
    return people.order_by()
