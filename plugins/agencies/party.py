"""The commissioning party's rows as the agency side reaches them (portal, API, work logs).

An engagement's budget items, its files and its commissioning party's name belong
to the party's org unit, outside an agency user's row scope. Code that has already
read the engagement (or work log) through the caller's scope reads and writes
those rows in ``party_rows()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from core.scope import unscoped


@contextmanager
def party_rows() -> Iterator[Session]:
    """A session for the party's rows of an engagement the caller has already seen."""
    # an agency user's scope holds no org unit, so the party's rows lie outside it
    with unscoped() as session:
        yield session
