"""Public test helpers: temporary platforms, an in-process client, fakes.

Example::

    with temporary_server(tmp_path) as server:
        server.client.post("/api/v1/tokens", json={...})
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakeworks.core.settings import Settings, load_settings
from lakeworks.server.app import create_app
from lakeworks.server.platform import Platform

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

__all__ = ["InProcessServer", "credentials_of", "make_settings", "temporary_server"]


def make_settings(home: Path, **overrides: Any) -> Settings:
    """Settings for a throw-away home (SQLite and the lake under ``home``)."""
    return load_settings(home=home, **overrides)


def credentials_of(home: Path) -> dict[str, str]:
    """The admin credentials the first start wrote under ``home``."""
    data: dict[str, str] = json.loads((home / "credentials.json").read_text())
    return data


@dataclass
class InProcessServer:
    """A server running in this process, reached over ASGI (no socket)."""

    settings: Settings
    platform: Platform
    client: TestClient
    credentials: dict[str, str]

    @property
    def token(self) -> str:
        """The admin bearer token."""
        return self.credentials["token"]


@contextlib.contextmanager
def temporary_server(home: Path, **overrides: Any) -> Iterator[InProcessServer]:
    """Run the whole app in process with its lifespan; the client sends the admin token."""
    from fastapi.testclient import TestClient  # deferred: it warns on import (httpx2 nudge)

    settings = make_settings(home, **overrides)
    platform = Platform.open(settings)
    app = create_app(settings, platform)
    with TestClient(app, base_url="http://127.0.0.1:8600") as client:
        # a second server on a shared database finds the admin made elsewhere: no file here
        has_file = (settings.home / "credentials.json").exists()
        creds = credentials_of(settings.home) if has_file else {}
        if creds:
            client.headers["Authorization"] = f"Bearer {creds['token']}"
        yield InProcessServer(
            settings=settings, platform=platform, client=client, credentials=creds
        )
