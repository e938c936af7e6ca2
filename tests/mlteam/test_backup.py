"""`make backup` and `make restore` (mlteam/backups.py and its two commands).

Round trips: the demo data, seeded through the services, is backed up and
restored into a NEW database by the real commands, and every table's row count
and a checksum of several tables' contents are compared, on SQLite (always: the
databases are files of this test's own) and on PostgreSQL (when the suite runs
on it, as in CI; a new database beside the test database, dropped afterwards).
Refusals (no file, a damaged file, a newer schema, another database vendor, a
database that is not empty, nobody to confirm) run on the suite's own database
and leave it as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from mlteam.demo import demo_seed
from roles.models import Project
from tests.conftest import require
from tests.factories import DeliverableFactory, ProjectFactory

# pg_dump and the restore's own connections see only committed rows; the catalogue
# seeded by migrations comes back after each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(settings.BASE_DIR)
# Tables whose contents are compared row by row, beyond every table's count.
CHECKSUMMED = [
    "auth_user",
    "roles_project",
    "roles_teamchange",
    "deliverables_deliverable",
    "deliverables_deliverableevent",
    "deliverables_checklistitem",
    "deliverables_review",
    "django_migrations",
]


# Helpers: plain DB-API connections, so source and copy are read the same way ---------


def tables(db) -> list[str]:
    if isinstance(db, sqlite3.Connection):
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        query = (
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
    return sorted(name for (name,) in db.execute(query).fetchall())


def row_counts(db) -> dict[str, int]:
    return {
        table: db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
        for table in tables(db)
    }


def checksums(db) -> dict[str, str]:
    return {
        table: hashlib.sha256(
            repr(db.execute(f'SELECT * FROM "{table}" ORDER BY id').fetchall()).encode()  # noqa: S608
        ).hexdigest()
        for table in CHECKSUMMED
    }


def postgresql(name: str):
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=name,
        autocommit=True,
    )


def postgresql_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    address = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{db['USER']}{password}@{address}/{name}"


def manage(*args: str, database_url: str, var_dir: Path, **extra_env: str):
    """Run manage.py as an operator would: local settings, only this environment."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(var_dir),
            "MLTEAM_VAR_DIR": str(var_dir),
            "DATABASE_URL": database_url,
            **extra_env,
        },
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def backup_now(directory: Path, **options) -> Path:
    out = io.StringIO()
    call_command("backup", directory=directory, stdout=out, **options)
    path = Path(out.getvalue().strip().splitlines()[-1])
    assert path.is_file(), out.getvalue()
    return path


def read_manifest(path: Path) -> dict:
    with tarfile.open(path) as archive:
        return json.loads(archive.extractfile("manifest.json").read())


def rewrite(path: Path, *, manifest: dict | None = None, rename: dict | None = None) -> None:
    """Rewrite a backup's members (a forged manifest, a renamed dump)."""
    with tarfile.open(path) as archive:
        members = {m.name: archive.extractfile(m).read() for m in archive.getmembers()}
    if manifest is not None:
        members["manifest.json"] = json.dumps(manifest).encode()
    for old, new in (rename or {}).items():
        members[new] = members.pop(old)
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def seed_small() -> None:
    ProjectFactory.create_batch(2)
    DeliverableFactory.create_batch(3)


def live_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
        counts = {}
        for table in names:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


# Round trips ---------------------------------------------------------------------------


