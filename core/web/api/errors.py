"""The one API error format: ``{"code": str, "message": str, "details": object}``.

Every error under /api/v1 has this body — refused logins and tokens, missing
permissions, validation errors (``details`` maps each location to its fields'
messages: ``{"query": {"per_page": ["…"]}}``), malformed JSON, unknown routes,
wrong methods, oversized bodies and unexpected failures. ``code`` is a stable
machine-readable word; ``message`` is for people, in the user's language.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException, MethodNotAllowed

#: HTTP status → error code, for errors raised as HTTP exceptions.
CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 412: "precondition_failed",
    413: "too_large", 415: "unsupported_media_type", 422: "validation_error",
    428: "precondition_required", 429: "too_many_requests", 500: "server_error",
}


class ErrorSchema(Schema):
    """The body of every API error (documentation only)."""

    code = fields.String(required=True, metadata={
        "description": "Machine-readable error code, e.g. unauthorized, invalid_token, "
                       "forbidden, csrf, not_found, method_not_allowed, bad_json, "
                       "validation_error, conflict, too_large, server_error"})
    message = fields.String(required=True, metadata={"description": "For people, translated"})
    details = fields.Dict(required=True, metadata={
        "description": "More about the error; for validation_error, "
                       "{location: {field: [messages]}} with location query, json, …"})


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None):
    response = jsonify({"code": code, "message": str(message), "details": details or {}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _message(status: int) -> str:
    messages = {
        400: _("The request is not valid."),
        401: _("Login or an API token is required."),
        403: _("You do not have permission for this action."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        409: _("The change conflicts with other records."),
        413: _("The request is too large."),
        415: _("Send the request body as JSON (Content-Type: application/json)."),
        500: _("Something went wrong on the server."),
    }
    return messages.get(status, _("The request failed."))


def _field_names(errors: Any) -> list[str]:
    """The field names in webargs' ``{location: {field: messages}}``."""
    names: list[str] = []
    if isinstance(errors, dict):
        for location in errors.values():
            if isinstance(location, dict):
                names += [str(name) for name in location]
    return names


def http_error_response(error: HTTPException):
    """An HTTP exception (smorest's ``abort``, webargs, routing, Werkzeug) in the format."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors", data.get("messages"))
    headers = dict(data.get("headers") or {})
    code = CODES.get(status, (error.name or "error").lower().replace(" ", "_"))
    message = data.get("message") or _message(status)
    details: dict[str, Any] = {}
    if isinstance(errors, dict):
        details = errors
    if status == 400 and (_is_json_error(error) or list(details) == ["json"]):
        code, message = "bad_json", _("The request body is not valid JSON.")
    elif status == 422:
        fields_named = _field_names(details)
        message = data.get("message") or (
            _("Some values are not valid: %(fields)s.", fields=", ".join(fields_named))
            if fields_named else _("Some values are not valid."))
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        allowed = sorted(error.valid_methods)
        details = {**details, "allowed": allowed}
        headers["Allow"] = ", ".join(allowed)
    return error_response(status, code, message, details, headers)


def _is_json_error(error: HTTPException) -> bool:
    """A ``BadRequest`` from parsing a JSON body (Flask hides the cause outside debug)."""
    cause = error
    for _depth in range(3):
        if "JSON" in str(getattr(cause, "description", "") or ""):
            return True
        cause = cause.__cause__
        if cause is None:
            return False
    return False
