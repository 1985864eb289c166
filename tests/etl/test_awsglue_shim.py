"""Lakeworks' ``awsglue.utils.getResolvedOptions`` reads arguments as Glue passes them."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from lakeworks.etl.kind import SHIM_DIR, glue_argv


def _utils() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shim_utils", SHIM_DIR / "awsglue" / "utils.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_resolves_glue_arguments() -> None:
    argv = [
        "script.py",
        *glue_argv("job", "jr_1", {"--s3_input_dataset": "s3://b/k.csv", "x": "1"}),
    ]
    options = _utils().getResolvedOptions(argv, ["JOB_NAME", "s3_input_dataset", "x"])
    assert options == {"JOB_NAME": "job", "s3_input_dataset": "s3://b/k.csv", "x": "1"}


def test_missing_argument_is_named() -> None:
    utils = _utils()
    with pytest.raises(utils.GlueArgumentError, match="--needed"):
        utils.getResolvedOptions([sys.argv[0]], ["needed"])
