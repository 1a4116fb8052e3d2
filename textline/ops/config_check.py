"""Is this configuration safe to run with? The one place that knows the rules.

Used by `flask textline check-config` (explains every finding, exits 1 on errors), by
`python -m textline.ops.config_check` (the same, without creating the app, for a config too broken to
load), and by start-up code that must refuse an unsafe production configuration (`refuse_unsafe`).
Findings name settings and explain; they never print a secret's value.
"""
from __future__ import annotations

import os
import re
import shlex
import sys
from dataclasses import dataclass
from urllib.parse import urlparse

from gunicorn.config import Config

from textline.config import FAKE_ACCOUNT_SID, SECRETS, is_default_secret, load_config, real_deployment
from textline.texting import spool

ERROR, WARNING, INFO = "error", "warning", "info"
MIN_SECRET_LEN = 32
KNOWN_ENVS = ("development", "test", "production")


@dataclass(frozen=True)
class Finding:
    level: str
    setting: str
    message: str


def _is_placeholder(value: str) -> bool:
    return bool(value) and is_default_secret(value)


def _secret(env: dict, name: str, production: bool, why: str, real: list[str]) -> list[Finding]:
    value = env.get(name, "")
    if real and is_default_secret(value) and (value or name == "SECRET_KEY"):
        return [Finding(ERROR, name, f"{'the example value' if value else 'not set'} with {', '.join(real)}: "
                                     f"{why}. The app refuses to start like this, whatever TEXTLINE_ENV says.")]
    level = ERROR if production else INFO
    if not value:
        return [Finding(level, name, f"not set: {why}. Generate one with "
                                     f"`python -c 'import secrets; print(secrets.token_urlsafe(48))'`.")]
    if _is_placeholder(value):
        return [Finding(level, name, f"still the example/development value: {why}.")]
    if len(value) < MIN_SECRET_LEN:
        return [Finding(ERROR if production else WARNING, name,
                        f"only {len(value)} characters; use at least {MIN_SECRET_LEN} random ones.")]
    return []


