"""Backups of the database: one file holding a dump and a manifest that says what it is.

A backup is an uncompressed tar archive (`mlteam-<UTC time>.tar`) with two members:

- `manifest.json`: what was backed up (database vendor, server and pg_dump
  versions, the applied Django migrations, the app's version and commit when
  known, the row count of every table) and the SHA-256 of the dump;
- the dump itself: `database.dump` (PostgreSQL, `pg_dump -Fc`, already compressed)
  or `database.sqlite3` (SQLite, a copy made with SQLite's online backup API, so a
  database in use is copied consistently, never half-written).

The counts describe exactly the rows in the dump: on PostgreSQL they are read in
the transaction whose snapshot pg_dump is given (`--snapshot`), on SQLite from
the copy. A restore checks the file (checksum, schema not newer than this code,
same vendor, target empty unless replacing) before it touches anything, restores
in one transaction, and compares every table's count with the manifest before
committing (PostgreSQL) or after copying a file it first verified (SQLite).

Connection details come from a Django `DATABASES` entry; the PostgreSQL password
reaches the client tools in PGPASSWORD, never on their command line.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db.migrations.recorder import MigrationRecorder

KIND = "mlteam-backup"
FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_MEMBER = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
VENDOR_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
FILE_GLOB = "mlteam-*.tar"
# Wait at most this long for the tables a restore replaces (the app still running).
RESTORE_LOCK_TIMEOUT = "30s"
# A table name from a manifest is used in SQL only if it looks like one Django makes.
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# libpq keywords a DATABASES entry's OPTIONS may carry, and the variable each one has.
_LIBPQ_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslpassword": "PGSSLPASSWORD",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
}


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why and what to do."""


