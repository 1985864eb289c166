"""``lakeworks env``: shell exports that point the SDK, boto3 and the aws CLI at Lakeworks.

``eval "$(lakeworks env)"`` and existing AWS code runs unchanged against the local server.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from lakeworks.cli.output import OutputFormat, OutputOption, emit
from lakeworks.cli.server import HomeOption, resolve_home
from lakeworks.core.errors import NotFound

__all__ = ["environment", "export_lines"]


def environment(home: Path, *, start: bool = True) -> dict[str, str]:
    """The variables for the local server under ``home`` (started first when ``start``).

    Raises:
        NotFound: No server runs there (and ``start`` is false), or it has no credentials file.
        ServerUnreachable: The server failed to start.
    """
    from lakeworks.sdk.client import aws_region
    from lakeworks.sdk.local import CREDENTIALS_FILE, find_server, read_credentials, start_server

    server = find_server(home)
    if server is None:
        if not start:
            raise NotFound(
                f"Lakeworks is not running under {home}; start it with "
                f"'lakeworks server start --home {home}' (or drop --no-start)"
            )
        server = start_server(home)
        typer.echo(f"Started Lakeworks at {server.url} (pid {server.pid})", err=True)
    credentials = read_credentials(home)
    if not credentials or not {"token", "access_key_id", "secret_access_key"} <= credentials.keys():
        raise NotFound(
            f"No admin credentials in {home / CREDENTIALS_FILE}: the server writes them on its "
            "first start; create new ones with 'lakeworks tokens create' and "
            "'lakeworks access-keys create'"
        )
    return {
        "LAKEWORKS_HOME": str(home),
        "LAKEWORKS_URL": server.url,
        "LAKEWORKS_TOKEN": credentials["token"],
        "AWS_ENDPOINT_URL": server.url,
        "AWS_ACCESS_KEY_ID": credentials["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": credentials["secret_access_key"],
        "AWS_DEFAULT_REGION": aws_region(home),
    }


def export_lines(variables: dict[str, str]) -> str:
    """``export NAME=value`` lines, each value quoted for POSIX shells."""
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in variables.items())


def env(
    home: HomeOption = None,
    start: Annotated[
        bool, typer.Option("--start/--no-start", help="Start the server if it is not running.")
    ] = True,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Print export lines for the local server: eval "$(lakeworks env)".

    Sets LAKEWORKS_URL/LAKEWORKS_TOKEN for the SDK and CLI, and AWS_ENDPOINT_URL, the admin's
    access key and AWS_DEFAULT_REGION for boto3 and the aws CLI. The output holds secrets:
    evaluate it, do not paste it into logs. --output json prints the same as an object.
    """
    variables = environment(resolve_home(home), start=start)
    emit(variables, output, export_lines(variables))
