"""The admin import screen: upload a reference file, a background task runs the same service
as the command, the report (or the refusal) shows; only national administrators may import."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cocarde.tenancy.models import StaffRole
from territory.models import Address, BureauResult, TerritoryImport
from tests.territory.conftest import BAN, CLASSIC_T1

pytestmark = pytest.mark.django_db


@pytest.fixture
def national_admin(national, make_staff):
    return make_staff(national, StaffRole.Role.NATIONAL_ADMIN)


def upload(path, name=None):
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def test_results_file_is_imported_in_the_background(
    national_admin, login, round1, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    client = login(national_admin)
    assert client.get("/admin/territory/imports/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/territory/imports/",
            {"kind": "results", "file": upload(CLASSIC_T1), "election_round": round1.pk},
        )
    run = TerritoryImport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/imports/{run.pk}/")
    assert run.status == "done" and run.created_by == national_admin
    assert BureauResult.objects.filter(round=round1).count() == 6
    assert run.summary["layout"] == "classic" and run.summary["bureaux"] == 6
    page = client.get(f"/admin/territory/imports/{run.pk}/").content.decode()
    assert 'data-status="done"' in page and "data-import-summary" in page
    listing = client.get("/admin/territory/imports/").content.decode()
    assert "Leg_T1_resultats_bv" in listing


def test_results_need_a_round_and_a_bad_file_stores_nothing(
    national_admin, login, round1, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    client = login(national_admin)
    response = client.post("/admin/territory/imports/", {"kind": "results", "file": upload(BAN)})
    assert response.status_code == 200 and not TerritoryImport.objects.exists()
    broken = CLASSIC_T1.read_bytes().replace(b";523;", b";5x3;", 1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/territory/imports/",
            {
                "kind": "results",
                "file": SimpleUploadedFile("broken.txt", broken),
                "election_round": round1.pk,
            },
        )
    run = TerritoryImport.objects.get()
    assert run.status == "failed" and run.error
    assert not BureauResult.objects.exists()
    page = client.get(f"/admin/territory/imports/{run.pk}/").content.decode()
    assert "data-import-error" in page


def test_ban_file_through_the_screen(
    national_admin, login, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        login(national_admin).post(
            "/admin/territory/imports/", {"kind": "ban", "file": upload(BAN)}
        )
    run = TerritoryImport.objects.get()
    assert run.status == "done", run.error
    assert Address.objects.filter(commune_code="41998").count() == run.summary["addresses"] > 1000


def test_only_national_admins_import(make_campaign, make_staff, login):
    campaign = make_campaign(commune_codes=["41998"])
    manager = make_staff(campaign, StaffRole.Role.MANAGER)
    client = login(manager)
    assert client.get("/admin/territory/imports/").status_code == 404
    assert client.post("/admin/territory/imports/", {"kind": "ban"}).status_code == 404
    assert "/admin/territory/imports/" not in client.get("/admin/").content.decode()


@pytest.mark.worker
def test_a_real_worker_runs_the_import_on_the_bulk_queue(
    celery_worker, national, make_staff, legislatives
):
    # The upload lands in the test settings' MEDIA_ROOT, which the worker shares.
    from territory.services.imports import start_import
    from tests.fixtures.celery import wait_for

    admin = make_staff(national, StaffRole.Role.NATIONAL_ADMIN)
    round1 = legislatives.rounds.get(number=1)
    run = start_import(actor=admin, kind="results", file=upload(CLASSIC_T1), election_round=round1)
    wait_for(
        lambda: TerritoryImport.objects.get(pk=run.pk).status in {"done", "failed"}, timeout=120
    )
    run.refresh_from_db()
    assert run.status == "done", run.error
    assert BureauResult.objects.filter(round=round1).count() == 6
    assert "bulk_run_territory_import" in celery_worker.log()
    # A redelivered task finds the import done and changes nothing.
    from territory.services.imports import run_import

    assert run_import(run.pk).summary == TerritoryImport.objects.get(pk=run.pk).summary
    assert BureauResult.objects.filter(round=round1).count() == 6
