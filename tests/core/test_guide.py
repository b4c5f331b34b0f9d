"""docs/guide/: every page is in the index and every picture a page shows is there."""

from __future__ import annotations

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide"


def test_every_guide_page_is_indexed_and_its_pictures_and_links_exist():
    index = (GUIDE / "README.md").read_text(encoding="utf-8")
    pages = sorted(p for p in GUIDE.glob("*.md") if p.name != "README.md")
    assert pages
    for page in pages:
        assert f"]({page.name})" in index, f"{page.name} is missing from docs/guide/README.md"
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)\)", text):
            if "://" not in target:
                assert (GUIDE / target).resolve().is_file(), f"{page.name} links to {target}"
