"""Import services: create a run from a file, set its mapping, check it (dry run), run it,
undo it. Views, the admin, the commands and the Celery tasks call these and nothing else.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from cocarde.tenancy.models import Campaign
from crm.imports import columns as cols
from crm.imports.formats import FileInfo, ImportRefused, fallback_bytes, iter_rows, sniff
from crm.imports.rows import RowContext, RowParser
from crm.imports.writer import (
    ATTACH_IMPORT,
    ATTACH_ROLL,
    MergeOptions,
    Merger,
    Stage,
    StageFlags,
    is_postgres,
    refresh_person_keys,
    reserve_person_ids,
)
from crm.models import (
    Channel,
    ImportChange,
    ImportFormat,
    ImportMapping,
    ImportRowError,
    ImportRun,
    LegalBasis,
    Person,
    Purpose,
    Tag,
)
from crm.services.consent import opposed_roll_identities

logger = logging.getLogger(__name__)

BATCH = 5000
PREVIEW_ROWS = 20
ROLL_FORMATS = (ImportFormat.REU, ImportFormat.REU2013)
Status = ImportRun.Status


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


# --- creating a run ----------------------------------------------------------------------


def create_import(
    *,
    actor: Any,
    campaign: Campaign | None,
    file: IO[bytes] | File[Any],
    original_name: str,
    requested_format: str = ImportFormat.AUTO,
    legal_basis: str = "",
    tags: Sequence[str] = (),
    mapping: Mapping[str, str] | None = None,
    consent_channels: Sequence[str] = (),
    consent_text: str = "",
    external_id_source: str = "members",
) -> ImportRun:
    """Store the file, find what it is and how its columns map. Refuses (ValidationError,
    nothing stored) a file that is no table, or a roll that lacks required columns."""
    if requested_format not in ImportFormat.values:
        raise ValidationError({"requested_format": _("Unknown format.")})
    run = ImportRun(
        campaign=campaign,
        original_name=Path(original_name).name[:255],
        requested_format=requested_format,
        legal_basis=legal_basis,
        tags=[t.strip()[:100] for t in tags if t.strip()],
        consent_channels=list(consent_channels),
        consent_text=consent_text.strip(),
        external_id_source=slugify(external_id_source)[:60] or "members",
        created_by=_user(actor),
    )
    run.file.save(run.original_name or "import.csv", File(file), save=False)
    try:
        info = sniff(run.file.path, run.original_name)
        _configure(run, info, mapping)
        run.full_clean(exclude=["file"])
    except ImportRefused as refused:
        run.file.delete(save=False)
        raise ValidationError({"file": str(refused)}) from refused
    except ValidationError:
        run.file.delete(save=False)
        raise
    run.file_size = run.file.size
    run.save()
    record_event(
        "crm.import.create",
        actor=actor,
        campaign=campaign,
        target=run,
        data={"format": run.detected_format, "legal_basis": run.legal_basis},
    )
    return run


def _configure(run: ImportRun, info: FileInfo, mapping: Mapping[str, str] | None) -> None:
    detected = cols.detect_layout(info.headers)
    layout = detected if run.requested_format == ImportFormat.AUTO else run.requested_format
    run.detected_format = layout
    run.headers = list(info.headers)
    run.file_info = {**info.as_dict(), "bytes_per_row": _bytes_per_row(run, info)}
    if layout in ROLL_FORMATS:
        roll_columns, missing = cols.roll_mapping(info.headers, layout)
        if missing:
            raise ImportRefused(
                _("This is not an electoral roll in the %(layout)s layout: columns missing: %(m)s")
                % {
                    "layout": ImportFormat(layout).label,
                    "m": ", ".join(cols.field_label(f) for f in missing),
                }
            )
        run.mapping = {str(i): f for i, f in roll_columns.items()}
        run.legal_basis = run.legal_basis or LegalBasis.ELECTORAL_ROLL
        if run.legal_basis != LegalBasis.ELECTORAL_ROLL:
            raise ValidationError(
                {"legal_basis": _("An electoral roll is imported as an electoral roll.")}
            )
        if run.consent_channels:
            raise ValidationError(
                {"consent_channels": _("An electoral roll gives no email or SMS consent.")}
            )
        return
    run.legal_basis = run.legal_basis or LegalBasis.MEMBERSHIP
    if mapping is not None:
        run.mapping = _mapping_from_headers(info.headers, mapping)
    else:
        saved = find_saved_mapping(info.headers, run.campaign)
        run.mapping = (
            _mapping_from_headers(info.headers, saved.columns)
            if saved
            else {str(i): f for i, f in cols.suggest_mapping(info.headers).items()}
        )
    _check_consent(run)


def _check_consent(run: ImportRun) -> None:
    unknown = set(run.consent_channels) - {Channel.EMAIL, Channel.SMS}
    if unknown:
        raise ValidationError({"consent_channels": _("Consent is recorded for email or SMS.")})
    if run.consent_channels and run.legal_basis != LegalBasis.CONSENT:
        raise ValidationError(
            {"consent_channels": _("Record consents only for a file of people who consented.")}
        )
    if run.legal_basis == LegalBasis.CONSENT and (not run.consent_channels or not run.consent_text):
        raise ValidationError(
            {
                "consent_text": _(
                    "Give the channels and the exact text people were shown when they consented."
                )
            }
        )


def _bytes_per_row(run: ImportRun, info: FileInfo) -> int:
    if info.kind != "csv":
        return 0
    with run.file.open("rb") as handle:
        head = handle.read(256 * 1024)
    lines = max(head.count(b"\n"), 1)
    return max(len(head) // lines, 1)


def _mapping_from_headers(headers: Sequence[str], mapping: Mapping[str, str]) -> dict[str, str]:
    """A mapping given by header names (any case and accents) or by column numbers."""
    by_key = {cols.header_key(k): v for k, v in mapping.items()}
    result: dict[str, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        field = mapping.get(str(index)) or by_key.get(cols.header_key(header), "")
        if not field:
            continue
        if field not in cols.FIELD_NAMES:
            raise ValidationError(
                {"mapping": _("Unknown field %(f)s for column %(c)s.") % {"f": field, "c": header}}
            )
        if field in used:
            raise ValidationError(
                {"mapping": _("Two columns are mapped to %(f)s.") % {"f": cols.field_label(field)}}
            )
        used.add(field)
        result[str(index)] = field
    return result


def find_saved_mapping(headers: Sequence[str], campaign: Campaign | None) -> ImportMapping | None:
    keys = [cols.header_key(h) for h in headers]
    candidates = ImportMapping.objects.filter(campaign__isnull=True)
    if campaign is not None:
        candidates = candidates | ImportMapping.objects.filter(campaign=campaign)
    for saved in candidates.order_by("-created_at"):
        if saved.headers == keys:
            return saved
    return None


@transaction.atomic
def set_mapping(
    run: ImportRun,
    mapping: Mapping[str, str],
    *,
    actor: Any,
    save_as: str = "",
) -> ImportRun:
    """Staff's mapping of a table's columns ({column index: field}), optionally saved."""
    if run.detected_format in ROLL_FORMATS:
        raise ValidationError(_("A roll's columns are known: there is nothing to map."))
    if run.status not in (Status.UPLOADED, Status.CHECKED, Status.FAILED):
        raise ValidationError(_("This import has already started."))
    run.mapping = _mapping_from_headers(run.headers, {k: v for k, v in mapping.items() if v})
    if not run.mapping:
        raise ValidationError({"mapping": _("Map at least one column.")})
    run.status = Status.UPLOADED
    run.phase = ""
    run.save(update_fields=["mapping", "status", "phase"])
    Stage(run.pk).drop()
    if save_as.strip():
        by_field = {f: run.headers[int(i)] for i, f in run.mapping.items()}
        ImportMapping.objects.create(
            name=save_as.strip()[:150],
            campaign=run.campaign,
            headers=[cols.header_key(h) for h in run.headers],
            columns={cols.header_key(h): f for f, h in by_field.items()},
            created_by=_user(actor),
        )
    record_event("crm.import.mapping", actor=actor, campaign=run.campaign, target=run)
    return run


# --- running -----------------------------------------------------------------------------


def start_import(run: ImportRun, *, actor: Any, dry_run: bool = False) -> ImportRun:
    """Queue the dry run or the import on a worker (after commit)."""
    from crm.tasks import bulk_run_import

    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        allowed = (
            (Status.UPLOADED, Status.CHECKED, Status.FAILED)
            if dry_run
            else (Status.UPLOADED, Status.CHECKED, Status.FAILED, Status.QUEUED, Status.RUNNING)
        )
        if run.status not in allowed:
            raise ValidationError(
                _("This import cannot be started now (%(s)s).") % {"s": run.get_status_display()}
            )
        if run.detected_format == ImportFormat.TABLE and not run.mapping:
            raise ValidationError(_("Map the columns first."))
        run.status = Status.CHECKING if dry_run else Status.QUEUED
        run.error_message = ""
        run.save(update_fields=["status", "error_message"])
        record_event(
            "crm.import.dry_run" if dry_run else "crm.import.start",
            actor=actor,
            campaign=run.campaign,
            target=run,
        )
        transaction.on_commit(lambda: bulk_run_import.delay(run.pk, dry_run))
    return run


def progress_key(run_id: int) -> str:
    return f"crm-import-progress-{run_id}"


def progress(run: ImportRun) -> dict[str, Any]:
    live = cache.get(progress_key(run.pk)) or {}
    total = max(run.file_size, 1)
    return {
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "phase": live.get("phase", run.phase),
        "rows_read": live.get("rows", run.rows_read),
        "percent": min(100, int(live.get("bytes", 0) * 100 / total))
        if run.status in (Status.RUNNING, Status.CHECKING)
        else (100 if run.status in (Status.DONE, Status.CHECKED, Status.UNDONE) else 0),
        "counts": run.counts,
        "error": run.error_message,
    }


def _set_progress(run: ImportRun, phase: str, rows: int = 0, done_bytes: int = 0) -> None:
    cache.set(progress_key(run.pk), {"phase": phase, "rows": rows, "bytes": done_bytes}, 24 * 3600)


def _context(run: ImportRun, info: FileInfo) -> RowContext:
    mapping = {int(i): f for i, f in run.mapping.items()}
    default_commune = ""
    if run.campaign is not None and len(run.campaign.commune_codes or []) == 1:
        default_commune = run.campaign.commune_codes[0]
    return RowContext(
        layout=run.detected_format,
        headers=run.headers,
        mapping=mapping,
        name_commune_code=info.name_commune_code,
        name_list_type=info.name_list_type,
        default_commune_code=default_commune,
        strict_width=info.kind == "csv",
        opposed=opposed_roll_identities(),
    )


def _stage(run: ImportRun, stage: Stage) -> StageFlags:
    """Read the whole file into the staging table; rejected rows go to the report."""
    info = sniff(run.file.path, run.original_name)
    parser = RowParser(_context(run, info))
    stage.create()
    ImportRowError.objects.filter(run=run).delete()
    flags = StageFlags()
    rows: list[tuple[Any, ...]] = []
    problems: list[ImportRowError] = []
    rownum = rejected = 0
    for line, cells in iter_rows(run.file.path, info):
        rownum += 1
        row, errors = parser.parse(rownum, line, cells)
        if row is not None:
            flags.note(row)
            rows.append(row)
        else:
            rejected += 1
            problems.extend(
                ImportRowError(
                    run=run,
                    row_number=e.line,
                    column=e.column[:200],
                    value=e.value[:200],
                    reason=e.reason[:500],
                )
                for e in errors
            )
        if len(rows) >= BATCH:
            stage.write(rows)
            rows = []
            _set_progress(run, "reading", rownum, _bytes_read(run, rownum))
        if len(problems) >= BATCH:
            ImportRowError.objects.bulk_create(problems)
            problems = []
    stage.write(rows)
    ImportRowError.objects.bulk_create(problems)
    run.rows = rownum
    run.errors = rejected
    run.rows_read = rownum
    run.file_info = {
        **run.file_info,
        **info.as_dict(),
        "flags": flags.as_dict(),
        "decoded_as_cp1252": fallback_bytes() if info.kind == "csv" else 0,
    }
    run.phase = "staged"
    run.save(update_fields=["rows", "errors", "rows_read", "file_info", "phase"])
    return flags


def _bytes_read(run: ImportRun, rows: int) -> int:
    """An estimate of how far in the file we are, for the progress bar."""
    per_row = run.file_info.get("bytes_per_row") or 0
    if not per_row:
        return 0
    return int(rows * per_row)


def _merge_options(run: ImportRun) -> MergeOptions:
    from crm.services.consent import consent_text_for

    is_roll = run.detected_format in ROLL_FORMATS
    consent_ids: dict[str, int] = {}
    if run.consent_channels and run.campaign is not None and not is_roll:
        text = consent_text_for(run.campaign, Purpose.NEWS, run.consent_text)
        consent_ids = dict.fromkeys(run.consent_channels, text.pk)
    return MergeOptions(
        run_id=run.pk,
        campaign_id=run.campaign_id,
        is_roll=is_roll,
        is_members=run.legal_basis == LegalBasis.MEMBERSHIP,
        attach_reason=ATTACH_ROLL if is_roll else ATTACH_IMPORT,
        source_label=_("Import #%(id)s: %(name)s") % {"id": run.pk, "name": run.original_name},
        external_id_source=run.external_id_source,
        tag_ids=list(tag_ids_for(run.tags, run.campaign_id).values()),
        consent_text_ids=consent_ids,
        actor_id=run.created_by_id,
    )


def tag_ids_for(names: Iterable[str], campaign_id: int | None) -> dict[str, int]:
    """Tag ids by name, creating the campaign's tags that do not exist yet."""
    ids: dict[str, int] = {}
    for name in names:
        name = name.strip()[:100]
        slug = slugify(name)[:120] or "tag"
        tags = Tag.objects.filter(slug=slug)
        tags = (
            tags.filter(campaign__isnull=True)
            if campaign_id is None
            else tags.filter(campaign_id=campaign_id)
        )
        tag = tags.first()
        if tag is None:
            tag = Tag.objects.create(campaign_id=campaign_id, slug=slug, name=name)
        ids[name] = tag.pk
    return ids