def test_sqlite_backup_restores_into_a_new_database_with_every_row(tmp_path):
    source, copy = tmp_path / "mlteam.sqlite3", tmp_path / "restored.sqlite3"
    source_url, copy_url = f"sqlite:///{source}", f"sqlite:///{copy}"
    assert manage("migrate", database_url=source_url, var_dir=tmp_path).returncode == 0
    seeded = manage("seed_demo", database_url=source_url, var_dir=tmp_path, DJANGO_DEBUG="true")
    assert seeded.returncode == 0, seeded.stderr

    made = manage("backup", database_url=source_url, var_dir=tmp_path)
    assert made.returncode == 0, made.stderr
    path = Path(made.stdout.strip().splitlines()[-1])
    assert path.parent == tmp_path / "backups"  # BACKUP_DIR's default: var/backups
    assert re.fullmatch(r"mlteam-\d{8}T\d{6}Z\.tar", path.name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # password hashes inside
    with sqlite3.connect(source) as db:
        before, sums = row_counts(db), checksums(db)
    manifest = read_manifest(path)
    assert manifest["vendor"] == "sqlite"
    assert manifest["tables"] == before
    assert before["deliverables_deliverable"] > 10 and before["roles_teamchange"] > 10

    restored = manage("restore", str(path), "--no-input", database_url=copy_url, var_dir=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "every table's row count matches the backup" in restored.stdout
    with sqlite3.connect(copy) as db:
        assert row_counts(db) == before
        assert checksums(db) == sums

    # The source changed since (rows gone, a table of a newer version): without
    # --replace it is refused and untouched; with it, it is the backup's again.
    with sqlite3.connect(source) as db:
        db.execute("DELETE FROM roles_teamchange WHERE id % 2 = 0")
        db.execute("CREATE TABLE later_feature (id integer primary key)")
    refused = manage("restore", str(path), "--no-input", database_url=source_url, var_dir=tmp_path)
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr and "--replace" in refused.stderr
    with sqlite3.connect(source) as db:
        assert row_counts(db)["roles_teamchange"] < before["roles_teamchange"]

    replaced = manage(
        "restore", str(path), "--no-input", "--replace", database_url=source_url, var_dir=tmp_path
    )
    assert replaced.returncode == 0, replaced.stderr
    with sqlite3.connect(source) as db:
        assert row_counts(db) == before
        assert checksums(db) == sums


@pytest.fixture
def new_postgresql_database():
    """A new, empty database beside the test database (`<test db>_restore`)."""
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    name = f"{connection.settings_dict['NAME']}_restore"
    with postgresql("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with postgresql("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgresql_backup_restores_into_a_new_database_with_every_row(
    tmp_path, new_postgresql_database
):
    demo_seed(today=timezone.localdate())
    path = backup_now(tmp_path)
    with postgresql(connection.settings_dict["NAME"]) as db:
        before, sums = row_counts(db), checksums(db)
    manifest = read_manifest(path)
    assert manifest["vendor"] == "postgresql"
    assert manifest["tables"] == before
    assert before["deliverables_deliverable"] > 10 and before["roles_teamchange"] > 10

    url = postgresql_url(new_postgresql_database)
    restored = manage("restore", str(path), "--no-input", database_url=url, var_dir=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "every table's row count matches the backup" in restored.stdout
    with postgresql(new_postgresql_database) as db:
        assert row_counts(db) == before
        assert checksums(db) == sums
        # The schema came back whole: the partial indexes the dashboards read.
        (partial,) = db.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'deliverables_deliverable'"
            " AND indexdef LIKE '%WHERE%'"
        ).fetchone()
        assert partial > 0
        # Changed since, with objects of a newer version: replaced, nothing left over.
        db.execute("DELETE FROM roles_teamchange WHERE id % 2 = 0")
        db.execute("CREATE TABLE later_feature (id integer GENERATED ALWAYS AS IDENTITY)")
        db.execute("CREATE FUNCTION later_function() RETURNS int LANGUAGE sql AS 'SELECT 1'")

    refused = manage("restore", str(path), "--no-input", database_url=url, var_dir=tmp_path)
    assert refused.returncode == 1 and "is not empty" in refused.stderr
    replaced = manage(
        "restore", str(path), "--no-input", "--replace", database_url=url, var_dir=tmp_path
    )
    assert replaced.returncode == 0, replaced.stderr
    with postgresql(new_postgresql_database) as db:
        assert row_counts(db) == before
        assert checksums(db) == sums
        assert db.execute("SELECT to_regclass('later_feature')").fetchone() == (None,)
        assert db.execute(
            "SELECT count(*) FROM pg_proc WHERE proname = 'later_function'"
        ).fetchone() == (0,)


# Backing up on the suite's database --------------------------------------------------


def test_backup_writes_to_backup_dir_and_prints_the_path_last(tmp_path):
    seed_small()
    with override_settings(BACKUP_DIR=tmp_path / "kept"):
        out = io.StringIO()
        call_command("backup", stdout=out)
    *summary, last = out.getvalue().strip().splitlines()
    path = Path(last)
    assert path.parent == tmp_path / "kept" and path.is_file()
    assert "tables" in summary[0] and "rows" in summary[0]
    manifest = read_manifest(path)
    assert manifest["tables"] == live_counts()
    assert manifest["vendor"] == connection.vendor
    assert ["roles", "0001_initial"] in manifest["migrations"]
    assert manifest["app"]["version"]

    quiet = io.StringIO()
    call_command("backup", directory=tmp_path, verbosity=0, stdout=quiet)
    assert Path(quiet.getvalue().strip()).is_file()  # the path alone


def test_backup_keep_deletes_all_but_the_newest(tmp_path):
    stranger = tmp_path / "notes.tar"  # not one of ours: never deleted
    stranger.write_text("keep me")
    made = [backup_now(tmp_path) for _ in range(3)]
    for age, path in enumerate(reversed(made)):  # oldest first on disk
        os.utime(path, (1_700_000_000 - age * 60, 1_700_000_000 - age * 60))
    newest = backup_now(tmp_path, keep=2)
    assert sorted(tmp_path.glob("mlteam-*.tar")) == sorted([made[-1], newest])
    assert stranger.exists()
    with pytest.raises(CommandError, match="--keep must be at least 1"):
        call_command("backup", directory=tmp_path, keep=0)


def test_backup_refuses_a_missing_or_too_old_pg_dump(tmp_path, monkeypatch):
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    tools = tmp_path / "bin"
    tools.mkdir()
    monkeypatch.setenv("PATH", str(tools))
    with pytest.raises(CommandError, match="pg_dump was not found"):
        call_command("backup", directory=tmp_path / "out")

    # A pg_dump older than the server (as Debian bookworm's 15 against postgres:16).
    old = tools / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    with pytest.raises(CommandError, match=r"older than the server .* postgresql-client-\d+"):
        call_command("backup", directory=tmp_path / "out")
    assert not list((tmp_path / "out").glob("*.tar*"))


# Refusals on the suite's database -----------------------------------------------------


@pytest.fixture
def backup_file(tmp_path) -> Path:
    """A good backup of the suite's database, then one more project made after it."""
    seed_small()
    path = backup_now(tmp_path)
    ProjectFactory(name="Made after the backup")
    return path


def assert_unchanged() -> None:
    assert Project.objects.filter(name="Made after the backup").exists()


def test_restore_refuses_a_missing_file(backup_file, tmp_path):
    with pytest.raises(CommandError, match=r"There is no backup file at .*missing\.tar"):
        call_command("restore", tmp_path / "missing.tar", replace=True, interactive=False)
    with pytest.raises(CommandError, match="backup"):  # the file is a required argument
        call_command("restore")
    assert_unchanged()


def test_restore_refuses_a_database_that_is_not_empty_without_replace(backup_file):
    with pytest.raises(CommandError, match=r"is not empty .* --replace .*REPLACE=yes"):
        call_command("restore", backup_file, interactive=False)
    assert_unchanged()


def test_restore_asks_first_and_refuses_when_nobody_can_answer(backup_file):
    with pytest.raises(CommandError, match=r"--no-input \(make restore ... CONFIRM=yes\)"):
        call_command("restore", backup_file, replace=True)
    assert_unchanged()


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "not an archive", "no dump"])
def test_restore_refuses_a_damaged_file(backup_file, damage):
    data = bytearray(backup_file.read_bytes())
    if damage == "flipped byte":  # inside the dump, past the manifest
        data[len(data) // 2] ^= 0xFF
        message = "is damaged: its database does not match the checksum"
    elif damage == "truncated":
        data = data[: len(data) // 2]
        message = "not a readable MLTeam backup"
    elif damage == "not an archive":
        data = bytearray(b"PGDMP" + bytes(2000))
        message = "not a readable MLTeam backup"
    backup_file.write_bytes(bytes(data))
    if damage == "no dump":
        manifest = read_manifest(backup_file)
        rewrite(backup_file, rename={manifest_member(manifest): "something-else"})
        message = "has no database"
    with pytest.raises(CommandError, match=message):
        call_command("restore", backup_file, replace=True, interactive=False)
    assert_unchanged()


def manifest_member(manifest: dict) -> str:
    return {"postgresql": "database.dump", "sqlite": "database.sqlite3"}[manifest["vendor"]]


def test_restore_refuses_a_backup_of_a_newer_schema(backup_file):
    manifest = read_manifest(backup_file)
    manifest["migrations"].append(["deliverables", "9999_from_the_future"])
    rewrite(backup_file, manifest=manifest)
    with pytest.raises(
        CommandError, match=r"made by a newer version .*\(deliverables\.9999_from_the_future\)"
    ):
        call_command("restore", backup_file, replace=True, interactive=False)
    assert_unchanged()


def test_restore_refuses_a_backup_of_another_database_vendor(backup_file):
    manifest = read_manifest(backup_file)
    other = "sqlite" if manifest["vendor"] == "postgresql" else "postgresql"
    rewrite(
        backup_file,
        manifest={**manifest, "vendor": other},
        rename={manifest_member(manifest): manifest_member({"vendor": other})},
    )
    with pytest.raises(CommandError, match=r"holds a (SQLite|PostgreSQL) database; the configured"):
        call_command("restore", backup_file, replace=True, interactive=False)
    assert_unchanged()


def test_restore_with_replace_brings_the_backup_back(backup_file):
    expected = read_manifest(backup_file)["tables"]
    out = io.StringIO()
    call_command("restore", backup_file, replace=True, interactive=False, stdout=out)
    assert "every table's row count matches the backup" in out.getvalue()
    assert "no migration is needed" in out.getvalue()
    assert not Project.objects.filter(name="Made after the backup").exists()
    assert live_counts() == expected


# The Makefile and the image ------------------------------------------------------------


def test_make_restore_needs_the_file_and_passes_the_switches():
    missing = subprocess.run(
        ["make", "-n", "restore"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode != 0
    assert "make restore BACKUP=" in missing.stderr
    named = subprocess.run(
        ["make", "-n", "restore", "BACKUP=var/backups/x.tar", "CONFIRM=yes", "REPLACE=yes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert named.returncode == 0, named.stderr
    assert 'manage.py restore "var/backups/x.tar" --no-input --replace' in named.stdout
    asking = subprocess.run(
        ["make", "-n", "restore", "BACKUP=x.tar"], cwd=ROOT, capture_output=True, text=True
    )
    assert 'manage.py restore "x.tar"\n' in asking.stdout  # asks; replaces nothing unasked
    backup = subprocess.run(["make", "-n", "backup"], cwd=ROOT, capture_output=True, text=True)
    assert "manage.py backup" in backup.stdout


def test_the_image_has_a_pg_dump_for_its_postgresql_and_a_volume_for_backups():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    server_major = int(re.match(r"postgres:(\d+)", compose["services"]["postgres"]["image"])[1])
    dockerfile = (ROOT / "Dockerfile").read_text()
    default_major = int(re.search(r"^ARG POSTGRES_MAJOR=(\d+)$", dockerfile, re.M)[1])
    assert "postgresql-client-${POSTGRES_MAJOR}" in dockerfile
    for name in ("web", "worker", "beat"):
        build = compose["services"][name]["build"]
        assert int(build["args"]["POSTGRES_MAJOR"]) >= server_major, name
    assert default_major >= server_major

    # Backups land in BACKUP_DIR's default inside the image (/app/var/backups), a volume.
    assert "backups:/app/var/backups" in compose["services"]["web"]["volumes"]
    assert "backups" in compose["volumes"]
    assert re.search(r"mkdir -p /app/var/backups", dockerfile)
