"""Clone a template site for a candidate: one transaction, one pass over the page tree.

Why not `Page.copy(recursive=True)`: it applies `update_attrs` to the top page only (so no
placeholder substitution below it), fires no admin hooks, saves every page two or three times
and logs three entries per page. Here every page is built in memory from the template's live
version (like Wagtail's copy), placeholders substituted and page references (foreign keys,
StreamField page choosers, rich-text links) pointed at the clone's own pages, then written once
with ids reserved up front; revisions are written in one bulk insert. Images are shared.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import override
from modelcluster.models import ClusterableModel, get_all_child_relations
from wagtail import blocks as wagtail_blocks
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Collection, Page, ReferenceIndex, Revision, Site
from wagtail.models.copying import _copy

from cocarde.audit.services import record_event
from cocarde.tenancy.models import Campaign
from cocarde.tenancy.services import create_campaign
from sites.models import CampaignSite, PageSource, SiteIdentity, SiteNavigation
from sites.permissions import grant_site_editing
from sites.placeholders import MissingPlaceholderValue, Substitution, circonscription_label

HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
PAGE_LINK = re.compile(r"<a\b[^>]*>")
PAGE_LINK_ID = re.compile(r'\bid="(\d+)"')

# Fields that describe where a page is and what state it is in, never its content.
CONTENT_BASE_FIELDS = ("title", "seo_title", "search_description", "show_in_menus", "social_image")


class CloneError(ValueError):
    """Bad input for a clone: the message names the parameter; nothing was written."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass
class CloneResult:
    site: Site
    campaign: Campaign
    campaign_site: CampaignSite
    page_count: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "site_id": self.site.pk,
            "hostname": self.site.hostname,
            "port": self.site.port,
            "campaign_slug": self.campaign.slug,
            "page_count": self.page_count,
        }


@dataclass
class PageRefs:
    """Maps template page ids to clone page ids while rewriting references."""

    mapping: dict[int, int] = field(default_factory=dict)

    def __call__(self, page_id: Any) -> Any:
        if isinstance(page_id, int):
            return self.mapping.get(page_id, page_id)
        return page_id


# --- Content transformation (shared with template sync) --------------------------------------


def content_field_names(model: type[models.Model]) -> list[str]:
    """The fields a template sync copies: the base content fields and the type's own fields."""
    own = [
        f.name
        for f in model._meta.local_concrete_fields
        if not (isinstance(f, models.OneToOneField) and f.remote_field.parent_link)
    ]
    return [*CONTENT_BASE_FIELDS, *own]


def _rewrite_html(value: str, sub: Substitution, refs: PageRefs | None) -> str:
    value = sub.html(value)
    if refs and refs.mapping and 'linktype="page"' in value:

        def relink(tag: re.Match[str]) -> str:
            text = tag.group(0)
            if 'linktype="page"' not in text:
                return text
            return PAGE_LINK_ID.sub(lambda m: f'id="{refs(int(m.group(1)))}"', text)

        value = PAGE_LINK.sub(relink, value)
    return value


def _walk_block(
    block: wagtail_blocks.Block, value: Any, sub: Substitution, refs: PageRefs | None
) -> Any:
    if isinstance(block, wagtail_blocks.StreamBlock):
        return _walk_stream(block, value, sub, refs)
    if isinstance(block, wagtail_blocks.StructBlock):
        if not isinstance(value, dict):
            return value
        return {
            name: _walk_block(block.child_blocks[name], item, sub, refs)
            if name in block.child_blocks
            else item
            for name, item in value.items()
        }
    if isinstance(block, wagtail_blocks.ListBlock):
        if not isinstance(value, list):
            return value
        result = []
        for item in value:
            if isinstance(item, dict) and item.get("type") == "item" and "value" in item:
                result.append(
                    {**item, "value": _walk_block(block.child_block, item["value"], sub, refs)}
                )
            else:
                result.append(_walk_block(block.child_block, item, sub, refs))
        return result
    if isinstance(block, wagtail_blocks.RichTextBlock):
        return _rewrite_html(value, sub, refs) if isinstance(value, str) else value
    if isinstance(block, (wagtail_blocks.CharBlock, wagtail_blocks.TextBlock)):
        return sub.text(value) if isinstance(value, str) else value
    if isinstance(block, wagtail_blocks.PageChooserBlock):
        return refs(value) if refs else value
    return value


