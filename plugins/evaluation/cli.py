"""``flask jixiao evaluation create|score --year Y``: self-evaluations of a whole year."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from core.audit import actor_var
from core.extensions import db

ACTOR = (None, "cli:evaluation")


def register(group: AppGroup) -> None:
    evaluation = AppGroup("evaluation", help="Self-evaluations (单位自评).")

    @evaluation.command("create")
    @click.option("--year", type=int, required=True, help="Fiscal year.")
    def create_cmd(year: int):
        """Create the missing self-evaluations of YEAR from the approved targets."""
        from plugins.evaluation.service import create_for_year

        token = actor_var.set(ACTOR)
        try:
            created = create_for_year(year)
            db.session.commit()
        finally:
            actor_var.reset(token)
        click.echo(f"{created} self-evaluations created for {year}")

    @evaluation.command("score")
    @click.option("--year", type=int, required=True, help="Fiscal year.")
    def score_cmd(year: int):
        """Score every self-evaluation of YEAR that has its actual values (not finalized ones)."""
        from plugins.evaluation.year import score_year

        token = actor_var.set(ACTOR)
        try:
            scored, failed = score_year(year)
            db.session.commit()
        finally:
            actor_var.reset(token)
        click.echo(f"{scored} self-evaluations scored for {year}")
        for ev_id, problems in failed[:20]:
            click.echo(f"  #{ev_id}: " + "; ".join(str(p) for p in problems), err=True)
        if failed:
            click.echo(f"{len(failed)} could not be scored", err=True)
            raise SystemExit(1)

    group.add_command(evaluation)
