"""Strict readers for environment variables.

Settings are the only place that reads the environment. Every reader names the
variable in its error so a bad deployment fails at start-up with a message that
says what to fix.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvError(ImproperlyConfigured):
    """A variable is missing or holds a value that cannot be used."""


def _raw(name: str) -> str | None:
    """Return NAME, or the contents of the file named by NAME_FILE (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise EnvError(
                f"{name}_FILE points to {file_name!r}, which cannot be read: {exc}"
            ) from exc
    return os.environ.get(name)


def env_str(name: str, default: str | None = None) -> str:
    value = _raw(name)
    if value is None or value == "":
        if default is None:
            raise EnvError(f"{name} must be set.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise EnvError(f"{name} must be a boolean (true/false, 1/0, yes/no, on/off), not {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise EnvError(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise EnvError(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_float(name: str, default: float, *, minimum: float = 0.0, maximum: float = 1.0) -> float:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise EnvError(f"{name} must be a number, not {value!r}.") from None
    if not minimum <= number <= maximum:
        raise EnvError(f"{name} must be between {minimum:g} and {maximum:g}, not {value!r}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise EnvError(f"{name} must be one of {', '.join(sorted(choices))}, not {value!r}.")
    return value


def env_database(name: str, default: str | None = None) -> dict:
    """Parse a database URL (postgres://, postgresql://, sqlite:///path)."""
    import dj_database_url

    url = env_str(name, default)
    scheme = urlsplit(url).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise EnvError(f"{name} must be a postgres:// or sqlite:/// URL, not {url!r}.")
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise EnvError(f"{name} is not a valid database URL: {exc}") from exc
    if config["ENGINE"].endswith("sqlite3"):
        config["CONN_MAX_AGE"] = 0
        # A transaction takes the write lock when it begins, so two that read and then
        # write (the reminder claim, make run's web, worker and beat) queue up instead
        # of one failing with "database is locked" when it turns to write.
        config.setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
    elif not config.get("NAME"):
        raise EnvError(
            f"{name} must name a database, for example postgres://user@host:5432/mlteam."
        )
    elif env_bool("DATABASE_TRANSACTION_POOLING", False):
        # Behind PgBouncer in transaction pooling mode each transaction may run on
        # another server connection, so nothing may outlive one: no server-side
        # cursors (QuerySet.iterator reads its rows client-side instead). Django sets
        # no other session state, and psycopg's client-side binding, Django's
        # default, prepares no statements (docs/scale.md, "PgBouncer").
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    return config


def env_site_url(name: str, default: str | None = None) -> str:
    """An http(s) address that links in emails start with, without a trailing slash."""
    url = env_str(name, default)
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (parsing it validates it)
    except ValueError:
        raise EnvError(f"{name} has an invalid port.") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise EnvError(
            f"{name} must be an http(s):// address such as https://mlteam.example.com, not {url!r}."
        )
    return url.rstrip("/")


def env_broker(name: str, default: str | None = None) -> str:
    url = env_str(name, default)
    scheme = urlsplit(url).scheme
    if scheme not in {"redis", "rediss", "filesystem", "amqp", "memory"}:
        raise EnvError(f"{name} must be a redis:// URL (or filesystem:// locally), not {url!r}.")
    return url


def env_cache(name: str, fallback: str) -> dict:
    """CACHES["default"] from a redis:// URL, or the `fallback` backend when unset."""
    url = env_str(name, "")
    if not url:
        return {"BACKEND": fallback}
    if urlsplit(url).scheme not in {"redis", "rediss"}:
        raise EnvError(f"{name} must be a redis:// URL, not {url!r}.")
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}


def env_email(name: str) -> dict[str, object] | None:
    """Parse an SMTP URL: smtp://user:password@host:587?tls=true, or smtps:// for SSL.

    Returns the Django EMAIL_* settings, or None when the variable is unset.
    """
    url = env_str(name, "")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise EnvError(f"{name} must look like smtp://user:password@host:587, not {url!r}.")
    try:
        port = parts.port
    except ValueError:
        raise EnvError(f"{name} has an invalid port.") from None
    query = {key: values[-1].lower() for key, values in parse_qs(parts.query).items()}
    use_ssl = parts.scheme == "smtps"
    use_tls = query.get("tls", "false") in _TRUE
    if use_ssl and use_tls:
        raise EnvError(f"{name}: use smtps:// (SSL) or ?tls=true (STARTTLS), not both.")
    return {
        "EMAIL_BACKEND": "mlteam.mail.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if use_ssl else 587 if use_tls else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_USE_TLS": use_tls,
    }


def env_time_zone(name: str, default: str) -> str:
    import zoneinfo

    value = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise EnvError(
            f"{name} must be an IANA time zone such as Asia/Tokyo, not {value!r}."
        ) from None
    return value
