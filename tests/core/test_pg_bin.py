"""The fault and backup tests find PostgreSQL's programs whatever version is installed."""

from __future__ import annotations

import subprocess

from tests.pg_bin import bin_dirs, server_bin


def _install(root, major, names):
    """A Debian-style ``<root>/<major>/bin`` with real PostgreSQL programs linked in."""
    real = server_bin()
    target = root / str(major) / "bin"
    target.mkdir(parents=True)
    for name in names:
        (target / name).symlink_to(real / name)
    return target


def test_the_server_binaries_of_another_version_are_found(tmp_path, monkeypatch):
    monkeypatch.delenv("JIXIAO_PG_BIN", raising=False)
    assert server_bin() is not None, "this machine has PostgreSQL installed"
    only = _install(tmp_path, 17, ["initdb", "pg_ctl", "postgres"])
    _install(tmp_path, 9, ["pg_ctl"])  # an older, incomplete one is passed over
    assert server_bin(tmp_path) == only
    assert bin_dirs(tmp_path)[:2] == [only, tmp_path / "9" / "bin"]
    done = subprocess.run([str(server_bin(tmp_path) / "initdb"), "--version"],
                          capture_output=True, text=True, check=True)
    assert "PostgreSQL" in done.stdout


def test_jixiao_pg_bin_overrides(tmp_path, monkeypatch):
    chosen = _install(tmp_path / "elsewhere", 15, ["initdb", "pg_ctl", "postgres"])
    monkeypatch.setenv("JIXIAO_PG_BIN", str(chosen))
    assert server_bin(tmp_path / "none") == chosen
