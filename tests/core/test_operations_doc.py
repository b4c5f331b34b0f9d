"""docs/operations.md (中文) and docs/operations.en.md name only commands that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "operations.md", ROOT / "docs" / "operations.en.md"]
COMMAND = re.compile(r"flask (?:--app wsgi )?((?:jixiao|db)(?: [a-z][a-z-]*){1,2})")


def documented_commands() -> set[str]:
    return {m.group(1) for doc in DOCS for m in COMMAND.finditer(doc.read_text())}


def test_both_languages_document_the_same_commands():
    per_doc = [{m.group(1) for m in COMMAND.finditer(doc.read_text())} for doc in DOCS]
    assert per_doc[0] == per_doc[1]
    assert {"jixiao init-db", "jixiao scheduler", "jixiao audit verify"} <= per_doc[0]


@pytest.mark.parametrize("command", sorted(documented_commands()))
def test_a_documented_command_exists(app, command):
    result = app.test_cli_runner().invoke(args=[*command.split(), "--help"])

    assert result.exit_code == 0, f"`flask {command}` is in the docs but not in the CLI:\n" \
                                  f"{result.output}"
    assert "Usage:" in result.output
