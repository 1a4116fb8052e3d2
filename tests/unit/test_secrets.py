"""A public default secret never meets anything real, whatever TEXTLINE_ENV says; the demo runs on
secrets generated for its installation."""
from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from textline.app import create_app
from textline.config import DEV_SECRET, load_config
from textline.ops import config_check
from textline.ops.config_check import gunicorn_binds

REAL_TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "a-real-looking-auth-token"}
# The reported installation: real Twilio, https, PostgreSQL, no TEXTLINE_ENV, no SECRET_KEY.
REPORTED = {**REAL_TWILIO, "PUBLIC_BASE_URL": "https://textline.example.org",
            "DATABASE_URL": "postgresql://textline:pw-7d1c95a0b3@db.internal:5432/textline"}
EACH_REAL_THING = [REAL_TWILIO, {"PUBLIC_BASE_URL": "https://textline.example.org"},
                   {"PUBLIC_BASE_URL": "http://10.0.0.5:5000"},
                   {"DATABASE_URL": "postgresql://textline:x@127.0.0.1:5432/textline"}]
DEFAULTS = [{}, {"SECRET_KEY": DEV_SECRET}, {"SECRET_KEY": "change-me-to-a-long-random-string"}]


@pytest.mark.parametrize("secret", DEFAULTS, ids=["unset", "old-default", "env-example"])
@pytest.mark.parametrize("real", EACH_REAL_THING, ids=["twilio", "https-url", "lan-url", "postgres"])
def test_a_default_secret_with_anything_real_refuses_to_start(tmp_path, real, secret):
    env = {"TEXTLINE_INSTANCE_DIR": str(tmp_path), **real, **secret}
    with pytest.raises(ValueError, match="SECRET_KEY: refusing to start"):
        load_config(env)
    assert config_check.has_errors(config_check.check(env))
    with pytest.raises(config_check.UnsafeConfiguration, match="SECRET_KEY"):
        config_check.refuse_unsafe(env)
    assert not list(tmp_path.iterdir())  # nothing was generated for a real installation


def test_the_reported_installation_cannot_even_create_the_app(tmp_path, monkeypatch):
    for name, value in {**REPORTED, "TEXTLINE_INSTANCE_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    for name in ("SECRET_KEY", "PHONE_HASH_KEY", "TEXTLINE_ENV"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="SECRET_KEY"):
        create_app()
    findings = {f.setting: f for f in config_check.check()}
    assert findings["SECRET_KEY"].level == config_check.ERROR
    assert "whatever TEXTLINE_ENV says" in findings["SECRET_KEY"].message


def test_an_example_phone_hash_key_is_refused_too_and_an_unset_one_keeps_secret_keys_hashes(tmp_path):
    real = {**REPORTED, "TEXTLINE_INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "k" * 48}
    with pytest.raises(ValueError, match="PHONE_HASH_KEY: refusing"):
        load_config({**real, "PHONE_HASH_KEY": "change-me-too"})
    # Set apart from SECRET_KEY or not set at all (an older installation keyed its texters with it).
    assert load_config({**real, "PHONE_HASH_KEY": "p" * 48})["PHONE_HASH_KEY"] == "p" * 48
    assert load_config(real)["PHONE_HASH_KEY"] == "k" * 48


def test_a_public_bind_is_real_too():
    assert gunicorn_binds(["/app/.venv/bin/gunicorn", "-k", "gevent", "-b", "0.0.0.0:8000", "textline.wsgi:app"]) \
        == ["0.0.0.0:8000"]
    assert gunicorn_binds(["gunicorn", "textline.wsgi:app"], "--bind [::]:8000") == ["[::]:8000"]
    assert gunicorn_binds(["gunicorn", "textline.wsgi:app"]) == ["127.0.0.1:8000"]  # gunicorn's default
    assert gunicorn_binds(["pytest", "-b", "0.0.0.0:1"]) == []  # not a gunicorn process
    with pytest.raises(config_check.UnsafeConfiguration, match="listening on 0.0.0.0:8000"):
        config_check.refuse_unsafe({}, binds=["0.0.0.0:8000"])
    for local in (["127.0.0.1:5000"], ["localhost:5000"], ["[::1]:5000"], ["unix:/run/textline.sock"]):
        assert not config_check.has_errors(config_check.check({}, binds=local)), local


def test_the_demo_runs_on_secrets_of_its_own_installation(tmp_path):
    first = load_config({"TEXTLINE_INSTANCE_DIR": str(tmp_path / "a")})
    again = load_config({"TEXTLINE_INSTANCE_DIR": str(tmp_path / "a")})
    other = load_config({"TEXTLINE_INSTANCE_DIR": str(tmp_path / "b")})
    assert first["SECRET_KEY"] == again["SECRET_KEY"] and first["PHONE_HASH_KEY"] == again["PHONE_HASH_KEY"]
    assert first["SECRET_KEY"] != other["SECRET_KEY"] and first["SECRET_KEY"] != first["PHONE_HASH_KEY"]
    assert len(first["SECRET_KEY"]) >= 48 and DEV_SECRET not in (first["SECRET_KEY"], first["PHONE_HASH_KEY"])
    for name in ("secret_key", "phone_hash_key"):
        assert stat.S_IMODE(os.stat(tmp_path / "a" / name).st_mode) == 0o600
    assert not config_check.has_errors(config_check.check({"TEXTLINE_INSTANCE_DIR": str(tmp_path / "c")}))
    assert not (tmp_path / "c").exists()  # explaining a configuration generates nothing


def test_gunicorn_on_a_public_address_with_the_default_secret_refuses(tmp_path):
    """The real server process: no TEXTLINE_ENV, nothing else real but where it listens."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SECRET_KEY", "PHONE_HASH_KEY", "TWILIO_", "TEXTLINE_", "DATABASE_URL", "PUBLIC_"))}
    env.update(TEXTLINE_INSTANCE_DIR=str(tmp_path))
    code = ("import sys; sys.argv = ['gunicorn', '-b', '0.0.0.0:8000', 'textline.wsgi:app']; import textline.wsgi")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "refusing to start" in result.stderr and "listening on 0.0.0.0:8000" in result.stderr, result.stderr[-2000:]
