"""docs/plugins.md stays true to the code: hooks, entry point group and the example plugin.

The docs and code comments also cite only files inside the repository: no
domain brief or design kept elsewhere (the project's own are docs/domain.md and
docs/architecture.md), and every docs page they name or link to exists; every
``core/….py``, ``plugins/….py``, ``core/…/`` or ``plugins/…/`` path written in
docs/*.md and README.md exists.

Two sections of the page are generated from the code: the hook reference (from
``core/hookspecs.py``) and the example plugin (from ``tests/external_plugin``).
After changing either, regenerate them with::

    .venv/bin/python -m tests.core.test_docs
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import tomllib
from pathlib import Path

from core import hookspecs
from core.plugins import ENTRY_POINT_GROUP

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "plugins.md"
EXAMPLE = ROOT / "tests" / "external_plugin"
REGENERATE = "run `.venv/bin/python -m tests.core.test_docs` to regenerate docs/plugins.md"
_BLOCK = re.compile(r"(<!-- BEGIN GENERATED (\w+)[^>]*-->\n)(.*?)(<!-- END GENERATED \2 -->)",
                    re.S)
_LANG = {".toml": "toml", ".py": "python", ".html": "html+jinja"}


#: the hookspec modules of plugins that declare hooks of their own (jixiao_add_hookspecs)
PLUGIN_HOOKSPECS = ("plugins.agencies.hookspecs", "plugins.agency_fees.hookspecs",
                    "plugins.reports.hookspecs", "plugins.targets.hookspecs")


def _specs_of(module) -> dict[str, object]:
    return {name: fn for name, fn in vars(module).items()
            if inspect.isfunction(fn) and hasattr(fn, f"{hookspecs.PROJECT}_spec")}


def hookspec_functions() -> dict[str, object]:
    """Every hookspec: core/hookspecs.py in its order, then each plugin's own."""
    found = _specs_of(hookspecs)
    for module in PLUGIN_HOOKSPECS:
        found.update(_specs_of(importlib.import_module(module)))
    return found


def _sections() -> dict[int, str]:
    """Line number → title of the ``# --- Title ---`` comments in core/hookspecs.py."""
    lines = inspect.getsource(hookspecs).splitlines()
    return {i + 1: m.group(1) for i, line in enumerate(lines)
            if (m := re.match(r"# --- (.+?) -+$", line))}


def _entry(name: str, fn) -> list[str]:
    opts = getattr(fn, f"{hookspecs.PROJECT}_spec")
    kind = " *(firstresult: the first non-None answer wins)*" if opts.get("firstresult") else ""
    return [f"#### `{name}{inspect.signature(fn)}`{kind}\n", inspect.getdoc(fn) + "\n"]


def hook_reference() -> str:
    sections = _sections()
    out: list[str] = []
    last_section = None
    for name, fn in _specs_of(hookspecs).items():
        line = inspect.getsourcelines(fn)[1]
        section = max((n for n in sections if n < line), default=None)
        if section != last_section and section is not None:
            out.append(f"### {sections[section]}\n")
            last_section = section
        out.extend(_entry(name, fn))
    for dotted in PLUGIN_HOOKSPECS:
        module = importlib.import_module(dotted)
        out.append(f"### Declared by `{dotted.rsplit('.', 1)[0]}` (`{dotted}`)\n")
        out.append(inspect.getdoc(module).splitlines()[0] + "\n")
        for name, fn in _specs_of(module).items():
            out.extend(_entry(name, fn))
    return "\n".join(out)


def example_files() -> list[Path]:
    """The example plugin's files: pyproject first, then the package (no build leftovers)."""
    files = [f for f in EXAMPLE.rglob("*") if f.is_file() and not any(
        part in {"build", "__pycache__"} or part.endswith(".egg-info")
        for part in f.relative_to(EXAMPLE).parts)]
    return sorted(files, key=lambda f: (f.name != "pyproject.toml", str(f)))


def example_section() -> str:
    out = []
    for f in example_files():
        text = f.read_text()
        assert "```" not in text, f"{f} contains a code fence"
        rel = f.relative_to(ROOT).as_posix()
        out.append(f"<!-- file: {rel} -->\n**`{rel}`**\n\n```{_LANG.get(f.suffix, '')}\n"
                   f"{text}```\n")
    return "\n".join(out)


GENERATORS = {"hooks": hook_reference, "example": example_section}


def regenerate(text: str) -> str:
    def fill(m: re.Match) -> str:
        return f"{m.group(1)}\n{GENERATORS[m.group(2)]()}\n{m.group(4)}"

    return _BLOCK.sub(fill, text)


def doc_text() -> str:
    return DOC.read_text()


# --- tests -------------------------------------------------------------------------

def test_generated_sections_are_present_and_current():
    text = doc_text()
    assert {m.group(2) for m in _BLOCK.finditer(text)} == set(GENERATORS)
    assert regenerate(text) == text, REGENERATE


def test_every_hookspec_is_documented_with_its_docstring():
    text = doc_text()
    flat = " ".join(text.split())
    for name, fn in hookspec_functions().items():
        assert f"#### `{name}(" in text, f"hook {name} is missing from docs/plugins.md"
        assert " ".join(inspect.getdoc(fn).split()) in flat, \
            f"the docstring of {name} in docs/plugins.md differs from core/hookspecs.py"


def test_docs_name_only_hooks_that_exist():
    """Hooks are written as calls (``jixiao_x(...)``) or as ``hook.jixiao_x``."""
    named = set(re.findall(r"\b(jixiao_\w+)\s*\(", doc_text())) | \
        set(re.findall(r"hook\.(jixiao_\w+)", doc_text()))
    assert named, "the docs name no hook at all"
    unknown = named - set(hookspec_functions())
    assert not unknown, f"docs/plugins.md names hooks that do not exist: {sorted(unknown)}"


