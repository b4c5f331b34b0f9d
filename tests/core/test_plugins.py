"""The plugin system, proven with a real, pip-installed external plugin.

``tests/external_plugin`` (distribution ``jixiao-example-plugin``) is installed
with pip into a private directory once per source version (cached under the
temp dir), and that directory is put on ``sys.path`` only while the apps of
these tests are created: entry points are read at app creation, so every other
test keeps running without the example plugin.

Then the machinery with throw-away plugins: start-up checks, hooks a plugin declares
itself (``jixiao_add_hookspecs``), optional hooks of a disabled plugin, tracing.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import types
from contextlib import contextmanager
from pathlib import Path

import pluggy
import pytest
from sqlalchemy import select

from core import plugins as core_plugins
from core.plugins import ENTRY_POINT_GROUP, PluginError, hookimpl, hooks, make_manager
from tests.support import do_login

PLUGIN_SRC = Path(__file__).resolve().parents[1] / "external_plugin"
DIST_NAME = "jixiao-example-plugin"
DIST_VERSION = tomllib.loads((PLUGIN_SRC / "pyproject.toml").read_text())["project"]["version"]
EXAMPLE_HOOKS = ["jixiao_admin_views", "jixiao_api", "jixiao_blueprints", "jixiao_cli", "jixiao_config",
                 "jixiao_dashboard_widgets", "jixiao_jobs", "jixiao_permissions"]
#: the test settings load no installed plugins (config/testing.py); these apps do
ENTRY_POINTS = {"LOAD_ENTRYPOINT_PLUGINS": True}
_SKIP = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")


# --- installing the external plugin --------------------------------------------------

def _source_digest() -> str:
    h = hashlib.sha256()
    for f in sorted(PLUGIN_SRC.rglob("*")):
        rel = f.relative_to(PLUGIN_SRC)
        if f.is_file() and not any(p in {"build", "__pycache__"} or p.endswith(".egg-info")
                                   for p in rel.parts):
            h.update(str(rel).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _pip_install(target: Path) -> None:
    """``pip install --target`` a copy of the source (the tree stays clean); atomic rename."""
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        src, staging = Path(tmp) / "src", Path(tmp) / "target"
        shutil.copytree(PLUGIN_SRC, src, ignore=_SKIP)
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
               "--disable-pip-version-check", "--target", str(staging), str(src)]
        run = subprocess.run([*cmd, "--no-build-isolation"], capture_output=True, text=True)
        if run.returncode != 0:  # e.g. a setuptools too old to build wheels by itself
            shutil.rmtree(staging, ignore_errors=True)
            run = subprocess.run(cmd, capture_output=True, text=True)
        assert run.returncode == 0, f"pip install failed:\n{run.stdout}\n{run.stderr}"
        try:
            os.replace(staging, target)
        except OSError:  # another test run installed the same version meanwhile
            if not target.is_dir():
                raise


@pytest.fixture(scope="session")
def example_plugin_path() -> Path:
    """The directory holding the installed plugin (reused while its source is unchanged)."""
    target = Path(tempfile.gettempdir()) / f"jixiao-example-plugin-{_source_digest()}"
    if not target.is_dir():
        _pip_install(target)
    eps = [ep for dist in importlib.metadata.distributions(path=[str(target)])
           for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
    assert [(ep.name, ep.value) for ep in eps] == [("example", "jixiao_example")]
    return target


@contextmanager
def plugin_on_path(path: Path):
    sys.path.insert(0, str(path))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(path))
        importlib.invalidate_caches()


@pytest.fixture(scope="module")
def plugin_app(app, make_app, example_plugin_path):
    """An app with the example plugin, its permission granted; the grants are removed after."""
    with plugin_on_path(example_plugin_path):
        papp = make_app(**ENTRY_POINTS)
    result = papp.test_cli_runner().invoke(args=["jixiao", "sync-permissions"])
    assert result.exit_code == 0, result.output
    yield papp
    from core.extensions import db
    from core.models import RolePermission

    with papp.app_context():
        for grant in db.session.scalars(
                select(RolePermission).where(RolePermission.permission.like("example.%"))):
            db.session.delete(grant)
        db.session.commit()


@pytest.fixture(params=["config", "env"])
def disabled_app(request, plugin_app, make_app, example_plugin_path, monkeypatch):
    """The plugin installed (and its grants in the DB) but switched off."""
    with plugin_on_path(example_plugin_path):
        if request.param == "config":
            return make_app(DISABLED_PLUGINS=["example"], **ENTRY_POINTS)
        monkeypatch.setenv("JIXIAO_DISABLED_PLUGINS", "example")
        return make_app(**ENTRY_POINTS)


def client_for(app, username: str):
    c = app.test_client()
    assert do_login(c, username).status_code == 302
    return c


def plugins_output(app) -> dict[str, list[str]]:
    result = app.test_cli_runner().invoke(args=["jixiao", "plugins"])
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.output.splitlines()]
    return {row[0]: row[1:] for row in rows}


# --- the plugin when installed ------------------------------------------------------

def test_plugins_command_names_source_module_and_hooks(plugin_app):
    rows = plugins_output(plugin_app)
    source, module, hooks = rows["example"]
    assert source == f"entrypoint:{DIST_NAME} {DIST_VERSION}"
    assert module == "jixiao_example"
    assert hooks.split(", ") == EXAMPLE_HOOKS
    assert rows["system"][:2] == ["builtin", "plugins.system"]
    assert "jixiao_admin_views" in rows["system"][2].split(", ")
    sources = [row[0] for row in rows.values()]
    assert sources == sorted(sources, key=lambda s: s != "builtin")  # built-ins first


def test_admin_page_in_own_menu_for_permitted_user(plugin_app):
    for username in ("finance", "dept01", "unit0101"):
        c = client_for(plugin_app, username)
        home = c.get("/admin/")
        assert 'href="/admin/example/"' in home.text, username
        page = c.get("/admin/example/")
        assert page.status_code == 200
        assert "Hello from the example plugin" in page.text


def test_admin_page_hidden_and_refused_without_permission(plugin_app):
    c = client_for(plugin_app, "viewer")
    assert 'href="/admin/example/"' not in c.get("/admin/").text
    assert c.get("/admin/example/").status_code == 403


def test_web_route_needs_login_and_permission(plugin_app):
    anonymous = plugin_app.test_client().get("/example/hello")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    page = client_for(plugin_app, "dept01").get("/example/hello")
    assert page.status_code == 200
    assert "Hello from the example plugin, " in page.text
    assert client_for(plugin_app, "expert01").get("/example/hello").status_code == 403


def test_dashboard_card_for_permitted_users_only(plugin_app):
    assert "Example card" in client_for(plugin_app, "finance").get("/admin/").text
    assert "Example card" not in client_for(plugin_app, "viewer").get("/admin/").text


def test_cli_command_runs(plugin_app):
    result = plugin_app.test_cli_runner().invoke(
        args=["jixiao", "example-hello", "--name", "Jixiao"])
    assert result.exit_code == 0, result.output
    assert result.output == "Hello from the example plugin, Jixiao!\n"


def jobs_listed(app) -> dict[str, list[str]]:
    result = app.test_cli_runner().invoke(args=["jixiao", "jobs", "list"])
    assert result.exit_code == 0, result.output
    return {row[0]: row[1:] for row in (line.split("\t") for line in result.output.splitlines())}


def test_scheduled_job_is_listed_and_runs_once_per_period(plugin_app):
    jobs = jobs_listed(plugin_app)
    assert jobs["example-tick"][:2] == ["interval seconds=3600", "every 3600s"]
    assert "deadline-reminders" in jobs  # the core's own job is still there
    runner = plugin_app.test_cli_runner()
    first = runner.invoke(args=["jixiao", "jobs", "run", "example-tick",
                                "--period", "2031-01-01T00:00:00"])
    assert first.exit_code == 0, first.output
    assert first.output == "example-tick 2031-01-01T00:00:00: finished (nobody to notify)\n"
    again = runner.invoke(args=["jixiao", "jobs", "run", "example-tick",
                                "--period", "2031-01-01T00:00:00"])
    assert again.exit_code == 0 and ": skipped (already finished by " in again.output


GREETING_API = "/api/v1/example/greeting"


def test_api_route_is_documented_and_answers(plugin_app):
    c = client_for(plugin_app, "dept01")
    spec = c.get("/api/v1/openapi.json").get_json()
    assert "get" in spec["paths"][GREETING_API]
    r = c.get(GREETING_API + "?name=Jixiao")
    assert r.status_code == 200
    assert r.get_json() == {"greeting": "Hello from the example plugin, Jixiao!"}
    too_long = c.get(GREETING_API + "?name=" + "x" * 51)
    assert too_long.status_code == 422
    assert set(too_long.get_json()["details"]["query"]) == {"name"}
    refused = client_for(plugin_app, "viewer").get(GREETING_API)
    assert refused.status_code == 403
    assert refused.get_json()["details"] == {"permission": "example.view"}
    anonymous = plugin_app.test_client().get(GREETING_API)
    assert anonymous.status_code == 401 and anonymous.get_json()["code"] == "unauthorized"


def test_plugin_config_default_yields_to_app_settings(make_app, example_plugin_path):
    with plugin_on_path(example_plugin_path):
        papp = make_app(EXAMPLE_GREETING="Ni hao", **ENTRY_POINTS)
    result = papp.test_cli_runner().invoke(args=["jixiao", "example-hello"])
    assert result.output == "Ni hao, world!\n"


def test_plugins_page_lists_the_external_plugin(plugin_app):
    page = client_for(plugin_app, "finance").get("/admin/plugins/")
    assert page.status_code == 200
    assert 'data-plugin="example"' in page.text
    assert f"entrypoint:{DIST_NAME} {DIST_VERSION}" in page.text
    assert "<code>jixiao_dashboard_widgets</code>" in page.text


# --- the plugin when disabled -------------------------------------------------------

def test_disabled_plugin_leaves_no_trace(disabled_app):
    rows = plugins_output(disabled_app)
    assert rows["example"] == ["disabled"]
    assert rows["system"][0] == "builtin"
    assert "jixiao_example" not in {p.module for p in hooks(disabled_app).describe()}

    result = disabled_app.test_cli_runner().invoke(args=["jixiao", "example-hello"])
    assert result.exit_code == 2 and "No such command" in result.output
    jobs = jobs_listed(disabled_app)
    assert "example-tick" not in jobs and "deadline-reminders" in jobs
    result = disabled_app.test_cli_runner().invoke(args=["jixiao", "jobs", "run", "example-tick"])
    assert result.exit_code == 2 and "unknown job 'example-tick'" in result.output

    c = client_for(disabled_app, "finance")  # holds example.view in the DB all the same
    home = c.get("/admin/")
    assert home.status_code == 200
    assert 'href="/admin/example/"' not in home.text
    assert "Example card" not in home.text
    assert c.get("/admin/example/").status_code == 404
    assert c.get("/example/hello").status_code == 404
    gone = c.get(GREETING_API)
    assert gone.status_code == 404 and gone.get_json()["code"] == "not_found"
    assert GREETING_API not in c.get("/api/v1/openapi.json").get_json()["paths"]
    # the rest of the app still works
    assert c.get("/admin/budgetitem/").status_code == 200
    assert c.get("/api/v1/openapi.json").status_code == 200
    plugins_page = c.get("/admin/plugins/")
    assert 'data-disabled="example"' in plugins_page.text
    assert 'data-plugin="example"' not in plugins_page.text


def test_disabling_system_is_refused(make_app):
    with pytest.raises(PluginError, match="system cannot be disabled"):
        make_app(DISABLED_PLUGINS=["system"])


# --- start-up checks ----------------------------------------------------------------

def _throwaway_plugin(monkeypatch, name: str, **hooks) -> str:
    module = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(module, hook_name, hookimpl(fn))
    monkeypatch.setitem(sys.modules, name, module)
    return name


def test_misspelt_hook_fails_at_start_up(monkeypatch, make_app):
    def add_views(admin, db):
        pass

    good = _throwaway_plugin(monkeypatch, "jixiao_test_good", jixiao_admin_views=add_views)
    make_manager(load_entrypoints=False, builtins={"system": "plugins.system", "good": good})

    typo = _throwaway_plugin(monkeypatch, "jixiao_test_typo", jixiao_admin_view=add_views)
    with pytest.raises(pluggy.PluginValidationError, match="jixiao_admin_view"):
        make_manager(load_entrypoints=False, builtins={"system": "plugins.system", "typo": typo})

    monkeypatch.setitem(core_plugins.BUILTIN_PLUGINS, "typo", typo)
    with pytest.raises(pluggy.PluginValidationError, match="unknown hook 'jixiao_admin_view'"):
        make_app()


def test_hook_with_an_unknown_argument_fails_at_start_up(monkeypatch):
    def add_views(admin, db, app):
        pass

    bad = _throwaway_plugin(monkeypatch, "jixiao_test_badargs", jixiao_admin_views=add_views)
    with pytest.raises(pluggy.PluginValidationError, match="app"):
        make_manager(load_entrypoints=False, builtins={"system": "plugins.system", "bad": bad})


# --- hooks a plugin declares itself ------------------------------------------------------

def _module(name: str, **functions) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in functions.items():
        setattr(module, key, value)
    return module


def _declaring_plugins(monkeypatch, optional: bool = True) -> dict[str, list]:
    """Two throw-away built-in plugins: ``jxt_declarer`` declares ``jixiao_test_greeting``
    (through jixiao_add_hookspecs) and ``jxt_answerer`` answers it; both record calls of
    ``jixiao_register_models``."""
    import pluggy

    from core.hookspecs import PROJECT

    calls: dict[str, list] = {"models": []}
    def greeting_spec(name):
        """Greet ``name``."""

    specs = _module("jxt_declarer_specs",
                    jixiao_test_greeting=pluggy.HookspecMarker(PROJECT)(greeting_spec))

    def jixiao_add_hookspecs(pm):
        pm.add_hookspecs(specs)

    def jixiao_test_greeting(name):
        return f"你好，{name}"

    def jixiao_register_models():
        calls["models"].append("jxt_answerer")

    declarer = _module("jxt_declarer", jixiao_add_hookspecs=hookimpl(jixiao_add_hookspecs))
    answerer = _module("jxt_answerer", jixiao_register_models=hookimpl(jixiao_register_models),
                       jixiao_test_greeting=hookimpl(optionalhook=optional)(
                           jixiao_test_greeting))
    for module in (specs, declarer, answerer):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(core_plugins.BUILTIN_PLUGINS, "jxt_declarer", "jxt_declarer")
    monkeypatch.setitem(core_plugins.BUILTIN_PLUGINS, "jxt_answerer", "jxt_answerer")
    return calls


def test_a_plugin_declares_a_hook_another_answers(monkeypatch, make_app):
    calls = _declaring_plugins(monkeypatch)
    app = make_app()
    assert calls["models"] == ["jxt_answerer"]  # models are registered once, at start-up
    with app.app_context():
        assert hooks().declared("jixiao_test_greeting")(name="财政局") == ["你好，财政局"]


def test_an_optional_hook_of_a_disabled_plugin_does_not_stop_the_app(monkeypatch, make_app):
    _declaring_plugins(monkeypatch)
    app = make_app(DISABLED_PLUGINS=["jxt_declarer"])
    assert hooks(app).pm.get_plugin("jxt_answerer") is not None
    assert hooks(app).pm.get_plugin("jxt_declarer") is None
    assert app.test_client().get("/login").status_code == 200


def test_a_required_hook_of_a_disabled_plugin_stops_the_app(monkeypatch, make_app):
    """Without ``optionalhook=True`` the answering plugin names a hook nobody declares."""
    _declaring_plugins(monkeypatch, optional=False)
    with pytest.raises(Exception, match="jixiao_test_greeting"):
        make_app(DISABLED_PLUGINS=["jxt_declarer"])


# --- tracing -----------------------------------------------------------------------------

def test_traced_hook_calls_are_logged_with_the_plugins_that_answered(app, make_app, caplog):
    traced, quiet = make_app(TRACE_HOOKS=True), make_app()
    with caplog.at_level(logging.INFO, logger="jixiao.hooks"):
        with quiet.app_context():
            hooks().evaluation_results(year=2025)
        assert not [r for r in caplog.records if r.name == "jixiao.hooks"]
        with traced.app_context():
            hooks().evaluation_results(year=2025)
    [line] = [r.getMessage() for r in caplog.records
              if r.name == "jixiao.hooks" and "jixiao_evaluation_results" in r.getMessage()]
    answered = re.search(r"hook jixiao_evaluation_results answered by \[(.*)\]", line)
    assert answered and "evaluation" in answered.group(1).split(", "), line
