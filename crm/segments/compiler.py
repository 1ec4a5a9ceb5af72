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
from crm.segments.registry import BuildContext, SemiJoin
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


def _relational(q: Any) -> bool:
    """Whether a condition reaches other tables (an EXISTS somewhere inside)."""
    if isinstance(q, Exists):
        return True
    return isinstance(q, Q) and any(_relational(child) for child in q.children)


def _union(parts: list[Q]) -> Q:
    """OR of conditions that reach other tables, as `id IN (branch UNION ALL branch…)`.

    PostgreSQL cannot turn `EXISTS (…) OR EXISTS (…)` into joins: it probes each EXISTS for
    every person. Each branch of the union is planned on its own indexes (a semi-join, an
    index scan on the person row…), and the union joins the outer query once."""
    branches = []
    for part in parts:
        rows = getattr(part, "rows", None)
        if isinstance(part, SemiJoin) and rows is not None and not part.negated:
            # Straight from the related table's index: no need to go through the person row.
            branches.append(rows.order_by().values(part.person_field))
        else:
            branches.append(Person.objects.filter(part).order_by().values("pk"))
    return Q(pk__in=branches[0].union(*branches[1:], all=True))


def _compile(
    node: dict[str, Any], ctx: BuildContext, negated: bool = False, union: bool = True
) -> Q | None:
    """A Q, or None for "everyone" (an empty group), or NOBODY.

    Negations are pushed down to the criteria (De Morgan), so the SQL holds NOT EXISTS
    (anti-joins) rather than NOT over a group. An OR reaching other tables becomes a union of
    semi-joins (`_union`) when nothing cheaper narrows the rows first: beside a condition on
    the person row (an age range, communes, an area…), probing each remaining person's rows
    through their indexes is faster than collecting every branch's people, so the OR stays."""
    if "criterion" in node:
        criterion = registry.get(node["criterion"])
        if criterion is None:  # e.g. the territory app was removed since the segment was saved
            raise CriteriaError(
                [Problem("", f"criterion {node['criterion']!r} is no longer available")]
            )
        compiled = criterion.compile(node.get("params", {}), ctx)
        return ~compiled if negated else compiled
    op = node.get("op", "and")
    children = node.get("children", [])
    if op == "not":
        return _compile(children[0], ctx, not negated, union) if children else None
    if not children:  # an empty group matches everyone
        return NOBODY if negated else None
    if negated:
        op = "or" if op == "and" else "and"
    if op == "and":
        parts = [_compile(child, ctx, negated, union=False) for child in children]
        if any(p is NOBODY for p in parts):
            return NOBODY
        present = [p for p in parts if p is not None]
        narrowed = any(not _relational(p) for p in present)
        if not narrowed:
            parts = [_compile(child, ctx, negated, union=True) for child in children]
            present = [p for p in parts if p is not None]
        return reduce(and_, present) if present else None
    parts = [_compile(child, ctx, negated, union) for child in children]
    if any(p is None for p in parts):
        return None
    present = [p for p in parts if p is not NOBODY and p is not None]
    if not present:
        return NOBODY
    if len(present) == 1:
        return present[0]
    if union and any(_relational(p) for p in present):
        return _union(present)
    return reduce(or_, present)


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
