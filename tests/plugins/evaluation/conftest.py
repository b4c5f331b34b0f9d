from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import User


class TokenClient:
    """A test client that sends a personal API token with every request."""

    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def get(self, url, **kwargs):
        return self.client.get(url, headers=self.headers, **kwargs)

    def post(self, url, **kwargs):
        return self.client.post(url, headers=self.headers, **kwargs)


@pytest.fixture
def api_as(app):
    from core.tokens import create_token

    def make(username: str, the_app=None) -> TokenClient:
        target = the_app or app
        with target.app_context():
            user = db.session.scalar(select(User).where(User.username == username))
            plaintext, _row = create_token(user, "test")
            db.session.commit()
        return TokenClient(target.test_client(), {"Authorization": f"Bearer {plaintext}"})

    return make
