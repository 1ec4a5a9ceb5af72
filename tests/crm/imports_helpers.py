"""Helpers for import tests: the sample files shipped with the code, and a one-call import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crm.imports import services
from crm.models import ImportRun

SAMPLES = Path(__file__).resolve().parents[2] / "crm" / "imports" / "samples"
TRUTH = json.loads((SAMPLES / "truth.json").read_text(encoding="utf-8"))
ROLLS = ["com41998-LP.csv", "com41998-LCM.csv", "com41998-LCE.csv"]
LEGACY = "liste-generale-2013-41998.csv"
MEMBERS = ["adherents.csv", "adherents-latin1.csv"]


def import_file(
    path: Path | str, *, campaign: Any = None, dry_run: bool = False, name: str = "", **options: Any
) -> ImportRun:
    path = Path(path)
    if not path.is_absolute():
        path = SAMPLES / path
    with path.open("rb") as handle:
        run = services.create_import(
            actor=None,
            campaign=campaign,
            file=handle,
            original_name=name or path.name,
            **options,
        )
    return services.execute_import(run, dry_run=dry_run)


def import_bytes(content: bytes, name: str, **options: Any) -> ImportRun:
    import io

    with io.BytesIO(content) as handle:
        run = services.create_import(
            actor=None,
            campaign=options.pop("campaign", None),
            file=handle,
            original_name=name,
            **options,
        )
    return services.execute_import(run, dry_run=options.get("dry_run", False))
