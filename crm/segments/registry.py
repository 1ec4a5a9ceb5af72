"""The one registry of segment criteria, and what French law keeps out of it.

A criterion is a class with a unique `name`, typed `params`, and `compile()` returning a
`django.db.models.Q` over `crm.Person` (EXISTS semi-joins for related rows). New criteria
plug in with `@register`:

    @register
    class Volunteered(Criterion):
        name = "volunteered"
        label = _("Volunteered")
        group = ACTIVITY
        params = (Integer("days", _("within (days)"), required=False),)

        def compile(self, params, ctx):
            return Q(Exists(Action.objects.filter(person=OuterRef("pk"), type="volunteer")))

Lawful by construction: CNIL forbids sorting electoral rolls by place of birth or by the sound
of names (délibération 2012-020; "Communication politique", fiche listes électorales). No
criterion reads those columns: `register()` refuses a criterion named after them or declaring
them in `person_fields`, and `validate_tree()` refuses a crafted request naming one with an
error that says why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cocarde.tenancy.permissions import Capability, campaign_ids_for, can
from crm.segments.errors import ParamError
from crm.segments.params import Param

if TYPE_CHECKING:
    import datetime as dt

    from cocarde.tenancy.models import Campaign

# Groups of the filter builder's menu.
WHO = gettext_lazy("Who")
PLACE = gettext_lazy("Where")
CONTACT = gettext_lazy("Contact and consent")
ACTIVITY = gettext_lazy("Activity")
ENGAGEMENT = gettext_lazy("Engagement")
LISTS = gettext_lazy("Lists and tags")
TERRITORY = gettext_lazy("Territory")

# Person columns no criterion may read.
FORBIDDEN_PERSON_FIELDS = frozenset(
    {
        "birth_place_code",
        "birth_place_name",
        "birth_department",
        "birth_country",
        "nationality",
        "first_names",
        "birth_name",
        "usage_name",
        "last_name_key",
        "first_names_key",
        "roll_key",
        "roll_usage_key",
        "search_text",
    }
)

_BIRTHPLACE = gettext_lazy(
    "Segmenting people by place of birth is forbidden (CNIL, délibération 2012-020): "
    "it reveals presumed origin."
)
_NATIONALITY = gettext_lazy(
    "Segmenting people by nationality is forbidden: it reveals presumed origin (CNIL)."
)
_NAMES = gettext_lazy(
    "Segmenting people by their names or the sound of their names is forbidden (CNIL, "
    "délibération 2012-020): it reveals presumed ethnic or religious origin."
)
_ORIGIN = gettext_lazy(
    "Segmenting people by ethnic origin or religion is forbidden (GDPR art. 9, CNIL)."
)

_FORBIDDEN_EXACT = {
    **dict.fromkeys(
        (
            "birth_place",
            "birthplace",
            "place_of_birth",
            "birth_place_code",
            "birth_place_name",
            "birth_commune",
            "birth_city",
            "birth_department",
            "birth_departement",
            "birth_country",
            "country_of_birth",
            "lieu_de_naissance",
            "commune_de_naissance",
            "pays_de_naissance",
            "departement_de_naissance",
            "naissance",
        ),
        _BIRTHPLACE,
    ),
    **dict.fromkeys(("nationality", "nationalite", "citizenship", "nationalities"), _NATIONALITY),
    **dict.fromkeys(
        (
            "name",
            "names",
            "surname",
            "last_name",
            "lastname",
            "first_name",
            "first_names",
            "firstname",
            "birth_name",
            "usage_name",
            "nom",
            "prenom",
            "prenoms",
            "patronyme",
            "name_sound",
            "surname_sound",
            "name_soundex",
            "soundex",
            "metaphone",
            "double_metaphone",
            "phonetic",
            "phonetic_name",
            "consonance",
            "name_origin",
            "surname_origin",
        ),
        _NAMES,
    ),
    **dict.fromkeys(
        ("origin", "ethnic_origin", "ethnicity", "ethnic", "religion", "race"), _ORIGIN
    ),
}
_FORBIDDEN_PATTERNS = [
    (
        re.compile(
            r"(birth|naissance|natal).*(place|lieu|pays|country|commune|ville|city|town|dep|reg)"
            r"|(place|lieu|pays|country|commune|ville|city|town|dep|reg).*(birth|naissance)"
            r"|natal"
        ),
        _BIRTHPLACE,
    ),
    (re.compile(r"nationalit|citizenship"), _NATIONALITY),
    (re.compile(r"soundex|phonet|metaphone|consonan|patronym|surname|(^|_)(last|first)_?names?"),
     _NAMES),
    (re.compile(r"ethni|religio"), _ORIGIN),
]  # fmt: skip


def fold_name(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def forbidden_reason(name: str) -> str | None:
    """Why a criterion (or custom field) with this name is refused; None when it is lawful."""
    key = fold_name(name)
    if key in _FORBIDDEN_EXACT:
        return str(_FORBIDDEN_EXACT[key])
    for pattern, reason in _FORBIDDEN_PATTERNS:
        if pattern.search(key):
            return str(reason)
    return None


@dataclass
class BuildContext:
    """Who builds or evaluates a segment, for which campaign, and when.

    `user` is None when the system evaluates a saved segment (a blast snapshotting its audience
    at send time): the criteria were checked against their author when saved.
    """

    campaign: Campaign
    user: Any = None
    segment_id: int | None = None
    now: dt.datetime = field(default_factory=timezone.now)
    capability: Capability = Capability.VIEW_PEOPLE
    cache: dict[Any, Any] = field(default_factory=dict)
    # Segments being compiled, outermost first: a segment referring to itself is refused.
    stack: tuple[int, ...] = ()

    @cached_property
    def visible_campaign_ids(self) -> set[int] | None:
        """Campaigns whose people the user may see (None: every campaign)."""
        if self.user is None:
            return None
        return campaign_ids_for(self.user, self.capability)

    @cached_property
    def data_campaign_ids(self) -> set[int] | None:
        """Campaigns whose data (tags, consents, actions, lists…) criteria may use.

        A candidate's segment uses its own campaign's data (and national tags and fields); the
        national team's segments may use every campaign its author sees (None: all)."""
        if not self.campaign.is_national:
            return {self.campaign.pk}
        return self.visible_campaign_ids

    @cached_property
    def may_see_sensitive(self) -> bool:
        """Political opinions (support level, canvass results, sensitive fields: GDPR art. 9)."""
        return self.user is None or can(self.user, Capability.VIEW_SENSITIVE, self.campaign)

    def campaign_q(self, field_name: str, chosen: list[int] | int | None = None) -> Q:
        """Rows owned by the chosen campaign(s), else by any campaign of the data domain."""
        if chosen is not None:
            ids = chosen if isinstance(chosen, list) else [chosen]
            return Q(**{f"{field_name}__in": ids}) if len(ids) > 1 else Q(**{field_name: ids[0]})
        ids_in = self.data_campaign_ids
        if ids_in is None:
            return Q()
        if len(ids_in) == 1:
            return Q(**{field_name: next(iter(ids_in))})
        return Q(**{f"{field_name}__in": sorted(ids_in)})


