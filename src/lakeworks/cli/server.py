"""``lakeworks server start|stop|status``: the local server under a home directory.

Also the one place where the CLI decides which server a command talks to (:func:`connect`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lakeworks.cli.output import OutputFormat, OutputOption, emit

if TYPE_CHECKING:
    from lakeworks.sdk.client import Client

__all__ = ["EXIT_NOT_RUNNING", "HomeOption", "app", "connect", "resolve_home"]

#: Exit code of ``server status`` when no server runs (like ``systemctl status``'s 3).
EXIT_NOT_RUNNING = 3

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="State directory of the server (default: $LAKEWORKS_HOME or ~/.lakeworks).",
        show_default=False,
    ),
]

app = typer.Typer(help="Start, stop and inspect the local Lakeworks server.", no_args_is_help=True)


def resolve_home(home: Path | None) -> Path:
    """``home``, else the default home, as an absolute path."""
    if home is None:
        from lakeworks.core.settings import default_home

        home = default_home()
    return home.expanduser().resolve()


def connect() -> Client:
    """The client data commands use: ``LAKEWORKS_URL``/``LAKEWORKS_TOKEN`` if set, else the
    local server under ``LAKEWORKS_HOME`` (started if needed) — the SDK's own resolution.

    Starting a server is said on stderr, so nobody is left wondering what now listens.
    """
    from lakeworks.sdk.client import Client

    if not os.environ.get("LAKEWORKS_URL"):
        from lakeworks.sdk.local import start_server

        home = resolve_home(None)
        server = start_server(home)
        if server.started:
            typer.echo(
                f"Started Lakeworks at {server.url} (home {home}); "
                "stop it with 'lakeworks server stop'",
                err=True,
            )
    return Client()


@app.command()
def start(
    home: HomeOption = None,
    host: Annotated[
        str | None,
        typer.Option(help="Interface to bind (default: setting server.host, 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="TCP port; 0 picks a free one (default: server.port, 8600)."
        ),
    ] = None,
    foreground: Annotated[
        bool, typer.Option("--foreground", help="Run in this terminal until Ctrl-C.")
    ] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Start the server in the background (logs in <home>/server.log); wait until it answers."""
    from lakeworks.sdk.local import LOG_FILE, find_server, server_command, start_server

    home = resolve_home(home)
    running = find_server(home)
    if running is None and foreground:
        argv = server_command(home, host, port)
        sys.stdout.flush()
        sys.stderr.flush()
        # Become the server: signals (Ctrl-C, SIGTERM) reach it directly, no wrapper process.
        os.execv(argv[0], argv)  # noqa: S606 - fixed argv, no shell
    server = running or start_server(home, host=host, port=port)
    state = "started" if server.started else "already running"
    emit(
        {**server.to_dict(), "started": server.started, "log": str(home / LOG_FILE)},
        output,
        f"Lakeworks {state} at {server.url} (pid {server.pid}, home {home})",
    )


@app.command()
def stop(
    home: HomeOption = None,
    timeout: Annotated[
        float, typer.Option(min=0, help="Seconds to wait after SIGTERM before SIGKILL.")
    ] = 20.0,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Stop the server: SIGTERM, then SIGKILL if it has not exited after --timeout."""
    from lakeworks.sdk.local import stop_server

    home = resolve_home(home)
    server = stop_server(home, timeout=timeout)
    if server is None:
        emit(
            {"stopped": False, "home": str(home)},
            output,
            f"Lakeworks is not running under {home}",
        )
        return
    emit(
        {"stopped": True, "home": str(home), "pid": server.pid, "url": server.url},
        output,
        f"Lakeworks stopped (pid {server.pid}, {server.url})",
    )


@app.command()
def status(home: HomeOption = None, output: OutputOption = OutputFormat.table) -> None:
    """Say whether the server runs, with its pid and URL; exit code 3 when it does not."""
    from lakeworks.sdk.local import find_server

    home = resolve_home(home)
    server = find_server(home)
    if server is None:
        emit(
            {"running": False, "home": str(home)}, output, f"Lakeworks is not running under {home}"
        )
        raise typer.Exit(EXIT_NOT_RUNNING)
    emit(
        server.to_dict(),
        output,
        f"Lakeworks is running at {server.url} (pid {server.pid}, home {home})",
    )
