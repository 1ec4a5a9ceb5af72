"""Segments: the API the admin, messaging (blast audiences) and canvassing (targets) call.

Reading (stable signatures):

    people_in(segment, *, user=None, capability=VIEW_PEOPLE) -> QuerySet[Person]
    people_matching(criteria, *, campaign, user=None, capability=VIEW_PEOPLE) -> QuerySet[Person]
    count(segment, *, user=None) -> int
    snapshot(segment, *, into, user=None) -> int

`people_in` is the segment's ONE compiled query (criteria for a dynamic segment, members for a
static list) inside the tenancy universe; `user=None` is the system at send time. Consumers
page through it by id (`.order_by("pk")`, keyset) and never re-evaluate it per row.

`snapshot(segment, into=...)` writes the members, at that moment, with one
`INSERT … SELECT … ON CONFLICT DO NOTHING`:

    snapshot(segment, into=static_list)                            # a Segment of kind static
    snapshot(segment, into=Into.model(Delivery, person_field="person",
                                      blast=blast, status="queued", created_at=now))
    snapshot(segment, into=Into(table="my_table", person_column="person_id",
                                values={"run_id": 7}))

Changing (each takes the acting user as `actor`, runs in a transaction, writes an audit event):
`create_segment`, `update_segment`, `delete_segment`, `create_list`, `freeze`, `split`,
`tag_people`, `untag_people`, `add_to_list`, `set_point_person`, `record_export`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.db import DatabaseError, connection, models, transaction
from django.db.models import (
    BigIntegerField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from cocarde.tenancy.models import Campaign
from cocarde.tenancy.permissions import Capability, can
from crm.models import Action, ActionType, Person, PersonTag, Segment, SegmentMember, Tag
from crm.segments import compiler, registry
from crm.segments.registry import BuildContext
from crm.segments.validation import criteria_in, empty_tree, validate_tree
from crm.services.people import tag_for

PREVIEW_TIMEOUT_SECONDS = 20
SAMPLE_SIZE = 20
MAX_SPLIT_PARTS = 10


# --- context and reading ----------------------------------------------------------------------


def build_context(
    campaign: Campaign,
    *,
    user: Any = None,
    segment: Segment | None = None,
    capability: Capability = Capability.VIEW_PEOPLE,
    now: dt.datetime | None = None,
) -> BuildContext:
    return BuildContext(
        campaign=campaign,
        user=user,
        segment_id=segment.pk if segment is not None and segment.pk else None,
        capability=capability,
        now=now or timezone.now(),
    )


def catalogue(*, user: Any, campaign: Campaign, segment: Segment | None = None) -> dict[str, Any]:
    """What the filter builder offers this user for this campaign: criteria (grouped, with
    their parameters and choices) and the names the law refuses."""
    ctx = build_context(campaign, user=user, segment=segment)
    entries = [
        criterion.catalogue_entry(ctx)
        for criterion in registry.criteria()
        if criterion.available(ctx) and (ctx.may_see_sensitive or not criterion.sensitive)
    ]
    return {"criteria": entries, "campaign": campaign.pk}


def validate(
    criteria: Any, *, user: Any, campaign: Campaign, segment: Segment | None = None
) -> dict[str, Any]:
    """The criteria normalised, or CriteriaError naming every problem's path."""
    return validate_tree(criteria, build_context(campaign, user=user, segment=segment))


def describe(criteria: dict[str, Any], *, campaign: Campaign, user: Any = None) -> dict[str, Any]:
    """The tree in words: {"op", "text" (leaves), "children"} for the screens and exports."""
    ctx = build_context(campaign, user=user)

    def walk(node: dict[str, Any]) -> dict[str, Any]:
        if "criterion" in node:
            criterion = registry.get(node["criterion"])
            text = (
                criterion.describe(node.get("params", {}), ctx) if criterion else node["criterion"]
            )
            return {"text": text}
        return {"op": node.get("op", "and"), "children": [walk(c) for c in node["children"]]}

    return walk(criteria or empty_tree())


def people_matching(
    criteria: Any,
    *,
    campaign: Campaign,
    user: Any = None,
    capability: Capability = Capability.VIEW_PEOPLE,
    segment: Segment | None = None,
) -> QuerySet[Person]:
    """People matching criteria (validated here) among the campaign's people the user sees."""
    ctx = build_context(campaign, user=user, segment=segment, capability=capability)
    return compiler.matching(validate_tree(criteria, ctx), ctx)