@dataclass(frozen=True)
class Manifest:
    vendor: str
    created_at: str
    tables: dict[str, int]
    migrations: list[tuple[str, str]]
    sha256: str
    size: int
    schema: str | None = None  # PostgreSQL: the schema the counted tables are in
    server_version: str | None = None
    dump_major: int | None = None  # PostgreSQL: pg_dump's major version
    app: dict[str, str | None] = field(default_factory=dict)

    @property
    def member(self) -> str:
        return DATABASE_MEMBER[self.vendor]

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def to_json(self) -> str:
        data = {"kind": KIND, "format": FORMAT, **asdict(self)}
        data["migrations"] = [list(pair) for pair in self.migrations]
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: bytes) -> Manifest:
        """Parse a manifest, refusing anything that is not one this code can read."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as error:
            raise BackupError(f"Its manifest is not valid JSON ({error}).") from None
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise BackupError("Its manifest is not an MLTeam backup manifest.")
        if data.get("format") != FORMAT:
            raise BackupError(
                f"It is in backup format {data.get('format')!r}; this version of MLTeam "
                f"reads format {FORMAT}."
            )
        try:
            manifest = cls(
                vendor=data["vendor"],
                created_at=data["created_at"],
                tables={str(name): int(count) for name, count in data["tables"].items()},
                migrations=[(str(app), str(name)) for app, name in data["migrations"]],
                sha256=str(data["sha256"]),
                size=int(data["size"]),
                schema=data.get("schema"),
                server_version=data.get("server_version"),
                dump_major=None if data.get("dump_major") is None else int(data["dump_major"]),
                app=dict(data.get("app") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise BackupError(f"Its manifest is incomplete or malformed ({error!r}).") from None
        if manifest.vendor not in DATABASE_MEMBER:
            raise BackupError(f"Its manifest names an unknown database {manifest.vendor!r}.")
        bad = [name for name in manifest.tables if not _TABLE_NAME.match(name)]
        if bad or (manifest.schema is not None and not _TABLE_NAME.match(manifest.schema)):
            raise BackupError(f"Its manifest names tables MLTeam never makes: {bad!r}.")
        if any(count < 0 for count in manifest.tables.values()):
            raise BackupError("Its manifest has negative row counts.")
        return manifest


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: Manifest


@dataclass(frozen=True)
class RestoreCheck:
    """What a restore will do, known before it does anything."""

    target: str  # "PostgreSQL database "mlteam" on 127.0.0.1:5432"
    target_tables: int  # tables the target holds now (replaced)
    pending_migrations: list[tuple[str, str]]  # this code's, missing from the backup


def vendor_of(database: dict) -> str:
    engine = database["ENGINE"]
    if engine.endswith("postgresql"):
        return "postgresql"
    if engine.endswith("sqlite3"):
        return "sqlite"
    raise BackupError(f"Backups support PostgreSQL and SQLite, not {engine}.")


def database_label(database: dict) -> str:
    vendor = vendor_of(database)
    if vendor == "sqlite":
        return f"SQLite database {database['NAME']}"
    host = database.get("HOST") or "local socket"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f'PostgreSQL database "{database["NAME"]}" on {host}{port}'


# Making a backup ------------------------------------------------------------------


def backup_create(*, database: dict, directory: Path) -> Backup:
    """Back up `database` (a DATABASES entry) into a new file in `directory`.

    1. Dump into a scratch file beside the final one, counting every table's rows
       in the same snapshot as the dump.
    2. Write manifest and dump into `<name>.tar.partial` (owner-only: it holds
       password hashes and personal data), then rename it: a backup that exists
       under its final name is complete.
    """
    vendor = vendor_of(database)
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise BackupError(f"Cannot create the backup folder {directory}: {error}") from None
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".backup-") as scratch:
        dump = Path(scratch) / DATABASE_MEMBER[vendor]
        if vendor == "postgresql":
            details = _postgresql_dump(database, dump)
        else:
            details = _sqlite_dump(database, dump)
        manifest = Manifest(
            vendor=vendor,
            created_at=started.isoformat(timespec="seconds"),
            sha256=_sha256(dump),
            size=dump.stat().st_size,
            app=_app_release(),
            **details,
        )
        path = _new_backup_path(directory, started)
        partial = path.with_name(path.name + ".partial")
        try:
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with (
                os.fdopen(descriptor, "wb") as output,
                tarfile.open(fileobj=output, mode="w", format=tarfile.PAX_FORMAT) as archive,
            ):
                _add_bytes(archive, MANIFEST, manifest.to_json().encode(), started)
                archive.add(dump, arcname=manifest.member, recursive=False, filter=_private)
                output.flush()
                os.fsync(output.fileno())
            partial.rename(path)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise BackupError(f"Cannot write the backup to {directory}: {error}") from None
    return Backup(path=path, manifest=manifest)


def backups_prune(*, directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `directory` (only files named
    like the ones backup_create writes); return what was deleted."""
    found = sorted(
        Path(directory).glob(FILE_GLOB), key=lambda path: (path.stat().st_mtime, path.name)
    )
    doomed = found[: max(len(found) - keep, 0)]
    for path in doomed:
        path.unlink()
    return doomed


