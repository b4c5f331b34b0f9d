"""Where this machine's PostgreSQL programs are (the fault and backup tests run them).

Not one hard-coded version: Debian puts each installed major version in
``/usr/lib/postgresql/<major>/bin``; ``pg_config --bindir`` names another layout's.
``JIXIAO_PG_BIN`` overrides both.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text

DEBIAN = Path("/usr/lib/postgresql")
SERVER = ("initdb", "pg_ctl", "postgres")


def bin_dirs(root: Path = DEBIAN) -> list[Path]:
    """Candidate bin directories: JIXIAO_PG_BIN, then ``root/<major>/bin`` newest first,
    then ``pg_config --bindir``."""
    found = [Path(os.environ["JIXIAO_PG_BIN"])] if os.environ.get("JIXIAO_PG_BIN") else []
    if root.is_dir():
        majors = sorted((int(p.name) for p in root.iterdir() if p.name.isdigit()), reverse=True)
        found += [root / str(m) / "bin" for m in majors]
    if shutil.which("pg_config"):
        done = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)  # noqa: S603,S607
        if done.returncode == 0 and done.stdout.strip():
            found.append(Path(done.stdout.strip()))
    return list(dict.fromkeys(found))


def server_bin(root: Path = DEBIAN) -> Path | None:
    """The first bin directory holding a whole server (initdb, pg_ctl, postgres), if any."""
    return next((d for d in bin_dirs(root) if all((d / n).is_file() for n in SERVER)), None)


def server_major(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text("SHOW server_version_num"))) // 10000
    finally:
        engine.dispose()


def pg_program(name: str, url: str) -> str | None:
    """``name`` (pg_dump, pg_restore) of the server's major version or newer, as documented."""
    server = server_major(url)
    candidates = [DEBIAN / str(server) / "bin" / name, *(d / name for d in bin_dirs()),
                  shutil.which(name)]
    for candidate in filter(None, candidates):
        if not Path(candidate).is_file():
            continue
        version = subprocess.run([str(candidate), "--version"], capture_output=True,  # noqa: S603
                                 text=True).stdout
        found = re.search(r"(\d+)\.\d+", version)
        if found and int(found.group(1)) >= server:
            return str(candidate)
    return None