def people_in(
    segment: Segment, *, user: Any = None, capability: Capability = Capability.VIEW_PEOPLE
) -> QuerySet[Person]:
    """The segment's people now: ONE query, scoped to the campaign (and to what `user` may see
    with `capability`; None: the system, e.g. a blast at send time). Unordered."""
    ctx = build_context(segment.campaign, user=user, segment=segment, capability=capability)
    if segment.is_static:
        members = SegmentMember.objects.filter(segment_id=segment.pk, person=OuterRef("pk"))
        return compiler.universe(ctx).filter(Exists(members)).order_by()
    # Saved criteria were validated against their author; they are compiled as stored.
    return compiler.matching(segment.criteria or empty_tree(), ctx)


def count(segment: Segment, *, user: Any = None) -> int:
    """How many people the segment holds now (remembered on the segment for the lists)."""
    total = people_in(segment, user=user).count()
    Segment.objects.filter(pk=segment.pk).update(last_count=total, last_counted_at=timezone.now())
    segment.last_count = total
    return total


def sample(people: QuerySet[Person], size: int = SAMPLE_SIZE) -> list[Person]:
    """The most recently added people of a segment.

    Ordered by `id + 0`, not `id`: with the plain column, PostgreSQL may walk the primary key
    backwards and test every person until it finds `size` that match, which takes seconds on
    a small segment of a large file; the expression makes it find the matches first (as
    counting does) and keep the last ones."""
    newest = ExpressionWrapper(F("pk") + 0, output_field=BigIntegerField())
    return list(people.order_by(newest.desc())[:size])


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[Person]
    criteria: dict[str, Any]