def _new_backup_path(directory: Path, moment: datetime) -> Path:
    stem = f"mlteam-{moment:%Y%m%dT%H%M%SZ}"
    path = directory / f"{stem}.tar"
    number = 1
    while path.exists() or path.with_name(path.name + ".partial").exists():
        number += 1
        path = directory / f"{stem}-{number}.tar"
    return path


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, moment: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(moment.timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _app_release() -> dict[str, str | None]:
    """The version in pyproject.toml and the git commit, each when it can be known
    (the production image has no .git)."""
    base = Path(settings.BASE_DIR)
    version = commit = None
    with suppress(OSError, KeyError, tomllib.TOMLDecodeError):
        version = tomllib.loads((base / "pyproject.toml").read_text())["project"]["version"]
    git = shutil.which("git")
    if git and (base / ".git").exists():
        result = subprocess.run(  # noqa: S603 (fixed arguments)
            [git, "-C", str(base), "rev-parse", "HEAD"], capture_output=True, text=True
        )
        if result.returncode == 0:
            commit = result.stdout.strip()
    return {"version": version, "commit": commit}


# PostgreSQL -------------------------------------------------------------------------


def _libpq(database: dict) -> dict[str, str]:
    """libpq's connection keywords for a DATABASES entry (password included)."""
    params = {
        "dbname": database["NAME"],
        "user": database.get("USER") or "",
        "password": database.get("PASSWORD") or "",
        "host": database.get("HOST") or "",
        "port": str(database.get("PORT") or ""),
    }
    for key in _LIBPQ_ENV:
        value = (database.get("OPTIONS") or {}).get(key)
        if value is not None:
            params[key] = str(value)
    return {key: value for key, value in params.items() if value}


def _libpq_environment(database: dict) -> dict[str, str]:
    """The environment for pg_dump, pg_restore and psql: the connection in PG*
    variables, so the password is never on a command line."""
    names = {
        "dbname": "PGDATABASE",
        "user": "PGUSER",
        "password": "PGPASSWORD",
        "host": "PGHOST",
        "port": "PGPORT",
        **_LIBPQ_ENV,
    }
    environment = dict(os.environ)  # PATH, locale and the like, passed through
    environment.update({names[key]: value for key, value in _libpq(database).items()})
    return environment


def _connect_postgresql(database: dict):
    import psycopg

    try:
        return psycopg.connect(**{"connect_timeout": "10", **_libpq(database)})
    except psycopg.OperationalError as error:
        raise BackupError(
            f"Cannot connect to the {database_label(database)}: {str(error).strip()}"
        ) from None


def _client_tool(name: str) -> tuple[str, int]:
    """The path and major version of a PostgreSQL client tool."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found. Install PostgreSQL's client tools (Debian: the "
            "postgresql-client package of the server's major version)."
        )
    result = subprocess.run([path, "--version"], capture_output=True, text=True)  # noqa: S603
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", result.stdout)
    if result.returncode != 0 or not match:
        raise BackupError(f"Cannot tell which version {path} is: {result.stdout or result.stderr}")
    return path, int(match.group(1))


def _postgresql_dump(database: dict, dump: Path) -> dict:
    """pg_dump -Fc into `dump`, and the manifest's details read in pg_dump's snapshot."""
    import psycopg

    pg_dump, dump_major = _client_tool("pg_dump")
    with closing(_connect_postgresql(database)) as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        # The first statement fixes the transaction's snapshot; pg_dump then uses it.
        snapshot, server_number, server_version, schema = connection.execute(
            "SELECT pg_export_snapshot(), current_setting('server_version_num')::int,"
            " current_setting('server_version'), current_schema()"
        ).fetchone()
        server_major = server_number // 10000
        if dump_major < server_major:
            raise BackupError(
                f"{pg_dump} is PostgreSQL {dump_major}'s, older than the server "
                f"(PostgreSQL {server_version}): install postgresql-client-{server_major} "
                "or newer."
            )
        tables = _postgresql_counts(connection, schema)
        migrations = _migrations(connection, f'"{schema}"."{MIGRATIONS_TABLE}"', tables)
        result = subprocess.run(  # noqa: S603 (no shell; the password is in the environment)
            [pg_dump, "--no-password", "--format=custom", f"--snapshot={snapshot}", "-f", dump],
            env=_libpq_environment(database),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        connection.rollback()
    return {
        "tables": tables,
        "migrations": migrations,
        "schema": schema,
        "server_version": server_version,
        "dump_major": dump_major,
    }


def _postgresql_tables(connection, schema: str) -> list[str]:
    rows = connection.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
        [schema],
    ).fetchall()
    return [name for (name,) in rows]


def _postgresql_counts(connection, schema: str) -> dict[str, int]:
    counts = {}
    for table in _postgresql_tables(connection, schema):
        (counts[table],) = connection.execute(
            f"SELECT count(*) FROM {_quote(schema)}.{_quote(table)}"  # noqa: S608
        ).fetchone()
    return counts


def _postgresql_relations(database: dict, schema: str) -> int:
    """How many tables, views and sequences the target's schema holds now."""
    with closing(_connect_postgresql(database)) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')",
            [schema],
        ).fetchone()
    return count


