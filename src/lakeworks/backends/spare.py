"""A spare process: ``python -m lakeworks.backends.spare <ready> <hide> <module> [preload ...]``.

Started by the local backend's spare pool (:mod:`lakeworks.backends.local_spares`) under the
job wrapper, with an environment that holds nothing of the server's. It

1. imports ``module`` and the ``preload`` modules (the slow part of any start: numpy, XGBoost,
   the model handlers …) with the comma-separated ``hide`` modules hidden (``sys.modules[name]
   = None``, what the service itself does on its fast path; ``-`` for none), and writes
   ``<ready>``;
2. waits on its standard input, a pipe from the server, for one assignment: a JSON line
   ``{"args": [...], "cwd": "...", "env": {...}}``. End of input (the server closed the pipe,
   or died) ends the spare;
3. once assigned, never reads the pipe again: it moves to ``cwd``, replaces its whole
   environment with ``env`` and runs ``module`` as ``python -m module *args`` would, until that
   ends. A spare serves one assignment, then exits with the module's code.

Runs inside the job's environment: it imports only the standard library and what it is told to
preload, never the database or the server (see the import-linter contract).
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import sys
from pathlib import Path

__all__ = ["main"]


def _say(message: str) -> None:
    print(f"[lakeworks] {message}", file=sys.stderr, flush=True)


def _preload(modules: list[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:  # an optional extra that is not installed
            _say(f"spare: cannot preload {name}: {exc}")


def _assignment() -> dict[str, object] | None:
    """Read the one assignment line; None at the end of input."""
    line = sys.stdin.buffer.readline()
    if not line.strip():
        return None
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("an assignment is a JSON object")
    return data


def main(argv: list[str] | None = None) -> int:
    """Preload, wait for an assignment, run it (see the module docstring).

    Returns:
        0 when the pipe closed unassigned, 2 on a usage error; otherwise the module's exit.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3:
        print("usage: python -m lakeworks.backends.spare <ready> <hide> <module> [preload ...]")
        return 2
    ready, hide, module, preload = Path(args[0]), args[1], args[2], args[3:]
    for name in hide.split(","):
        if name and name != "-":
            sys.modules[name] = None  # type: ignore[assignment]
    _preload([module, *preload])
    ready.write_text(str(os.getpid()))
    task = _assignment()
    if task is None:
        return 0
    # Never read the pipe again: a spare serves one assignment.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    env = task["env"]
    task_args = task["args"]
    if not isinstance(env, dict) or not isinstance(task_args, list):
        raise ValueError("an assignment has env (an object) and args (a list)")
    os.chdir(str(task["cwd"]))
    # The service's own environment and nothing else (os.environ also updates the C one).
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in env.items()})
    sys.argv = [module, *(str(a) for a in task_args)]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
