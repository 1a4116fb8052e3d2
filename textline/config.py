"""Configuration from the environment: one place that knows every setting and its default."""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-change-me"
# The fake Twilio account used when no real credentials are configured (demo, training, tests).
FAKE_ACCOUNT_SID = "AC" + "0" * 32
FAKE_AUTH_TOKEN = "demo-auth-token"

DEFAULT_WELCOME = (
    "Hi, you've reached Textline. Trained teen volunteers answer here, with adults supervising. "
    "What you share stays confidential unless someone's safety is at risk. "
    "If you are in danger now call 911, or call/text 988 any time."
)
DEFAULT_SURVEY = ("Thanks for texting Textline. How helpful was this conversation? Reply with a number from "
                  "1 (not at all) to 5 (very). Replying is optional.")
DEFAULT_SURVEY_THANKS = "Thank you for telling us. Text us any time you want to talk."


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None


def _float(env: dict, name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def _networks(env: dict, name: str) -> list:
    """A comma-separated list of addresses or CIDR ranges, e.g. "10.0.0.0/8, 127.0.0.1"."""
    out = []
    for item in (env.get(name) or "").split(","):
        if item.strip():
            try:
                out.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{name}: {item.strip()!r} is not an IP address or CIDR range") from None
    return out


def engine_options(database_url: str, connect_timeout: float) -> dict:
    options = {
        # SQL errors would otherwise carry their parameters (message bodies, numbers) into the logs.
        "hide_parameters": True,
    }
    if database_url.startswith("postgresql"):
        # A database that does not answer must fail a webhook fast (Twilio retries on 5xx), not hang it.
        options["connect_args"] = {"connect_timeout": max(1, int(connect_timeout))}
        options["pool_timeout"] = connect_timeout
        # A ping per checkout (~0.1 ms): after a database restart a stale pooled connection would fail
        # a volunteer's sign-in or reply with a 500, and only webhooks are retried by anyone.
        options["pool_pre_ping"] = True
    # SQLite is a file: no server to lose a connection, nothing to ping.
    return options


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// spellings and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_config(env: dict | None = None) -> dict:
    """Build the Flask config dict from environment variables (or a given mapping, for tests)."""
    env = dict(os.environ if env is None else env)
    instance = Path(env.get("TEXTLINE_INSTANCE_DIR", ROOT / "instance"))
    redis_url = env.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    public_base = env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    account_sid = env.get("TWILIO_ACCOUNT_SID", "")
    auth_token = env.get("TWILIO_AUTH_TOKEN", "")
    twilio_real = bool(account_sid and auth_token)
    database_url = normalise_database_url(env.get("DATABASE_URL", f"sqlite:///{instance / 'textline.sqlite3'}"))
    log_format = env.get("LOG_FORMAT", "json").strip().lower()
    if log_format not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT must be json or text, got {log_format!r}")
    log_level = env.get("LOG_LEVEL", "INFO").strip().upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")
    return {
        "ENV_NAME": env.get("TEXTLINE_ENV", "development"),
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET),
        # HMAC key for phone numbers; separate from SECRET_KEY so rotating one does not re-key the other.
        "PHONE_HASH_KEY": env.get("PHONE_HASH_KEY", env.get("SECRET_KEY", DEV_SECRET)),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_DIR": str(instance),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": env.get("CELERY_BROKER_URL", redis_url),
        "CELERY_VISIBILITY_TIMEOUT": _int(env, "CELERY_VISIBILITY_TIMEOUT", 60),
        "CELERY_ALWAYS_EAGER": _bool(env.get("CELERY_ALWAYS_EAGER")),
        "PUBLIC_BASE_URL": public_base,
        "TWILIO_ACCOUNT_SID": account_sid or FAKE_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": auth_token or env.get("FAKE_TWILIO_AUTH_TOKEN", FAKE_AUTH_TOKEN),
        "TWILIO_FROM_NUMBER": env.get("TWILIO_FROM_NUMBER", "+15550001111"),
        "TWILIO_MESSAGING_SERVICE_SID": env.get("TWILIO_MESSAGING_SERVICE_SID", ""),
        # The WhatsApp sender ("whatsapp:+1..."); unset = WhatsApp texts are turned away (README, WhatsApp).
        "TWILIO_WHATSAPP_FROM": env.get("TWILIO_WHATSAPP_FROM", "" if twilio_real else "whatsapp:+15550001111"),
        "TWILIO_REAL": twilio_real,
        # Where the twilio client sends REST calls. Unset with real credentials = api.twilio.com;
        # without credentials = the fake Twilio served by this app.
        "TWILIO_API_BASE": env.get("TWILIO_API_BASE", "" if twilio_real else public_base + "/fake-twilio"),
        "FAKE_TWILIO_ENABLED": _bool(env.get("FAKE_TWILIO_ENABLED"), default=not twilio_real),
        "SIMULATOR_ENABLED": _bool(env.get("SIMULATOR_ENABLED"), default=not twilio_real),
        "TWILIO_HTTP_TIMEOUT": float(env.get("TWILIO_HTTP_TIMEOUT") or 10),
        "WELCOME_TEXT": env.get("WELCOME_TEXT", DEFAULT_WELCOME),
        # After a conversation ends: one optional "Reply 1-5" text; a score within the window is its answer.
        "SURVEY_ENABLED": _bool(env.get("SURVEY_ENABLED"), default=True),
        "SURVEY_TEXT": env.get("SURVEY_TEXT", DEFAULT_SURVEY),
        "SURVEY_THANKS_TEXT": env.get("SURVEY_THANKS_TEXT", DEFAULT_SURVEY_THANKS),
        "SURVEY_WINDOW_HOURS": _int(env, "SURVEY_WINDOW_HOURS", 24),
        # Whether a simulator text may mark its conversation as training (kept out of statistics). Only
        # demo/training deployments: with real Twilio the flag is ignored.
        "TRAINING_MODE_ENABLED": _bool(env.get("TRAINING_MODE_ENABLED"), default=not twilio_real),
        "OUTBOUND_MAX_RETRIES": _int(env, "OUTBOUND_MAX_RETRIES", 6),
        "OUTBOUND_SWEEP_AFTER_SECONDS": _int(env, "OUTBOUND_SWEEP_AFTER_SECONDS", 60),
        "PRESENCE_GRACE_SECONDS": _int(env, "PRESENCE_GRACE_SECONDS", 60),
        "PRESENCE_TTL_SECONDS": _int(env, "PRESENCE_TTL_SECONDS", 90),
        "RETENTION_DAYS": _int(env, "RETENTION_DAYS", 90),
        "SOCKETIO_MESSAGE_QUEUE": env.get("SOCKETIO_MESSAGE_QUEUE", redis_url),
        # Safety: when adults are pulled in, and when the line is staffed.
        "ESCALATE_WAIT_SECONDS": _int(env, "ESCALATE_WAIT_SECONDS", 180),          # unclaimed this long
        "ESCALATE_NO_REPLY_SECONDS": _int(env, "ESCALATE_NO_REPLY_SECONDS", 180),  # claimed, unanswered
        "PAGE_AFTER_SECONDS": _int(env, "PAGE_AFTER_SECONDS", 120),      # unacknowledged: text the pager
        "PAGE_REPEAT_SECONDS": _int(env, "PAGE_REPEAT_SECONDS", 120),    # still unacknowledged: next advisor
        "PAGE_MAX_ROUNDS": _int(env, "PAGE_MAX_ROUNDS", 3),              # passes through the rota, then stop
        "ESCALATION_SWEEP_SECONDS": _int(env, "ESCALATION_SWEEP_SECONDS", 5),
        # "always" (24/7, the demo/dev default), "default" (the bundled evening schedule, the production
        # default) or the path of a schedule file (re-read when it changes).
        "HOURS": env.get("HOURS") or ("default" if env.get("TEXTLINE_ENV") == "production" else "always"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": public_base.startswith("https://"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": public_base.startswith("https://"),
        "DB_CONNECT_TIMEOUT": _float(env, "DB_CONNECT_TIMEOUT", 5),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url, _float(env, "DB_CONNECT_TIMEOUT", 5)),
        # Operations (textline/ops/logs.py, metrics.py, health.py, web_upkeep.py).
        "LOG_FORMAT": log_format,
        "LOG_LEVEL": log_level,
        "METRICS_TOKEN": env.get("METRICS_TOKEN", ""),
        "METRICS_ALLOW_FROM": _networks(env, "METRICS_ALLOW_FROM"),
        "REDIS_WATCH_SECONDS": _float(env, "REDIS_WATCH_SECONDS", 5),
        "READYZ_CELERY_TIMEOUT": _float(env, "READYZ_CELERY_TIMEOUT", 1),
    }
