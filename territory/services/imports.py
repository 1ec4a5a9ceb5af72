"""Reference-data imports from the admin: an uploaded file, then a background task (queue
`bulk`) runs the SAME service as the management command and records its summary, or the
error that refused the file (nothing stored then: every service is atomic).

Territory data (results, INSEE figures, addresses, polling stations) is shared by every
campaign, so only national administrators may import it (`may_import`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from cocarde.audit.services import record_event
from cocarde.tenancy.permissions import is_national_admin
from territory.formats.common import FormatError
from territory.models import ElectionRound, TerritoryImport

CONTOUR_SUFFIXES = {".geojson", ".json", ".topojson"}


def may_import(user: Any) -> bool:
    return bool(is_national_admin(user))


@transaction.atomic
def start_import(
    *,
    actor: Any,
    kind: str,
    file: UploadedFile,
    extra_file: UploadedFile | None = None,
    election_round: ElectionRound | None = None,
) -> TerritoryImport:
    """Store the upload and queue the import (after the transaction commits)."""
    from territory.tasks import bulk_run_territory_import

    if not may_import(actor):
        raise PermissionDenied
    if kind == TerritoryImport.Kind.RESULTS and election_round is None:
        raise ValueError("results need a round")
    run = TerritoryImport.objects.create(
        kind=kind,
        file=file,
        extra_file=extra_file or "",
        election_round=election_round if kind == TerritoryImport.Kind.RESULTS else None,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record_event("territory.import_started", actor=actor, target=run, data={"kind": kind})
    transaction.on_commit(lambda: bulk_run_territory_import.delay(run.pk))
    return run


@contextmanager
def _local(field: FieldFile) -> Iterator[Path]:
    """A local path to a stored file, keeping its suffix (the services read it)."""
    try:
        yield Path(field.path)
        return
    except NotImplementedError:  # remote storage: copy it to a temporary file
        pass
    suffix = "".join(Path(field.name or "upload").suffixes[-2:])
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        with field.open("rb") as source:
            shutil.copyfileobj(source, tmp)
        tmp.flush()
        yield Path(tmp.name)


def _service(run: TerritoryImport, path: Path, extra: Path | None) -> dict[str, Any]:
    from territory.services.addresses import import_ban, import_bureau_table
    from territory.services.contours import import_bureau_contours
    from territory.services.insee import import_insee
    from territory.services.results import import_results

    if run.kind == TerritoryImport.Kind.RESULTS:
        if run.election_round is None:
            raise FormatError("the round was deleted", field="round")
        paths = [path, extra] if extra else [path]
        return import_results(paths, election_round=run.election_round, actor=run.created_by)
    if run.kind == TerritoryImport.Kind.INSEE:
        return import_insee(path, actor=run.created_by)
    if run.kind == TerritoryImport.Kind.BAN:
        return import_ban(path, actor=run.created_by)
    if path.suffix.lower() in CONTOUR_SUFFIXES:
        return import_bureau_contours(path, actor=run.created_by)
    return import_bureau_table(path, actor=run.created_by)


def run_import(run_id: int) -> TerritoryImport | None:
    """Run a queued import once (a redelivered task finds it done and stops)."""
    with transaction.atomic():
        run = TerritoryImport.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status in {
            TerritoryImport.Status.DONE,
            TerritoryImport.Status.FAILED,
        }:
            return run
        run.status = TerritoryImport.Status.RUNNING
        run.save(update_fields=["status"])
    try:
        with _local(run.file) as path:
            if run.extra_file:
                with _local(run.extra_file) as extra:
                    summary = _service(run, path, extra)
            else:
                summary = _service(run, path, None)
    except FormatError as error:
        run.status, run.error = TerritoryImport.Status.FAILED, str(error)
    except Exception:
        run.status, run.error = TerritoryImport.Status.FAILED, "internal error (see the logs)"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    else:
        run.status, run.summary = TerritoryImport.Status.DONE, summary
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "summary", "finished_at"])
    return run