@contextlib.contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    """Live counts are interactive: PostgreSQL gives up after `seconds` rather than queue up."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")
        yield


class PreviewTooSlow(Exception):
    pass


def preview(
    criteria: Any,
    *,
    user: Any,
    campaign: Campaign,
    segment: Segment | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> Preview:
    """The live count and a sample (the most recently added) for the filter builder."""
    if not can(user, Capability.VIEW_PEOPLE, campaign):
        raise PermissionDenied
    ctx = build_context(campaign, user=user, segment=segment)
    tree = validate_tree(criteria, ctx)
    people = compiler.matching(tree, ctx)
    try:
        with _time_limit(PREVIEW_TIMEOUT_SECONDS):
            total = people.count()
            found = sample(people, sample_size) if total else []
    except DatabaseError as error:
        raise PreviewTooSlow from error
    return Preview(total, found, tree)


# --- saving -----------------------------------------------------------------------------------


def _require(actor: Any, capability: Capability, campaign: Campaign | int) -> None:
    if actor is not None and not can(actor, capability, campaign):
        raise PermissionDenied


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the segment a name.")})
    if len(name) > Segment._meta.get_field("name").max_length:  # type: ignore[operator]
        raise ValidationError({"name": _("The name is too long.")})
    return name


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def create_segment(
    *, actor: Any, campaign: Campaign, name: str, criteria: Any, description: str = ""
) -> Segment:
    """A dynamic segment: criteria validated against the actor (their campaigns, their right
    to see opinions), stored normalised."""
    _require(actor, Capability.EDIT_PEOPLE, campaign)
    tree = validate_tree(criteria, build_context(campaign, user=actor))
    segment = Segment.objects.create(
        campaign=campaign,
        name=_name(name),
        description=description.strip(),
        kind=Segment.Kind.DYNAMIC,
        criteria=tree,
        created_by=_user(actor),
    )
    record_event(
        "crm.segment.create",
        actor=actor,
        campaign=campaign,
        target=segment,
        data={"criteria": criteria_in(tree)},
    )
    return segment


@transaction.atomic
def update_segment(
    segment: Segment,
    *,
    actor: Any,
    name: str | None = None,
    criteria: Any = None,
    description: str | None = None,
) -> Segment:
    _require(actor, Capability.EDIT_PEOPLE, segment.campaign_id)
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    changed: list[str] = []
    if name is not None and _name(name) != segment.name:
        segment.name, changed = _name(name), [*changed, "name"]
    if description is not None and description.strip() != segment.description:
        segment.description, changed = description.strip(), [*changed, "description"]
    if criteria is not None:
        if segment.is_static:
            raise ValidationError(_("A static list has members, not criteria."))
        tree = validate_tree(criteria, build_context(segment.campaign, user=actor, segment=segment))
        if tree != segment.criteria:
            segment.criteria, changed = tree, [*changed, "criteria"]
    if changed:
        segment.save()
        record_event(
            "crm.segment.update",
            actor=actor,
            campaign=segment.campaign,
            target=segment,
            data={"fields": changed, "criteria": criteria_in(segment.criteria or empty_tree())},
        )
    return segment


@transaction.atomic
def delete_segment(segment: Segment, *, actor: Any) -> None:
    _require(actor, Capability.EDIT_PEOPLE, segment.campaign_id)
    used_by = [
        s.name
        for s in Segment.objects.filter(campaign_id=segment.campaign_id, kind=Segment.Kind.DYNAMIC)
        if segment.pk in _referenced(s.criteria or {})
    ]
    if used_by:
        raise ValidationError(
            _("Other segments use this one: %(names)s.") % {"names": ", ".join(used_by)}
        )
    record_event(
        "crm.segment.delete",
        actor=actor,
        campaign=segment.campaign,
        target=segment,
        data={"name": segment.name, "kind": segment.kind},
    )
    segment.delete()


def _referenced(tree: dict[str, Any]) -> set[int]:
    if tree.get("criterion") == "in_segment":
        return {int(tree.get("params", {}).get("segment", 0))}
    return {i for child in tree.get("children", []) for i in _referenced(child)}


@transaction.atomic
def create_list(
    *, actor: Any, campaign: Campaign, name: str, description: str = "", source: Segment | None
) -> Segment:
    """An empty static list (people are added by snapshot, freeze, split, add_to_list)."""
    _require(actor, Capability.EDIT_PEOPLE, campaign)
    static = Segment.objects.create(
        campaign=campaign,
        name=_name(name),
        description=description.strip(),
        kind=Segment.Kind.STATIC,
        criteria=source.criteria if source is not None else {},
        source=source,
        frozen_at=timezone.now(),
        created_by=_user(actor),
    )
    record_event("crm.segment.create_list", actor=actor, campaign=campaign, target=static)
    return static


# --- writing members: one INSERT … SELECT -------------------------------------------------------


@dataclass(frozen=True)
class Into:
    """Where `snapshot()` writes: a table, its person column and constant columns."""

    table: str
    person_column: str = "person_id"
    values: Mapping[str, Any] = field(default_factory=dict)
    ignore_conflicts: bool = True

    @classmethod
    def model(
        cls,
        model: type[models.Model],
        *,
        person_field: str = "person",
        ignore_conflicts: bool = True,
        **values: Any,
    ) -> Into:
        """Columns and values from a model's fields (values prepared by each field)."""
        opts = model._meta
        prepared: dict[str, Any] = {}
        for name, value in values.items():
            model_field: Any = opts.get_field(name)
            if isinstance(value, models.Model):
                value = value.pk
            prepared[str(model_field.column)] = model_field.get_db_prep_save(value, connection)
        person: Any = opts.get_field(person_field)
        return cls(
            table=opts.db_table,
            person_column=str(person.column),
            values=prepared,
            ignore_conflicts=ignore_conflicts,
        )


def _insert_select(people: QuerySet[Person], into: Into) -> int:
    """INSERT INTO <into> (<constants>, <person>) SELECT <constants>, id FROM (<people>)."""
    quote = connection.ops.quote_name
    try:
        inner_sql, inner_params = people.order_by().values("id").query.sql_with_params()
    except EmptyResultSet:
        return 0
    columns = [quote(c) for c in into.values] + [quote(into.person_column)]
    constants = ["%s"] * len(into.values)
    # Identifiers are quoted, values are parameters, and the inner SQL is Django's own.
    sql = (
        f"INSERT INTO {quote(into.table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join([*constants, 'sub.id'])} FROM ({inner_sql}) sub WHERE true"
    )
    if into.ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*into.values.values(), *inner_params])
        return max(cursor.rowcount, 0)


