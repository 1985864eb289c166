"""Serving the built-in algorithms' artifacts, answering as their AWS containers do.

``load_builtin(model_dir)`` loads what a training job left in ``model.tar.gz`` (a Lakeworks
manifest, or a bare SageMaker ``xgboost-model``; pickles are refused by the loader) and returns
the handler for it:

* XGBoost (:class:`XGBoostHandler`) is the lean path: CSV is parsed straight into a float32
  array, ``Booster.inplace_predict`` predicts without building a DMatrix, and the answer is
  the predictions comma-joined (``text/csv``, the container's default), or ``{"predictions":
  [{"score": ...}]}`` for JSON. One prediction thread per model server (an instance is a core).
* Every other algorithm (:class:`AlgorithmHandler`) answers its ``predict_records`` entries
  (``{"score", "predicted_label"}``, ``{"closest_cluster", "distance_to_cluster"}`` …) in JSON by
  default, as the first-party algorithms do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from lakeworks.core.errors import ValidationError
from lakeworks.hosting.handlers import Handler, Reply
from lakeworks.hosting.handlers.serialization import (
    CSV,
    JSON,
    JSONLINES,
    LIBSVM,
    NPY,
    RECORDIO,
    decode_csv,
    decode_features,
    encode_records,
    media_type,
    pick_accept,
)

__all__ = ["AlgorithmHandler", "XGBoostHandler", "load_builtin", "load_xgboost"]

#: The manifest built-in algorithms write, and XGBoost's model file (as SageMaker names it).
MANIFEST = "lakeworks-model.json"
XGBOOST_FILE = "xgboost-model"

#: What the first-party algorithms read and answer.
ALGORITHM_INPUTS = (CSV, JSON, JSONLINES, RECORDIO, NPY)
ALGORITHM_OUTPUTS = (JSON, JSONLINES, CSV, RECORDIO)
#: What the XGBoost container reads and answers.
XGBOOST_INPUTS = (CSV, LIBSVM, RECORDIO, JSON, JSONLINES, NPY)
XGBOOST_OUTPUTS = (CSV, JSON, JSONLINES, RECORDIO)


class XGBoostHandler:
    """XGBoost's lean path: parse → ``inplace_predict`` → format.

    Args:
        booster: The loaded booster.
        default_accept: Response type when none is asked for (``text/csv``).
        batch: Batch transform (``SAGEMAKER_BATCH``): CSV answers put one prediction per
            line, as SageMaker's XGBoost container does there, so each input line gets its own.
    """

    def __init__(
        self, booster: Any, default_accept: str | None = None, batch: bool = False
    ) -> None:
        self.booster = booster
        # One thread: a model server is one core, and threads cost more than one row takes.
        self.booster.set_param({"nthread": 1})
        self.n_features = int(booster.num_features())
        self.default_accept = default_accept or CSV
        self.separator = "\n" if batch else ","

    def _features(self, body: bytes, content_type: str | None) -> Any:
        kind = media_type(content_type) or CSV
        if kind == CSV:
            features: Any = decode_csv(body, dtype=np.float32)
        else:
            features = decode_features(body, content_type, XGBOOST_INPUTS)
        width = features.shape[1]
        if sp.issparse(features):
            if width > self.n_features:
                raise ValidationError(
                    f"Rows have {width} features; this model was trained on {self.n_features}"
                )
            features = sp.csr_matrix(features, shape=(features.shape[0], self.n_features))
        elif width != self.n_features:
            raise ValidationError(
                f"Rows have {width} features; this model was trained on {self.n_features}"
            )
        return features

    def invoke(
        self, body: bytes, content_type: str | None, accept: str | None, attributes: str | None
    ) -> Reply:
        """Predict every row of the body; answer in ``accept`` (CSV by default)."""
        wanted = pick_accept(accept, XGBOOST_OUTPUTS, self.default_accept)
        predictions = self.booster.inplace_predict(self._features(body, content_type))
        if wanted == CSV:
            if predictions.ndim == 1:
                text = self.separator.join(map(str, predictions.tolist()))
            else:
                text = "\n".join(",".join(map(str, row)) for row in predictions.tolist())
            return Reply(text.encode(), CSV, attributes)
        records = [{"score": value} for value in predictions.tolist()]
        return Reply(encode_records(records, wanted), wanted, attributes)


class AlgorithmHandler:
    """Any built-in algorithm through its ``predict_records``.

    Args:
        estimator: The loaded algorithm.
        default_accept: Response type when none is asked for (``application/json``).
    """

    def __init__(self, estimator: Any, default_accept: str | None = None) -> None:
        self.estimator = estimator
        self.default_accept = default_accept or JSON

    def invoke(
        self, body: bytes, content_type: str | None, accept: str | None, attributes: str | None
    ) -> Reply:
        """Predict every row of the body; answer the algorithm's records in ``accept``."""
        wanted = pick_accept(accept, ALGORITHM_OUTPUTS, self.default_accept)
        features = decode_features(body, content_type, ALGORITHM_INPUTS)
        records = self.estimator.predict_records(features)
        return Reply(encode_records(records, wanted), wanted, attributes)


def _xgboost_file(model_dir: Path) -> Path | None:
    """The booster file of an XGBoost artifact (bare SageMaker or Lakeworks manifest), if any."""
    manifest = model_dir / MANIFEST
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text())
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("algorithm") != "xgboost":
            return None
    path = model_dir / XGBOOST_FILE
    return path if path.is_file() else None


def load_xgboost(path: Path) -> Any:
    """Read a booster saved in XGBoost's own format (JSON/UBJSON); never a pickle.

    Raises:
        ValidationError: A pickled or unreadable file.
    """
    import xgboost as xgb

    raw = path.read_bytes()
    if raw[:1] == b"\x80":
        raise ValidationError(
            f"{path.name} is a pickled model; Lakeworks never unpickles artifacts. Save it with "
            "Booster.save_model (JSON or UBJSON) instead"
        )
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(raw))
    except xgb.core.XGBoostError as exc:
        raise ValidationError(f"{path.name} is not an XGBoost model ({exc})") from None
    return booster


def load_builtin(
    model_dir: Path,
    default_accept: str | None = None,
    algorithm: str | None = None,
    *,
    batch: bool = False,
) -> Handler:
    """Load a built-in algorithm's artifact from ``model_dir`` and return its handler.

    An XGBoost artifact behind an XGBoost image loads the booster directly (no algorithm
    framework to import, so the model server starts fast).

    Raises:
        ValidationError: Not a model directory, or a pickled artifact.
    """
    booster_file = _xgboost_file(model_dir) if algorithm == "xgboost" else None
    if booster_file is not None:
        return XGBoostHandler(load_xgboost(booster_file), default_accept, batch)
    from lakeworks.training.algorithms import load_model

    estimator = load_model(model_dir)
    if estimator.name == "xgboost":
        return XGBoostHandler(estimator.booster_, default_accept, batch)  # type: ignore[attr-defined]
    return AlgorithmHandler(estimator, default_accept)
