"""National template sync.

A template page marked "synchronised" sends each newly published version to every clone of
it, placeholders re-applied with each clone's values. A clone page whose content differs from
what sync last wrote (a local edit) is not overwritten: a `SyncConflict` lists it for review,
with a diff, and its team or the national team can accept the national version. New template
pages can be pushed to every clone. Both run in the background and write a `SyncRun` report.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from modelcluster.models import get_all_child_relations
from wagtail.models import Page, Revision

from cocarde.audit.services import record_event
from sites.models import CampaignSite, PageSource, SyncConflict, SynchronisedPage, SyncRun
from sites.placeholders import Substitution
from sites.services.cloning import (
    CloneError,
    PageRefs,
    content_field_names,
    content_fingerprint,
    copy_tree,
    template_tree,
    transform_children,
    transform_instance,
)

logger = logging.getLogger(__name__)


class SyncError(ValueError):
    pass


def template_site_of(page: Page) -> CampaignSite | None:
    home_path = page.path[: 2 * Page.steplen]
    return (
        CampaignSite.objects.filter(is_template=True, site__root_page__path=home_path)
        .select_related("site")
        .first()
    )


# --- Marking pages -----------------------------------------------------------------------------


@transaction.atomic
def mark_synchronised(page: Page, *, actor: Any, synchronised: bool = True) -> bool:
    if template_site_of(page) is None:
        raise SyncError(_("Only pages of a template site can be synchronised."))
    if synchronised:
        _marker, created = SynchronisedPage.objects.get_or_create(
            page=page,
            defaults={"marked_by": actor if getattr(actor, "is_authenticated", False) else None},
        )
    else:
        created = bool(SynchronisedPage.objects.filter(page=page).delete()[0])
    if created:
        record_event(
            "site.sync_mark" if synchronised else "site.sync_unmark",
            actor=actor,
            target=page,
            data={"title": page.title},
        )
    return created


def is_synchronised(page: Page) -> bool:
    return SynchronisedPage.objects.filter(page_id=page.pk).exists()


# --- After a template page is published --------------------------------------------------------


def template_page_published(page: Page, revision: Revision, *, user: Any) -> SyncRun | None:
    """Called by SitePage.publish(): queue the sync of a synchronised template page."""
    if not SynchronisedPage.objects.filter(page_id=page.pk).exists():
        return None
    if not PageSource.objects.filter(template_page_id=page.pk).exists():
        return None
    run = SyncRun.objects.create(
        kind=SyncRun.Kind.UPDATE,
        template_page=page,
        template_revision=revision,
        page_title=page.title[:255],
        actor=user if getattr(user, "is_authenticated", False) else None,
    )
    from sites.tasks import bulk_sync_template_page

    transaction.on_commit(lambda: bulk_sync_template_page.delay(run.pk))
    return run


def clone_page_edited(source: PageSource) -> bool:
    """Whether the clone's latest version differs from what sync (or the clone) wrote."""
    page = source.page
    latest = Revision.objects.filter(pk=page.latest_revision_id).only("content").first()
    if latest is None:
        return False
    return content_fingerprint(page.specific_class, latest.content) != source.applied_fingerprint


def proposed_version(source: PageSource, template_revision: Revision) -> Page:
    """The clone page as the national version would make it (not saved)."""
    clone = Page.objects.get(pk=source.page_id).specific  # a fresh object: callers compare
    template_obj = template_revision.as_object()
    names = content_field_names(type(clone))
    for name in names:
        model_field = clone._meta.get_field(name)
        setattr(clone, model_field.attname, getattr(template_obj, model_field.attname))
    for relation in get_all_child_relations(clone):
        accessor = relation.get_accessor_name()
        children = []
        for child in getattr(template_obj, accessor).all():
            child.pk = None
            child.id = None
            setattr(child, relation.field.name, clone)
            children.append(child)
        setattr(clone, accessor, children)
    values = source.campaign_site.placeholder_values
    refs = PageRefs(
        mapping=dict(
            PageSource.objects.filter(campaign_site_id=source.campaign_site_id).values_list(
                "template_page_id", "page_id"
            )
        )
    )
    sub = Substitution(values)
    transform_instance(clone, names, sub, refs)
    transform_children(clone, sub)
    clone.draft_title = clone.title
    return clone


