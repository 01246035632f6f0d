"""Settings from the environment (12-factor), read and validated once at start-up."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from webchat.ratelimit import DEFAULT_LIMITS


class ConfigError(RuntimeError):
    """The environment cannot start webchat; the message says what to fix."""


@dataclass(frozen=True)
class Settings:
    port: int
    database_url: str
    redis_url: str | None
    secret_key: str
    rate_limits: bool
    # name -> (count, seconds): limits changed from their defaults by WEBCHAT_RATE_LIMITS
    limit_overrides: dict[str, tuple[int, float]]
    production: bool
    instance_dir: Path
    workers: int = 1  # WEB_CONCURRENCY: processes serving the one port
    # WEBCHAT_WEBHOOK_PRIVATE: whether outgoing webhooks may reach loopback, private, link-local
    # and metadata addresses (a receiver on this machine, in development and tests).
    webhook_private: bool = False
    # WEBCHAT_REGISTRATION: who may create an account until an administrator chooses on /admin.
    registration: str = "open"
    # WEBCHAT_STORAGE_URL: where uploaded files go: a folder, or s3://BUCKET (with the AWS_*
    # variables, and AWS_ENDPOINT_URL for S3-compatible services). Default: instance/uploads.
    storage_url: str = ""
    # WEBCHAT_MAX_UPLOAD: the largest file, in bytes; WEBCHAT_UPLOAD_QUOTA: all of one person's
    # files together, in bytes.
    max_upload: int = 10 * 1024 * 1024
    upload_quota: int = 500 * 1024 * 1024

    # SMTP_URL: where email is sent (unset: no email at all); SMTP_FROM: its From address.
    smtp_url: str | None = None
    smtp_from: str = "webchat@localhost"
    # WEBCHAT_PUBLIC_URL: the site's address as people reach it, for links in emails.
    public_url: str | None = None
    # WEBCHAT_DIGEST_DELAY: seconds a mention, reply or direct message stays unseen before an
    # away digest carries it.
    digest_delay: float = 900.0

    @property
    def email(self) -> bool:
        return self.smtp_url is not None

    @property
    def embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite://")


def _environment(env: dict[str, str]) -> bool:
    name = env.get("WEBCHAT_ENV") or ("production" if env.get("DYNO") else "development")
    if name not in ("production", "development"):
        raise ConfigError(f"WEBCHAT_ENV must be 'production' or 'development', not {name!r}")
    return name == "production"


def _database_url(env: dict[str, str], folder: Path) -> str:
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite://{folder / 'webchat.sqlite3'}"
    if url.startswith("postgresql://"):
        # Tortoise names the asyncpg engine "postgres"; Heroku's URL may use either spelling.
        url = "postgres://" + url[len("postgresql://") :]
    if not url.startswith(("sqlite://", "postgres://")):
        raise ConfigError("DATABASE_URL must start with sqlite://, postgres:// or postgresql://")
    return url


def _secret_key(env: dict[str, str], production: bool, folder: Path) -> str:
    key = env.get("SECRET_KEY", "").strip()
    if key:
        return key
    if production:
        raise ConfigError(
            "SECRET_KEY is not set. In production webchat refuses to start without it: "
            "set SECRET_KEY to a long random value (for example `python -c "
            "'import secrets; print(secrets.token_urlsafe(48))'`)."
        )
    # Development: generate once and keep it, so sessions survive restarts.
    path = folder / "secret_key"
    if path.exists():
        return path.read_text().strip()
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _rate_limits(raw: str) -> tuple[bool, dict[str, tuple[int, float]]]:
    """'on', 'off', or limits to change, as NAME=COUNT/SECONDS separated by commas."""
    raw = raw.strip().lower()
    if raw in ("on", "off"):
        return raw == "on", {}
    limits = {}
    for part in raw.split(","):
        name, _, value = part.strip().partition("=")
        count, _, seconds = value.partition("/")
        if name not in DEFAULT_LIMITS or not count.isdigit() or not seconds.isdigit() or not int(seconds):
            raise ConfigError(
                "WEBCHAT_RATE_LIMITS must be 'on', 'off', or limits such as 'post=60/10,stream=600/60' "
                f"(names: {', '.join(DEFAULT_LIMITS)})"
            )
        limits[name] = (int(count), float(seconds))
    return True, limits


def _workers(raw: str, redis_url: str | None, database_url: str) -> int:
    """WEB_CONCURRENCY (Heroku's name for it): how many processes serve the one port."""
    raw = raw.strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= 64:
        raise ConfigError(f"WEB_CONCURRENCY must be a whole number from 1 to 64, not {raw!r}")
    workers = int(raw)
    if workers > 1 and not redis_url:
        raise ConfigError(
            f"WEB_CONCURRENCY={workers} needs REDIS_URL: the worker processes share one chat through "
            "Redis (events, presence, typing, rate limits). Set REDIS_URL, or WEB_CONCURRENCY=1."
        )
    if workers > 1 and database_url.startswith("sqlite://"):
        raise ConfigError(
            f"WEB_CONCURRENCY={workers} needs PostgreSQL (DATABASE_URL): the embedded SQLite database "
            "is for one process. Set DATABASE_URL to a postgres:// URL, or WEB_CONCURRENCY=1."
        )
    return workers


def _bytes(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip().upper().replace("_", "")
    if not raw:
        return default
    scale = 1
    for suffix, factor in (("KB", 1024), ("MB", 1024**2), ("GB", 1024**3)):
        if raw.endswith(suffix):
            raw, scale = raw[: -len(suffix)].strip(), factor
            break
    if not raw.isdigit() or int(raw) * scale < 1024:
        raise ConfigError(f"{name} must be a number of bytes of at least 1024 (or such as 10MB), not {env[name]!r}")
    return int(raw) * scale


def _storage_url(env: dict[str, str], folder: Path) -> str:
    url = env.get("WEBCHAT_STORAGE_URL", "").strip()
    if not url:
        return str(folder / "uploads")
    if url.startswith("s3://"):
        if len(url[5:].strip("/")) < 3:
            raise ConfigError("WEBCHAT_STORAGE_URL must name a bucket: s3://BUCKET")
        return url
    if "://" in url and not url.startswith("file://"):
        raise ConfigError("WEBCHAT_STORAGE_URL must be a folder path or s3://BUCKET")
    return url.removeprefix("file://")


def _email(env: dict[str, str]) -> tuple[str | None, str, str | None, float]:
    smtp_url = env.get("SMTP_URL", "").strip() or None
    if smtp_url:
        parts = urlsplit(smtp_url)
        try:
            parts.port
        except ValueError:
            raise ConfigError("SMTP_URL has a port that is not a number") from None
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError("SMTP_URL must look like smtp://USER:PASSWORD@HOST:587 or smtps://USER:PASSWORD@HOST:465")
    public_url = env.get("WEBCHAT_PUBLIC_URL", "").strip().rstrip("/") or None
    if public_url and urlsplit(public_url).scheme not in ("http", "https"):
        raise ConfigError("WEBCHAT_PUBLIC_URL must be the site's http:// or https:// address, such as "
                          "https://chat.example.org")
    host = urlsplit(public_url).hostname if public_url else "localhost"
    sender = env.get("SMTP_FROM", "").strip() or f"webchat@{host}"
    if "@" not in sender or "\n" in sender or "\r" in sender:
        raise ConfigError("SMTP_FROM must be an email address, such as webchat@example.org")
    raw = env.get("WEBCHAT_DIGEST_DELAY", "").strip() or "900"
    try:
        delay = float(raw)
    except ValueError:
        delay = -1.0
    if not 0 <= delay <= 7 * 24 * 3600:
        raise ConfigError(f"WEBCHAT_DIGEST_DELAY must be a number of seconds (default 900), not {raw!r}")
    return smtp_url, sender, public_url, delay


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    folder = Path(env.get("WEBCHAT_INSTANCE") or Path.cwd() / "instance")
    production = _environment(env)
    try:
        port = int(env.get("PORT", "5000"))
    except ValueError:
        raise ConfigError(f"PORT must be a number, not {env['PORT']!r}") from None
    rate, limits = _rate_limits(env.get("WEBCHAT_RATE_LIMITS", "on"))
    redis_url = env.get("REDIS_URL", "").strip() or None
    if redis_url and not redis_url.startswith(("redis://", "rediss://")):
        raise ConfigError("REDIS_URL must start with redis:// or rediss://")
    database_url = _database_url(env, folder)
    workers = _workers(env.get("WEB_CONCURRENCY", "1"), redis_url, database_url)
    private = env.get("WEBCHAT_WEBHOOK_PRIVATE", "").strip().lower() or ("refuse" if production else "allow")
    if private not in ("allow", "refuse"):
        raise ConfigError("WEBCHAT_WEBHOOK_PRIVATE must be 'allow' or 'refuse'")
    registration = env.get("WEBCHAT_REGISTRATION", "").strip().lower() or "open"
    if registration not in ("open", "invite", "closed"):
        raise ConfigError(f"WEBCHAT_REGISTRATION must be 'open', 'invite' or 'closed', not {registration!r}")
    smtp_url, smtp_from, public_url, digest_delay = _email(env)
    return Settings(
        port=port,
        database_url=database_url,
        redis_url=redis_url,
        secret_key=_secret_key(env, production, folder),
        rate_limits=rate,
        limit_overrides=limits,
        production=production,
        instance_dir=folder,
        workers=workers,
        webhook_private=private == "allow",
        registration=registration,
        storage_url=_storage_url(env, folder),
        max_upload=_bytes(env, "WEBCHAT_MAX_UPLOAD", 10 * 1024 * 1024),
        upload_quota=_bytes(env, "WEBCHAT_UPLOAD_QUOTA", 500 * 1024 * 1024),
        smtp_url=smtp_url,
        smtp_from=smtp_from,
        public_url=public_url,
        digest_delay=digest_delay,
    )
