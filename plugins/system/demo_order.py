"""The order ``flask jixiao seed-demo`` calls the plugins' ``jixiao_seed_demo`` in.

A plugin module names the plugins whose demo data must exist before its own in
``DEMO_AFTER``, e.g. ``DEMO_AFTER = ("system", "targets")``; a name that is not
registered (a disabled or absent plugin) is ignored. Among the plugins whose
``DEMO_AFTER`` are all seeded, the first registered goes next.
"""

from __future__ import annotations

from typing import Any


class DemoOrderError(RuntimeError):
    """The ``DEMO_AFTER`` declarations form a cycle."""


def demo_seeders(pm: Any) -> list[Any]:
    """pluggy's ``jixiao_seed_demo`` implementations in the order to call them."""
    waiting = {pm.get_name(impl.plugin): impl for impl in pm.hook.jixiao_seed_demo.get_hookimpls()}
    ordered = []
    while waiting:
        ready = next((name for name, impl in waiting.items()
                      if not set(getattr(impl.plugin, "DEMO_AFTER", ())) & waiting.keys()), None)
        if ready is None:
            raise DemoOrderError("the DEMO_AFTER of these plugins form a cycle: "
                                 + ", ".join(sorted(waiting)))
        ordered.append(waiting.pop(ready))
    return ordered
