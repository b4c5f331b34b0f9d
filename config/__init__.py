"""Configuration loading: a Python module per environment, then JIXIAO_* variables.

Every setting can be overridden by an environment variable of the same name
prefixed with ``JIXIAO_`` (``JIXIAO_SQLALCHEMY_DATABASE_URI``,
``JIXIAO_SECRET_KEY``, ``JIXIAO_DISABLED_PLUGINS``, ``JIXIAO_BABEL_DEFAULT_LOCALE``…).
Short aliases are accepted for the most common ones: ``JIXIAO_DATABASE_URL``.
A setting whose default is a dict takes a JSON object that is merged over the
default key by key (``null`` removes a key), so ``JIXIAO_SQLALCHEMY_ENGINE_OPTIONS=
'{"pool_size": 10}'`` keeps ``pool_pre_ping``.
"""

from __future__ import annotations

import json
import os
from typing import Any

ENV_PREFIX = "JIXIAO_"
ALIASES = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI", "LANGUAGE": "BABEL_DEFAULT_LOCALE"}
#: JIXIAO_* variables that choose how to start rather than being settings themselves
NOT_SETTINGS = {"ENV", "INSTANCE_PATH", "TEST_DATABASE_URL", "HOST", "PORT"}
DEFAULT_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - the value production refuses


def _coerce(current: Any, raw: str) -> Any:
    """Turn an environment string into the type of the current setting."""
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, list | tuple | set | frozenset):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(current, dict):
        given = json.loads(raw)
        if not isinstance(given, dict):
            raise ValueError(f"expected a JSON object, got {raw!r}")
        merged = {**current, **given}
        return {key: value for key, value in merged.items() if value is not None}
    return raw


def env_overrides(config: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The settings named by JIXIAO_* variables, coerced to the type of their default."""
    environ = dict(os.environ if environ is None else environ)
    out: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX):]
        if name in NOT_SETTINGS:
            continue
        name = ALIASES.get(name, name)
        out[name] = _coerce(config.get(name), raw)
    return out


def object_for(name: str | None) -> str:
    """The import path of the config module for an environment name."""
    name = name or os.environ.get("JIXIAO_ENV", "default")
    return {"default": "config.default", "testing": "config.testing",
            "production": "config.production"}.get(name, name)
