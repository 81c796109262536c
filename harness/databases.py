"""Throwaway PostgreSQL databases on the local server, managed through psql."""

import os
import shutil
import subprocess
import uuid

HOST, PORT, USER = "127.0.0.1", "5432", "postgres"


def _psql(sql: str) -> subprocess.CompletedProcess:
    command = [
        "psql",
        "-h",
        HOST,
        "-p",
        PORT,
        "-U",
        USER,
        "-d",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
    ]
    return subprocess.run(
        [*command, "-Atc", sql],
        env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def unreachable_reason() -> str | None:
    """Why the local server cannot be used, or None when it answers."""
    if shutil.which("psql") is None:
        return "psql is not installed"
    result = _psql("SELECT 1")
    if result.returncode != 0:
        return result.stderr.strip() or f"psql exited with {result.returncode}"
    return None


def unique_name(prefix: str) -> str:
    return f"{prefix[:40]}_{uuid.uuid4().hex[:12]}"


def create(name: str) -> str:
    """Create an empty database and return its asyncpg URL."""
    result = _psql(f'CREATE DATABASE "{name}"')
    if result.returncode != 0:
        raise RuntimeError(f"could not create database {name}: {result.stderr.strip()}")
    return f"postgresql+asyncpg://{USER}@{HOST}:{PORT}/{name}"


def drop(name: str) -> None:
    _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(name: str, sql: str) -> list[str]:
    """The first column of every row `sql` returns in database `name`."""
    command = ["psql", "-h", HOST, "-p", PORT, "-U", USER, "-d", name, "-Atc", sql]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.split()
