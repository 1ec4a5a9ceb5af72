"""Import screens: upload, mapping suggested and saved, dry run, run, report, undo; another
campaign's imports answer 404 and are never listed."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.imports import services
from crm.models import ImportMapping, ImportRun, Person
from tests.crm.imports_helpers import SAMPLES

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    """Tasks run in the test process, right after the commit (no worker in these tests)."""
    from cocarde.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def manager(alpha, make_staff, login, settings, tmp_path, eager):
    settings.MEDIA_ROOT = str(tmp_path)
    user = make_staff(alpha)
    return login(user), user


def upload(client, alpha, name: str, content: bytes | None = None, **data):
    content = content if content is not None else (SAMPLES / name).read_bytes()
    return client.post(
        "/admin/crm/imports/new/",
        {
            "file": SimpleUploadedFile(name, content),
            "campaign": alpha.pk,
            "requested_format": "auto",
            "legal_basis": "",
            "tags": "Adhérents 2026",
            "external_id_source": "members",
            **data,
        },
    )


def test_members_file_upload_mapping_dry_run_import_report_and_undo(
    manager, alpha, django_capture_on_commit_callbacks
):
    client, user = manager
    broken = (SAMPLES / "adherents.csv").read_text(encoding="utf-8") + (
        "Jeanne,DURAND,pas-un-email,06 00,1 rue X,41400,Montrichard,31/02/1990,2020\n"
    )
    response = upload(client, alpha, "adherents.csv", broken.encode())
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{run.pk}/mapping/")
    page = client.get(f"/admin/crm/imports/{run.pk}/mapping/").content.decode()
    assert "sylvie.fontaine0@courriel.fr" in page  # examples from the first rows
    suggested = {run.headers[int(i)]: f for i, f in run.mapping.items()}
    assert suggested["Prénom"] == "first_names" and suggested["Téléphone"] == "phone"
    post = {f"col_{i}": f for i, f in run.mapping.items()}
    client.post(f"/admin/crm/imports/{run.pk}/mapping/", {**post, "save_as": "Adhérents"})
    assert ImportMapping.objects.filter(name="Adhérents").exists()
    # Celery runs eagerly here (no worker in this test): the dry run writes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/crm/imports/{run.pk}/check/")
    run.refresh_from_db()
    assert run.status == run.Status.CHECKED and run.created == 260 and run.errors == 1
    assert Person.objects.count() == 0
    page = client.get(f"/admin/crm/imports/{run.pk}/").content.decode()
    assert "data-import-preview" in page and "Sylvie Léa" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/crm/imports/{run.pk}/start/")
    run.refresh_from_db()
    assert run.status == run.Status.DONE and Person.objects.count() == 260
    report = client.get(f"/admin/crm/imports/{run.pk}/report.csv").content.decode("utf-8-sig")
    assert "pas-un-email" in report and "n'est pas une adresse email" in report
    progress = client.get(f"/admin/crm/imports/{run.pk}/progress/").json()
    assert progress["status"] == "done" and progress["percent"] == 100
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/crm/imports/{run.pk}/undo/")
    run.refresh_from_db()
    assert run.status == run.Status.UNDONE and Person.objects.count() == 0


def test_roll_upload_skips_mapping_and_refuses_non_tables(manager, alpha):
    client, _user = manager
    response = upload(client, alpha, "com41998-LCM.csv")
    run = ImportRun.objects.get()
    assert response["Location"].endswith(f"/imports/{run.pk}/")
    assert run.detected_format == "reu" and run.legal_basis == "electoral_roll"
    response = upload(client, alpha, "photo.pdf", b"%PDF-1.4 binary")
    assert response.status_code == 200 and ImportRun.objects.count() == 1
    assert "PDF" in response.content.decode()
    response = upload(client, alpha, "roll.csv", b"\x00\x01\x02\x03" * 500)
    assert ImportRun.objects.count() == 1


def test_another_campaigns_import_is_404_and_never_listed(manager, alpha, bravo, settings):
    client, _user = manager
    with (SAMPLES / "com41998-LCE.csv").open("rb") as handle:
        foreign = services.create_import(
            actor=None, campaign=bravo, file=handle, original_name="com41998-LCE.csv"
        )
    listing = client.get("/admin/crm/imports/").content.decode()
    assert f'data-import="{foreign.pk}"' not in listing
    for url in ("", "mapping/", "progress/", "report.csv"):
        assert client.get(f"/admin/crm/imports/{foreign.pk}/{url}").status_code == 404
    for url in ("check/", "start/", "undo/"):
        assert client.post(f"/admin/crm/imports/{foreign.pk}/{url}").status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == foreign.Status.UPLOADED


def test_treasurer_cannot_import(alpha, make_staff, login):
    client = login(make_staff(alpha, "treasurer"))
    response = client.get("/admin/crm/imports/")
    assert response.status_code in (302, 403)  # Wagtail turns a refusal into a redirect
    assert b"data-import-new" not in response.content
