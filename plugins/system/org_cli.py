"""``flask jixiao org create``: org units from the command line.

A new installation has no org unit, and a finance administrator needs the
finance bureau (``user create … --role finance_admin --org CODE``); the rest of
the tree is then kept in the admin (*Org units*). Audited with the actor ``cli``.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from core.extensions import db
from plugins.system.accounts_cli import _as_cli, _fail


def register(group: AppGroup) -> None:
    org = AppGroup("org", help="Org units.")

    @org.command("create")
    @click.argument("code")
    @click.argument("name")
    @click.option("--kind", default="finance_bureau", show_default=True,
                  type=click.Choice(["finance_bureau", "department", "unit", "town",
                                     "town_department"]))
    @click.option("--parent", "parent_code", help="Code of the parent org unit.")
    def org_create(code: str, name: str, kind: str, parent_code: str | None):
        """Create org unit CODE called NAME (by default the finance bureau, the root)."""
        from core.models import OrgUnit
        from core.models.org import OrgError, OrgKind

        code, name = code.strip(), " ".join(name.split())
        if not code or len(code) > 32 or not name or len(name) > 200:
            _fail("code: 1 to 32 characters; name: 1 to 200 characters")
        with _as_cli():
            if db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)):
                _fail(f"code: an org unit {code!r} already exists")
            parent = None
            if parent_code:
                parent = db.session.scalar(select(OrgUnit).where(OrgUnit.code == parent_code))
                if parent is None:
                    _fail(f"parent: no org unit with code {parent_code!r}")
            unit = OrgUnit(code=code, name=name, kind=OrgKind(kind), parent=parent)
            db.session.add(unit)
            try:
                db.session.flush()
            except OrgError as exc:
                db.session.rollback()
                _fail(f"kind: {exc}")
            db.session.commit()
            click.echo(f"created org unit {code} ({kind}): {name}")

    group.add_command(org)
