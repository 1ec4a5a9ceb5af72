"""Bulk clone: one candidate site per CSV row, in the background, each row all-or-nothing."""

from __future__ import annotations

import csv
import io
import logging
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from sites.models import BulkCloneJob, BulkCloneRow, CampaignSite
from sites.services.cloning import CloneError, clone_site

logger = logging.getLogger(__name__)

MAX_ROWS = 5000
REQUIRED = ("name", "hostname")
OPTIONAL = (
    "campaign_slug", "port", "theme", "commune_codes", "commune_name", "circonscription_code",
    "circonscription_name", "contact_email", "party_name", "primary_colour", "secondary_colour",
)  # fmt: skip
# French headings accepted too, so a file typed by a French team works as is.
ALIASES = {
    "nom": "name",
    "candidat": "name",
    "candidate_name": "name",
    "hote": "hostname",
    "hôte": "hostname",
    "domaine": "hostname",
    "slug": "campaign_slug",
    "thème": "theme",
    "communes": "commune_codes",
    "code_commune": "commune_codes",
    "codes_communes": "commune_codes",
    "commune": "commune_name",
    "nom_commune": "commune_name",
    "circonscription": "circonscription_code",
    "nom_circonscription": "circonscription_name",
    "email": "contact_email",
    "parti": "party_name",
    "couleur_principale": "primary_colour",
    "couleur_secondaire": "secondary_colour",
}


class BulkCloneFileError(ValueError):
    pass


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BulkCloneFileError(_("The file is neither UTF-8 nor Windows-1252 text."))


def parse_candidates(raw: bytes) -> list[dict[str, str]]:
    """Rows of the CSV as dicts with canonical column names; errors name the column or line."""
    text = _decode(raw)
    if not text.strip():
        raise BulkCloneFileError(_("The file is empty."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, [])
    columns = []
    for heading in header:
        key = heading.strip().lower().replace(" ", "_")
        key = ALIASES.get(key, key)
        if key and key not in REQUIRED + OPTIONAL:
            raise BulkCloneFileError(_("Unknown column “%(column)s”.") % {"column": heading})
        columns.append(key)
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise BulkCloneFileError(
            _("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)}
        )
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(columns):
            raise BulkCloneFileError(
                _("Line %(line)s has more values than columns.") % {"line": reader.line_num}
            )
        rows.append(
            {key: value.strip() for key, value in zip(columns, values, strict=False) if key}
        )
    if not rows:
        raise BulkCloneFileError(_("The file has no candidate rows."))
    if len(rows) > MAX_ROWS:
        raise BulkCloneFileError(_("At most %(max)s rows per file.") % {"max": MAX_ROWS})
    return rows


@transaction.atomic
def start_bulk_clone(
    *, actor: Any, template: CampaignSite, raw: bytes, file_name: str = "", publish: bool = True
) -> BulkCloneJob:
    rows = parse_candidates(raw)
    job = BulkCloneJob.objects.create(
        template=template,
        publish=publish,
        file_name=file_name[:255],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    BulkCloneRow.objects.bulk_create(
        [BulkCloneRow(job=job, line=index, data=row) for index, row in enumerate(rows, start=2)]
    )
    record_event(
        "site.bulk_clone",
        actor=actor,
        campaign=template.campaign,
        target=job,
        data={"rows": len(rows)},
    )
    from sites.tasks import bulk_clone_sites

    transaction.on_commit(lambda: bulk_clone_sites.delay(job.pk))
    return job


def _row_arguments(data: dict[str, str]) -> dict[str, Any]:
    port = data.get("port") or "80"
    if not port.isdigit():
        raise CloneError("port", _("“%(value)s” is not a port number.") % {"value": port})
    return {
        "candidate_name": data.get("name", ""),
        "hostname": data.get("hostname", ""),
        "port": int(port),
        "campaign_slug": data.get("campaign_slug", ""),
        "theme": data.get("theme", ""),
        "commune_codes": [
            c.upper() for c in re.split(r"[\s,;|]+", data.get("commune_codes", "")) if c
        ],
        "commune_name": data.get("commune_name", ""),
        "circonscription_code": data.get("circonscription_code", ""),
        "circonscription_name": data.get("circonscription_name", ""),
        "contact_email": data.get("contact_email", ""),
        "party_name": data.get("party_name", ""),
        "primary_colour": data.get("primary_colour", ""),
        "secondary_colour": data.get("secondary_colour", ""),
    }


def run_bulk_clone(job: BulkCloneJob) -> BulkCloneJob:
    """Clone every waiting row. Safe to run again: finished rows are not touched."""
    BulkCloneJob.objects.filter(pk=job.pk).update(status=BulkCloneJob.Status.RUNNING)
    actor = job.created_by
    for row in job.rows.filter(status=BulkCloneRow.Status.PENDING).order_by("line"):
        try:
            with transaction.atomic():
                result = clone_site(
                    actor=actor,
                    template=job.template,
                    publish=job.publish,
                    **_row_arguments(row.data),
                )
                row.status, row.site, row.message = BulkCloneRow.Status.OK, result.site, ""
                row.save(update_fields=["status", "site", "message"])
        except (CloneError, ValidationError, ValueError) as error:
            _fail(row, _describe(error))
        except Exception as error:
            logger.exception("Bulk clone row %s failed", row.pk)
            _fail(row, str(error))
    job.status = BulkCloneJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at"])
    return job


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return (
            "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            if hasattr(error, "error_dict")
            else " ".join(error.messages)
        )
    return str(error)


def _fail(row: BulkCloneRow, message: str) -> None:
    row.status, row.site, row.message = BulkCloneRow.Status.FAILED, None, message
    row.save(update_fields=["status", "site", "message"])
