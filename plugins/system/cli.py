"""``flask jixiao …``: the operator's commands that the system plugin brings.

``init-db``, ``sync-permissions``, ``seed-demo``, ``demo-logins``, ``plugins``,
``audit verify`` and ``year open`` are here; the job commands (``scheduler``, ``jobs list``, ``jobs run``)
are in ``scheduler_cli``, the account commands (``user create``, ``token …``) in
``accounts_cli`` and ``org create`` in ``org_cli``. Other plugins add theirs through
``jixiao_cli`` too.
"""

from __future__ import annotations

import random

import click
from flask.cli import AppGroup
from flask_migrate import upgrade
from sqlalchemy import func, select

from core.audit import actor_var
from core.extensions import db
from core.plugins import hooks
from plugins.system import accounts_cli, org_cli, scheduler_cli
from plugins.system.demo_order import demo_seeders


def register(group: AppGroup) -> None:
    @group.command("init-db")
    def init_db():
        """Build or upgrade the schema (migrations) and sync role permissions."""
        upgrade()
        _sync()
        click.echo("database ready")

    @group.command("sync-permissions")
    def sync_permissions_cmd():
        """Add missing roles and default permission grants declared by plugins."""
        click.echo(f"{_sync()} grants added")

    @group.command("seed-demo")
    @click.option("--scale", type=click.Choice(["small", "district"]), default="district")
    @click.option("--seed", type=int, default=2021, help="Random seed (same seed, same data).")
    @click.option("--if-empty", is_flag=True, help="Do nothing when org units already exist.")
    def seed_demo(scale: str, seed: int, if_empty: bool):
        """Load realistic demo data through every plugin's jixiao_seed_demo (DEMO_AFTER order)."""
        from core.models import OrgUnit

        if if_empty and db.session.scalar(select(func.count()).select_from(OrgUnit)):
            click.echo("demo data already present")
            return
        token = actor_var.set((None, "seed-demo"))
        try:
            _sync()
            args = {"session": db.session, "rng": random.Random(seed), "scale": scale}
            for impl in demo_seeders(hooks().pm):
                impl.function(**{name: args[name] for name in impl.argnames})
            db.session.commit()
        finally:
            actor_var.reset(token)
        click.echo(f"demo data loaded (scale={scale}, seed={seed})")

    @group.command("demo-logins")
    def demo_logins_cmd():
        """Print one demo login per role (username, role, org unit) and the password."""
        from plugins.system.demo import DEMO_PASSWORD, demo_logins

        rows = demo_logins(db.session)
        if not rows:
            click.echo("no demo users: run `flask jixiao seed-demo` first", err=True)
            raise SystemExit(1)
        header = ("username", "role", "org unit")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(2)]
        for row in [header, *rows]:
            click.echo(f"  {row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}")
        click.echo(f"  password for every demo user: {DEMO_PASSWORD}")

    @group.command("plugins")
    def plugins_cmd():
        """List plugins: name, source, module and hooks (tab-separated); then disabled ones."""
        plugins = hooks()
        for info in plugins.describe():
            click.echo(f"{info.name}\t{info.source}\t{info.module}\t{', '.join(info.hooks)}")
        for name in plugins.disabled:
            click.echo(f"{name}\tdisabled")

    audit = AppGroup("audit", help="Audit log commands.")

    @audit.command("verify")
    def audit_verify():
        """Check the hash chain; exit 1 and name the first broken entry if any."""
        from core.services.audit_check import verify

        result = verify(db.session)
        if result.ok:
            click.echo(f"audit chain intact: {result.checked} entries")
            return
        click.echo(f"audit chain BROKEN at entry {result.broken_id}: {result.reason} "
                   f"({result.checked} entries verified before it)", err=True)
        raise SystemExit(1)

    group.add_command(audit)

    year = AppGroup("year", help="Fiscal year commands.")

    @year.command("open")
    @click.argument("number", type=click.IntRange(2000, 2100))
    def year_open(number: int):
        """Open a fiscal year from the one before (idempotent): deadlines, continuing
        projects' items, and what each stage carries (approved targets as drafts)."""
        from plugins.system.year_open import YearOpenError, open_year

        token = actor_var.set((None, "year-open"))
        try:
            opened = open_year(number)
            db.session.commit()
        except YearOpenError as exc:
            db.session.rollback()
            click.echo(str(exc), err=True)
            raise SystemExit(1) from None
        finally:
            actor_var.reset(token)
        click.echo(f"{number}: {'created' if opened.created else 'already existed'}, "
                   f"{opened.deadlines} deadlines and {opened.items} budget items carried")

    group.add_command(year)
    scheduler_cli.register(group)
    accounts_cli.register(group)
    org_cli.register(group)


def _sync() -> int:
    from core.permissions import sync_permissions

    token = actor_var.set((None, "system"))
    try:
        added = sync_permissions(db.session)
        db.session.commit()
    finally:
        actor_var.reset(token)
    return added

