"""Production settings as a province deploys them (docker-compose.yml)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

ROOT = Path(__file__).resolve().parents[2]


def test_it_passes_check_deploy_with_production_settings(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))},
        "DATABASE_URL": "postgres://cho40:secret@127.0.0.1:1/cho40",  # not connected to: checks only
        "DJANGO_SECRET_KEY": "a-production-secret-key-of-fifty-characters-or-more-xyz",
        "DJANGO_ALLOWED_HOSTS": "cho40.thainguyen.gov.vn",
        "CHO_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["cho40.thainguyen.gov.vn"], SECURE_SSL_REDIRECT=True)
def test_it_answers_health_checks_by_the_containers_own_address_over_plain_http() -> None:
    # Compose's healthchecks: Host 127.0.0.1:8000, no TLS. Before, 400 (host) or 301 (https).
    response = Client().get("/healthz", HTTP_HOST="127.0.0.1:8000")

    assert response.status_code == 200
    assert response.json()["database"]["ok"] is True


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["cho40.thainguyen.gov.vn"], SECURE_SSL_REDIRECT=True)
def test_it_still_refuses_other_hosts_and_plain_http_everywhere_else() -> None:
    client = Client()

    assert client.get("/api/v1/provinces/", HTTP_HOST="127.0.0.1:8000").status_code == 400
    plain = client.get("/api/v1/provinces/", HTTP_HOST="cho40.thainguyen.gov.vn")
    assert plain.status_code == 301
    assert plain["Location"].startswith("https://cho40.thainguyen.gov.vn/")