def apply_template_version(
    source: PageSource, template_revision: Revision, *, actor: Any
) -> Revision:
    clone = proposed_version(source, template_revision)
    user = actor if getattr(actor, "is_authenticated", False) else None
    revision = clone.save_revision(user=user, changed=True, log_action=True, clean=False)
    if clone.live:
        revision.publish(user=user, skip_permission_checks=True)
    source.applied_revision = template_revision
    source.applied_fingerprint = content_fingerprint(type(clone), revision.content)
    source.save(update_fields=["applied_revision", "applied_fingerprint", "applied_at"])
    return revision


def sync_clone_page(source: PageSource, template_revision: Revision, *, actor: Any) -> str:
    """Bring one clone page to the national version; returns the outcome for the report."""
    if source.applied_revision_id == template_revision.pk:
        return "skipped"  # already applied: a retried task changes nothing
    Page.objects.select_for_update().filter(pk=source.page_id).first()
    if clone_page_edited(source):
        conflict = SyncConflict.objects.filter(
            source=source, status=SyncConflict.Status.PENDING
        ).first()
        if conflict is None:
            SyncConflict.objects.create(source=source, template_revision=template_revision)
        else:
            conflict.template_revision = template_revision
            conflict.save(update_fields=["template_revision"])
        return "conflict"
    apply_template_version(source, template_revision, actor=actor)
    return "updated"


def run_sync(run: SyncRun) -> SyncRun:
    if run.status == SyncRun.Status.DONE:
        return run
    run.status = SyncRun.Status.RUNNING
    run.save(update_fields=["status"])
    revision = run.template_revision
    report: list[dict[str, Any]] = []
    counts = {"updated": 0, "conflict": 0, "skipped": 0, "failed": 0}
    sources = PageSource.objects.filter(template_page_id=run.template_page_id).select_related(
        "campaign_site__site", "page"
    )
    for source in sources.order_by("campaign_site__site__hostname"):
        try:
            with transaction.atomic():
                outcome = (
                    sync_clone_page(source, revision, actor=run.actor) if revision else "failed"
                )
            message = ""
        except Exception as error:
            logger.exception("Sync of page %s failed", source.page_id)
            outcome, message = "failed", str(error)
        counts[outcome] += 1
        report.append(
            {
                "hostname": source.campaign_site.site.hostname,
                "page_id": source.page_id,
                "outcome": outcome,
                "message": message,
            }
        )
    run.updated, run.conflicts, run.skipped, run.failed = (
        counts["updated"], counts["conflict"], counts["skipped"], counts["failed"],
    )  # fmt: skip
    run.report = report
    run.status = SyncRun.Status.DONE
    run.finished_at = timezone.now()
    run.save()
    return run


# --- Review of local edits ---------------------------------------------------------------------


@transaction.atomic
def accept_national_version(conflict: SyncConflict, *, actor: Any) -> SyncConflict:
    conflict = (
        SyncConflict.objects.select_for_update()
        .select_related("source__campaign_site")
        .get(pk=conflict.pk)
    )
    if conflict.status != SyncConflict.Status.PENDING:
        return conflict
    apply_template_version(conflict.source, conflict.template_revision, actor=actor)
    return _resolve(conflict, SyncConflict.Status.ACCEPTED, actor)


@transaction.atomic
def keep_local_version(conflict: SyncConflict, *, actor: Any) -> SyncConflict:
    conflict = SyncConflict.objects.select_for_update().select_related("source").get(pk=conflict.pk)
    if conflict.status != SyncConflict.Status.PENDING:
        return conflict
    source = conflict.source
    source.applied_revision = conflict.template_revision  # this version was seen and declined
    source.save(update_fields=["applied_revision", "applied_at"])
    return _resolve(conflict, SyncConflict.Status.KEPT, actor)


def _resolve(conflict: SyncConflict, status: str, actor: Any) -> SyncConflict:
    conflict.status = status
    conflict.resolved_at = timezone.now()
    conflict.resolved_by = actor if getattr(actor, "is_authenticated", False) else None
    conflict.save(update_fields=["status", "resolved_at", "resolved_by"])
    record_event(
        f"site.sync_{status}",
        actor=actor,
        campaign=conflict.source.campaign_site.campaign,
        target=conflict.source.page,
        data={"template_revision": conflict.template_revision_id},
    )
    return conflict