def _postgresql_restore(archive: Archive, database: dict, *, replace: bool) -> None:
    """Restore in one psql transaction: [drop what the schema holds], the dump as
    pg_restore writes it, then a check of every table's count; any error rolls
    everything back, so the database is either the backup's or as it was."""
    manifest = archive.manifest
    pg_restore, restore_major = _client_tool("pg_restore")
    psql, _ = _client_tool("psql")
    if manifest.dump_major and restore_major < manifest.dump_major:
        raise BackupError(
            f"{pg_restore} is PostgreSQL {restore_major}'s; this backup was written by "
            f"pg_dump {manifest.dump_major}: install postgresql-client-{manifest.dump_major} "
            "or newer."
        )
    schema = manifest.schema or "public"
    prelude = [
        f"SET LOCAL lock_timeout = '{RESTORE_LOCK_TIMEOUT}';",
        "SET LOCAL client_min_messages = warning;",
    ]
    if replace:
        prelude.append(_drop_everything_sql(schema))
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        producer = subprocess.Popen(  # noqa: S603
            [
                pg_restore,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-acl",
                "--exit-on-error",
                "-f",
                "-",
                str(archive.database_file),
            ],
            stdout=subprocess.PIPE,
            stderr=restore_errors,
        )
        consumer = subprocess.Popen(  # noqa: S603
            [
                psql,
                "--no-password",
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                "-c",
                "\n".join(prelude),
                "-f",
                "-",
                "-c",
                _verify_counts_sql(schema, manifest.tables),
            ],
            stdin=producer.stdout,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=_libpq_environment(database),
        )
        producer.stdout.close()  # psql alone reads it now
        consumer.wait()
        producer.wait()
        if consumer.returncode != 0 or producer.returncode != 0:
            said = [_tail(psql_errors), _tail(restore_errors)]
            if "lock timeout" in said[0]:
                said.append(
                    f"Something kept using the database for {RESTORE_LOCK_TIMEOUT}: stop the "
                    "web server, worker and beat first (docs/backups.md)."
                )
            raise BackupError(
                "The restore failed and was rolled back; the database is as it was.\n"
                + "\n".join(text for text in said if text)
            )
    with closing(_connect_postgresql(database)) as connection:
        connection.autocommit = True
        connection.execute("ANALYZE")  # fresh planner statistics for the restored tables


def _drop_everything_sql(schema: str) -> str:
    """Drop every table, view, sequence and function of `schema` (extensions'
    objects excepted), so that objects the backup does not have (a newer
    migration's) cannot stay behind."""
    # The schema's name is quoted as a literal; nothing else comes from outside.
    return f"""
DO $drop$
DECLARE statement text;
BEGIN
  FOR statement IN
    SELECT format('DROP %s IF EXISTS %I.%I CASCADE',
                  CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                 WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
                                 ELSE 'TABLE' END,
                  n.nspname, c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = {_literal(schema)} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
    -- Sequences last: an identity column's goes with its table, and cannot go first.
    ORDER BY c.relkind = 'S'
  LOOP
    EXECUTE statement;
  END LOOP;
  FOR statement IN
    SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = {_literal(schema)}
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                      AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE statement;
  END LOOP;
END
$drop$;"""  # noqa: S608


def _verify_counts_sql(schema: str, tables: dict[str, int]) -> str:
    # Names are checked against _TABLE_NAME in Manifest.from_json, then quoted.
    checks = "\n".join(
        f"  SELECT count(*) INTO found FROM {_quote(schema)}.{_quote(table)};\n"  # noqa: S608
        f"  IF found <> {count} THEN RAISE EXCEPTION 'table %: % rows restored, the backup "
        f"holds %', {_literal(table)}, found, {count}; END IF;"
        for table, count in sorted(tables.items())
    )
    return f"DO $verify$\nDECLARE found bigint;\nBEGIN\n{checks}\nEND\n$verify$;"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _tail(handle, lines: int = 15) -> str:
    handle.seek(0)
    text = handle.read().decode(errors="replace").strip()
    return "\n".join(text.splitlines()[-lines:])


