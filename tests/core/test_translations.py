"""The core's and every plugin's catalogs are merged into ONE translation table.

``core.web.i18n.translation_directories`` lists the core's ``translations/`` first and then each
plugin package's; Flask-Babel merges them in that order, so a later catalog silently replaces
an earlier one's wording for the same msgid. Two catalogs therefore must never translate the
same msgid (and msgctxt) differently: give a different meaning a more specific English msgid.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core.plugins import make_manager
from core.web.i18n import catalog_errors, translation_directories

ROOT = Path(__file__).resolve().parents[2]
EXTERNAL_PLUGIN = ROOT / "tests" / "external_plugin"
LOCALE = "zh_Hans_CN"


def _catalog_dirs() -> list[Path]:
    """Every translations dir, found as the app finds them, plus the example plugin's."""
    dirs = [Path(d) for d in translation_directories(make_manager(load_entrypoints=False))]
    dirs += sorted(p for p in EXTERNAL_PLUGIN.glob("*/translations") if p.is_dir())
    return dirs


def _po_files() -> list[Path]:
    """Sorted: the plugin manager's order varies between processes (pytest-xdist workers)."""
    return sorted(po for d in _catalog_dirs() for po in d.glob("*/LC_MESSAGES/*.po"))


def _name(po: Path) -> str:
    return str(po.relative_to(ROOT)) if po.is_relative_to(ROOT) else str(po)


def _read(po: Path):
    with po.open("rb") as f:
        return read_po(f, abort_invalid=True)


def _first(value):
    return value if isinstance(value, str) else value[0]


def test_every_plugin_with_translations_is_checked():
    names = {_name(po) for po in _po_files()}
    assert f"core/translations/{LOCALE}/LC_MESSAGES/messages.po" in names
    shipped = {_name(p) for p in (ROOT / "plugins").glob(
        f"*/translations/{LOCALE}/LC_MESSAGES/*.po")}
    assert shipped and shipped <= names


@pytest.mark.parametrize("po", _po_files(), ids=_name)
def test_catalog_compiles(po):
    catalog = _read(po)
    write_mo(io.BytesIO(), catalog, use_fuzzy=False)
    assert not catalog_errors(po, catalog)
    seen: set = set()
    for message in catalog:
        if not message.id:
            continue
        key = (message.id, message.context)
        assert key not in seen, f"{_name(po)}: msgid {message.id!r} appears twice"
        seen.add(key)
        if po.parts[-3] == LOCALE:
            assert message.fuzzy or any(message.string if isinstance(message.string, tuple)
                                        else [message.string]), (
                f"{_name(po)}: msgid {message.id!r} has an empty msgstr")


def test_no_msgid_is_translated_differently_in_two_catalogs():
    translations: dict[tuple, dict[str, str]] = defaultdict(dict)
    for po in _po_files():
        locale = po.parts[-3]
        for message in _read(po):
            if not message.id or not message.string or message.fuzzy:
                continue
            key = (locale, _first(message.id), message.context)
            translations[key][_name(po)] = _first(message.string)
    clashes = [
        f"{msgid!r}" + (f" (msgctxt {ctxt!r})" if ctxt else "") + f" [{locale}]: "
        + "; ".join(f"{cat} → {text!r}" for cat, text in by_catalog.items())
        for (locale, msgid, ctxt), by_catalog in sorted(
            translations.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or ""))
        if len(set(by_catalog.values())) > 1]
    assert not clashes, (
        "The same msgid is translated differently in two catalogs; at runtime the last "
        "catalog wins everywhere. Use one wording, or a more specific msgid:\n"
        + "\n".join(clashes))


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
@pytest.mark.parametrize("po", _po_files(), ids=_name)
def test_msgfmt_check_passes(po):
    """GNU ``msgfmt -c`` (what translators' tools run) finds no error: formats, headers."""
    done = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(po)],  # noqa: S603, S607
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
