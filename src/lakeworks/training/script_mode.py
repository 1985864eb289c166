"""Script mode: the contract of SageMaker's framework estimators, and the in-job launcher.

A framework estimator (``SKLearn``, ``XGBoost``, ``PyTorch`` …) uploads the user's source
directory as ``sourcedir.tar.gz`` and creates a training job whose image is the framework's and
whose hyperparameters carry, JSON-encoded, the script and the sources::

    {"sagemaker_program": "\\"train.py\\"",
     "sagemaker_submit_directory": "\\"s3://bucket/job/source/sourcedir.tar.gz\\"",
     "sagemaker_container_log_level": "20", "sagemaker_region": "\\"us-east-1\\"",
     "max_depth": "5", "kernel": "\\"rbf\\""}

The sagemaker-training toolkit in the container decodes every value as JSON (keeping the string
when it does not parse), keeps the ``sagemaker_*`` ones for itself and runs
``python train.py --kernel rbf --max_depth 5`` (names sorted, values by its ``to_cmd_args``
rule) with ``SM_HPS``, ``SM_USER_ARGS`` … describing the same. :func:`split_hyperparameters`,
:func:`to_cmd_args` and :func:`script_environment` do exactly that here.

The launcher (``python -m lakeworks.training.script_mode [--note TEXT]... [--show FILE] --
COMMAND...``) runs inside the job: it prints Lakeworks' notes (a GPU type trained on CPU, an
input mode staged as files, the requirements install log) into the job's log, then replaces
itself with the command. It imports only the standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

__all__ = [
    "FRAMEWORKS",
    "Framework",
    "ScriptHyperparameters",
    "decode_value",
    "framework_for_repository",
    "main",
    "script_environment",
    "split_hyperparameters",
    "to_cmd_args",
]

PROGRAM = "sagemaker_program"
SUBMIT_DIRECTORY = "sagemaker_submit_directory"


@dataclass(frozen=True)
class Framework:
    """A framework image family and what running its scripts needs here."""

    name: str
    display: str
    #: Modules that must be importable in the server's Python.
    modules: tuple[str, ...]
    #: The ``lakeworks[<extra>]`` that installs them, or None when always installed.
    extra: str | None


_SKLEARN = Framework("sklearn", "scikit-learn", ("sklearn",), None)
_XGBOOST = Framework("xgboost", "XGBoost", ("xgboost",), None)
_PYTORCH = Framework("pytorch", "PyTorch", ("torch",), "pytorch")
_TENSORFLOW = Framework("tensorflow", "TensorFlow", ("tensorflow",), "tensorflow")
_HUGGINGFACE = Framework("huggingface", "Hugging Face", ("transformers", "torch"), "huggingface")

#: Image repository name → framework (the names ``sagemaker.image_uris.retrieve`` returns).
FRAMEWORKS: dict[str, Framework] = {
    "sagemaker-scikit-learn": _SKLEARN,
    "scikit-learn": _SKLEARN,
    "sklearn": _SKLEARN,
    "sagemaker-xgboost": _XGBOOST,
    "xgboost": _XGBOOST,
    "pytorch-training": _PYTORCH,
    "sagemaker-pytorch": _PYTORCH,
    "pytorch": _PYTORCH,
    "tensorflow-training": _TENSORFLOW,
    "sagemaker-tensorflow": _TENSORFLOW,
    "sagemaker-tensorflow-scriptmode": _TENSORFLOW,
    "tensorflow": _TENSORFLOW,
    "huggingface-pytorch-training": _HUGGINGFACE,
    "huggingface-tensorflow-training": _HUGGINGFACE,
    "huggingface": _HUGGINGFACE,
}


def framework_for_repository(repository: str) -> Framework | None:
    """The framework of an image repository (its last path segment counts), if any."""
    name = repository.lower()
    return FRAMEWORKS.get(name) or FRAMEWORKS.get(name.rsplit("/", 1)[-1])


def decode_value(raw: str) -> Any:
    """The toolkit's rule: a value is JSON if it parses, else the string itself."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


@dataclass(frozen=True)
class ScriptHyperparameters:
    """A script-mode job's hyperparameters, split the way the toolkit splits them."""

    program: str
    submit_directory: str | None
    #: The user's hyperparameters, decoded (what SM_HPS holds and the script receives).
    user: dict[str, Any]
    #: The ``sagemaker_*`` ones, decoded (SM_FRAMEWORK_PARAMS).
    framework: dict[str, Any]