class _DryRunRollback(Exception):
    pass


def execute_import(run: ImportRun, *, dry_run: bool = False) -> ImportRun:
    """Do the work (in a worker, or in the command). Either the whole merge commits or nothing
    does; the staged file survives a crash, so running again resumes from the merge."""
    run = ImportRun.objects.get(pk=run.pk)
    if run.status in (Status.DONE, Status.UNDONE, Status.UNDOING):
        return run  # a redelivered task: the import already happened
    if not _lock(run.pk):
        logger.info("Import %s is already being run by another worker", run.pk)
        return run
    try:
        return _execute(run, dry_run=dry_run)
    finally:
        _unlock(run.pk)


_LOCK_NAMESPACE = 0x1C0CA  # advisory lock space of import runs


def _lock(run_id: int) -> bool:
    """One worker per run: a session lock that dies with the worker's connection, so a run
    whose worker was killed can be resumed at once, and a second click never runs it twice."""
    if not is_postgres():
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, run_id])
        return bool(cursor.fetchone()[0])


def _unlock(run_id: int) -> None:
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, run_id])


def _execute(run: ImportRun, *, dry_run: bool) -> ImportRun:
    run.attempts += 1
    run.status = Status.CHECKING if dry_run else Status.RUNNING
    run.started_at = run.started_at or timezone.now()
    run.save(update_fields=["attempts", "status", "started_at"])
    stage = Stage(run.pk)
    try:
        if run.phase == "staged" and stage.exists():
            flags = StageFlags(**run.file_info.get("flags", {}))
        else:
            run.phase = "reading"
            run.save(update_fields=["phase"])
            _set_progress(run, "reading")
            flags = _stage(run, stage)
        _set_progress(run, "merging", run.rows, run.file_size)
        staged = stage.count()
        base = reserve_person_ids(staged) if is_postgres() else None
        options = _merge_options(run)
        try:
            with transaction.atomic():
                result = Merger(stage, options, flags).run(
                    base=base, preview=PREVIEW_ROWS if dry_run else 0
                )
                run.created = result.created
                run.updated = result.updated
                run.duplicates_in_file = result.duplicates_in_file
                run.to_review = result.to_review
                if dry_run:
                    run.preview = result.preview
                    raise _DryRunRollback
                run.status = Status.DONE
                run.phase = "done"
                run.finished_at = timezone.now()
                run.save()
                record_event(
                    "crm.import.done",
                    actor=run.created_by,
                    campaign=run.campaign,
                    target=run,
                    data=run.counts,
                )
        except _DryRunRollback:
            run.status = Status.CHECKED
            run.save(
                update_fields=[
                    "status",
                    "created",
                    "updated",
                    "duplicates_in_file",
                    "to_review",
                    "preview",
                ]
            )
        if not dry_run:
            stage.drop()
    except ImportRefused as refused:
        _fail(run, str(refused), stage)
    except (DatabaseError, OSError, ValueError) as error:
        logger.exception("Import %s failed", run.pk)
        _fail(run, _("The import failed: %(e)s") % {"e": error}, stage)
        raise
    finally:
        _set_progress(run, ImportRun.objects.get(pk=run.pk).phase)
    return ImportRun.objects.get(pk=run.pk)