def _into_list(target: Segment) -> Into:
    return Into.model(SegmentMember, segment=target, added_at=timezone.now())


def snapshot(segment: Segment, *, into: Segment | Into, user: Any = None) -> int:
    """Write the segment's people now into a static list or a table; returns rows written
    (people already there are left as they are). The same query as counting."""
    if isinstance(into, Segment):
        if not into.is_static:
            raise ValidationError(_("People can only be added to a static list."))
        if into.campaign_id != segment.campaign_id:
            raise ValidationError(_("The list belongs to another campaign."))
        target = _into_list(into)
    else:
        target = into
    with transaction.atomic():
        written = _insert_select(people_in(segment, user=user), target)
    return written


@transaction.atomic
def freeze(segment: Segment, *, actor: Any, name: str | None = None) -> Segment:
    """A static list holding the segment's people now (they stay when the criteria would no
    longer match them)."""
    _require(actor, Capability.EDIT_PEOPLE, segment.campaign_id)
    stamp = timezone.localtime().strftime("%d/%m/%Y %H:%M")
    static = create_list(
        actor=None,
        campaign=segment.campaign,
        name=name or _("%(name)s (frozen %(date)s)") % {"name": segment.name, "date": stamp},
        source=segment,
    )
    written = _insert_select(
        people_in(segment, user=actor, capability=Capability.EDIT_PEOPLE), _into_list(static)
    )
    Segment.objects.filter(pk=static.pk).update(last_count=written, last_counted_at=timezone.now())
    static.last_count = written
    record_event(
        "crm.segment.freeze",
        actor=actor,
        campaign=segment.campaign,
        target=static,
        data={"source": segment.pk, "count": written},
    )
    return static


def split_sizes(total: int, parts: Sequence[int]) -> list[int]:
    """Sizes of the parts for these percentages: exact total, each within one of its share."""
    cumulative, sizes, done = 0, [], 0
    for percent in parts:
        cumulative += percent
        edge = (total * cumulative + 50) // 100
        sizes.append(edge - done)
        done = edge
    return sizes


