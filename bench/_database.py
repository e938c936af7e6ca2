"""Shared by the benchmark scripts (the Makefile skips files starting with _)."""

from __future__ import annotations


def ensure_database() -> None:
    """Create the configured PostgreSQL database if it does not exist yet."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    params = {
        "host": db["HOST"],
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "dbname": "postgres",
    }
    with psycopg.connect(**params, autocommit=True) as admin:
        if not admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone():
            admin.execute(f'CREATE DATABASE "{db["NAME"]}"')
