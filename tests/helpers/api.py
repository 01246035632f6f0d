"""A program using the integration API through the Quart test client: a bearer token, JSON."""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass

from webchat.api import tokens
from webchat.models import User


@dataclass
class Answer:
    status: int
    json: object
    headers: object
    text: str


class ApiClient:
    def __init__(self, app, secret: str | None) -> None:
        self.client = app.test_client()
        self.secret = secret

    async def call(self, method: str, path: str, json=None, headers: dict | None = None,
                   data: bytes | None = None) -> Answer:
        fields = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        fields.update(headers or {})
        kwargs = {}
        if json is not None:
            kwargs["data"] = jsonlib.dumps(json).encode()
            fields.setdefault("Content-Type", "application/json")
        elif data is not None:
            kwargs["data"] = data
        response = await self.client.open(path, method=method, headers=fields, **kwargs)
        text = await response.get_data(as_text=True)
        try:
            body = jsonlib.loads(text) if text else None
        except ValueError:
            body = None
        return Answer(response.status_code, body, response.headers, text)

    async def get(self, path: str, **kwargs) -> Answer:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, json=None, **kwargs) -> Answer:
        return await self.call("POST", path, json, **kwargs)


async def token_for(username: str, scopes=("read", "post"), bot: str | None = None, **options) -> str:
    """A token of this person's (or of their bot, made if new), as the settings page makes them."""
    owner = await User.get(username_key=username.lower())
    account = None
    if bot:
        account = await tokens.bot_named(owner, bot) or await tokens.create_bot(owner, bot)
    made = await tokens.create(owner, options.get("name", "test"), list(scopes), options.get("expires"), account)
    return made.secret
