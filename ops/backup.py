"""Backups of the database, and restoring one: ``flask backup create PATH`` and ``flask backup restore PATH``.

SQLite (the embedded default): SQLite's online backup API (``sqlite3.Connection.backup``), a consistent copy
taken while the site serves, into a single file. PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean``
(the PostgreSQL client programs, of the server's major version). Only the database is saved: the search index and
the similarity indexes are rebuilt from it after a restore (``flask search reindex``, ``flask suggestions
similarity-index``); the site keeps no uploaded files. Restore with the app servers and job
workers stopped: a restore replaces everything, and requests in flight would write into the old data.
"""
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from core.extensions import db

cli = AppGroup("backup", help="Back up the database, or restore a backup.")


def _libpq_url() -> str:
    """The database's address as the PostgreSQL programs take it (no SQLAlchemy driver name)."""
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_file() -> Path:
    return Path(db.engine.url.database).resolve()


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise click.ClickException(f"{name} is needed (Debian: apt-get install postgresql-client).")
    return found


def _sqlite_copy(source_file: Path, target_file: Path) -> None:
    """Copy one SQLite database into another with SQLite's online backup API (consistent while others write)."""
    source, target = sqlite3.connect(source_file), sqlite3.connect(target_file)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def create_backup(path: Path) -> None:
    """Write a consistent backup of the whole database to ``path``."""
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        _sqlite_copy(_sqlite_file(), path)
    else:
        subprocess.run([_program("pg_dump"), "--format=custom", "--no-owner", f"--file={path}", _libpq_url()],
                       check=True)


def restore_backup(path: Path) -> None:
    """Replace the whole database with the backup at ``path`` (the app stopped)."""
    if not path.is_file():
        raise click.ClickException(f"No backup at {path}.")
    db.session.remove()
    db.engine.dispose()
    if db.engine.dialect.name == "sqlite":
        _sqlite_copy(path, _sqlite_file())
    else:
        subprocess.run([_program("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                        f"--dbname={_libpq_url()}", str(path)], check=True)


@cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def create_command(path: Path) -> None:
    """Back up the database to PATH (SQLite: a database file; PostgreSQL: pg_dump's custom format)."""
    create_backup(path)
    proposals = db.session.scalar(sa.text("SELECT count(*) FROM suggestions"))
    click.echo(f"Backed up to {path} ({path.stat().st_size:,} bytes; {proposals:,} proposals).")


@cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask: everything in the database is replaced.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database with the backup at PATH; then rebuild the search and similarity indexes."""
    if not yes:
        click.confirm(f"Replace everything in {db.engine.url.render_as_string(hide_password=True)} with {path}?",
                      abort=True)
    restore_backup(path)
    proposals = db.session.scalar(sa.text("SELECT count(*) FROM suggestions"))
    click.echo(f"Restored {path}: {proposals:,} proposals. Now run `flask search reindex` and "
               "`flask suggestions similarity-index`.")
