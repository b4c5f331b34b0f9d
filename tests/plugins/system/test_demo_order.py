"""seed-demo calls each plugin's jixiao_seed_demo after the plugins its DEMO_AFTER names."""

import pluggy
import pytest

from core import hookspecs
from core.plugins import hookimpl, hooks
from plugins.system.demo_order import DemoOrderError, demo_seeders


def _plugin(after: tuple[str, ...]):
    class Plugin:
        DEMO_AFTER = after

        @hookimpl
        def jixiao_seed_demo(self, session, rng, scale):
            pass

    return Plugin()


def _order(*plugins: tuple[str, tuple[str, ...]]) -> list[str]:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name, after in plugins:
        pm.register(_plugin(after), name=name)
    return [pm.get_name(impl.plugin) for impl in demo_seeders(pm)]


def test_a_plugin_registered_before_the_one_it_needs_seeds_after_it():
    assert _order(("throwaway", ("agencies",)), ("system", ()), ("agencies", ("system",))) \
        == ["system", "agencies", "throwaway"]


def test_otherwise_plugins_seed_in_registration_order_and_unknown_names_are_ignored():
    assert _order(("system", ()), ("b", ("system", "disabled")), ("a", ())) \
        == ["system", "b", "a"]


def test_a_cycle_is_refused():
    with pytest.raises(DemoOrderError, match="a, b"):
        _order(("a", ("b",)), ("b", ("a",)))


def test_the_built_in_plugins_seed_after_what_they_need(app):
    with app.app_context():
        order = [hooks().pm.get_name(impl.plugin) for impl in demo_seeders(hooks().pm)]
        plugins = {hooks().pm.get_name(impl.plugin): impl.plugin
                   for impl in demo_seeders(hooks().pm)}
    assert order[0] == "system"
    for name, plugin in plugins.items():
        assert all(order.index(dep) < order.index(name)
                   for dep in getattr(plugin, "DEMO_AFTER", ()) if dep in order)
