"""Admin screens of candidate sites. Thin: checks come from the tenancy layer and
`sites.permissions`, changes from `sites.services`. Another campaign's rows answer 404."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView, View
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.models import Page

from cocarde.tenancy.permissions import Capability, campaign_ids_for, is_national_admin
from sites.admin_forms import BulkCloneForm, NewSiteForm
from sites.models import BulkCloneJob, CampaignSite, SyncConflict, SyncRun
from sites.services import bulk, cloning, sync


class NationalAdminRequiredMixin:
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_national_admin(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class NewSiteView(NationalAdminRequiredMixin, WagtailAdminTemplateMixin, FormView):
    """The "new candidate site" wizard: template and candidate, territory and election,
    appearance and publication (with a summary), then the clone. Earlier steps' answers
    travel as hidden fields, so going back and forth loses nothing and needs no session."""

    template_name = "sites/admin/new_site.html"
    form_class = NewSiteForm
    page_title = gettext_lazy("New candidate site")
    header_icon = "site"
    step = 1

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.get_form()
        last = len(NewSiteForm.steps)
        current = min(max(int(request.POST.get("step", "1") or 1), 1), last)
        if request.POST.get("go") == "back":
            self.step = max(current - 1, 1)
            return self.render_to_response(
                self.get_context_data(form=NewSiteForm(initial=request.POST.dict()))
            )
        form.is_valid()
        if any(name in form.errors for name in form.fields_up_to(current)) or (
            current == last and form.errors
        ):
            self.step = current
            return self.form_invalid(form)
        if current < last:
            self.step = current + 1
            form.errors.clear()  # the next step has not been answered yet
            return self.render_to_response(self.get_context_data(form=form))
        return self.form_valid(form)

    def form_invalid(self, form: NewSiteForm) -> HttpResponse:  # type: ignore[override]
        for index, (_title, names) in enumerate(NewSiteForm.steps, start=1):
            if any(name in form.errors for name in names):
                self.step = min(self.step, index)
                break
        return super().form_invalid(form)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["step"] = self.step
        context["last_step"] = len(NewSiteForm.steps)
        form = context.get("form")
        cleaned = getattr(form, "cleaned_data", None) or {}
        context["chosen_template"] = cleaned.get("template")
        return context

    def form_valid(self, form: NewSiteForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            result = cloning.clone_site(
                actor=self.request.user,
                template=data["template"],
                candidate_name=data["candidate_name"],
                hostname=data["hostname"],
                port=data["port"] or 80,
                campaign_slug=data["campaign_slug"],
                theme=data["theme"],
                commune_codes=data["commune_codes"],
                commune_name=data["commune_name"],
                circonscription_code=data["circonscription_code"],
                circonscription_name=data["circonscription_name"],
                election=data["election"],
                contact_email=data["contact_email"],
                primary_colour=data["primary_colour"],
                secondary_colour=data["secondary_colour"],
                publish=data["publish"],
            )
        except cloning.CloneError as error:
            target = error.field if error.field in form.fields else None
            form.add_error(target, str(error).split(": ", 1)[-1])
            self.step = len(NewSiteForm.steps)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("The site of %(name)s is ready: %(count)s pages.")
            % {"name": result.campaign.name, "count": result.page_count},
        )
        return redirect(reverse("sites_admin:site_created", args=[result.site.pk]))


class SiteCreatedView(NationalAdminRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "sites/admin/site_created.html"
    page_title = gettext_lazy("Candidate site created")
    header_icon = "site"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        link = get_object_or_404(
            CampaignSite.objects.select_related("site", "campaign"), site_id=kwargs["site_id"]
        )
        return {**super().get_context_data(**kwargs), "link": link, "site": link.site}


class BulkCloneView(NationalAdminRequiredMixin, WagtailAdminTemplateMixin, FormView):
    template_name = "sites/admin/bulk_clone.html"
    form_class = BulkCloneForm
    page_title = gettext_lazy("Clone sites from a CSV file")
    header_icon = "upload"

    def form_valid(self, form: BulkCloneForm) -> HttpResponse:
        upload = form.cleaned_data["file"]
        try:
            job = bulk.start_bulk_clone(
                actor=self.request.user,
                template=form.cleaned_data["template"],
                raw=upload.read(),
                file_name=upload.name,
                publish=form.cleaned_data["publish"],
            )
        except bulk.BulkCloneFileError as error:
            form.add_error("file", str(error))
            return self.form_invalid(form)
        return redirect(reverse("sites_admin:bulk_job", args=[job.pk]))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "jobs": BulkCloneJob.objects.select_related("template__site")[:20],
        }


class BulkCloneJobView(NationalAdminRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "sites/admin/bulk_job.html"
    page_title = gettext_lazy("Bulk clone")
    header_icon = "upload"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        job = get_object_or_404(BulkCloneJob, pk=kwargs["job_id"])
        fmt = request.GET.get("format")
        if fmt == "json":
            return JsonResponse({"status": job.status, **job.counts()})
        if fmt == "csv":
            return _job_report_csv(job)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        job = get_object_or_404(
            BulkCloneJob.objects.select_related("template__site"), pk=kwargs["job_id"]
        )
        counts = job.counts()
        percent = round(100 * counts["done"] / counts["total"]) if counts["total"] else 100
        return {
            **super().get_context_data(**kwargs),
            "job": job,
            "counts": counts,
            "percent": percent,
            "rows": job.rows.select_related("site"),
        }


def _job_report_csv(job: BulkCloneJob) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bulk-clone-{job.pk}-report.csv"'
    writer = csv.writer(response)
    writer.writerow(["line", "name", "hostname", "status", "message", "site_id"])
    for row in job.rows.all():
        writer.writerow(
            [
                row.line,
                row.data.get("name", ""),
                row.data.get("hostname", ""),
                row.status,
                row.message,
                row.site_id or "",
            ]
        )
    return response


class SyncRunsView(NationalAdminRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "sites/admin/sync_runs.html"
    page_title = gettext_lazy("Template sync")
    header_icon = "resubmit"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        run_id = self.request.GET.get("run")
        selected = (
            SyncRun.objects.filter(pk=run_id).first() if run_id and run_id.isdigit() else None
        )
        return {
            **super().get_context_data(**kwargs),
            "runs": SyncRun.objects.all()[:50],
            "selected": selected,
        }


def _conflicts_for(user: Any) -> QuerySet[SyncConflict]:
    conflicts = SyncConflict.objects.select_related(
        "source__page", "source__campaign_site__site", "source__campaign_site__campaign"
    )
    ids = campaign_ids_for(user, Capability.EDIT_SITE)
    return (
        conflicts if ids is None else conflicts.filter(source__campaign_site__campaign_id__in=ids)
    )


class ConflictsView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "sites/admin/conflicts.html"
    page_title = gettext_lazy("Pages to review")
    header_icon = "warning"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        pending = _conflicts_for(self.request.user).filter(status=SyncConflict.Status.PENDING)
        return {**super().get_context_data(**kwargs), "conflicts": pending}


class ConflictView(WagtailAdminTemplateMixin, TemplateView):
    """A local edit next to the national version, with a diff, to accept or decline."""

    template_name = "sites/admin/conflict.html"
    page_title = gettext_lazy("Page to review")
    header_icon = "warning"

    def get_conflict(self) -> SyncConflict:
        return get_object_or_404(_conflicts_for(self.request.user), pk=self.kwargs["conflict_id"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from sites.diff import page_diff

        conflict = self.get_conflict()
        current = Page.objects.get(
            pk=conflict.source.page_id
        ).specific.get_latest_revision_as_object()
        proposed = sync.proposed_version(conflict.source, conflict.template_revision)
        return {
            **super().get_context_data(**kwargs),
            "conflict": conflict,
            "changes": page_diff(current, proposed),
        }

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        conflict = self.get_conflict()
        if conflict.status != SyncConflict.Status.PENDING:
            raise Http404
        if request.POST.get("action") == "accept":
            sync.accept_national_version(conflict, actor=request.user)
            messages.success(request, _("The national version is now on the page."))
        elif request.POST.get("action") == "keep":
            sync.keep_local_version(conflict, actor=request.user)
            messages.success(request, _("The local version was kept."))
        return redirect(reverse("sites_admin:conflicts"))


class TemplatePageActionView(NationalAdminRequiredMixin, View):
    """Mark or unmark a template page as synchronised, or push it to every clone (POST)."""

    labels = {
        "mark": gettext_lazy("Synchronise this page with every clone?"),
        "unmark": gettext_lazy("Stop synchronising this page?"),
        "push": gettext_lazy("Add this page (and its sub-pages) to every clone?"),
    }

    def get(self, request: HttpRequest, page_id: int, action: str) -> HttpResponse:
        from django.template.response import TemplateResponse

        page = get_object_or_404(Page, pk=page_id)
        if action not in self.labels:
            raise Http404
        return TemplateResponse(
            request,
            "sites/admin/page_action.html",
            {
                "page": page,
                "question": self.labels[action],
                "header_title": page.title,
                "page_title": page.title,
            },
        )

    def post(self, request: HttpRequest, page_id: int, action: str) -> HttpResponse:
        page = get_object_or_404(Page, pk=page_id)
        try:
            if action == "mark":
                sync.mark_synchronised(page, actor=request.user)
                messages.success(
                    request,
                    _("“%(title)s” is synchronised with every clone.") % {"title": page.title},
                )
            elif action == "unmark":
                sync.mark_synchronised(page, actor=request.user, synchronised=False)
                messages.success(
                    request, _("“%(title)s” is no longer synchronised.") % {"title": page.title}
                )
            elif action == "push":
                run = sync.push_page_to_clones(page, actor=request.user)
                messages.success(
                    request, _("“%(title)s” is being added to every clone.") % {"title": page.title}
                )
                return redirect(f"{reverse('sites_admin:sync_runs')}?run={run.pk}")
            else:
                raise Http404
        except sync.SyncError as error:
            messages.error(request, str(error))
        return redirect(reverse("wagtailadmin_pages:edit", args=[page.pk]))


class SubmissionsView(WagtailAdminTemplateMixin, TemplateView):
    """Answers to the forms of the user's campaigns' sites, as the CRM recorded them."""

    template_name = "sites/admin/submissions.html"
    page_title = gettext_lazy("Form answers")
    header_icon = "form"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if campaign_ids_for(request.user, Capability.VIEW_PEOPLE) == set():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from crm.selectors import recent_web_actions

        actions = recent_web_actions(self.request.user)
        return {
            **super().get_context_data(**kwargs),
            "actions": actions[:200],
            "total": actions.count(),
        }
