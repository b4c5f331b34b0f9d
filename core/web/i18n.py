"""Translations: compile every plugin's ``translations/`` catalogs (.po → .mo)."""

from __future__ import annotations

import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

CORE_TRANSLATIONS = Path(__file__).parents[1] / "translations"  # core/translations
log = logging.getLogger(__name__)


def catalog_errors(po: Path, catalog) -> list[str]:
    """Babel's checks of a read catalog (what ``pybabel compile`` reports): a translation
    whose placeholders differ from its msgid's, e.g. a msgid that only looks like a
    format ("% of the rate" reads as the directive "% o") and a msgstr that does not."""
    return [f"{po}:{message.lineno}: {message.id!r}: {error}"
            for message, errors in catalog.check() for error in errors]


def compile_catalogs(*directories: Path) -> int:
    """Compile each ``<dir>/<locale>/LC_MESSAGES/*.po`` whose .mo is missing or older."""
    compiled = 0
    for directory in directories or (CORE_TRANSLATIONS,):
        for po in Path(directory).glob("*/LC_MESSAGES/*.po"):
            mo = po.with_suffix(".mo")
            if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            with po.open("rb") as f:
                catalog = read_po(f)
            for error in catalog_errors(po, catalog):
                log.warning("translation catalog: %s", error)
            try:
                with mo.open("wb") as f:
                    write_mo(f, catalog, use_fuzzy=False)
            except OSError:  # a read-only install ships compiled catalogs
                continue
            compiled += 1
    return compiled


def translation_directories(hooks) -> list[str]:
    """The core's catalog first, then each registered plugin package's ``translations/``."""
    return [str(CORE_TRANSLATIONS), *hooks.folders("translations")]
