"""The ``lakeworks`` command.

Every command sits on the SDK. Errors the user can act on (every ``LakeworksError``, a job wait
that timed out) print one line on stderr and exit 1 — never a traceback. Modules here import only
typer and the standard library at load time, so ``lakeworks --help`` stays fast; httpx, rich
tables and pydantic load inside the command that needs them.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from lakeworks import __version__
from lakeworks.cli import (
    catalog,
    config,
    env,
    features,
    firehose,
    functions,
    hosting,
    iam,
    jobs,
    lake,
    lake_config,
    notifications,
    processing,
    profile,
    recipes,
    server,
    sql,
    training,
    transform,
    triggers,
)
from lakeworks.cli.output import print_error
from lakeworks.core.errors import LakeworksError

__all__ = ["app", "main"]

#: Exit code for errors the user can act on (bad input, unknown resource, no server …).
EXIT_ERROR = 1


class _Group(TyperGroup):
    """The root group: turns expected errors into a message and exit code 1."""

    # ``ctx`` is typer's vendored click Context, which typer does not export under a public name.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (LakeworksError, TimeoutError) as exc:
            message = exc.message if isinstance(exc, LakeworksError) else str(exc)
            print_error(message)
            raise typer.Exit(EXIT_ERROR) from None


app = typer.Typer(
    name="lakeworks",
    cls=_Group,
    help="Lakeworks: a self-hosted ML platform with an AWS-compatible front door.",
    no_args_is_help=True,
    add_completion=False,
    # Locals of a crashing frame can hold tokens and secrets: never print them.
    pretty_exceptions_show_locals=False,
)
app.add_typer(server.app, name="server")
app.command("env")(env.env)
app.add_typer(config.app, name="config")
app.add_typer(jobs.app, name="jobs")
app.add_typer(lake.app, name="lake")
lake.app.add_typer(lake_config.versioning_app, name="versioning")
lake.app.add_typer(lake_config.versions_app, name="versions")
lake.app.add_typer(lake_config.tags_app, name="tags")
lake.app.add_typer(lake_config.encryption_app, name="encryption")
lake.app.add_typer(lake_config.policy_app, name="policy")
lake.app.add_typer(lake_config.lifecycle_app, name="lifecycle")
app.add_typer(iam.tokens_app, name="tokens")
app.add_typer(iam.access_keys_app, name="access-keys")
app.command("whoami")(iam.whoami)
app.add_typer(recipes.app, name="recipes")
app.add_typer(processing.app, name="processing-jobs")
app.command("profile")(profile.profile)
app.add_typer(catalog.app, name="catalog")
app.add_typer(catalog.crawlers_app, name="crawlers")
app.command("sql")(sql.sql)
app.add_typer(training.training_app, name="training")
app.add_typer(training.tuning_app, name="tuning")
jobs.app.command("metrics")(training.metrics)
app.add_typer(functions.functions_app, name="functions")
app.add_typer(functions.etl_app, name="etl-jobs")
app.add_typer(triggers.app, name="triggers")
app.add_typer(hosting.models_app, name="models")
app.add_typer(hosting.endpoints_app, name="endpoints")
lake.app.add_typer(notifications.notifications_app, name="notifications")
app.add_typer(transform.app, name="transform-jobs")
app.add_typer(features.app, name="feature-groups")
app.add_typer(firehose.app, name="delivery-streams")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lakeworks {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Lakeworks: a self-hosted ML platform with an AWS-compatible front door.

    Commands reach the server named by LAKEWORKS_URL and LAKEWORKS_TOKEN, else the local server
    under LAKEWORKS_HOME (~/.lakeworks), starting it when needed. eval "$(lakeworks env)" sets
    both, and the AWS_* variables for boto3 and the aws CLI.
    """


def main() -> None:
    """Entry point of the ``lakeworks`` console script."""
    app()