# SQLite -----------------------------------------------------------------------------


def _sqlite_source(database: dict) -> sqlite3.Connection:
    """Open the configured SQLite database read-only (never creating it)."""
    name = str(database["NAME"])
    if name.startswith("file:"):  # a URI already (the test suite's in-memory database)
        return sqlite3.connect(name, uri=True)
    path = Path(name)
    if not path.is_file():
        raise BackupError(f"There is no SQLite database at {path}.")
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _sqlite_dump(database: dict, dump: Path) -> dict:
    try:
        with closing(_sqlite_source(database)) as source, closing(sqlite3.connect(dump)) as copy:
            source.backup(copy)  # one step: a consistent copy even while others write
            tables = _sqlite_counts(copy)
            migrations = _migrations(copy, MIGRATIONS_TABLE, tables)
    except sqlite3.Error as error:
        raise BackupError(f"Cannot copy the {database_label(database)}: {error}") from None
    return {"tables": tables, "migrations": migrations}


def _sqlite_tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name"
    ).fetchall()
    return [name for (name,) in rows]


def _sqlite_counts(connection: sqlite3.Connection) -> dict[str, int]:
    return {
        table: connection.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]  # noqa: S608
        for table in _sqlite_tables(connection)
    }


def _sqlite_restore(archive: Archive, database: dict) -> None:
    """Copy the verified file over the target with SQLite's backup API: one step,
    under the target's write lock, so readers see the old database or the new one."""
    name = str(database["NAME"])
    try:
        with (
            closing(sqlite3.connect(archive.database_file)) as source,
            closing(sqlite3.connect(name, uri=name.startswith("file:"), timeout=30)) as target,
        ):
            source.backup(target)
            restored = _sqlite_counts(target)
    except sqlite3.Error as error:
        raise BackupError(f"Cannot restore into the {database_label(database)}: {error}") from None
    _compare_counts(archive.manifest.tables, restored)


def _sqlite_verify(archive: Archive) -> None:
    """The extracted copy is a sound SQLite database holding the manifest's rows."""
    try:
        with closing(sqlite3.connect(f"{archive.database_file.as_uri()}?mode=ro", uri=True)) as db:
            (integrity,) = db.execute("PRAGMA integrity_check").fetchone()
            if integrity != "ok":
                raise BackupError(f"The database in {archive.path} is damaged: {integrity}")
            counts = _sqlite_counts(db)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"The database in {archive.path} is damaged: {error}") from None
    _compare_counts(archive.manifest.tables, counts)


def _sqlite_table_count(database: dict) -> int:
    name = str(database["NAME"])
    if not name.startswith("file:") and not Path(name).exists():
        return 0
    try:
        with closing(sqlite3.connect(name, uri=name.startswith("file:"))) as connection:
            return (
                len(_sqlite_tables(connection))
                + connection.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'view'"
                ).fetchone()[0]
            )
    except sqlite3.Error as error:
        raise BackupError(f"Cannot open the {database_label(database)}: {error}") from None


def _compare_counts(expected: dict[str, int], found: dict[str, int]) -> None:
    differences = [
        f"{table}: {found.get(table, 'no table')} rows, the backup holds {count}"
        for table, count in sorted(expected.items())
        if found.get(table) != count
    ]
    if differences:
        raise BackupError("Row counts differ from the backup's:\n" + "\n".join(differences))


# Shared by both -----------------------------------------------------------------------

# Where Django records the applied migrations (its model's table, not a name of ours).
MIGRATIONS_TABLE = MigrationRecorder.Migration._meta.db_table


