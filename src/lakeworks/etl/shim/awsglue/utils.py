"""``getResolvedOptions`` as AWS Glue provides it to Python-shell jobs.

Glue passes job arguments as ``--name value`` pairs; ``getResolvedOptions(sys.argv, ["name"])``
returns ``{"name": value}`` (and ``JOB_NAME``/``JOB_RUN_ID`` etc. when asked for) and exits
with an error naming a missing argument, as Glue's does.
"""

from __future__ import annotations

import argparse

__all__ = ["GlueArgumentError", "getResolvedOptions"]


class GlueArgumentError(Exception):
    """A required job argument is missing."""


def getResolvedOptions(args: list[str], options: list[str]) -> dict[str, str]:  # noqa: N802
    """The values of ``options`` among ``args`` (``--name value`` or ``--name=value``).

    Raises:
        GlueArgumentError: An option is missing.
    """
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for option in options:
        parser.add_argument(f"--{option}", dest=option)
    known, _ = parser.parse_known_args(args[1:])
    values = vars(known)
    missing = [name for name in options if values.get(name) is None]
    if missing:
        raise GlueArgumentError(f"argument --{missing[0]} is required")
    return {name: str(values[name]) for name in options}
