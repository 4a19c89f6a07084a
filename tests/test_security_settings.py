"""Insecure defaults are refused: the published development SECRET_KEY with debug off, a "*"
host list; Django's deployment checks pass once the documented variables are set."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, tmp_path, **env):
    base = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "DJANGO_DEBUG")}
    base["ARGUS_SECRET_KEY_FILE"] = str(tmp_path / "no-such-file")  # not the developer's var/secret_key
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env={**base, **env},
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.mark.slow  # starts manage.py processes
def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    result = manage("check", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.slow  # starts manage.py processes
def test_it_refuses_the_published_development_key_when_debug_is_off(tmp_path):
    result = manage("check", tmp_path=tmp_path, DJANGO_SECRET_KEY="argus-insecure-dev-key-change-me")
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.slow  # starts manage.py processes
def test_a_key_file_written_by_bin_start_is_used(tmp_path):
    (tmp_path / "key").write_text(secrets.token_urlsafe(50))
    result = manage("check", tmp_path=tmp_path, ARGUS_SECRET_KEY_FILE=str(tmp_path / "key"))
    assert result.returncode == 0, result.stderr


@pytest.mark.slow  # starts manage.py processes
def test_the_deployment_checks_pass_with_the_documented_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path,
                    DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="argus.example.com",
                    ARGUS_HTTPS="true")
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_unknown_host_header_is_refused(client):
    assert client.get("/health", HTTP_HOST="evil.example").status_code == 400
    assert client.get("/health", HTTP_HOST="localhost").status_code == 200
