"""``lakeworks config show``: every setting, its value and where the value came from."""

from __future__ import annotations

import typer

from lakeworks.cli.output import OutputFormat, OutputOption, emit_rows
from lakeworks.cli.server import HomeOption
from lakeworks.core.errors import ValidationError

__all__ = ["app"]

app = typer.Typer(help="Inspect the settings.", no_args_is_help=True)


@app.command()
def show(home: HomeOption = None, output: OutputOption = OutputFormat.table) -> None:
    """Show each setting with its value and source (argument, env, file or default).

    Secrets are masked. The precedence is: --home, environment (LAKEWORKS_SECTION_FIELD),
    <home>/lakeworks.toml, defaults.
    """
    import pydantic

    from lakeworks.core.settings import describe_settings, load_settings

    overrides = {"home": home.expanduser().resolve()} if home else {}
    try:
        settings = load_settings(**overrides)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ValidationError(f"Invalid settings: {problems}") from None
    except ValueError as exc:  # e.g. a malformed lakeworks.toml
        raise ValidationError(f"Invalid settings: {exc}") from None
    rows = describe_settings(settings, **overrides)
    emit_rows(
        rows,
        [("SETTING", "path"), ("VALUE", "value"), ("SOURCE", "source")],
        output,
    )
