"""Attachments: checked uploads stored under instance/attachments, and their download.

``save_attachment`` is the one way to store a file: it refuses (with an
``AttachmentError`` naming the form field, and nothing written) a missing or
empty file, a file over ``ATTACHMENT_MAX_BYTES``, an extension outside
``ATTACHMENT_EXTENSIONS`` and a file whose content is not what its extension
says (a ``.pdf`` that is not a PDF). The file gets a random name; the original
name, size, type and sha256 go in an ``Attachment`` row. The caller commits;
a rollback removes the file again.
``send_attachment`` answers a download; the route ``GET /attachments/<id>`` is the
system plugin's (``plugins/system/attachments.py``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import zipfile
from pathlib import Path
from typing import Any

from flask import abort, current_app, send_file
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.extensions import db
from core.models import Attachment

CHUNK = 64 * 1024
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "zip": "application/zip",
    "txt": "text/plain; charset=utf-8",
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office (.doc, .xls)
_NEW_FILES = "jixiao_attachment_files"

class AttachmentError(ValueError):
    """An upload that was refused; the message names the field and says why."""


def storage_dir() -> Path:
    """Where files live: ``ATTACHMENT_DIR`` or ``<instance>/attachments``."""
    configured = current_app.config.get("ATTACHMENT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "attachments"


def _display_name(filename: str) -> str:
    """The user's file name without any directory part or control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[:250 - len(ext)]}{dot}{ext}" if dot else name[:255]
    return name


# --- content checks: does the file really hold what its extension says? -------------

def _is_zip_with(path: Path, prefix: str | None) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    if prefix is None:
        return True
    return "[Content_Types].xml" in names and any(n.startswith(prefix) for n in names)


def _is_text(path: Path) -> bool:
    data = path.read_bytes()
    if b"\x00" in data:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _content_matches(ext: str, head: bytes, path: Path) -> bool:
    """True when the content fits ``ext``; extensions without a check are accepted."""
    if ext == "pdf":
        return head.startswith(b"%PDF-")
    if ext == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext in ("doc", "xls"):
        return head.startswith(_OLE2)
    if ext == "docx":
        return _is_zip_with(path, "word/")
    if ext == "xlsx":
        return _is_zip_with(path, "xl/")
    if ext == "zip":
        return head[:4] in (b"PK\x03\x04", b"PK\x05\x06") and _is_zip_with(path, None)
    if ext == "txt":
        return _is_text(path)
    return True


# --- saving ---------------------------------------------------------------------------

def save_attachment(file_storage: Any, object_type: str, object_id: int, org_unit_id: int,
                    user: Any, *, field: Any = None) -> Attachment:
    """Check and store an uploaded file; return its (flushed) ``Attachment`` row.

    ``file_storage`` is a werkzeug ``FileStorage``; ``field`` the label of the
    form field it came from, for the messages. Raises ``AttachmentError``.
    """
    label = field if field is not None else _l("Attachment")
    config = current_app.config
    filename = _display_name(getattr(file_storage, "filename", None) or "")
    if file_storage is None or not filename:
        raise AttachmentError(_l("%(field)s: choose a file to upload.", field=label))
    allowed = [e.lower().lstrip(".") for e in config["ATTACHMENT_EXTENSIONS"]]
    ext = filename.rpartition(".")[2].lower() if "." in filename else ""
    if ext not in allowed:
        raise AttachmentError(_l(
            "%(field)s: files of type “%(ext)s” are not accepted (allowed: %(allowed)s).",
            field=label, ext=ext or "-", allowed=", ".join(allowed)))

    limit = int(config["ATTACHMENT_MAX_BYTES"])
    folder = storage_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{secrets.token_hex(16)}.{ext}"
    path = folder / stored_name
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with open(path, "xb") as out:
            while chunk := file_storage.stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise AttachmentError(_l(
                        "%(field)s: the file is larger than the limit of %(limit)s.",
                        field=label, limit=_human_size(limit)))
                if len(head) < 16:
                    head = (head + chunk)[:16]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise AttachmentError(_l("%(field)s: the file is empty.", field=label))
        if not _content_matches(ext, head, path):
            raise AttachmentError(_l(
                "%(field)s: the content of the file is not a valid “%(ext)s” file.",
                field=label, ext=ext))
        attachment = Attachment(
            object_type=object_type, object_id=object_id, org_unit_id=org_unit_id,
            filename=filename, stored_name=stored_name, size=size,
            content_type=CONTENT_TYPES.get(ext, "application/octet-stream"),
            sha256=digest.hexdigest(), uploaded_by_id=getattr(user, "id", None))
        db.session.add(attachment)
        db.session.flush()  # scope and constraints are checked before we keep the file
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    db.session.info.setdefault(_NEW_FILES, []).append(str(path))
    return attachment


def _human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MB"
    if n >= 1024:
        return f"{n / 1024:g} KB"
    return f"{n} B"


@event.listens_for(Session, "after_commit")
def _keep_files(session: Session) -> None:
    session.info.pop(_NEW_FILES, None)


@event.listens_for(Session, "after_transaction_end")
def _drop_files(session: Session, transaction: Any) -> None:
    """Files whose rows were not committed (rollback, or a session closed) are removed."""
    if transaction.parent is not None or transaction.nested:
        return
    for name in session.info.pop(_NEW_FILES, []):
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass


def path_of(attachment: Attachment) -> Path:
    return storage_dir() / attachment.stored_name


def send_attachment(attachment: Attachment):
    """The file as a download (404 if it is gone from disk); never kept by a shared cache.

    Call it only after the caller has checked that the user may see ``attachment``.
    """
    path = path_of(attachment)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, max_age=0)
    response.cache_control.private = True  # no shared cache keeps a scoped document
    response.cache_control.no_store = True
    return response
