"""SageMaker's container layout and script-mode contract, as pure functions.

A job's directory plays the part of ``/opt/ml`` in a SageMaker training container::

    input/config/hyperparameters.json   every value a string, as SageMaker writes them
    input/config/inputdataconfig.json   {channel: {ContentType, TrainingInputMode, ...}}
    input/config/resourceconfig.json    {"current_host": "algo-1", "hosts": ["algo-1"], ...}
    input/data/<channel>/               staged from the lake
    code/                               the user's sources; the entry point runs here
    model/                              packed into model.tar.gz after the job
    output/data/                        packed into output.tar.gz after the job
    output/failure                      a failing job's own explanation (its FailureReason)

The environment and command line follow the sagemaker-training toolkit's script mode
(``SM_MODEL_DIR``, ``SM_CHANNEL_<NAME>``, ``SM_HPS``, ``--key value`` arguments …), so scripts
written for SageMaker run unchanged. Nothing here touches the network, the database or the lake.
"""

from __future__ import annotations

import json
import re
import signal
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.jobs import JobCreate

__all__ = [
    "CURRENT_HOST",
    "JobPaths",
    "check_spec",
    "command",
    "create_layout",
    "decode_hyperparameters",
    "failure_reason",
    "input_data_config",
    "resource_config",
    "training_environment",
]

CURRENT_HOST = "algo-1"
#: SageMaker's limit on FailureReason.
MAX_REASON = 1024
MAX_HYPERPARAMETERS = 100
MAX_ENVIRONMENT = 100
_HP_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,255}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,511}$")
#: Variables the platform sets for every job; a job's ``environment`` may not replace them.
RESERVED_ENV = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "HOME",
        "TRAINING_JOB_NAME",
    }
)
RESERVED_ENV_PREFIXES = ("LAKEWORKS_", "SM_")


@dataclass(frozen=True)
class JobPaths:
    """The directories and files of one job's layout under ``root``."""

    root: Path

    @property
    def input_dir(self) -> Path:
        return self.root / "input"

    @property
    def config_dir(self) -> Path:
        return self.input_dir / "config"

    @property
    def data_dir(self) -> Path:
        return self.input_dir / "data"

    @property
    def code_dir(self) -> Path:
        return self.root / "code"

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.output_dir / "data"

    @property
    def intermediate_dir(self) -> Path:
        return self.output_dir / "intermediate"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    def channel_dir(self, channel: str) -> Path:
        """Where channel ``channel``'s data is staged."""
        return self.data_dir / channel


def check_spec(spec: JobCreate, *, require_code: bool = True) -> None:
    """Check what the schema alone cannot: entry point, hyperparameter and variable names.

    Args:
        spec: The job.
        require_code: Whether ``code_uri`` must be given (a registered job kind may run
            without one, e.g. a built-in algorithm).

    Raises:
        ValidationError: Naming the field, what was wrong and what is allowed.
    """
    if spec.code_uri is None and require_code:
        raise ValidationError(
            "code_uri is required: the s3:// URI of a .py file, a .tar.gz of sources or a prefix",
            details={"field": "code_uri"},
        )
    entry = PurePosixPath(spec.entry_point)
    if (
        entry.is_absolute()
        or "\\" in spec.entry_point
        or "\x00" in spec.entry_point
        or any(part in ("..", ".") for part in spec.entry_point.split("/"))
        or spec.entry_point.endswith("/")
    ):
        raise ValidationError(
            f"entry_point {spec.entry_point!r} must be a relative path inside the code "
            "(no leading '/', no '.' or '..' segments), e.g. 'train.py' or 'src/train.py'",
            details={"field": "entry_point"},
        )
    if len(spec.hyperparameters) > MAX_HYPERPARAMETERS:
        raise ValidationError(f"At most {MAX_HYPERPARAMETERS} hyperparameters are allowed")
    for name, value in spec.hyperparameters.items():
        if not _HP_NAME.match(name):
            raise ValidationError(
                f"Invalid hyperparameter name {name!r}: 1-256 letters, digits, '_', '.', '-', "
                "not starting with '.' or '-'",
                details={"field": "hyperparameters"},
            )
        if len(value) > 2500:
            raise ValidationError(f"Hyperparameter {name!r} is longer than 2500 characters")
    channels = [c.channel_name for c in spec.input_data_config]
    if len(set(channels)) != len(channels):
        raise ValidationError(f"Channel names must be unique, got {channels}")
    if len(spec.environment) > MAX_ENVIRONMENT:
        raise ValidationError(f"At most {MAX_ENVIRONMENT} environment variables are allowed")
    for name, value in spec.environment.items():
        if not _ENV_NAME.match(name):
            raise ValidationError(
                f"Invalid environment variable name {name!r}: letters, digits and '_', "
                "not starting with a digit",
                details={"field": "environment"},
            )
        if name in RESERVED_ENV or name.startswith(RESERVED_ENV_PREFIXES):
            raise ValidationError(
                f"Environment variable {name!r} is set by Lakeworks for every job; reserved: "
                f"{sorted(RESERVED_ENV)} and names starting with {list(RESERVED_ENV_PREFIXES)}",
                details={"field": "environment"},
            )
        if "\x00" in value or len(value) > 512:
            raise ValidationError(f"Environment variable {name!r}: up to 512 characters, no NUL")