def _fail(run: ImportRun, message: str, stage: Stage) -> None:
    stage.drop()
    ImportRun.objects.filter(pk=run.pk).update(
        status=Status.FAILED, phase="", error_message=message[:2000], finished_at=timezone.now()
    )


# --- undo --------------------------------------------------------------------------------


def start_undo(run: ImportRun, *, actor: Any) -> ImportRun:
    from crm.tasks import bulk_undo_import

    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        check_undoable(run)
        run.status = Status.UNDOING
        run.save(update_fields=["status"])
        record_event("crm.import.undo_start", actor=actor, campaign=run.campaign, target=run)
        actor_id = actor.pk if _user(actor) else None
        transaction.on_commit(lambda: bulk_undo_import.delay(run.pk, actor_id))
    return run


def check_undoable(run: ImportRun) -> None:
    if run.status not in (Status.DONE, Status.UNDOING):
        raise ValidationError(_("Only a finished import can be undone."))
    later = (
        ImportRun.objects.filter(
            status=Status.DONE,
            created_at__gt=run.created_at,
            changes__person__created_by_import=run,
        )
        .exclude(pk=run.pk)
        .distinct()
    )
    if later.exists():
        names = ", ".join(str(r) for r in later[:5])
        raise ValidationError(
            _("Later imports changed people this one created: undo them first (%(runs)s).")
            % {"runs": names}
        )


