"""Run the server process: ``python -m lakeworks.server [--home DIR] [--host H] [--port P]``.

The process writes ``<home>/server.json`` (pid, url) once it listens and removes it on exit, so
``lakeworks server status|stop`` and the SDK find it.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import signal
import socket
from pathlib import Path
from typing import Any

import uvicorn

from lakeworks.core.settings import Settings, load_settings
from lakeworks.iam.secrets import write_private_file
from lakeworks.server.app import create_app

__all__ = ["SERVER_FILE", "main", "serve"]

SERVER_FILE = "server.json"
log = logging.getLogger("lakeworks.server")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def serve(settings: Settings) -> None:
    """Serve until interrupted. Binds the configured host (loopback by default)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not _is_loopback(settings.server.host) and settings.server.tls_certfile is None:
        log.warning(
            "!!! Listening on %s WITHOUT TLS: tokens and signatures cross the network in "
            "clear. Set server.tls_certfile/tls_keyfile or bind 127.0.0.1. !!!",
            settings.server.host,
        )
    sock = socket.socket(
        socket.AF_INET6 if ":" in settings.server.host else socket.AF_INET, socket.SOCK_STREAM
    )
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.server.host, settings.server.port))
    port = sock.getsockname()[1]
    if port != settings.server.port:  # port 0: the kernel chose one
        settings = settings.model_copy(
            update={"server": settings.server.model_copy(update={"port": port})}
        )
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        ssl_certfile=str(settings.server.tls_certfile) if settings.server.tls_certfile else None,
        ssl_keyfile=str(settings.server.tls_keyfile) if settings.server.tls_keyfile else None,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    state_file = settings.home / SERVER_FILE
    info: dict[str, Any] = {"pid": os.getpid(), "url": settings.public_url, "port": port}
    write_private_file(state_file, json.dumps(info).encode())
    log.info("Lakeworks listening on %s (home %s)", settings.public_url, settings.home)
    # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into a clean exit so the
    # finally below removes server.json and the exit status is 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        server.run(sockets=[sock])
    finally:
        try:
            if json.loads(state_file.read_text()).get("pid") == os.getpid():
                state_file.unlink()
        except (OSError, ValueError):
            pass


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m lakeworks.server")
    parser.add_argument("--home", type=Path)
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.home:
        overrides["home"] = args.home
    server: dict[str, Any] = {}
    if args.host:
        server["host"] = args.host
    if args.port is not None:
        server["port"] = args.port
    if server:
        overrides["server"] = server
    serve(load_settings(**overrides))
