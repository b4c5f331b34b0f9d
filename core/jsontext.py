"""JSON text the app made itself, stored in a JSON column as it is.

A batch that writes thousands of JSON values (the traces of a year's scores,
``core.scoring.ScoreTrace.to_json``) builds their text directly; wrapping it in
``JSONText`` tells the engine's JSON serializer (``dumps``, set in
``core.extensions``) not to encode it a second time. Every other value is
encoded with ``json.dumps`` as before; reading gives the parsed value as usual.
"""

from __future__ import annotations

import json
from typing import Any


class JSONText(str):
    """Text that already is a JSON document."""

    __slots__ = ()


def dumps(value: Any) -> str:
    """The engine's JSON serializer: ``JSONText`` as is, anything else ``json.dumps``-ed."""
    return value if type(value) is JSONText else json.dumps(value)
