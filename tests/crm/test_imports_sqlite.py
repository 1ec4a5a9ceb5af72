"""The embedded mode (SQLite) runs the same import SQL: the samples give the same people."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.crm.imports_helpers import LEGACY, MEMBERS, ROLLS, SAMPLES, TRUTH

ROOT = Path(__file__).resolve().parents[2]


def test_samples_on_sqlite_reproduce_truth(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTEST_XDIST_WORKER")},
        "DJANGO_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "cocarde.settings.development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    paths = [str(SAMPLES / n) for n in [*ROLLS, LEGACY, *MEMBERS]]
    result = subprocess.run(
        [*manage, "import_people", *paths], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    totals = json.loads(result.stdout.strip().splitlines()[-1])
    assert totals["created"] == TRUTH["people_after_roll_and_members"]
    assert totals["errors"] == 0 and totals["to_review"] == 0
    assert totals["duplicates_in_file"] == 2 * (TRUTH["members_rows"] - TRUTH["members_unique"])
