"""The one API error format: ``{"code": str, "message": str, "details": object}``."""

from __future__ import annotations

from typing import Any

from flask import jsonify


def error_response(status: int, code: str, message: str, details: Any = None):
    response = jsonify({"code": code, "message": message, "details": details or {}})
    response.status_code = status
    return response
