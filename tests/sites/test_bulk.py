"""Bulk clone from a CSV: in the background, one site per row; a bad row fails alone and
leaves nothing half-made."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from wagtail.models import Page, Site

from cocarde.tenancy.models import Campaign
from sites.models import BulkCloneJob, BulkCloneRow
from sites.services.bulk import BulkCloneFileError, parse_candidates, start_bulk_clone
from tests.fixtures.celery import wait_for

CSV = (
    "nom;domaine;commune;circonscription;theme\n"
    "Marie Dupont;marie.example.org;Blois;41-01;republique\n"
    "Paul Bad;not a hostname;Tours;37-01;horizon\n"
    "Karim Benali;karim.example.org;Vendôme;41-02;proximite\n"
).encode("cp1252")  # a file saved by a French spreadsheet


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_bulk_clone_runs_in_a_worker_and_reports_each_row(
    template_site, national_admin, celery_worker
):
    pages_before = Page.objects.count()
    job = start_bulk_clone(
        actor=national_admin, template=template_site, raw=CSV, file_name="candidats.csv"
    )
    wait_for(
        lambda: BulkCloneJob.objects.get(pk=job.pk).status == BulkCloneJob.Status.DONE, timeout=90
    )

    rows = {row.line: row for row in job.rows.all()}
    assert rows[2].status == rows[4].status == BulkCloneRow.Status.OK
    assert rows[3].status == BulkCloneRow.Status.FAILED and "hostname" in rows[3].message
    assert job.counts() == {"total": 3, "done": 3, "ok": 2, "failed": 1}
    # The bad row left nothing: no campaign, no site, no page of its own.
    assert not Campaign.objects.filter(slug="paul-bad").exists()
    created = Site.objects.filter(hostname__endswith=".example.org")
    assert set(created.values_list("hostname", flat=True)) == {
        "marie.example.org",
        "karim.example.org",
    }
    assert Page.objects.count() == pages_before + 2 * 17
    assert (
        Site.objects.get(hostname="karim.example.org").root_page.title
        == "Karim Benali, pour Vendôme"
    )


@pytest.mark.django_db
def test_admin_upload_shows_progress_and_a_report(
    template_site, national_admin, login, django_capture_on_commit_callbacks
):
    client = login(national_admin)
    upload = SimpleUploadedFile("candidats.csv", CSV, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/candidate-sites/bulk/",
            {"template": template_site.pk, "file": upload, "publish": "on"},
        )
    assert response.status_code == 302
    job_url = response["Location"]
    page = client.get(job_url).content.decode()
    assert "<progress" in page and "2 sites créés, 1 lignes en échec." in page
    assert client.get(f"{job_url}?format=json").json() == {
        "status": "done",
        "total": 3,
        "done": 3,
        "ok": 2,
        "failed": 1,
    }
    report = client.get(f"{job_url}?format=csv").content.decode()
    assert report.splitlines()[0] == "line,name,hostname,status,message,site_id"
    assert "not a hostname,failed" in report


@pytest.mark.django_db
def test_a_bad_file_is_refused_whole(template_site, national_admin, login):
    client = login(national_admin)
    upload = SimpleUploadedFile("x.csv", b"name;colour\nA;red\n", content_type="text/csv")
    response = client.post(
        "/admin/candidate-sites/bulk/", {"template": template_site.pk, "file": upload}
    )
    assert (
        response.status_code == 200 and "Colonne inconnue « colour »" in response.content.decode()
    )
    assert not BulkCloneJob.objects.exists()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "vide"),
        (b"name\nA\n", "manquante.*hostname"),
        (b"name,hostname\n", "aucune ligne"),
        (b"name,hostname\nA,a.org,extra\n", "ligne 2"),
    ],
)
def test_parse_errors_name_the_problem(raw, message):
    with pytest.raises(BulkCloneFileError, match=message):
        parse_candidates(raw)