def split_hyperparameters(hyperparameters: Mapping[str, str]) -> ScriptHyperparameters | None:
    """Split a job's hyperparameters; None when it names no ``sagemaker_program`` (no script)."""
    if PROGRAM not in hyperparameters:
        return None
    decoded = {name: decode_value(value) for name, value in hyperparameters.items()}
    framework = {k: v for k, v in decoded.items() if k.startswith("sagemaker_")}
    user = {k: v for k, v in decoded.items() if not k.startswith("sagemaker_")}
    submit = framework.get(SUBMIT_DIRECTORY)
    return ScriptHyperparameters(
        program=str(framework[PROGRAM]),
        submit_directory=str(submit) if submit not in (None, "") else None,
        user=user,
        framework=framework,
    )


def _arg_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in sorted(value.items()))
    if value is None:
        return ""
    return str(value)


def to_cmd_args(hyperparameters: Mapping[str, Any]) -> list[str]:
    """``--name value`` pairs, names sorted, values as the sagemaker-training toolkit writes
    them (``str()`` of the decoded value; a dict as ``k=v,k=v``)."""
    args: list[str] = []
    for name in sorted(hyperparameters):
        args += [f"--{name}", _arg_value(hyperparameters[name])]
    return args


def script_environment(
    base: Mapping[str, str],
    hps: ScriptHyperparameters,
    *,
    num_gpus: int,
    num_cpus: int,
) -> dict[str, str]:
    """The ``SM_*`` variables that differ from a plain job's for a framework script.

    Args:
        base: The plain job's script-mode variables (``SM_TRAINING_ENV`` among them).
        hps: The split hyperparameters.
        num_gpus: GPUs the job may use here.
        num_cpus: CPUs the job is told it has.
    """
    module_name = PurePosixPath(hps.program).with_suffix("").as_posix().replace("/", ".")
    args = to_cmd_args(hps.user)
    training_env: dict[str, Any] = json.loads(base.get("SM_TRAINING_ENV", "{}"))
    training_env.update(
        hyperparameters=hps.user,
        additional_framework_parameters=hps.framework,
        module_dir=hps.submit_directory,
        module_name=module_name,
        user_entry_point=hps.program,
        num_gpus=num_gpus,
        num_cpus=num_cpus,
    )
    env = {
        "SM_TRAINING_ENV": json.dumps(training_env),
        "SM_HPS": json.dumps(hps.user),
        "SM_USER_ARGS": json.dumps(args),
        "SM_FRAMEWORK_PARAMS": json.dumps(hps.framework),
        "SM_MODULE_DIR": hps.submit_directory or "",
        "SM_MODULE_NAME": module_name,
        "SM_USER_ENTRY_POINT": hps.program,
        "SM_NUM_GPUS": str(num_gpus),
        "SM_NUM_CPUS": str(num_cpus),
        "SM_LOG_LEVEL": str(hps.framework.get("sagemaker_container_log_level", 20)),
    }
    for name, value in hps.user.items():
        env[f"SM_HP_{name.upper()}"] = _arg_value(value)
    return env


# -- the launcher, inside the job --------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Print the notes, show the files, then ``exec`` the command after ``--``.

    Returns:
        Only on a usage error (2) or when the command cannot be started (127); otherwise the
        process becomes the command.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if "--" not in args:
        print(
            "usage: python -m lakeworks.training.script_mode [--note TEXT]... -- CMD",
            file=sys.stderr,
        )
        return 2
    split = args.index("--")
    parser = argparse.ArgumentParser(prog="python -m lakeworks.training.script_mode")
    parser.add_argument("--note", action="append", default=[])
    parser.add_argument("--show", action="append", default=[])
    options = parser.parse_args(args[:split])
    command = args[split + 1 :]
    if not command:
        print("no command after '--'", file=sys.stderr)
        return 2
    for path in options.show:
        try:
            with open(path, encoding="utf-8", errors="replace") as file:
                sys.stdout.write(file.read())
        except OSError as exc:
            print(f"[lakeworks] cannot show {path}: {exc}")
    for note in options.note:
        print(f"[lakeworks] {note}")
    sys.stdout.flush()
    try:
        os.execv(command[0], command)  # noqa: S606 - the job's own command, no shell
    except OSError as exc:
        print(f"[lakeworks] cannot start {command[0]!r}: {exc}", file=sys.stderr)
        return 127
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
