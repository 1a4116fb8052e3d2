"""Configuration from the environment: one place that knows every setting and its default."""
from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-change-me"  # an old public default: never accepted as a real secret
PLACEHOLDER_PREFIX = "change-me"          # what .env.example ships
SECRETS = ("SECRET_KEY", "PHONE_HASH_KEY")
# The fake Twilio account used when no real credentials are configured (demo, training, tests).
FAKE_ACCOUNT_SID = "AC" + "0" * 32
FAKE_AUTH_TOKEN = "demo-auth-token"


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


def is_default_secret(value: str | None) -> bool:
    """Unset, or a value published with the code: anyone could sign a session cookie with it."""
    return not value or value == DEV_SECRET or value.lower().startswith(PLACEHOLDER_PREFIX)


def _loopback(host: str | None) -> bool:
    host = (host or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def real_deployment(env: dict, binds=()) -> list[str]:
    """What makes this more than a demo on one machine: real Twilio credentials, a public address
    (PUBLIC_BASE_URL or a server bind that is not loopback), or a database server. Empty for the demo."""
    found = []
    if env.get("TWILIO_ACCOUNT_SID") and env.get("TWILIO_AUTH_TOKEN"):
        found.append("real Twilio credentials")
    public = env.get("PUBLIC_BASE_URL")
    if public and not _loopback(urlparse(public).hostname):
        found.append(f"PUBLIC_BASE_URL {public}")
    for bind in binds:
        if not bind.startswith(("unix:", "fd://")) and not _loopback(bind.rsplit(":", 1)[0]):
            found.append(f"listening on {bind}")
    database = env.get("DATABASE_URL", "")
    if database and not database.startswith("sqlite"):
        found.append("a database server")
    return found


def _install_secret(instance: Path, name: str) -> str:
    """The demo's own secret, made once per installation and kept in its instance folder (readable by
    its owner only). Processes starting together agree: the first link wins, the others read it."""
    path = instance / name.lower()
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        draft = instance / f".{name.lower()}.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text().strip()


def resolve_secrets(env: dict, instance: Path) -> tuple[str, str]:
    """SECRET_KEY and PHONE_HASH_KEY. A default secret never meets anything real, whatever TEXTLINE_ENV
    says: that raises. On a demo, a missing one is generated for this installation."""
    real = real_deployment(env)
    for name in SECRETS:
        value = env.get(name)
        # An unset PHONE_HASH_KEY falls back to a real SECRET_KEY (below); an example value never.
        if real and is_default_secret(value) and (value or name == "SECRET_KEY"):
            raise ValueError(f"{name}: refusing to start with {'the example' if value else 'no'} {name} and "
                             f"{', '.join(real)}: set a long random value of its own.")
    secret_key = env.get("SECRET_KEY")
    if is_default_secret(secret_key):
        secret_key = _install_secret(instance, "SECRET_KEY")
    phone_key = env.get("PHONE_HASH_KEY")
    if is_default_secret(phone_key):
        # Deployments that never set it keyed their texters with SECRET_KEY: keep those hashes.
        explicit = env.get("SECRET_KEY")
        phone_key = explicit if not is_default_secret(explicit) else _install_secret(instance, "PHONE_HASH_KEY")
    return secret_key, phone_key


# A worker, beat or command waits only for itself, so it may wait its turn for SQLite's write lock longer.
SQLITE_BUSY_TIMEOUT_OFF_THE_EVENT_LOOP = 5.0


def engine_options(database_url: str, connect_timeout: float, sqlite_busy_timeout: float = 0.5) -> dict:
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
    elif database_url.startswith("sqlite"):
        # A writer waits this long for another's write lock, then fails (a webhook answers 503, Twilio
        # retries). SQLite waits in C, which a gevent web process cannot switch away from: every request
        # in the process stalls as long, so web processes keep it short (SQLITE_BUSY_TIMEOUT).
        # No server to lose a connection, nothing to ping.
        options["connect_args"] = {"timeout": sqlite_busy_timeout}
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
    secret_key, phone_hash_key = resolve_secrets(env, instance)
    return {
        "ENV_NAME": env.get("TEXTLINE_ENV", "development"),
        "SECRET_KEY": secret_key,
        # HMAC key for phone numbers; separate from SECRET_KEY so rotating one does not re-key the other.
        "PHONE_HASH_KEY": phone_hash_key,
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
        # The welcome and survey texts are in textline/data/auto_texts.yaml, per language; these replace them
        # (English; the _ES ones Spanish). Empty: the bundled words.
        "WELCOME_TEXT": env.get("WELCOME_TEXT", ""),
        "WELCOME_TEXT_ES": env.get("WELCOME_TEXT_ES", ""),
        # After a conversation ends: one optional "Reply 1-5" text; a score within the window is its answer.
        "SURVEY_ENABLED": _bool(env.get("SURVEY_ENABLED"), default=True),
        "SURVEY_TEXT": env.get("SURVEY_TEXT", ""),
        "SURVEY_TEXT_ES": env.get("SURVEY_TEXT_ES", ""),
        "SURVEY_THANKS_TEXT": env.get("SURVEY_THANKS_TEXT", ""),
        "SURVEY_THANKS_TEXT_ES": env.get("SURVEY_THANKS_TEXT_ES", ""),
        "SURVEY_WINDOW_HOURS": _int(env, "SURVEY_WINDOW_HOURS", 24),
        # Whether a simulator text may mark its conversation as training (kept out of statistics). Only
        # demo/training deployments: with real Twilio the flag is ignored.
        "TRAINING_MODE_ENABLED": _bool(env.get("TRAINING_MODE_ENABLED"), default=not twilio_real),
        "OUTBOUND_MAX_RETRIES": _int(env, "OUTBOUND_MAX_RETRIES", 6),
        "OUTBOUND_SWEEP_AFTER_SECONDS": _int(env, "OUTBOUND_SWEEP_AFTER_SECONDS", 60),
        "PRESENCE_GRACE_SECONDS": _int(env, "PRESENCE_GRACE_SECONDS", 60),
        "PRESENCE_TTL_SECONDS": _int(env, "PRESENCE_TTL_SECONDS", 90),
        "RETENTION_DAYS": _int(env, "RETENTION_DAYS", 90),
        "IDLE_CLOSE_DAYS": _int(env, "IDLE_CLOSE_DAYS", 14),  # no message this long: the server closes it
        # Duty of care (textline/duty/): report decisions and emergency records are kept this long after their
        # conversation closed (longer than transcripts: legal holds), unless an admin holds one for good.
        "REPORT_RETENTION_DAYS": _int(env, "REPORT_RETENTION_DAYS", 7 * 365),
        # A report decision still owed this long after it became owed: adults are reminded.
        "REPORT_REMINDER_MINUTES": _int(env, "REPORT_REMINDER_MINUTES", 60),
        # Blocklist and floods (textline/blocklist/): the longest block an adult may set; the rate above which
        # a texter's texts are throttled in the queue ("10 per minute"; empty = never).
        "BLOCK_MAX_DAYS": _int(env, "BLOCK_MAX_DAYS", 90),
        "FLOOD_RATE": env.get("FLOOD_RATE", "10 per minute").strip(),
        # Returning texters: the volunteer who claims a conversation sees the texter's earlier wrap-ups.
        "RETURNING_TEXTER_HISTORY": _bool(env.get("RETURNING_TEXTER_HISTORY"), default=True),
        "SOCKETIO_MESSAGE_QUEUE": env.get("SOCKETIO_MESSAGE_QUEUE", redis_url),
        # Safety: when adults are pulled in, and when the line is staffed.
        "ESCALATE_WAIT_SECONDS": _int(env, "ESCALATE_WAIT_SECONDS", 180),          # unclaimed this long
        "ESCALATE_NO_REPLY_SECONDS": _int(env, "ESCALATE_NO_REPLY_SECONDS", 180),  # claimed, unanswered
        # Waiting in a language (other than English) that no volunteer on shift reads: an adult is alerted
        # this long after it was queued (textline/safety/deadlines.py, no_speakers).
        "ESCALATE_NO_SPEAKER_SECONDS": _int(env, "ESCALATE_NO_SPEAKER_SECONDS", 60),
        "PAGE_AFTER_SECONDS": _int(env, "PAGE_AFTER_SECONDS", 120),      # unacknowledged: text the pager
        "PAGE_REPEAT_SECONDS": _int(env, "PAGE_REPEAT_SECONDS", 120),    # still unacknowledged: next advisor
        "PAGE_MAX_ROUNDS": _int(env, "PAGE_MAX_ROUNDS", 3),              # passes through the rota, then stop
        "ESCALATION_SWEEP_SECONDS": _int(env, "ESCALATION_SWEEP_SECONDS", 5),
        # "always" (24/7, the demo/dev default), "default" (the bundled evening schedule, the production
        # default) or the path of a schedule file (re-read when it changes).
        "HOURS": env.get("HOURS") or ("default" if env.get("TEXTLINE_ENV") == "production" else "always"),
        # A sign-in ends after this long without anything the person did, and this long after it began
        # (textline/accounts/sessions.py): a shift fits in it, a console left open on a shared desk does not.
        "SESSION_IDLE_MINUTES": _int(env, "SESSION_IDLE_MINUTES", 60),
        "SESSION_MAX_HOURS": _int(env, "SESSION_MAX_HOURS", 12),
        # Volunteer wellbeing (textline/wellbeing/): the pause after a hard conversation, the longest
        # continuous shift (with a reminder before it), and how many high-risk conversations a volunteer
        # takes in one shift before high-risk texters go to others first. 0 turns a limit off.
        "PAUSE_MINUTES": _int(env, "TEXTLINE_PAUSE_MINUTES", 5),
        "SHIFT_MAX_MINUTES": _int(env, "TEXTLINE_SHIFT_MAX_MINUTES", 240),
        "SHIFT_REMINDER_MINUTES": _int(env, "TEXTLINE_SHIFT_REMINDER_MINUTES", 15),
        "HIGH_RISK_PER_SHIFT": _int(env, "TEXTLINE_HIGH_RISK_PER_SHIFT", 3),
        # How many reverse proxies (nginx, a load balancer) stand in front of the web processes: their
        # X-Forwarded-For / -Proto are believed that many hops deep, and no further (ProxyFix, app.py).
        "TRUSTED_PROXIES": _int(env, "TEXTLINE_TRUSTED_PROXIES", 0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": public_base.startswith("https://"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": public_base.startswith("https://"),
        "DB_CONNECT_TIMEOUT": _float(env, "DB_CONNECT_TIMEOUT", 5),
        "SQLITE_BUSY_TIMEOUT": _float(env, "SQLITE_BUSY_TIMEOUT", 0.5),  # web processes (gevent)
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url, _float(env, "DB_CONNECT_TIMEOUT", 5),
                                                    _float(env, "SQLITE_BUSY_TIMEOUT", 0.5)),
        # Operations (textline/ops/logs.py, metrics.py, health.py, web_upkeep.py).
        "LOG_FORMAT": log_format,
        "LOG_LEVEL": log_level,
        "METRICS_TOKEN": env.get("METRICS_TOKEN", ""),
        "METRICS_ALLOW_FROM": _networks(env, "METRICS_ALLOW_FROM"),
        "REDIS_WATCH_SECONDS": _float(env, "REDIS_WATCH_SECONDS", 5),
        "READYZ_CELERY_TIMEOUT": _float(env, "READYZ_CELERY_TIMEOUT", 1),
        # Webhooks SQL could not take, kept on local disk until it can (textline/texting/spool.py).
        "SPOOL_DIR": env.get("SPOOL_DIR") or str(instance / "spool"),
        # Pictures and files texters send (textline/media/): where they are kept (owner-only), the largest
        # fetched (Twilio's own MMS limit is 5 MB), whether volunteers wait until an adult has looked, and
        # how often a failed fetch is retried.
        "MEDIA_DIR": env.get("MEDIA_DIR") or str(instance / "media"),
        "MEDIA_MAX_BYTES": _int(env, "MEDIA_MAX_BYTES", 5 * 1024 * 1024),
        "MEDIA_ADULT_FIRST": _bool(env.get("MEDIA_ADULT_FIRST")),
        "MEDIA_FETCH_MAX_RETRIES": _int(env, "MEDIA_FETCH_MAX_RETRIES", 8),
    }