def test_entry_point_group_in_docs_is_the_one_the_code_reads():
    text = doc_text()
    said = re.findall(r"entry point group `([^`]+)`", text)
    assert said and set(said) == {ENTRY_POINT_GROUP}, said
    tables = re.findall(r"\[project\.entry-points\.\"?([\w.-]+?)\"?\]", text)
    assert tables and set(tables) == {ENTRY_POINT_GROUP}, tables
    pyproject = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    assert set(pyproject["project"]["entry-points"]) == {ENTRY_POINT_GROUP}


def test_example_plugin_in_docs_is_the_tested_one():
    text = doc_text()
    shown = dict(re.findall(r"<!-- file: (\S+) -->\n\*\*`\S+`\*\*\n\n```[\w+]*\n(.*?)```\n",
                            text, re.S))
    files = {f.relative_to(ROOT).as_posix(): f.read_text() for f in example_files()}
    assert set(shown) == set(files), REGENERATE
    for rel, content in files.items():
        assert shown[rel] == content, f"{rel} in docs/plugins.md is out of date; {REGENERATE}"


# --- citations stay inside the repository ------------------------------------------------

_SKIPPED_DIRS = {"node_modules", "__pycache__", "build", "instance", "artifacts"}
#: files kept outside the repository that code and docs used to cite
_OUTSIDE = re.compile(r"\b(?:DOMAIN|ARCHITECTURE)\.md\b|(?:\.\.|/work)/shared\b")
#: a docs page named in prose or a comment: docs/domain.md, docs/guide/targets.md
_DOCS_PAGE = re.compile(r"(?<![\w/.-])docs/[\w./-]*?\.md\b")
_MD_LINK = re.compile(r"\]\(([^)\s]+)\)")


def project_files(suffixes: tuple[str, ...] = (".py", ".md", ".html")) -> list[Path]:
    """The project's own source and documentation files (no venv, caches or builds)."""
    return [f for f in sorted(ROOT.rglob("*"))
            if f.suffix in suffixes and f.is_file() and not any(
                part.startswith(".") or part in _SKIPPED_DIRS or part.endswith(".egg-info")
                for part in f.relative_to(ROOT).parts[:-1])]


def test_nothing_cites_files_outside_the_repository():
    found = [f"{f.relative_to(ROOT)}: {m.group()}" for f in project_files()
             for m in _OUTSIDE.finditer(f.read_text(errors="replace"))]
    assert not found, ("cite docs/domain.md or docs/architecture.md (with the section) "
                       f"instead: {found}")


def test_named_docs_pages_exist():
    missing = [f"{f.relative_to(ROOT)}: {m.group()}" for f in project_files()
               for m in _DOCS_PAGE.finditer(f.read_text(errors="replace"))
               if not (ROOT / m.group()).exists()]
    assert not missing, f"these docs pages do not exist: {missing}"


def test_relative_links_in_markdown_resolve():
    broken = []
    for f in project_files((".md",)):
        for m in _MD_LINK.finditer(f.read_text(errors="replace")):
            target = m.group(1).split("#", 1)[0]
            if target and not re.match(r"[a-z][\w+.-]*:", target) \
                    and not (f.parent / target).exists():
                broken.append(f"{f.relative_to(ROOT)}: {m.group(1)}")
    assert not broken, f"links to missing files: {broken}"


# --- repository paths written in the docs exist ----------------------------------------

#: a path into the code, as written in the docs: ``core/services/scoring.py``,
#: ``core/web/templates/jixiao/workflow.html``, ``core/web/admin/``; not ``tests/core/…``
#: (the look-behind), and ``core/translations/<locale>/…`` is read up to the ``<``
_CODE_PATH = re.compile(r"(?<![\w/.-])(?:core|plugins)/(?:[\w.-]+/)*(?:\w+\.(?:py|html)\b)?")


def code_paths_in_docs() -> list[tuple[str, int, str]]:
    """(file, line, path) of every code path written in docs/**/*.md and README.md."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [(f.relative_to(ROOT).as_posix(), number, m.group())
            for f in pages
            for number, line in enumerate(f.read_text().splitlines(), 1)
            for m in _CODE_PATH.finditer(line)]


def _exists(path: str) -> bool:
    return (ROOT / path).exists()


def test_code_paths_in_docs_exist():
    found = code_paths_in_docs()
    assert any(p == "core/contracts.py" for _, _, p in found), "the path pattern finds nothing"
    missing = [f"{f}:{n}: {p}" for f, n, p in found if not _exists(p)]
    assert not missing, f"the docs name files or folders that do not exist: {missing}"


def test_code_path_pattern():
    line = ("see core/services/scoring.py, core/web/admin/, plugins/system/__init__.py and "
            "core/web/templates/jixiao/workflow.html; not tests/core/test_docs.py, "
            "core/translations/<locale>/ nor core.scope")
    assert _CODE_PATH.findall(line) == [
        "core/services/scoring.py", "core/web/admin/", "plugins/system/__init__.py",
        "core/web/templates/jixiao/workflow.html", "core/translations/"]
    assert not _exists("core/scoring.py")  # moved to core/services/: a stale path fails


if __name__ == "__main__":
    new = regenerate(doc_text())
    if new != doc_text():
        DOC.write_text(new)
        print(f"updated {DOC.relative_to(ROOT)}")
    else:
        print(f"{DOC.relative_to(ROOT)} is current")
    sys.exit(0)