# --- Pushing new template pages ----------------------------------------------------------------


@transaction.atomic
def push_page_to_clones(page: Page, *, actor: Any) -> SyncRun:
    if template_site_of(page) is None or page.depth <= 2:
        raise SyncError(_("Only pages below the home page of a template site can be pushed."))
    run = SyncRun.objects.create(
        kind=SyncRun.Kind.PUSH,
        template_page=page,
        template_revision_id=page.live_revision_id or page.latest_revision_id,
        page_title=page.title[:255],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record_event(
        "site.sync_push", actor=actor, target=page, data={"title": page.title, "run": run.pk}
    )
    from sites.tasks import bulk_push_pages

    transaction.on_commit(lambda: bulk_push_pages.delay(run.pk))
    return run


def push_to_clone(page: Page, clone: CampaignSite, *, actor: Any) -> str:
    if PageSource.objects.filter(campaign_site=clone, template_page=page).exists():
        return "skipped"
    parent_source = (
        PageSource.objects.filter(campaign_site=clone, template_page_id=page.get_parent().pk)
        .select_related("page")
        .first()
    )
    if parent_source is None:
        raise SyncError(
            _("the clone has no copy of the parent page “%(title)s”.")
            % {"title": page.get_parent().title}
        )
    sub = Substitution(clone.placeholder_values)
    wanted_slug = sub.slug(page.slug)
    if parent_source.page.get_children().filter(slug=wanted_slug).exists():
        raise SyncError(
            _("the clone already has a page at “%(slug)s” there.") % {"slug": wanted_slug}
        )
    refs = PageRefs(
        mapping=dict(
            PageSource.objects.filter(campaign_site=clone).values_list(
                "template_page_id", "page_id"
            )
        )
    )
    pages = template_tree(page)
    tree = copy_tree(
        template_pages=pages,
        parent=parent_source.page,
        sub=sub,
        refs=refs,
        live=parent_source.page.live,
        actor=actor,
    )
    if sub.missing:
        raise CloneError("placeholders", ", ".join(sorted(sub.missing)))
    revisions = dict(
        Page.objects.filter(pk__in=[p.pk for p in pages]).values_list("pk", "live_revision_id")
    )
    PageSource.objects.bulk_create(
        [
            PageSource(
                page=copy,
                template_page_id=tree.sources[copy.pk],
                campaign_site=clone,
                applied_revision_id=revisions.get(tree.sources[copy.pk]),
                applied_fingerprint=content_fingerprint(
                    type(copy), tree.revisions[copy.pk].content
                ),
            )
            for copy in tree.pages
        ]
    )
    from sites.cache import invalidate_site

    invalidate_site(clone.site)
    return "pushed"


def run_push(run: SyncRun) -> SyncRun:
    if run.status == SyncRun.Status.DONE:
        return run
    run.status = SyncRun.Status.RUNNING
    run.save(update_fields=["status"])
    page = run.template_page
    template = template_site_of(page) if page else None
    report: list[dict[str, Any]] = []
    counts = {"pushed": 0, "skipped": 0, "failed": 0}
    clones = (
        CampaignSite.objects.filter(template=template).select_related("site")
        if page is not None and template is not None
        else []
    )
    for clone in clones:
        assert page is not None
        try:
            with transaction.atomic():
                outcome = push_to_clone(page, clone, actor=run.actor)
            message = ""
        except Exception as error:  # noqa: BLE001  (one clone's failure must not stop the others)
            logger.warning("Push of page %s to %s failed: %s", page.pk, clone.site.hostname, error)
            outcome, message = "failed", str(error)
        counts[outcome] += 1
        report.append({"hostname": clone.site.hostname, "outcome": outcome, "message": message})
    run.pushed, run.skipped, run.failed = counts["pushed"], counts["skipped"], counts["failed"]
    run.report = report
    run.status = SyncRun.Status.DONE
    run.finished_at = timezone.now()
    run.save()
    return run
