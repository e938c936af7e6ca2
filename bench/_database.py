"""Shared by the benchmark scripts (the Makefile skips files starting with _)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

DEFAULT_DATABASE_URL = "postgres://mlteam@127.0.0.1:5432/mlteam"


def use_database_of(benchmark: str) -> str:
    """Point DATABASE_URL at this benchmark's own database, before Django starts, and
    return its name: DATABASE_URL's database (default: mlteam on 127.0.0.1) +
    `_bench_<benchmark>`, + `_scale_<BENCH_SCALE>` when the scale is not 1.

    Each script builds its data set once per database and reuses it; in a database
    shared with another benchmark, or built at another size, it would find rows it
    did not make and measure (or break on) them."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in {"postgres", "postgresql", "pgsql"} or not name:
        raise SystemExit(
            "The benchmarks run on PostgreSQL: DATABASE_URL must be a postgres:// URL "
            f"that names a database, not {url!r}."
        )
    name = f"{name}_bench_{benchmark}"
    scale = bench_scale()
    if scale != 1:
        name += "_scale_" + f"{scale:g}".replace(".", "_")
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    return name


def bench_scale() -> float:
    """BENCH_SCALE (default 1): every data size of a benchmark is multiplied by it, so
    that a quick run (BENCH_SCALE=0.01) shows the scripts work. Figures worth quoting
    come from scale 1."""
    raw = os.environ.get("BENCH_SCALE", "1")
    try:
        scale = float(raw)
    except ValueError:
        scale = 0.0
    if not 0 < scale <= 1:
        raise SystemExit(f"BENCH_SCALE must be a number above 0 and at most 1, not {raw!r}.")
    return scale


def scaled(size: int, scale: float) -> int:
    return max(1, round(size * scale))


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