class SemiJoin(Q):
    """`EXISTS (SELECT 1 FROM <rows> WHERE <rows>.person_id = crm_person.id)`, keeping the
    uncorrelated rows: an OR of such conditions compiles to a UNION of their person ids."""

    rows: QuerySet[Any] | None = None
    person_field = "person"


def semi_join(rows: QuerySet[Any], person_field: str = "person") -> Q:
    """The people having at least one of these rows (`person_field` links a row to them)."""
    q = SemiJoin(Exists(rows.filter(**{person_field: OuterRef("pk")})))
    q.rows = rows
    q.person_field = person_field
    return q


class Criterion:
    """Base class of every criterion. Subclasses set the class attributes and `compile()`."""

    name: ClassVar[str]
    label: ClassVar[Any]
    group: ClassVar[Any] = WHO
    help_text: ClassVar[Any] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    # Political opinions: only users who may see them for the segment's campaign may filter.
    sensitive: ClassVar[bool] = False
    # Person columns read by compile(): checked against FORBIDDEN_PERSON_FIELDS on register.
    person_fields: ClassVar[tuple[str, ...]] = ()

    def available(self, ctx: BuildContext) -> bool:
        """Whether the builder offers it in this context (e.g. data the campaign has)."""
        return True

    def clean(self, params: dict[str, Any], ctx: BuildContext) -> dict[str, Any]:
        """Checks across parameters, after each was cleaned. Raise ParamError(param=...)."""
        return params

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        raise NotImplementedError

    def describe(self, params: dict[str, Any], ctx: BuildContext) -> str:
        parts = []
        for param in self.params:
            value = params.get(param.name)
            if value is not None:
                parts.append(f"{param.label} {param.display(value, ctx)}")
        return f"{self.label}: {'; '.join(parts)}" if parts else str(self.label)

    def catalogue_entry(self, ctx: BuildContext) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": str(self.label),
            "group": str(self.group),
            "help": str(self.help_text),
            "params": [p.describe(ctx) for p in self.params],
        }

    def require(self, params: dict[str, Any], *names: str) -> None:
        """At least one of these parameters is needed."""
        if all(params.get(n) is None for n in names):
            labels = [str(p.label) for p in self.params if p.name in names]
            raise ParamError(
                _("Fill in at least one of: %(names)s.") % {"names": ", ".join(labels)},
                param=names[0],
            )


class RegistryError(RuntimeError):
    pass


_registry: dict[str, Criterion] = {}


def register(cls: type[Criterion]) -> type[Criterion]:
    """Add a criterion to the registry (a class decorator)."""
    name = cls.name
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", name):
        raise RegistryError(f"criterion name {name!r}: lowercase letters, digits, underscores")
    if forbidden_reason(name):
        raise RegistryError(f"criterion {name!r} is forbidden: {forbidden_reason(name)}")
    unlawful = set(cls.person_fields) & FORBIDDEN_PERSON_FIELDS
    if unlawful:
        raise RegistryError(f"criterion {name!r} reads forbidden columns {sorted(unlawful)}")
    if name in _registry and type(_registry[name]) is not cls:
        raise RegistryError(f"criterion {name!r} is already registered")
    _registry[name] = cls()
    return cls


def unregister(name: str) -> None:
    _registry.pop(name, None)


def get(name: str) -> Criterion | None:
    _load()
    return _registry.get(name)


def criteria() -> Iterator[Criterion]:
    _load()
    yield from _registry.values()


def _load() -> None:
    # The built-in criteria register themselves on import.
    import crm.segments.criteria  # noqa: F401
