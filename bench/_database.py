"""Shared by the benchmark scripts (the Makefile skips files starting with _)."""

from __future__ import annotations


def ensure_database() -> None:
    """Create the configured PostgreSQL role and database if they do not exist yet.

    A fresh machine's PostgreSQL (trust authentication on 127.0.0.1) knows only its
    superuser `postgres`: the role is created through it, as `.ci/run` does."""
    import psycopg
    from django.conf import settings
    from psycopg import sql

    db = settings.DATABASES["default"]
    params = {"host": db["HOST"], "port": db["PORT"] or 5432, "dbname": "postgres"}
    try:
        admin = psycopg.connect(**params, user=db["USER"], autocommit=True)
    except psycopg.OperationalError as error:
        if f'role "{db["USER"]}" does not exist' not in str(error):
            raise
        with psycopg.connect(**params, user="postgres", autocommit=True) as superuser:
            superuser.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEDB").format(sql.Identifier(db["USER"]))
            )
        admin = psycopg.connect(**params, user=db["USER"], autocommit=True)
    with admin:
        if not admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


def settle(tables: list[str]) -> None:
    """VACUUM ANALYZE the freshly loaded tables, as autovacuum does to a live
    database soon after: statistics for the planner, and visibility maps so that
    counts can be read from indexes alone. (Measuring right after a bulk load would
    time a state that production leaves within minutes.)"""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')
