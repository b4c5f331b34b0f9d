"""``flask jixiao user create`` and ``flask jixiao token create | list | revoke``.

Both write through the ORM session, so the audit log records them (actor ``cli``).
A refused command says why on stderr, exits with status 1 and writes nothing.
``token create`` prints only the token on stdout, for scripts::

    TOKEN=$(flask jixiao token create dept01 --name nightly-export --expires-days 90)
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click
from flask.cli import AppGroup
from sqlalchemy import select

from core.audit import actor_var
from core.extensions import db

ACTOR = (None, "cli")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(1)


@contextmanager
def _as_cli():
    token = actor_var.set(ACTOR)
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    finally:
        actor_var.reset(token)


def _user(username: str):
    from core.models import User

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        _fail(f"no user {username!r}")
    return user


def _read_password(from_stdin: bool, generate: bool) -> tuple[str, bool]:
    """(password, generated?)."""
    if generate:
        from plugins.system.accounts import generate_password

        return generate_password(), True
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return click.prompt("Password", hide_input=True, confirmation_prompt=True), False


def register(group: AppGroup) -> None:
    users = AppGroup("user", help="User accounts.")

    @users.command("create")
    @click.argument("username")
    @click.option("--role", required=True, help="finance_admin, dept_admin, unit_user, "
                                                "expert, agency_user, viewer, or another role.")
    @click.option("--org", "org_code", help="Code of the user's org unit (e.g. D01U01); "
                                            "none for experts and agency users.")
    @click.option("--full-name", default="", help="The person's name as shown in the app.")
    @click.option("--password-stdin", is_flag=True, help="Read the password from one line "
                                                         "of standard input.")
    @click.option("--generate-password", is_flag=True, help="Make up a password and print it.")
    def user_create(username, role, org_code, full_name, password_stdin, generate_password):
        """Create a user; the password is prompted (hidden, twice) unless an option says else."""
        from plugins.system.accounts import AccountError, check_new_user, create_user

        if password_stdin and generate_password:
            _fail("use either --password-stdin or --generate-password, not both")
        with _as_cli():
            try:
                check_new_user(db.session, username, role, org_code)
                password, generated = _read_password(password_stdin, generate_password)
                user = create_user(db.session, username, role, org_code, full_name, password)
            except AccountError as exc:
                db.session.rollback()
                _fail(str(exc))
            db.session.commit()
            org = user.org_unit.code if user.org_unit else "no org unit"
            click.echo(f"created user {user.username} ({user.role_name}, {org})")
            if generated:
                click.echo(f"password: {password}")

    tokens = AppGroup("token", help="Personal API tokens.")

    @tokens.command("create")
    @click.argument("username")
    @click.option("--name", default="", help="What the token is for.")
    @click.option("--expires-days", type=click.IntRange(1, 3650),
                  help="Valid for this many days (default: no expiry).")
    def token_create(username, name, expires_days):
        """Create an API token for USERNAME and print it (shown this once only)."""
        from core.services.api_tokens import create_token, expiry_in

        with _as_cli():
            user = _user(username)
            if not user.active:
                _fail(f"user {username!r} is disabled")
            plaintext, token = create_token(user, name, expiry_in(expires_days))
            db.session.commit()
            until = token.expires_at.isoformat(timespec="minutes") + " UTC" \
                if token.expires_at else "no expiry"
            click.echo(f"token {token.id} for {user.username} ({until}); "
                       f"it is shown only this once:", err=True)
            click.echo(plaintext)

    @tokens.command("list")
    @click.argument("username", required=False)
    def token_list(username):
        """List tokens (id, user, name, prefix, status, expiry, last use), of one user or all."""
        from core.models import ApiToken, User
        from core.tokens import status

        stmt = select(ApiToken, User.username).join(User).order_by(ApiToken.id)
        if username:
            stmt = stmt.where(ApiToken.user_id == _user(username).id)
        for token, owner in db.session.execute(stmt):
            fields = [str(token.id), owner, token.name or "-", f"{token.prefix}…",
                      status(token), _when(token.expires_at), _when(token.last_used_at)]
            click.echo("\t".join(fields))

    @tokens.command("revoke")
    @click.argument("token_id", type=int)
    def token_revoke(token_id):
        """Revoke the token with id TOKEN_ID (see `token list`)."""
        from core.models import ApiToken
        from core.services.api_tokens import revoke

        with _as_cli():
            token = db.session.get(ApiToken, token_id)
            if token is None:
                _fail(f"no token with id {token_id}")
            if not revoke(token):
                _fail(f"token {token_id} was already revoked")
            db.session.commit()
            click.echo(f"token {token_id} revoked")

    group.add_command(users)
    group.add_command(tokens)


def _when(value) -> str:
    return value.isoformat(timespec="minutes") if value else "-"