@transaction.atomic
def undo_import(run: ImportRun, *, actor: Any) -> ImportRun:
    """Remove what the import created, put back what it changed."""
    from django.apps import apps

    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    if run.status == Status.UNDONE:
        return run
    check_undoable(run)
    touched: set[int] = set()
    snapshots = ImportChange.objects.filter(run=run, kind=ImportChange.Kind.SNAPSHOT)
    for change in snapshots.iterator(chunk_size=2000):
        model = apps.get_model(change.model)
        data = dict(change.data)
        if model is Person and data.get("member_since"):
            data["member_since"] = str(data["member_since"])[:10]
        model._default_manager.filter(pk=change.row_id).update(**data)
        if change.person_id:
            touched.add(change.person_id)
    added = ImportChange.objects.filter(run=run, kind=ImportChange.Kind.ADDED)
    by_model: dict[str, list[int]] = {}
    for model_label, row_id, person_id in added.values_list("model", "row_id", "person_id"):
        by_model.setdefault(model_label, []).append(row_id)
        if person_id and model_label in ("crm.emailaddress", "crm.phonenumber"):
            touched.add(person_id)
    for model_label, ids in by_model.items():
        model = apps.get_model(model_label)
        for start in range(0, len(ids), 5000):
            model._default_manager.filter(pk__in=ids[start : start + 5000]).delete()
    created = Person.objects.filter(created_by_import=run).values_list("pk", flat=True)
    removed = 0
    while True:
        chunk = list(created[:5000])
        if not chunk:
            break
        removed += Person.objects.filter(pk__in=chunk).delete()[1].get("crm.Person", 0)
    refresh_person_keys(sorted(Person.objects.filter(pk__in=touched).values_list("pk", flat=True)))
    ImportChange.objects.filter(run=run).delete()
    run.status = Status.UNDONE
    run.undone_at = timezone.now()
    run.undone_by = _user(actor)
    run.save(update_fields=["status", "undone_at", "undone_by"])
    record_event(
        "crm.import.undo",
        actor=actor,
        campaign=run.campaign,
        target=run,
        data={"removed_people": removed, "restored_people": len(touched)},
    )
    return run


# --- report ------------------------------------------------------------------------------


def report_rows(run: ImportRun) -> Iterable[list[str]]:
    """The per-row report: line, column, value, reason (values neutralised by the writer)."""
    yield [_("Row"), _("Column"), _("Value"), _("Reason")]
    for error in run.row_errors.order_by("row_number", "id").iterator(chunk_size=2000):
        yield [str(error.row_number), error.column, error.value, error.reason]


def write_report(runs: Sequence[ImportRun], path: Path) -> Path:
    from crm.exports import neutralise

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        header_written = False
        for run in runs:
            for index, row in enumerate(report_rows(run)):
                if index == 0:
                    if not header_written:
                        writer.writerow([_("File"), *row])
                        header_written = True
                    continue
                writer.writerow([neutralise(run.original_name), *[neutralise(c) for c in row]])
    return path


def report_csv(run: ImportRun) -> str:
    from crm.exports import neutralise

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    for row in report_rows(run):
        writer.writerow([neutralise(c) for c in row])
    return "\ufeff" + buffer.getvalue()


def delete_stage_tables_of(run_ids: Iterable[int]) -> None:
    for run_id in run_ids:
        Stage(run_id).drop()


def connection_vendor() -> str:
    return connection.vendor