def check(env: dict | None = None, binds=()) -> list[Finding]:
    """Every finding for this environment (os.environ by default) and server binds, most serious first."""
    env = dict(os.environ if env is None else env)
    real = real_deployment(env, binds)
    # The secrets are judged below; stand-ins let the rest be read without generating or refusing them.
    stand_ins = {name: f"stand-in-{name}-{'0' * 40}" for name in SECRETS if is_default_secret(env.get(name))}
    try:
        cfg = load_config({**env, **stand_ins})
    except ValueError as exc:
        setting = str(exc).split(" ", 1)[0].rstrip(":")
        return [Finding(ERROR, setting, f"cannot be read: {exc}")]
    name = cfg["ENV_NAME"]
    prod = name == "production"
    out: list[Finding] = []
    add = lambda level, setting, message: out.append(Finding(level, setting, message))  # noqa: E731

    if name not in KNOWN_ENVS:
        add(WARNING, "TEXTLINE_ENV", f"{name!r} is not one of {', '.join(KNOWN_ENVS)}; treated as not production.")
    if not prod:
        add(INFO, "TEXTLINE_ENV", f"{name}: production rules are relaxed. Set TEXTLINE_ENV=production on a "
                                  "real deployment to have them enforced.")

    out += _secret(env, "SECRET_KEY", prod, "anyone who knows it can forge a signed-in volunteer's session", real)
    if not env.get("PHONE_HASH_KEY"):
        add(ERROR if prod else WARNING if real else INFO, "PHONE_HASH_KEY",
            "not set, so texters' numbers are keyed with SECRET_KEY: rotating SECRET_KEY would then split every "
            "texter's history. Set its own long random value, once, and never change it.")
    else:
        out += _secret(env, "PHONE_HASH_KEY", prod, "it keys every texter's phone number hash", real)
        if env.get("PHONE_HASH_KEY") == env.get("SECRET_KEY"):
            add(WARNING, "PHONE_HASH_KEY", "is the same as SECRET_KEY; give each its own value.")

    db_url = cfg["SQLALCHEMY_DATABASE_URI"]
    if db_url.startswith("sqlite"):
        add(ERROR if prod else INFO, "DATABASE_URL",
            "SQLite (the default) is for one machine and demos; several web processes and workers need "
            "PostgreSQL: DATABASE_URL=postgresql://user:password@host:5432/textline.")
    else:
        password = urlparse(env.get("DATABASE_URL", "")).password or ""
        if prod and _is_placeholder(password):
            add(ERROR, "DATABASE_URL", "the database password is still the example value.")

    if "REDIS_URL" not in env:
        add(WARNING if prod else INFO, "REDIS_URL", f"not set: using {cfg['REDIS_URL']}.")

    public = cfg["PUBLIC_BASE_URL"]
    if not public.startswith("https://"):
        add(ERROR if prod else INFO, "PUBLIC_BASE_URL",
            f"{public} is not https: Twilio's webhooks and volunteers' sign-ins must travel over TLS, and "
            "signatures are checked against this exact URL.")

    if not cfg["TWILIO_REAL"]:
        add(ERROR if prod else INFO, "TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN",
            "not set: texts go to the built-in fake Twilio (and the simulator at /simulator), so no real "
            "phone receives anything.")
    else:
        if cfg["TWILIO_ACCOUNT_SID"] == FAKE_ACCOUNT_SID or not cfg["TWILIO_ACCOUNT_SID"].startswith("AC"):
            add(ERROR, "TWILIO_ACCOUNT_SID", "does not look like a Twilio Account SID (AC followed by 32 hex digits).")
        if not env.get("TWILIO_FROM_NUMBER") and not cfg["TWILIO_MESSAGING_SERVICE_SID"]:
            add(ERROR, "TWILIO_FROM_NUMBER", "neither TWILIO_FROM_NUMBER nor TWILIO_MESSAGING_SERVICE_SID is set: "
                                             "replies would be sent from a made-up number and refused.")
        whatsapp = cfg["TWILIO_WHATSAPP_FROM"]
        if whatsapp and not re.fullmatch(r"whatsapp:\+[1-9]\d{6,14}", whatsapp):
            add(ERROR, "TWILIO_WHATSAPP_FROM", "must be whatsapp: and the sender's number (whatsapp:+15551234567); "
                                               "replies to WhatsApp texters would be refused.")
        if env.get("TWILIO_API_BASE"):
            add(WARNING, "TWILIO_API_BASE", f"texts are sent to {cfg['TWILIO_API_BASE']}, not to Twilio's API.")
    if prod and cfg["FAKE_TWILIO_ENABLED"]:
        add(ERROR, "FAKE_TWILIO_ENABLED", "the fake Twilio is served in production: turn it off.")
    if prod and cfg["SIMULATOR_ENABLED"]:
        add(ERROR, "SIMULATOR_ENABLED", "the texter simulator is served in production: anyone could post texts "
                                        "signed with your auth token. Turn it off.")
    if prod and cfg["CELERY_ALWAYS_EAGER"]:
        add(ERROR, "CELERY_ALWAYS_EAGER", "tasks would run inside web requests, without retries or workers.")

    if not cfg["METRICS_TOKEN"] and not cfg["METRICS_ALLOW_FROM"]:
        add(WARNING if prod else INFO, "METRICS_TOKEN",
            "not set (nor METRICS_ALLOW_FROM): /metrics answers only signed-in admins, so Prometheus cannot scrape.")
    elif cfg["METRICS_TOKEN"] and len(cfg["METRICS_TOKEN"]) < 16:
        add(WARNING, "METRICS_TOKEN", "shorter than 16 characters; use a long random value.")
    if cfg["REPORT_RETENTION_DAYS"] < cfg["RETENTION_DAYS"]:
        add(WARNING, "REPORT_RETENTION_DAYS",
            f"{cfg['REPORT_RETENTION_DAYS']} days is shorter than RETENTION_DAYS ({cfg['RETENTION_DAYS']}): records "
            "of reports to the authorities would go before the transcripts. Keep them at least as long (the "
            "default is about seven years; ask who advises you on your legal duties).")
    if cfg["REPORT_REMINDER_MINUTES"] < 1:
        add(WARNING, "REPORT_REMINDER_MINUTES", "under a minute: adults are reminded of every report decision "
                                                "the moment it is owed.")
    # In every environment: without it a text that arrives while SQL is down could be lost.
    problem = spool.unwritable(cfg["SPOOL_DIR"])
    if problem:
        add(ERROR, "SPOOL_DIR", f"{cfg['SPOOL_DIR']} is not writable ({problem}): texts that arrive "
                                "while the database is down are kept there. Make it a directory owned by the "
                                "user the web processes run as (it is created with mode 0700).")
    # Texters' pictures are kept there by workers and read by web processes (the same directory check).
    problem = spool.unwritable(cfg["MEDIA_DIR"])
    if problem:
        add(ERROR, "MEDIA_DIR", f"{cfg['MEDIA_DIR']} is not writable ({problem}): pictures texters send are "
                                "kept there. Make it a directory owned by the user the app runs as, shared by "
                                "web processes and workers (it is created with mode 0700).")
    if cfg["MEDIA_MAX_BYTES"] < 1:
        add(ERROR, "MEDIA_MAX_BYTES", "must be at least 1: every picture would be recorded as too large.")
    if prod and cfg["LOG_FORMAT"] != "json":
        add(WARNING, "LOG_FORMAT", "text logs in production: log collectors expect LOG_FORMAT=json.")
    if prod and cfg["LOG_LEVEL"] == "DEBUG":
        add(WARNING, "LOG_LEVEL", "DEBUG in production is noisy; the redaction filter still applies.")

    order = {ERROR: 0, WARNING: 1, INFO: 2}
    return sorted(out, key=lambda f: order[f.level])


def has_errors(findings: list[Finding]) -> bool:
    return any(f.level == ERROR for f in findings)


def render(findings: list[Finding]) -> str:
    if not findings:
        return "configuration OK: nothing missing or unsafe."
    lines = [f"{f.level.upper():8} {f.setting}: {f.message}" for f in findings]
    errors = sum(f.level == ERROR for f in findings)
    lines.append(f"{errors} error(s): {'unsafe to run with' if errors else 'safe to run with'}.")
    return "\n".join(lines)


class UnsafeConfiguration(RuntimeError):
    pass


def refuse_unsafe(env: dict | None = None, binds=()) -> None:
    """For process start-up: raise with every error explained if this configuration is unsafe."""
    findings = check(env, binds)
    if has_errors(findings):
        raise UnsafeConfiguration("refusing to start:\n" + render([f for f in findings if f.level == ERROR]))


def gunicorn_binds(argv: list[str], cmd_args: str = "") -> list[str]:
    """The addresses gunicorn was told to listen on (-b/--bind, GUNICORN_CMD_ARGS), read with its own
    option parser; its default, 127.0.0.1:8000, when none is given. Empty when not under gunicorn."""
    if not argv or not os.path.basename(argv[0]).startswith("gunicorn"):
        return []
    args, _ = Config().parser().parse_known_args(shlex.split(cmd_args) + argv[1:])
    return list(args.bind or ["127.0.0.1:8000"])


def check_environment() -> list[Finding]:
    return check(None)


def main() -> int:
    findings = check()
    print(render(findings))
    return 1 if has_errors(findings) else 0


if __name__ == "__main__":
    sys.exit(main())