@transaction.atomic
def split(
    segment: Segment,
    *,
    actor: Any,
    parts: int | Sequence[int] = 2,
    names: Sequence[str] | None = None,
    seed: str | None = None,
) -> list[Segment]:
    """Random split into static lists (A/B tests): `parts` equal parts, or percentages summing
    to 100. The order is a hash of the seed and the person id: random, and reproducible with
    the same seed."""
    _require(actor, Capability.EDIT_PEOPLE, segment.campaign_id)
    if isinstance(parts, int):
        if not 2 <= parts <= MAX_SPLIT_PARTS:
            raise ValidationError(
                {"parts": _("Split into 2 to %(n)s parts.") % {"n": MAX_SPLIT_PARTS}}
            )
        shares = [100 // parts + (1 if i < 100 % parts else 0) for i in range(parts)]
        equal = True
    else:
        shares = [int(p) for p in parts]
        equal = False
        if not 2 <= len(shares) <= MAX_SPLIT_PARTS or any(p <= 0 for p in shares):
            raise ValidationError(
                {"parts": _("Give 2 to %(n)s positive percentages.") % {"n": MAX_SPLIT_PARTS}}
            )
        if sum(shares) != 100:
            raise ValidationError({"parts": _("The percentages must add up to 100.")})
    if names is not None and len(names) != len(shares):
        raise ValidationError({"names": _("Give one name per part.")})
    seed = seed or secrets.token_hex(8)
    people = people_in(segment, user=actor, capability=Capability.EDIT_PEOPLE)
    total = people.count()
    if equal:
        sizes = [
            total // len(shares) + (1 if i < total % len(shares) else 0) for i in range(len(shares))
        ]
    else:
        sizes = split_sizes(total, shares)
    letters = "ABCDEFGHIJ"
    lists = [
        create_list(
            actor=None,
            campaign=segment.campaign,
            name=(names[i] if names else f"{segment.name} – {letters[i]} ({share} %)"),
            source=segment,
        )
        for i, share in enumerate(shares)
    ]
    if total:
        cases, params, edge = [], [], 0
        for size, static in zip(sizes[:-1], lists[:-1], strict=True):
            edge += size
            cases.append("WHEN rn <= %s THEN %s")
            params += [edge, static.pk]
        try:
            inner_sql, inner_params = people.values("id").query.sql_with_params()
        except EmptyResultSet:
            inner_sql = ""
        if inner_sql:
            sql = (  # values are parameters, the inner SQL is Django's own
                "INSERT INTO crm_segmentmember (segment_id, person_id, added_at) "  # noqa: S608
                f"SELECT CASE {' '.join(cases)} ELSE %s END, r.id, %s FROM ("
                "SELECT base.id, ROW_NUMBER() OVER (ORDER BY MD5(%s || CAST(base.id AS TEXT)), "
                f"base.id) AS rn FROM ({inner_sql}) base) r WHERE true ON CONFLICT DO NOTHING"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, [*params, lists[-1].pk, timezone.now(), seed, *inner_params])
    counted = timezone.now()
    for static, size in zip(lists, sizes, strict=True):
        Segment.objects.filter(pk=static.pk).update(last_count=size, last_counted_at=counted)
        static.last_count = size
    record_event(
        "crm.segment.split",
        actor=actor,
        campaign=segment.campaign,
        target=segment,
        data={"parts": shares, "sizes": sizes, "lists": [s.pk for s in lists], "seed": seed},
    )
    return lists


# --- batch actions ----------------------------------------------------------------------------


def _editable(segment: Segment, actor: Any) -> QuerySet[Person]:
    _require(actor, Capability.EDIT_PEOPLE, segment.campaign_id)
    return people_in(segment, user=actor, capability=Capability.EDIT_PEOPLE)


def _timeline(people: QuerySet[Person], *, type: str, campaign: Campaign | None, actor: Any,
              data: dict[str, Any]) -> int:  # fmt: skip
    """One timeline entry per person, set-wise (as the one-person services write them)."""
    return _insert_select(
        people,
        Into.model(
            Action,
            campaign=campaign,
            type=type,
            occurred_at=timezone.now(),
            source=_("Batch action on a segment")[:500],
            data=data,
            actor=_user(actor),
            ignore_conflicts=False,
        ),
    )


def _tag_campaign(segment: Segment) -> Campaign | None:
    # The national team's tags are national (no campaign), as in the people screens.
    return None if segment.campaign.is_national else segment.campaign


@transaction.atomic
def tag_people(segment: Segment, *, actor: Any, names: Sequence[str]) -> int:
    """Tag everyone in the segment (tags created in the segment's campaign when new).
    Returns how many taggings were added."""
    people = _editable(segment, actor)
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise ValidationError({"tags": _("Give at least one tag.")})
    campaign = _tag_campaign(segment)
    added = 0
    tags = []
    for name in names:
        tag = tag_for(name, campaign)
        tags.append(tag)
        untagged = people.filter(~Exists(PersonTag.objects.filter(person=OuterRef("pk"), tag=tag)))
        _timeline(
            untagged, type=ActionType.TAG_ADDED, campaign=campaign, actor=actor,
            data={"tag": tag.name},
        )  # fmt: skip
        added += _insert_select(
            untagged, Into.model(PersonTag, tag=tag, added_at=timezone.now(), added_by=_user(actor))
        )
    record_event(
        "crm.segment.tag",
        actor=actor,
        campaign=segment.campaign,
        target=segment,
        data={"tags": [t.pk for t in tags], "count": added},
    )
    return added


@transaction.atomic
def untag_people(segment: Segment, *, actor: Any, tag: Tag) -> int:
    people = _editable(segment, actor)
    if tag.campaign_id is not None and tag.campaign_id != segment.campaign_id:
        raise ValidationError({"tag": _("This tag belongs to another campaign.")})
    if tag.campaign_id is None and not segment.campaign.is_national:
        raise ValidationError({"tag": _("National tags are removed by the national team.")})
    tagged = people.filter(Exists(PersonTag.objects.filter(person=OuterRef("pk"), tag=tag)))
    _timeline(
        tagged, type=ActionType.TAG_REMOVED, campaign=tag.campaign, actor=actor,
        data={"tag": tag.name},
    )  # fmt: skip
    removed, _detail = PersonTag.objects.filter(tag=tag, person__in=people.values("pk")).delete()
    record_event(
        "crm.segment.untag",
        actor=actor,
        campaign=segment.campaign,
        target=segment,
        data={"tag": tag.pk, "count": removed},
    )
    return removed


@transaction.atomic
def add_to_list(segment: Segment, *, actor: Any, target: Segment) -> int:
    """Add the segment's people to a static list of the same campaign."""
    people = _editable(segment, actor)
    if not target.is_static:
        raise ValidationError({"list": _("People can only be added to a static list.")})
    if target.campaign_id != segment.campaign_id:
        raise ValidationError({"list": _("The list belongs to another campaign.")})
    added = _insert_select(people, _into_list(target))
    Segment.objects.filter(pk=target.pk).update(
        last_count=SegmentMember.objects.filter(segment=target).count(),
        last_counted_at=timezone.now(),
    )
    record_event(
        "crm.segment.add_to_list",
        actor=actor,
        campaign=segment.campaign,
        target=target,
        data={"source": segment.pk, "count": added},
    )
    return added


@transaction.atomic
def remove_from_list(target: Segment, *, actor: Any, person_ids: Sequence[int]) -> int:
    _require(actor, Capability.EDIT_PEOPLE, target.campaign_id)
    if not target.is_static:
        raise ValidationError(_("Only static lists have members to remove."))
    removed, _detail = SegmentMember.objects.filter(
        segment=target, person_id__in=list(person_ids)
    ).delete()
    record_event(
        "crm.segment.remove_from_list",
        actor=actor,
        campaign=target.campaign,
        target=target,
        data={"count": removed},
    )
    return removed


@transaction.atomic
def set_point_person(segment: Segment, *, actor: Any, point_person: Any) -> int:
    """Make one staff member (or nobody) the point person of everyone in the segment."""
    people = _editable(segment, actor)
    if point_person is not None and not can(point_person, Capability.VIEW_PEOPLE, segment.campaign):
        raise ValidationError(
            {"point_person": _("The point person must be on the campaign's team.")}
        )
    new_id = point_person.pk if point_person is not None else None
    changing = people.exclude(Q(point_person_id=new_id) if new_id else Q(point_person__isnull=True))
    _timeline(
        changing, type=ActionType.UPDATED, campaign=segment.campaign, actor=actor,
        data={"fields": ["point_person"]},
    )  # fmt: skip
    changed = Person.objects.filter(pk__in=changing.values("pk")).update(
        point_person_id=new_id, updated_at=timezone.now()
    )
    record_event(
        "crm.segment.point_person",
        actor=actor,
        campaign=segment.campaign,
        target=segment,
        data={"point_person": new_id, "count": changed},
    )
    return changed


BATCH_ACTIONS = ("tag", "untag", "list", "point_person")


def apply_batch(
    segment: Segment,
    action: str,
    *,
    actor: Any,
    names: Sequence[str] = (),
    tag: int | None = None,
    target: int | None = None,
    point_person: int | None = None,
) -> int:
    """One batch action by name, with ids as arguments (for the screens and the task)."""
    from django.contrib.auth import get_user_model

    if action == "tag":
        return tag_people(segment, actor=actor, names=names)
    if action == "untag":
        found = Tag.objects.filter(pk=tag or 0).first()
        if found is None:
            raise ValidationError({"tag": _("This tag no longer exists.")})
        return untag_people(segment, actor=actor, tag=found)
    if action == "list":
        static = Segment.objects.filter(pk=target or 0).first()
        if static is None:
            raise ValidationError({"list": _("This list no longer exists.")})
        return add_to_list(segment, actor=actor, target=static)
    if action == "point_person":
        user = get_user_model().objects.filter(pk=point_person).first() if point_person else None
        if point_person and user is None:
            raise ValidationError({"point_person": _("This user no longer exists.")})
        return set_point_person(segment, actor=actor, point_person=user)
    raise ValidationError({"action": _("Unknown action “%(a)s”.") % {"a": action}})


def record_export(segment: Segment, *, actor: Any, count: int, request: Any = None) -> None:
    """The audit line of a CSV export (who, which segment, how many, with which criteria)."""
    record_event(
        "crm.segment.export",
        actor=actor,
        campaign=segment.campaign,
        target=segment,
        data={
            "count": count,
            "kind": segment.kind,
            "criteria": criteria_in(segment.criteria or empty_tree()),
        },
        request=request,
    )
