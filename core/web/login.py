"""Logging in and out (Flask-Login): the pages, the password check with lockout after
repeated failures, and the user loader of a session."""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlparse

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select, update
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from core.extensions import db, login_manager
from core.models import User, utcnow
from core.scope import unscoped

bp = Blueprint("auth", __name__)
#: set on ``flask.g`` when a submitted username and password were refused (core/web/security.py
#: counts these, not CSRF or form errors, against the login rate limits)
LOGIN_FAILED = "jixiao_login_failed"


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Remember me"))


def _safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the home page (no open redirect).

    Browsers read ``/\\evil.example`` as ``//evil.example`` and drop tabs and
    newlines, so those never pass either.
    """
    if target and target.startswith("/") and "\\" not in target and \
            not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        parsed = urlparse(target)
        if not parsed.netloc and not parsed.scheme and not target.startswith("//"):
            return target
    return url_for("admin.index")


_dummy_hash: list[str] = []


def _equal_time(password: str) -> None:
    """Hash for an unknown username too, so timing does not tell which names exist."""
    if not _dummy_hash:
        _dummy_hash.append(User.hash_password(secrets.token_hex(8)))
    User(password_hash=_dummy_hash[0]).check_password(password)


def _count_failure(user_id: int, now) -> None:
    """Count a failed login atomically (parallel guesses cannot slip past the limit)."""
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    failures = db.session.execute(
        update(User).where(User.id == user_id)
        .values(failed_logins=User.failed_logins + 1).returning(User.failed_logins)
        .execution_options(synchronize_session=False)).scalar_one()
    if failures >= limit:
        db.session.execute(
            update(User).where(User.id == user_id, User.failed_logins >= limit)
            .values(failed_logins=0, locked_until=now + timedelta(
                minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]))
            .execution_options(synchronize_session=False))
    db.session.commit()


def attempt_login(username: str, password: str) -> tuple[User | None, str | None]:
    """Check a username and password; count failures and lock the account when needed."""
    user = db.session.execute(
        select(User).where(User.username == username.strip())
        .execution_options(jixiao_unscoped=True)).scalar_one_or_none()
    generic = _("Wrong username or password.")
    if user is None:
        _equal_time(password)
        return None, generic
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return None, _("This account is locked after too many failed logins; "
                       "try again in %(minutes)s minutes.", minutes=minutes)
    if not user.check_password(password):
        _count_failure(user.id, now)
        return None, generic
    if not user.active:  # said only to whoever knows the password
        return None, _("This account is disabled.")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if not user.session_token:
        user.session_token = secrets.token_hex(16)
    db.session.commit()
    return user, None


@login_manager.user_loader
def load_user(user_key: str) -> User | None:
    """The user of a session (``id:session_token``); a changed token ends old sessions."""
    user_id, _sep, token = user_key.partition(":")
    if not user_id.isdigit():
        return None
    # unscoped: who the user is decides the scope, so it cannot be read through it
    user = db.session.execute(
        select(User).where(User.id == int(user_id))
        .execution_options(jixiao_unscoped=True)).scalar_one_or_none()
    if user is None or not user.active or user.session_token != token:
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user, error = attempt_login(form.username.data, form.password.data)
        if user is not None:
            locale = session.get("locale")
            session.clear()  # no session fixation: a fresh session after login
            if locale:
                session["locale"] = locale
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        setattr(g, LOGIN_FAILED, True)
        flash(error, "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # the session cookie is signed, not stored on the server: a copy taken before the
        # logout would still work. A new session token ends it, and the remember cookie,
        # on every browser of this user (docs/security.md).
        # unscoped: an outside role (expert, agency user) that kept an org unit may not
        # write its own row through the scope check, yet its logout must end the session
        with unscoped():
            current_user.session_token = secrets.token_hex(16)
            db.session.commit()
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))
