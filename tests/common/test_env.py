"""Settings read the environment in one place and fail loudly on a bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from common.env import env_bool, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on", " True "])
def test_it_reads_true(monkeypatch, raw):
    monkeypatch.setenv("CHO_TEST_FLAG", raw)
    assert env_bool("CHO_TEST_FLAG") is True


@pytest.mark.parametrize("raw", ["0", "false", "no", "off", ""])
def test_it_reads_false(monkeypatch, raw):
    monkeypatch.setenv("CHO_TEST_FLAG", raw)
    assert env_bool("CHO_TEST_FLAG", True) is False


@pytest.mark.parametrize("raw", ["2", "maybe", "tru", "enabled"])
def test_it_fails_loudly_on_a_bad_boolean(monkeypatch, raw):
    monkeypatch.setenv("CHO_TEST_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="CHO_TEST_FLAG"):
        env_bool("CHO_TEST_FLAG")


def test_it_uses_defaults_when_unset(monkeypatch):
    monkeypatch.delenv("CHO_TEST_X", raising=False)
    assert env_bool("CHO_TEST_X", True) is True
    assert env_int("CHO_TEST_X", 7) == 7
    assert env_str("CHO_TEST_X", "d") == "d"
    assert env_list("CHO_TEST_X", ["a"]) == ["a"]


def test_it_reads_integers(monkeypatch):
    monkeypatch.setenv("CHO_TEST_N", "900")
    assert env_int("CHO_TEST_N", 1) == 900


@pytest.mark.parametrize("raw", ["15m", "1.5", "ten"])
def test_it_fails_loudly_on_a_bad_integer(monkeypatch, raw):
    monkeypatch.setenv("CHO_TEST_N", raw)
    with pytest.raises(ImproperlyConfigured, match="CHO_TEST_N"):
        env_int("CHO_TEST_N", 1)


def test_it_splits_lists_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("CHO_TEST_L", " a.example , ,b.example,")
    assert env_list("CHO_TEST_L", []) == ["a.example", "b.example"]


def _settings_in_subprocess(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SECRET_KEY", "REDIS_URL"}}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_refuses_to_start_with_a_bad_boolean_setting():
    result = _settings_in_subprocess(DJANGO_DEBUG="perhaps")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "DJANGO_DEBUG" in result.stderr


def test_it_refuses_a_database_url_that_is_not_postgres():
    result = _settings_in_subprocess(DATABASE_URL="mysql://db/cho40", DJANGO_SECRET_KEY="x")

    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_it_refuses_production_without_a_secret_key():
    result = _settings_in_subprocess(DATABASE_URL="postgres://postgres@127.0.0.1:5432/cho40_h6")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_it_starts_embedded_with_nothing_configured(tmp_path):
    result = _settings_in_subprocess(CHO_VAR_DIR=str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret_key").exists()