def _migrations(connection, table: str, tables: dict[str, int]) -> list[tuple[str, str]]:
    if MIGRATIONS_TABLE not in tables:
        return []
    rows = connection.execute(f"SELECT app, name FROM {table} ORDER BY id").fetchall()  # noqa: S608
    return [(app, name) for app, name in rows]


@dataclass(frozen=True)
class Archive:
    path: Path
    manifest: Manifest
    database_file: Path  # extracted, checksum verified


@contextmanager
def backup_open(path: Path) -> Iterator[Archive]:
    """Read a backup and verify its manifest and checksum, extracting the dump into
    a scratch folder that is removed on leaving."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"There is no backup file at {path}.")
    with tempfile.TemporaryDirectory(prefix="mlteam-restore-") as scratch:
        try:
            with tarfile.open(path, mode="r:") as tar:
                manifest = Manifest.from_json(_member(tar, MANIFEST).read())
                database_file = Path(scratch) / manifest.member
                with database_file.open("wb") as output:
                    shutil.copyfileobj(_member(tar, manifest.member), output)
        except (tarfile.TarError, EOFError, OSError) as error:
            raise BackupError(f"{path} is not a readable MLTeam backup ({error}).") from None
        except BackupError as error:
            raise BackupError(f"{path} cannot be restored: {error}") from None
        if database_file.stat().st_size != manifest.size or _sha256(database_file) != (
            manifest.sha256
        ):
            raise BackupError(
                f"{path} is damaged: its database does not match the checksum recorded "
                "when it was made."
            )
        yield Archive(path=path, manifest=manifest, database_file=database_file)


def _member(tar: tarfile.TarFile, name: str):
    try:
        member = tar.getmember(name)
    except KeyError:
        raise BackupError(f"It has no {name}.") from None
    handle = tar.extractfile(member) if member.isfile() else None
    if handle is None:
        raise BackupError(f"Its {name} is not a file.")
    return handle


def restore_check(archive: Archive, *, database: dict, replace: bool) -> RestoreCheck:
    """Everything that can refuse a restore, checked before anything changes."""
    from django.db.migrations.loader import MigrationLoader

    manifest = archive.manifest
    vendor = vendor_of(database)
    if manifest.vendor != vendor:
        raise BackupError(
            f"{archive.path} holds a {VENDOR_NAMES[manifest.vendor]} database; the "
            f"configured one is {VENDOR_NAMES[vendor]}. Restore it into a "
            f"{VENDOR_NAMES[manifest.vendor]} database (set DATABASE_URL)."
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    applied = set(manifest.migrations)
    unknown = sorted(applied - known)
    if unknown:
        listed = ", ".join(f"{app}.{name}" for app, name in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise BackupError(
            f"{archive.path} was made by a newer version of MLTeam: its schema has "
            f"migrations this code does not know ({listed}{more}). Restore it with "
            f"that version (app {manifest.app.get('version') or 'unknown'}, commit "
            f"{manifest.app.get('commit') or 'unknown'}) or a later one."
        )
    if vendor == "sqlite":
        _sqlite_verify(archive)
    target = database_label(database)
    if vendor == "postgresql":
        target_tables = _postgresql_relations(database, manifest.schema or "public")
    else:
        target_tables = _sqlite_table_count(database)
    if target_tables and not replace:
        raise BackupError(
            f"The {target} is not empty ({target_tables} tables and other objects). "
            "Restoring replaces everything in it: run again with --replace "
            "(make restore ... REPLACE=yes) if that is what you want."
        )
    return RestoreCheck(
        target=target,
        target_tables=target_tables,
        pending_migrations=sorted(known - applied),
    )


def backup_restore(archive: Archive, *, database: dict, replace: bool) -> RestoreCheck:
    """Replace the database's contents with the backup's (see the module's docstring),
    then move every dashboard cache version so nothing cached before is shown."""
    from mlteam import cache

    check = restore_check(archive, database=database, replace=replace)
    if archive.manifest.vendor == "postgresql":
        _postgresql_restore(archive, database, replace=replace)
    else:
        _sqlite_restore(archive, database)
    cache.bump()
    return check
