"""`flask textline check-config`: every missing or unsafe setting explained, non-zero exit when unsafe."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.servers import ROOT, VENV_BIN
from textline.ops import config_check
from textline.ops.config_check import ERROR
from textline.texting import spool

SECRET = "s" * 20 + "-a-long-random-secret-value-0123456789"
HASH_KEY = "h" * 20 + "-another-long-random-value-9876543210"
SAFE_PRODUCTION = {
    "TEXTLINE_ENV": "production",
    "SECRET_KEY": SECRET,
    "PHONE_HASH_KEY": HASH_KEY,
    "DATABASE_URL": "postgresql://textline:pw-7d1c95a0b3@postgres:5432/textline",
    "REDIS_URL": "redis://redis:6379/0",
    "PUBLIC_BASE_URL": "https://textline.example.org",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "a-real-looking-auth-token",
    "TWILIO_FROM_NUMBER": "+15550001234",
    "METRICS_TOKEN": "metrics-token-0123456789abcdef",
}


def errors(env) -> dict[str, str]:
    return {f.setting: f.message for f in config_check.check(env) if f.level == ERROR}


def test_a_safe_production_configuration_passes():
    findings = config_check.check(SAFE_PRODUCTION)
    assert not config_check.has_errors(findings), config_check.render(findings)
    assert [f for f in findings if f.level == "warning"] == []


def test_production_with_the_defaults_is_unsafe_and_every_reason_is_named():
    found = errors({"TEXTLINE_ENV": "production"})
    assert set(found) >= {"SECRET_KEY", "PHONE_HASH_KEY", "DATABASE_URL", "PUBLIC_BASE_URL",
                          "TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN", "FAKE_TWILIO_ENABLED", "SIMULATOR_ENABLED"}
    assert "PostgreSQL" in found["DATABASE_URL"]
    assert "https" in found["PUBLIC_BASE_URL"]


@pytest.mark.parametrize("change, setting", [
    ({"SECRET_KEY": "change-me-to-a-long-random-string"}, "SECRET_KEY"),         # .env.example's value
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"PHONE_HASH_KEY": ""}, "PHONE_HASH_KEY"),
    ({"DATABASE_URL": "sqlite:////var/textline.sqlite3"}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgresql://textline:change-me@postgres/textline"}, "DATABASE_URL"),
    ({"PUBLIC_BASE_URL": "http://textline.example.org"}, "PUBLIC_BASE_URL"),
    ({"TWILIO_AUTH_TOKEN": ""}, "TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN"),
    ({"TWILIO_FROM_NUMBER": ""}, "TWILIO_FROM_NUMBER"),
    ({"TWILIO_WHATSAPP_FROM": "+15550001234"}, "TWILIO_WHATSAPP_FROM"),
    ({"SIMULATOR_ENABLED": "1"}, "SIMULATOR_ENABLED"),
    ({"CELERY_ALWAYS_EAGER": "1"}, "CELERY_ALWAYS_EAGER"),
    ({"CELERY_VISIBILITY_TIMEOUT": "soon"}, "CELERY_VISIBILITY_TIMEOUT"),
    ({"METRICS_ALLOW_FROM": "not-an-address"}, "METRICS_ALLOW_FROM"),
])
def test_each_unsafe_setting_is_an_error(change, setting):
    env = {k: v for k, v in {**SAFE_PRODUCTION, **change}.items() if v != ""}
    assert setting in errors(env)


def test_missing_metrics_token_is_a_warning_not_an_error():
    env = {k: v for k, v in SAFE_PRODUCTION.items() if k != "METRICS_TOKEN"}
    findings = config_check.check(env)
    assert not config_check.has_errors(findings)
    assert [f.setting for f in findings if f.level == "warning"] == ["METRICS_TOKEN"]


def test_reports_kept_shorter_than_transcripts_is_a_warning():
    findings = config_check.check({**SAFE_PRODUCTION, "RETENTION_DAYS": "90", "REPORT_RETENTION_DAYS": "30"})
    assert not config_check.has_errors(findings)
    assert [f.setting for f in findings if f.level == "warning"] == ["REPORT_RETENTION_DAYS"]


def test_development_defaults_run_and_explain_the_fake_twilio():
    findings = config_check.check({})
    assert not config_check.has_errors(findings)
    text = config_check.render(findings)
    assert "fake Twilio" in text and "TEXTLINE_ENV" in text


def test_refuse_unsafe_is_what_start_up_code_calls():
    with pytest.raises(config_check.UnsafeConfiguration) as info:
        config_check.refuse_unsafe({"TEXTLINE_ENV": "production"})
    assert "SECRET_KEY" in str(info.value)
    config_check.refuse_unsafe(SAFE_PRODUCTION)  # no exception


def _run(argv, env):
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(argv, env={**clean, **env}, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_flask_command_exits_non_zero_when_unsafe_and_never_prints_secrets(tmp_path):
    flask = [str(VENV_BIN / "flask"), "--app", "textline.app:create_app", "textline", "check-config"]
    unsafe = {**SAFE_PRODUCTION, "PUBLIC_BASE_URL": "http://textline.example.org",
              "TEXTLINE_INSTANCE_DIR": str(tmp_path)}
    result = _run(flask, unsafe)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "PUBLIC_BASE_URL" in result.stdout and "1 error(s)" in result.stdout
    safe = _run(flask, {**SAFE_PRODUCTION, "TEXTLINE_INSTANCE_DIR": str(tmp_path)})
    assert safe.returncode == 0, safe.stdout + safe.stderr
    for secret in (SECRET, HASH_KEY, "a-real-looking-auth-token", "pw-7d1c95a0b3"):
        assert secret not in result.stdout + safe.stdout


def test_module_form_works_when_the_app_cannot_even_load(tmp_path):
    result = _run([sys.executable, "-m", "textline.ops.config_check"],
                  {"CELERY_VISIBILITY_TIMEOUT": "soon", "TEXTLINE_INSTANCE_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert "CELERY_VISIBILITY_TIMEOUT" in result.stdout and "whole number" in result.stdout


def test_server_processes_refuse_to_start_in_production_with_the_default_secret(tmp_path):
    """gunicorn imports textline.wsgi and Celery imports workers.worker: both must refuse."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_KEY", "PHONE_HASH_KEY", "TWILIO_"))}
    env.update(TEXTLINE_ENV="production", TEXTLINE_INSTANCE_DIR=str(tmp_path))
    for module in ("textline.wsgi", "workers.worker"):
        result = subprocess.run([sys.executable, "-c", f"import {module}"], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode != 0, module
        assert "refusing to start" in result.stderr and "SECRET_KEY" in result.stderr, result.stderr[-2000:]


def test_a_spool_directory_that_cannot_be_written_is_an_error_in_every_environment(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for env_name in ("development", "production"):
        found = errors({**SAFE_PRODUCTION, "TEXTLINE_ENV": env_name, "SPOOL_DIR": str(blocker / "spool")})
        assert "not writable" in found["SPOOL_DIR"] and str(blocker / "spool") in found["SPOOL_DIR"]
    made = tmp_path / "instance" / "spool"
    assert "SPOOL_DIR" not in errors({**SAFE_PRODUCTION, "SPOOL_DIR": str(made)})
    assert not made.exists()  # checking creates nothing; the first spooled webhook does
    spool.prepare(made)
    assert oct(made.stat().st_mode & 0o777) == "0o700"  # owner only: it holds texts and numbers
    assert "SPOOL_DIR" not in errors({**SAFE_PRODUCTION, "SPOOL_DIR": str(made)})


def test_a_media_directory_that_cannot_be_written_or_a_zero_limit_is_an_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    found = errors({**SAFE_PRODUCTION, "MEDIA_DIR": str(blocker / "media"), "MEDIA_MAX_BYTES": "0"})
    assert "not writable" in found["MEDIA_DIR"] and str(blocker / "media") in found["MEDIA_DIR"]
    assert "at least 1" in found["MEDIA_MAX_BYTES"]
    made = tmp_path / "instance" / "media"
    assert "MEDIA_DIR" not in errors({**SAFE_PRODUCTION, "MEDIA_DIR": str(made)})
    assert not made.exists()