def _walk_stream(
    block: wagtail_blocks.StreamBlock, raw: Any, sub: Substitution, refs: PageRefs | None
) -> Any:
    if not isinstance(raw, list):
        return raw
    out = []
    for item in raw:
        child = block.child_blocks.get(item.get("type")) if isinstance(item, dict) else None
        if child is None:
            out.append(item)
        else:
            out.append({**item, "value": _walk_block(child, item.get("value"), sub, refs)})
    return out


def stream_raw(value: Any) -> list[dict[str, Any]]:
    """A StreamField value as its stored JSON-able list (block ids kept)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return list(value.get_prep_value())


def transform_instance(
    obj: models.Model, names: Iterable[str], sub: Substitution, refs: PageRefs | None
) -> None:
    """Substitute placeholders and rewrite page references in the given fields, in place."""
    for name in names:
        model_field: Any = obj._meta.get_field(name)
        value = getattr(obj, model_field.attname)
        if isinstance(model_field, StreamField):
            setattr(obj, name, _walk_stream(model_field.stream_block, stream_raw(value), sub, refs))
        elif isinstance(model_field, RichTextField):
            if value:
                setattr(obj, name, _rewrite_html(value, sub, refs))
        elif (
            isinstance(model_field, (models.CharField, models.TextField))
            and not model_field.choices
        ):
            if isinstance(value, str) and value:
                if isinstance(model_field, models.SlugField):
                    setattr(obj, name, sub.slug(value))
                else:
                    setattr(obj, name, sub.text(value))
        elif isinstance(model_field, models.ForeignKey) and refs is not None:
            if issubclass(model_field.related_model, Page) and value is not None:
                setattr(obj, model_field.attname, refs(value))


def transform_children(obj: ClusterableModel, sub: Substitution) -> None:
    for relation in get_all_child_relations(obj):
        for child in getattr(obj, relation.get_accessor_name()).all():
            names = [
                f.name
                for f in child._meta.concrete_fields
                if isinstance(f, (models.CharField, models.TextField)) and not f.choices
            ]
            transform_instance(child, names, sub, None)


def text_values_of(page: Page) -> Iterator[str]:
    """Every text an editor typed on a page (used to check placeholder names)."""
    collected: list[str] = []

    class Collector(Substitution):
        def text(self, value: str) -> str:
            collected.append(value)
            return value

        html = text
        slug = text

    collector = Collector({})
    transform_instance(page, [*content_field_names(type(page)), "slug"], collector, None)
    for relation in get_all_child_relations(page):
        for child in getattr(page, relation.get_accessor_name()).all():
            for f in child._meta.concrete_fields:
                if isinstance(f, (models.CharField, models.TextField)):
                    collected.append(getattr(child, f.attname) or "")
    yield from collected


def content_fingerprint(model: type[models.Model], content: dict[str, Any]) -> str:
    """A hash of a page's content as stored in a revision, ignoring position and state, so a
    clone page whose latest revision differs from what sync wrote was edited locally."""
    data: dict[str, Any] = {}
    for name in content_field_names(model):
        value = content.get(name)
        if isinstance(value, str) and value.startswith("[") and name != "title":
            try:
                value = json.loads(value)
            except ValueError:
                pass
        data[name] = value
    for relation in get_all_child_relations(model):
        accessor = relation.get_accessor_name()
        data[accessor] = [
            {k: v for k, v in child.items() if k not in ("pk", "id", relation.field.name)}
            for child in content.get(accessor, [])
        ]
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def check_lengths(obj: models.Model) -> None:
    for model_field in obj._meta.concrete_fields:
        if isinstance(model_field, models.CharField) and model_field.max_length:
            value = getattr(obj, model_field.attname)
            if isinstance(value, str) and len(value) > model_field.max_length:
                raise CloneError(
                    "placeholders",
                    _(
                        "after substitution, %(field)s of “%(page)s” is longer than "
                        "%(max)s characters"
                    )
                    % {
                        "field": model_field.name,
                        "page": getattr(obj, "title", obj),
                        "max": model_field.max_length,
                    },
                )


# --- Placeholder values ------------------------------------------------------------------------


def placeholder_values(
    *,
    candidate_name: str,
    party_name: str = "",
    commune_name: str = "",
    circonscription_code: str = "",
    circonscription_name: str = "",
    election: Any = None,
    contact_email: str = "",
    site_name: str = "",
) -> dict[str, str]:
    first, _sep, last = candidate_name.strip().partition(" ")
    values = {
        "candidate_name": candidate_name.strip(),
        "candidate_first_name": first,
        "candidate_last_name": last or first,
        "party_name": party_name,
        "commune": commune_name,
        "circonscription": circonscription_name or circonscription_label(circonscription_code),
        "contact_email": contact_email,
        "site_name": site_name or candidate_name.strip(),
    }
    values["territory"] = values["commune"] or values["circonscription"]
    if election is not None:
        values["election_name"] = election.name
        values["election_year"] = str(election.year)
        first_round = election.rounds.order_by("number").first()
        if first_round is not None:
            with override("fr"):
                values["election_date"] = date_format(first_round.date, "j F Y")
    return {k: v for k, v in values.items() if v}


# --- Tree writing ------------------------------------------------------------------------------


def reserve_page_ids(count: int) -> list[int]:
    """Ids for `count` new pages, taken from the table's sequence before any row is written,
    so references between the new pages are known while building them."""
    if count == 0:
        return []
    table = Page._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)"  # noqa: S608,E501
            cursor.execute(sql, [count])
            return [row[0] for row in cursor.fetchall()]
        # SQLite (embedded mode): one writer at a time, inside this transaction.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        (start,) = cursor.fetchone()
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(start, row[0] if row else 0)
        ids = list(range(start + 1, start + count + 1))
        cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [ids[-1], table])
        return ids


@dataclass
class TreeCopy:
    pages: list[Page]
    sources: dict[int, int]  # new page id -> template page id
    revisions: dict[int, Revision]


def copy_tree(
    *,
    template_pages: list[Page],
    parent: Page,
    sub: Substitution,
    refs: PageRefs,
    live: bool,
    actor: Any,
    top_slug: str | None = None,
) -> TreeCopy:
    """Copy a list of pages (a subtree in path order, its top first) under `parent`."""
    if not template_pages:
        return TreeCopy([], {}, {})
    ids = reserve_page_ids(len(template_pages))
    refs.mapping.update({p.pk: new_id for p, new_id in zip(template_pages, ids, strict=True)})
    owner = actor if getattr(actor, "is_authenticated", False) else None
    now = timezone.now()
    top = template_pages[0]

    # The top page takes the next free position under the (locked) parent.
    parent = Page.objects.select_for_update().get(pk=parent.pk)
    last = parent.get_last_child()
    top_path = last._inc_path() if last else Page._get_path(parent.path, parent.depth + 1, 1)
    new_paths = {top.pk: top_path}
    new_url_paths: dict[int, str] = {}
    children_seen: dict[int, int] = {}
    child_counts: dict[int, int] = {}
    sibling_slugs: set[tuple[str, str]] = set()
    for page in template_pages:
        if page.pk != top.pk:
            parent_id = _parent_id(page, template_pages)
            child_counts[parent_id] = child_counts.get(parent_id, 0) + 1

    copies: list[Page] = []
    sources: dict[int, int] = {}
    depth_offset = parent.depth + 1 - top.depth
    by_path = {p.path: p for p in template_pages}
    for page, new_id in zip(template_pages, ids, strict=True):
        specific = page.specific
        exclude = [*specific.default_exclude_fields_in_copy, *specific.exclude_fields_in_copy]
        page_copy, _children = _copy(specific, exclude_fields=exclude, update_attrs={})
        for relation in get_all_child_relations(page_copy):
            if relation.get_accessor_name() in exclude:  # e.g. comments: a new page has none
                setattr(page_copy, relation.get_accessor_name(), [])
        if page.pk != top.pk:
            parent_template = by_path[page.path[: -Page.steplen]]
            index = children_seen.get(parent_template.pk, 0) + 1
            children_seen[parent_template.pk] = index
            new_paths[page.pk] = Page._get_path(
                new_paths[parent_template.pk], page.depth + depth_offset, index
            )
            parent_url = new_url_paths[parent_template.pk]
        else:
            parent_url = parent.url_path
        transform_instance(page_copy, [*content_field_names(type(specific)), "slug"], sub, refs)
        transform_children(page_copy, sub)
        if page.pk == top.pk and top_slug:
            page_copy.slug = top_slug
        if "__" in page_copy.slug:  # an unknown __name__ token: keep a valid slug
            page_copy.slug = slugify(page_copy.slug.replace("__", "-")) or page_copy.slug
        sibling_key = (page.path[: -Page.steplen], page_copy.slug)
        if sibling_key in sibling_slugs:
            raise CloneError(
                "slug",
                _("two pages would have the same address “%(slug)s” after substitution.")
                % {"slug": page_copy.slug},
            )
        sibling_slugs.add(sibling_key)
        page_copy.draft_title = page_copy.title
        check_lengths(page_copy)
        is_live = live and page.live
        page_copy.id = page_copy.pk = new_id
        page_copy.path = new_paths[page.pk]
        page_copy.depth = page.depth + depth_offset
        page_copy.numchild = child_counts.get(page.pk, 0)
        page_copy.url_path = f"{parent_url}{page_copy.slug}/"
        new_url_paths[page.pk] = page_copy.url_path
        page_copy.translation_key = uuid.uuid4()
        page_copy.alias_of = None
        page_copy.owner = owner
        page_copy.live = is_live
        page_copy.has_unpublished_changes = not is_live
        page_copy.first_published_at = now if is_live else None
        page_copy.last_published_at = now if is_live else None
        page_copy.latest_revision_created_at = now
        page_copy.locked, page_copy.locked_at, page_copy.locked_by = False, None, None
        page_copy.live_revision = None
        page_copy.latest_revision = None
        _insert_page(page_copy)
        _insert_children(page_copy)
        copies.append(page_copy)
        sources[new_id] = page.pk

    Page.objects.filter(pk=parent.pk).update(numchild=F("numchild") + 1)

    # One revision per page, written in bulk, then the pages point at them.
    base_type = ContentType.objects.get_for_model(Page)
    revisions = Revision.objects.bulk_create(
        [
            Revision(
                content_type=ContentType.objects.get_for_model(type(copy)),
                base_content_type=base_type,
                object_id=str(copy.pk),
                created_at=now,
                user=owner,
                content=copy.serializable_data(),
                object_str=copy.title[:255],
            )
            for copy in copies
        ]
    )
    for copy, revision in zip(copies, revisions, strict=True):
        copy.latest_revision = revision
        copy.live_revision = revision if copy.live else None
    Page.objects.bulk_update(copies, ["latest_revision", "live_revision"], batch_size=500)
    for copy in copies:
        ReferenceIndex.create_or_update_for_object(copy)
    _index_after_commit(copies)
    return TreeCopy(
        copies, sources, {copy.pk: rev for copy, rev in zip(copies, revisions, strict=True)}
    )


def _insert_page(page: Page) -> None:
    """One INSERT per table (wagtailcore_page, then the type's own table), as a raw save.

    Page.save()'s housekeeping (paths, url_path, slug) is done by copy_tree. Saving "raw"
    skips the per-object search and reference index updates: the reference index is written
    from memory by copy_tree, and the search index in bulk after commit (Wagtail's database
    search backend rescans its whole table on every single add, which would make each clone
    slower than the one before).
    """
    for model in (Page, type(page)):
        page._save_table(raw=True, cls=model, force_insert=True, using="default")
    models.signals.post_save.send(
        sender=type(page),
        instance=page,
        created=True,
        update_fields=None,
        raw=True,
        using="default",
    )


def _index_after_commit(pages: list[Page]) -> None:
    by_model: dict[str, list[int]] = {}
    for page in pages:
        by_model.setdefault(page._meta.label, []).append(page.pk)
    from sites.tasks import bulk_index_pages

    transaction.on_commit(lambda: bulk_index_pages.delay(by_model))


def _insert_children(page: Page) -> None:
    """Write a new page's child objects (form questions...) in one INSERT per relation; a new
    page has none in the database, so modelcluster's commit (read, diff, delete) is not needed."""
    for relation in get_all_child_relations(page):
        children = list(getattr(page, relation.get_accessor_name()).all())
        if not children:
            continue
        for child in children:
            setattr(child, relation.field.attname, page.pk)
        relation.related_model._default_manager.bulk_create(children)


def _parent_id(page: Page, pages: list[Page]) -> int:
    parent_path = page.path[: -Page.steplen]
    for candidate in pages:
        if candidate.path == parent_path:
            return candidate.pk
    raise CloneError("template", f"page {page.pk} is outside the copied tree")


def template_tree(root: Page) -> list[Page]:
    """The pages of a subtree, specific, in path order, with their child objects (form
    questions, comments) loaded in one query per relation instead of several per page."""
    pages = list(Page.objects.descendant_of(root, inclusive=True).order_by("path").specific())
    by_relation: dict[Any, list[Page]] = {}
    for page in pages:
        for relation in get_all_child_relations(page):
            by_relation.setdefault(relation, []).append(page)
    for relation, owners in by_relation.items():
        fk = relation.field.attname
        children: dict[int, list[Any]] = {}
        for child in relation.related_model._default_manager.filter(
            **{f"{fk}__in": [p.pk for p in owners]}
        ):
            children.setdefault(getattr(child, fk), []).append(child)
        for page in owners:
            # In memory only: these template objects are read, never saved.
            setattr(page, relation.get_accessor_name(), children.get(page.pk, []))
    return pages


def missing_placeholders(
    template_pages: list[Page], values: dict[str, str]
) -> dict[str, list[str]]:
    """Placeholder name -> titles of template pages that use it but have no value."""
    missing: dict[str, list[str]] = {}
    for page in template_pages:
        sub = Substitution(values)
        for text in text_values_of(page):
            sub.text(text)
            sub.slug(text)
        for name in sub.missing:
            missing.setdefault(name, []).append(page.title)
    return missing


# --- Settings ----------------------------------------------------------------------------------


def copy_settings(
    template_site: Site, site: Site, sub: Substitution, refs: PageRefs, overrides: dict[str, Any]
) -> None:
    identity = SiteIdentity.for_site(template_site)
    identity.pk = None
    identity.site = site
    transform_instance(
        identity,
        [
            f.name
            for f in SiteIdentity._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField)) and not f.choices
        ],
        sub,
        refs,
    )
    for name, value in overrides.items():
        if value not in (None, ""):
            setattr(identity, name, value)
    try:
        identity.full_clean(exclude=["site"])
    except ValidationError as error:
        field_name, messages = next(iter(error.message_dict.items()))
        raise CloneError(field_name, " ".join(messages)) from error
    identity.save()

    navigation = SiteNavigation.for_site(template_site)
    navigation.pk = None
    navigation.site = site
    transform_instance(
        navigation,
        ["main_menu", "footer_menu", "footer_text", "header_button_label", "header_button_page"],
        sub,
        refs,
    )
    navigation.save()


