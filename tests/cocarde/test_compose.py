"""docker-compose.yml is valid and describes the production stack (no Docker engine needed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from tests.fixtures.components import require

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_is_accepted_and_complete(tmp_path):
    require(shutil.which("docker-compose") is not None, "docker-compose (Debian package)")
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    (tmp_path / "platform").mkdir()
    shutil.copy(ROOT / "platform" / "celery.env", tmp_path / "platform")
    env = (ROOT / ".env.example").read_text()
    env = env.replace("SECRET_KEY=\n", "SECRET_KEY=compose-test\n")
    env = env.replace("POSTGRES_PASSWORD=\n", "POSTGRES_PASSWORD=compose-test\n")
    env = env.replace("CRM_SUPPRESSION_KEY=\n", "CRM_SUPPRESSION_KEY=compose-test\n")
    (tmp_path / ".env").write_text(env)

    result = subprocess.run(
        ["docker-compose", "config"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    for name, service in services.items():
        assert "healthcheck" in service, name
    for name in ("web", "worker", "beat"):
        assert services[name]["build"]["dockerfile"] == "platform/Dockerfile"
        assert services[name]["environment"]["DJANGO_ENV"] == "production"
    assert "noeviction" in services["redis"]["command"]
    assert (ROOT / "platform" / "Dockerfile").exists()


def test_compose_refuses_to_start_without_a_database_password(tmp_path):
    require(shutil.which("docker-compose") is not None, "docker-compose (Debian package)")
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    (tmp_path / ".env").write_text("SECRET_KEY=x\n")
    result = subprocess.run(
        ["docker-compose", "config", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr
