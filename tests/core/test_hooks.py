"""Every hook is documented, implemented and tested (after Datasette's
``test_plugin_hooks_have_tests``).

A hook counts as tested when a module under tests/ (other than this one and test_docs)
names it, or calls the ``Hooks`` method that calls it (``hooks(app).evaluation_finalized``).
The methods are matched to their hooks by reading their source.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from core.plugins import Hooks
from tests.core import test_docs as docs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = docs.hookspec_functions()
_IMPL = re.compile(r"@hookimpl(?:\([^)]*\))?\s*\n\s*def (jixiao_\w+)"
                   r"|hookimpl(?:\([^)]*\))?\((jixiao_\w+)\)")


def _sources(*folders: str) -> dict[Path, str]:
    return {path: path.read_text() for folder in folders
            for path in (ROOT / folder).rglob("*.py") if "__pycache__" not in path.parts}


def _callers(owner, pattern: str) -> dict[str, set[str]]:
    """Hook name → the names of ``owner``'s functions whose source matches ``pattern``."""
    out: dict[str, set[str]] = {}
    for name, fn in vars(owner).items():
        if not inspect.isfunction(fn) or (
                inspect.ismodule(owner) and fn.__module__ != owner.__name__):
            continue
        for hook_or_method in re.findall(pattern, inspect.getsource(fn)):
            out.setdefault(hook_or_method, set()).add(name)
    return out


#: hook → the Hooks methods that call it
METHODS = _callers(Hooks, r"self\._h\.(jixiao_\w+)")
#: ``rooms(__name__, api="api:blp", …)`` (core/services/rooms.py) implements jixiao_api …
_ROOMS = re.compile(r"\brooms\(\s*__name__,(.*?)\)", re.S)
IMPLEMENTED = {m.group(1) or m.group(2) for text in _sources("plugins", "tests").values()
               for m in _IMPL.finditer(text)} | {
    f"jixiao_{hook}" for text in _sources("plugins").values()
    for call in _ROOMS.finditer(text) for hook in re.findall(r"(\w+)=", call.group(1))}
TESTS = {path: text for path, text in _sources("tests").items()
         if "external_plugin" not in path.parts
         and path.name not in ("test_hooks.py", "test_docs.py")}


def _exercises(text: str, hook: str) -> bool:
    if re.search(rf"\b{hook}\b", text):
        return True
    for method in METHODS.get(hook, ()):
        if re.search(rf"hooks\([^)]*\)\.{method}\(", text):
            return True
    return False


def test_the_hook_callers_are_found():
    """Guards the checks below: they would pass vacuously if the matching broke."""
    assert len(HOOKS) > 20 and "jixiao_target_checks" in HOOKS
    assert METHODS["jixiao_evaluation_finalized"] == {"evaluation_finalized"}
    assert METHODS["jixiao_preassessment_conclusions"] == {"preassessment_conclusions"}
    assert not _exercises("hooks(app).permissions()", "jixiao_evaluation_finalized")


@pytest.mark.parametrize("hook", list(HOOKS))
def test_hook_is_documented(hook):
    text = docs.doc_text()
    assert f"#### `{hook}(" in text, f"hook {hook} is missing from docs/plugins.md"
    assert " ".join(inspect.getdoc(HOOKS[hook]).split()) in " ".join(text.split()), \
        f"the docstring of {hook} in docs/plugins.md differs from its hookspec"


@pytest.mark.parametrize("hook", list(HOOKS))
def test_hook_is_implemented(hook):
    assert hook in IMPLEMENTED, f"no module under plugins/ or tests/ implements {hook}"


@pytest.mark.parametrize("hook", list(HOOKS))
def test_hook_is_exercised_by_a_test(hook):
    found = [p for p, text in TESTS.items() if _exercises(text, hook)]
    assert found, f"no test names {hook} or calls {sorted(METHODS.get(hook, ()))}: write one"