def decode_hyperparameters(hyperparameters: dict[str, str]) -> dict[str, Any]:
    """Decode each value as JSON where it parses, else keep the string (the toolkit's rule)."""
    decoded: dict[str, Any] = {}
    for name, value in hyperparameters.items():
        try:
            decoded[name] = json.loads(value)
        except ValueError:
            decoded[name] = value
    return decoded


def input_data_config(spec: JobCreate) -> dict[str, dict[str, str]]:
    """The content of ``inputdataconfig.json``."""
    config: dict[str, dict[str, str]] = {}
    for channel in spec.input_data_config:
        entry = {
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        }
        if channel.content_type:
            entry["ContentType"] = channel.content_type
        if channel.compression_type != "None":
            entry["CompressionType"] = channel.compression_type
        config[channel.channel_name] = entry
    return config


def resource_config() -> dict[str, Any]:
    """The content of ``resourceconfig.json`` (one host)."""
    return {"current_host": CURRENT_HOST, "hosts": [CURRENT_HOST], "network_interface_name": "eth0"}


def create_layout(paths: JobPaths, spec: JobCreate) -> None:
    """Create the directories and write the three config files of ``spec``'s job."""
    for directory in (
        paths.config_dir,
        paths.data_dir,
        paths.model_dir,
        paths.output_data_dir,
        paths.intermediate_dir,
    ):
        directory.mkdir(parents=True, exist_ok=True)
    for channel in spec.input_data_config:
        paths.channel_dir(channel.channel_name).mkdir(exist_ok=True)
    files = {
        "hyperparameters.json": {k: str(v) for k, v in spec.hyperparameters.items()},
        "inputdataconfig.json": input_data_config(spec),
        "resourceconfig.json": resource_config(),
    }
    for name, content in files.items():
        (paths.config_dir / name).write_text(json.dumps(content, indent=2))


def _arg_value(raw: str, decoded: Any) -> str:
    return decoded if isinstance(decoded, str) else raw


def command(python: str, spec: JobCreate) -> list[str]:
    """``[python, entry_point, *arguments, --name value …]`` (hyperparameters sorted by name)."""
    decoded = decode_hyperparameters(spec.hyperparameters)
    argv = [python, spec.entry_point, *spec.arguments]
    for name in sorted(spec.hyperparameters):
        argv += [f"--{name}", _arg_value(spec.hyperparameters[name], decoded[name])]
    return argv