# --- The service -------------------------------------------------------------------------------


def _clean_hostname(hostname: str, port: int) -> str:
    hostname = (hostname or "").strip().lower().rstrip(".")
    if not HOSTNAME.match(hostname):
        raise CloneError(
            "hostname",
            _("“%(value)s” is not a valid host name (e.g. dupont.example.fr).")
            % {"value": hostname},
        )
    if Site.objects.filter(hostname=hostname, port=port).exists():
        raise CloneError(
            "hostname",
            _("a site already answers on %(host)s:%(port)s.") % {"host": hostname, "port": port},
        )
    return hostname


@transaction.atomic
def clone_site(
    *,
    actor: Any,
    template: CampaignSite,
    candidate_name: str,
    hostname: str,
    port: int = 80,
    campaign_slug: str = "",
    theme: str = "",
    commune_codes: Iterable[str] = (),
    commune_name: str = "",
    circonscription_code: str = "",
    circonscription_name: str = "",
    election: Any = None,
    contact_email: str = "",
    party_name: str = "",
    primary_colour: str = "",
    secondary_colour: str = "",
    publish: bool = True,
) -> CloneResult:
    """Create a candidate's campaign and site from a template site, in one transaction."""
    from themes.registry import get_theme

    candidate_name = (candidate_name or "").strip()
    if not candidate_name:
        raise CloneError("name", _("the candidate's name is required."))
    if not template.is_template:
        raise CloneError(
            "template", _("%(host)s is not a template site.") % {"host": template.site.hostname}
        )
    hostname = _clean_hostname(hostname, port)
    slug = campaign_slug.strip() or slugify(candidate_name)
    if not slug:
        raise CloneError("campaign_slug", _("cannot make a slug from the name; give one."))
    if Campaign.objects.filter(slug=slug).exists():
        raise CloneError(
            "campaign_slug", _("the campaign “%(slug)s” already exists.") % {"slug": slug}
        )
    if theme and get_theme(theme) is None:
        raise CloneError("theme", _("unknown theme “%(theme)s”.") % {"theme": theme})

    national = template.campaign
    template_identity = SiteIdentity.for_site(template.site)
    election = election or national.election
    values = placeholder_values(
        candidate_name=candidate_name,
        party_name=party_name or template_identity.party_name,
        commune_name=commune_name,
        circonscription_code=circonscription_code,
        circonscription_name=circonscription_name,
        election=election,
        contact_email=contact_email,
    )
    pages = template_tree(template.site.root_page)
    missing = missing_placeholders(pages, values)
    if missing:
        details = "; ".join(
            f"{{{{ {name} }}}} ({', '.join(titles[:3])})"
            for name, titles in sorted(missing.items())
        )
        raise CloneError(
            "placeholders", _("the template needs values for %(details)s.") % {"details": details}
        )

    try:
        campaign = create_campaign(
            actor=actor,
            name=candidate_name,
            slug=slug,
            kind=Campaign.Kind.CANDIDATE,
            parent=national if national.is_national else None,
            commune_codes=list(commune_codes),
            circonscription_code=circonscription_code,
            election=election,
            contact_email=contact_email,
            legal_entity_name=candidate_name,
            publication_director=candidate_name,
            host_details=national.host_details,
        )
    except ValidationError as error:
        field_name, messages = next(iter(error.message_dict.items()))
        raise CloneError(field_name, " ".join(messages)) from error

    sub = Substitution(values)
    refs = PageRefs()
    root = Page.get_first_root_node()
    tree = copy_tree(
        template_pages=pages,
        parent=root,
        sub=sub,
        refs=refs,
        live=publish,
        actor=actor,
        top_slug=_free_root_slug(slug),
    )
    if sub.missing:  # pragma: no cover - checked above, kept as a guard
        raise MissingPlaceholderValue(sub.missing)
    home = tree.pages[0]
    site = Site.objects.create(
        hostname=hostname, port=port, site_name=candidate_name, root_page=home
    )

    if theme and theme != template_identity.theme:
        # A different theme brings its own colours unless the caller chose some.
        chosen = get_theme(theme)
        primary_colour = primary_colour or (chosen.primary_colour if chosen else "")
        secondary_colour = secondary_colour or (chosen.secondary_colour if chosen else "")
    copy_settings(
        template.site,
        site,
        sub,
        refs,
        {
            "theme": theme,
            "candidate_name": candidate_name,
            "primary_colour": primary_colour,
            "secondary_colour": secondary_colour,
            "contact_email": contact_email,
            "publisher_name": campaign.legal_entity_name,
            "publisher_address": campaign.legal_address,
            "publication_director": campaign.publication_director,
            "financial_agent_name": campaign.financial_agent_name,
            "financial_agent_address": campaign.financial_agent_address,
            "host_details": campaign.host_details,
            "data_controller": candidate_name,
            "privacy_contact": contact_email,
        },
    )

    collection = Collection.get_first_root_node().add_child(name=f"{candidate_name} ({hostname})")
    group = Group.objects.create(name=f"Site editors · {hostname}:{port}")
    grant_site_editing(group, home, collection, template.collection)
    campaign_site = CampaignSite.objects.create(
        site=site,
        campaign=campaign,
        template=template,
        placeholder_values=values,
        editors_group=group,
        collection=collection,
    )
    template_revisions = dict(
        Page.objects.filter(pk__in=[p.pk for p in pages]).values_list("pk", "live_revision_id")
    )
    PageSource.objects.bulk_create(
        [
            PageSource(
                page=copy,
                template_page_id=tree.sources[copy.pk],
                campaign_site=campaign_site,
                applied_revision_id=template_revisions.get(tree.sources[copy.pk]),
                applied_fingerprint=content_fingerprint(
                    type(copy), tree.revisions[copy.pk].content
                ),
            )
            for copy in tree.pages
        ]
    )
    record_event(
        "site.clone",
        actor=actor,
        campaign=campaign,
        target=site,
        data={
            "template": template.site.hostname,
            "hostname": hostname,
            "pages": len(tree.pages),
            "published": publish,
        },
    )
    return CloneResult(
        site=site, campaign=campaign, campaign_site=campaign_site, page_count=len(tree.pages)
    )


def _free_root_slug(slug: str) -> str:
    """Home pages are siblings under the root, so their slugs must differ."""
    taken = set(Page.objects.filter(depth=2, slug__startswith=slug).values_list("slug", flat=True))
    if slug not in taken:
        return slug
    n = 2
    while f"{slug}-{n}" in taken:
        n += 1
    return f"{slug}-{n}"
