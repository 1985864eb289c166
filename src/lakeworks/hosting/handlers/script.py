"""Script mode: ``inference.py`` with the functions SageMaker's framework containers call.

The contract is the SageMaker inference toolkit's (scikit-learn, XGBoost, PyTorch containers):

``model_fn(model_dir)``
    Load the model from the extracted artifact. Required: Lakeworks has no framework-specific
    default (and never unpickles an artifact on its own).
``input_fn(input_data, content_type)``
    Request body → model input. ``input_data`` is ``str`` for ``text/csv`` and
    ``application/json`` (as the scikit-learn container passes it) and ``bytes`` otherwise.
    Default: JSON → ``numpy.array``, CSV → 2-D float array, NPY → the array.
``predict_fn(input_object, model)``
    Default: ``model.predict(input_object)``, or ``model(input_object)`` for a callable.
``output_fn(prediction, accept)``
    Prediction → body (``str``/``bytes``), or ``(body, content_type)``. Default: JSON, CSV or
    NPY of ``numpy.asarray(prediction)``.
``transform_fn(model, input_data, content_type, accept)``
    Replaces the last three when defined.

``accept`` is the request's Accept, or ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``, or
``application/json``. The script's directory is put first on ``sys.path`` so it can import its
own modules. Exceptions other than Lakeworks' 4xx errors become a 500 with their message.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from lakeworks.core.errors import UnsupportedMediaType, ValidationError
from lakeworks.hosting.handlers import Reply
from lakeworks.hosting.handlers.serialization import (
    CSV,
    JSON,
    NPY,
    decode_csv,
    decode_features,
    encode_array,
    media_type,
)

__all__ = ["ScriptError", "ScriptHandler", "load_script"]

#: Content types handed to input_fn as text (the scikit-learn container's UTF8_TYPES).
TEXT_TYPES = frozenset({CSV, JSON})


class ScriptError(Exception):
    """``inference.py`` cannot be used (missing, fails to import, lacks ``model_fn``)."""


def default_input_fn(input_data: str | bytes, content_type: str) -> Any:
    """Decode JSON, CSV or NPY into a numpy array (the containers' default decoder)."""
    kind = media_type(content_type)
    raw = input_data.encode() if isinstance(input_data, str) else input_data
    if kind == JSON:
        try:
            return np.array(json.loads(raw))
        except ValueError as exc:
            raise ValidationError(f"The body is not valid JSON: {exc}") from None
    if kind == CSV:
        return decode_csv(raw)
    if kind == NPY:
        return decode_features(raw, kind, (NPY,))
    raise UnsupportedMediaType(
        f"Content type {content_type!r} is not supported by the default input_fn; supported: "
        f"{JSON}, {CSV}, {NPY} (define input_fn in inference.py for others)"
    )


def default_predict_fn(data: Any, model: Any) -> Any:
    """``model.predict(data)``, or ``model(data)`` for a plain callable."""
    if hasattr(model, "predict"):
        return model.predict(data)
    if callable(model):
        return model(data)
    raise ScriptError("The model has no predict method and is not callable; define predict_fn")


def default_output_fn(prediction: Any, accept: str) -> tuple[bytes, str]:
    """Encode as JSON, CSV or NPY."""
    kind = media_type(accept)
    return encode_array(prediction, kind), kind


def _import(program: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, program)
    if spec is None or spec.loader is None:
        raise ScriptError(f"Cannot import {program.name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


class ScriptHandler:
    """Calls the functions of one ``inference.py``.

    Args:
        module: The imported script.
        model: What its ``model_fn`` returned.
        default_accept: Response type when a request names none.
    """

    def __init__(self, module: ModuleType, model: Any, default_accept: str) -> None:
        self.model = model
        self.default_accept = default_accept
        self.transform_fn: Callable[..., Any] | None = getattr(module, "transform_fn", None)
        self.input_fn: Callable[..., Any] = getattr(module, "input_fn", default_input_fn)
        self.predict_fn: Callable[..., Any] = getattr(module, "predict_fn", default_predict_fn)
        self.output_fn: Callable[..., Any] = getattr(module, "output_fn", default_output_fn)

    def invoke(
        self, body: bytes, content_type: str | None, accept: str | None, attributes: str | None
    ) -> Reply:
        """Run the script's functions on one request."""
        kind = content_type or JSON
        wanted = accept if accept and media_type(accept) not in ("*/*", "") else None
        wanted = wanted or self.default_accept
        data: str | bytes = body
        if media_type(kind) in TEXT_TYPES:
            try:
                data = body.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError(f"The {media_type(kind)} body is not UTF-8 text") from None
        if self.transform_fn is not None:
            result = self.transform_fn(self.model, data, kind, wanted)
        else:
            result = self.output_fn(self.predict_fn(self.input_fn(data, kind), self.model), wanted)
        return _reply(result, wanted, attributes)


def _reply(result: Any, accept: str, attributes: str | None) -> Reply:
    content_type = media_type(accept) or JSON
    if isinstance(result, tuple) and len(result) == 2:
        result, content_type = result
    if isinstance(result, str):
        result = result.encode()
    if not isinstance(result, bytes | bytearray):
        # Frameworks' Response objects expose their body as get_data() or .body.
        getter = getattr(result, "get_data", None)
        result = getter() if callable(getter) else getattr(result, "body", None)
        if isinstance(result, str):
            result = result.encode()
        if not isinstance(result, bytes | bytearray):
            raise ScriptError("output_fn must return str, bytes or (body, content_type)")
    return Reply(bytes(result), str(content_type), attributes)


def load_script(
    model_dir: Path,
    code_dir: Path,
    program: str,
    *,
    module_name: str = "inference",
    default_accept: str | None = None,
) -> ScriptHandler:
    """Import ``code_dir/program`` and load the model with its ``model_fn(model_dir)``.

    Raises:
        ScriptError: The script is missing, lacks ``model_fn`` or ``model_fn`` takes no argument.
    """
    path = (code_dir / program).resolve()
    if not path.is_relative_to(code_dir.resolve()) or not path.is_file():
        raise ScriptError(
            f"The inference script {program!r} is not in the model's code (set "
            "SAGEMAKER_PROGRAM to a file inside SAGEMAKER_SUBMIT_DIRECTORY or model.tar.gz/code/)"
        )
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    module = _import(path, module_name)
    model_fn = getattr(module, "model_fn", None)
    if model_fn is None:
        raise ScriptError(
            f"{program} defines no model_fn(model_dir); Lakeworks needs it to load the model"
        )
    if len(inspect.signature(model_fn).parameters) == 0:
        raise ScriptError(f"model_fn in {program} must take the model directory")
    model = model_fn(str(model_dir))
    return ScriptHandler(module, model, default_accept or JSON)