def training_environment(
    job_name: str, spec: JobCreate, paths: JobPaths, *, num_cpus: int
) -> dict[str, str]:
    """The ``SM_*`` variables of script mode, plus ``TRAINING_JOB_NAME``."""
    decoded = decode_hyperparameters(spec.hyperparameters)
    channels = [c.channel_name for c in spec.input_data_config]
    channel_dirs = {name: str(paths.channel_dir(name)) for name in channels}
    module_name = PurePosixPath(spec.entry_point).with_suffix("").as_posix().replace("/", ".")
    training_env: dict[str, Any] = {
        "additional_framework_parameters": {},
        "channel_input_dirs": channel_dirs,
        "current_host": CURRENT_HOST,
        "current_instance_type": spec.resource_config.instance_type,
        "framework_module": None,
        "hosts": [CURRENT_HOST],
        "hyperparameters": decoded,
        "input_config_dir": str(paths.config_dir),
        "input_data_config": input_data_config(spec),
        "input_dir": str(paths.input_dir),
        "is_master": True,
        "job_name": job_name,
        "log_level": 20,
        "master_hostname": CURRENT_HOST,
        "model_dir": str(paths.model_dir),
        "module_dir": spec.code_uri,
        "module_name": module_name,
        "network_interface_name": "eth0",
        "num_cpus": num_cpus,
        "num_gpus": 0,
        "output_data_dir": str(paths.output_data_dir),
        "output_dir": str(paths.output_dir),
        "output_intermediate_dir": str(paths.intermediate_dir),
        "resource_config": resource_config(),
        "user_entry_point": spec.entry_point,
    }
    env = {
        "TRAINING_JOB_NAME": job_name,
        "SM_TRAINING_ENV": json.dumps(training_env),
        "SM_HPS": json.dumps(decoded),
        "SM_CHANNELS": json.dumps(channels),
        "SM_HOSTS": json.dumps([CURRENT_HOST]),
        "SM_CURRENT_HOST": CURRENT_HOST,
        "SM_CURRENT_INSTANCE_TYPE": spec.resource_config.instance_type,
        "SM_IS_MASTER": "true",
        "SM_MASTER_ADDR": CURRENT_HOST,
        "SM_NETWORK_INTERFACE_NAME": "eth0",
        "SM_NUM_CPUS": str(num_cpus),
        "SM_NUM_GPUS": "0",
        "SM_LOG_LEVEL": "20",
        "SM_MODEL_DIR": str(paths.model_dir),
        "SM_INPUT_DIR": str(paths.input_dir),
        "SM_INPUT_CONFIG_DIR": str(paths.config_dir),
        "SM_INPUT_DATA_CONFIG": json.dumps(input_data_config(spec)),
        "SM_RESOURCE_CONFIG": json.dumps(resource_config()),
        "SM_OUTPUT_DIR": str(paths.output_dir),
        "SM_OUTPUT_DATA_DIR": str(paths.output_data_dir),
        "SM_OUTPUT_INTERMEDIATE_DIR": str(paths.intermediate_dir),
        "SM_MODULE_DIR": spec.code_uri or "",
        "SM_MODULE_NAME": module_name,
        "SM_USER_ENTRY_POINT": spec.entry_point,
        "SM_USER_ARGS": json.dumps(command("python", spec)[2:]),
        "SM_FRAMEWORK_MODULE": "",
        "SM_FRAMEWORK_PARAMS": "{}",
    }
    for name, directory in channel_dirs.items():
        env[f"SM_CHANNEL_{name.upper()}"] = directory
    for name, value in spec.hyperparameters.items():
        env[f"SM_HP_{name.upper()}"] = _arg_value(value, decoded[name])
    return env


#: Failure texts that already say which side failed, as SageMaker's algorithms write them.
_CLASSIFIED = ("ClientError:", "AlgorithmError:")


def _shorten(text: str, limit: int) -> str:
    """Keep the end of ``text`` (the last lines say most about a failure)."""
    return text if len(text) <= limit else "..." + text[-(limit - 3) :]


def _cause(exit_code: int) -> str:
    if exit_code < 0:
        try:
            return f"killed by signal {signal.Signals(-exit_code).name}"
        except ValueError:
            return f"killed by signal {-exit_code}"
    return f"exit code {exit_code}"


def failure_reason(exit_code: int, failure_text: str | None, log_tail: str) -> str:
    """The FailureReason of a job that exited with ``exit_code`` (not 0).

    The job's own ``output/failure`` text wins, as on SageMaker (kept as written, with how the
    process ended, when it starts with ``ClientError:`` or ``AlgorithmError:``); otherwise the
    last lines of its output. At most 1024 characters.
    """
    head = f"AlgorithmError: {_cause(exit_code)}"
    if failure_text and failure_text.strip().startswith(_CLASSIFIED):
        # The job classified its failure itself (a built-in algorithm's "ClientError: bad
        # hyperparameter"): keep its class, as SageMaker shows it, and add how it ended.
        detail = failure_text.strip()
        tail = f" ({_cause(exit_code)})"
        room = MAX_REASON - len(tail)
        return (detail if len(detail) <= room else detail[: room - 3] + "...") + tail
    if failure_text and failure_text.strip():
        detail = failure_text.strip()
    else:
        lines = [line for line in log_tail.splitlines() if line.strip()][-10:]
        detail = "last output:\n" + "\n".join(lines) if lines else "no output"
    return head + ": " + _shorten(detail, MAX_REASON - len(head) - 2)
