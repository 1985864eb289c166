"""Model handlers in process: built-in algorithms and script mode (inference.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from tests.hosting.support import LINEAR_INFERENCE

from lakeworks.core.errors import UnsupportedMediaType, ValidationError
from lakeworks.hosting.handlers.builtin import AlgorithmHandler, XGBoostHandler, load_builtin
from lakeworks.hosting.handlers.script import ScriptError, load_script
from lakeworks.training.algorithms import algorithm_class


def test_xgboost_csv_matches_inplace_predict(xgboost_dir: Path, booster: xgb.Booster) -> None:
    handler = load_builtin(xgboost_dir)
    assert isinstance(handler, XGBoostHandler)
    reply = handler.invoke(b"0.1,0.2,0.3,0.4\n0.5,0.5,0.5,0.5", "text/csv", None, "a=1")
    expected = booster.inplace_predict(np.array([[0.1, 0.2, 0.3, 0.4], [0.5] * 4], np.float32))
    assert reply.content_type == "text/csv"
    assert reply.custom_attributes == "a=1"
    assert [float(v) for v in reply.body.split(b",")] == pytest.approx(expected.tolist())


def test_xgboost_image_loads_the_booster_directly(xgboost_dir: Path) -> None:
    handler = load_builtin(xgboost_dir, algorithm="xgboost")
    assert isinstance(handler, XGBoostHandler)
    generic = load_builtin(xgboost_dir)
    body = b"0.3,0.3,0.3,0.3"
    assert handler.invoke(body, "text/csv", None, None) == generic.invoke(
        body, "text/csv", None, None
    )


def test_xgboost_json_answers_scores(xgboost_dir: Path) -> None:
    handler = load_builtin(xgboost_dir)
    reply = handler.invoke(b'{"instances": [[0.1, 0.2, 0.3, 0.4]]}', "application/json",
                           "application/json", None)  # fmt: skip
    predictions = json.loads(reply.body)["predictions"]
    assert list(predictions[0]) == ["score"]
    reply = handler.invoke(b"0.1,0.2,0.3,0.4", "text/csv", "application/jsonlines", None)
    assert list(json.loads(reply.body)) == ["score"]


def test_xgboost_wrong_feature_count_names_it(xgboost_dir: Path) -> None:
    handler = load_builtin(xgboost_dir)
    with pytest.raises(ValidationError, match="Rows have 3 features; this model was trained on 4"):
        handler.invoke(b"1,2,3", "text/csv", None, None)
    with pytest.raises(ValidationError, match="'x' is not a number"):
        handler.invoke(b"1,2,3,x", "text/csv", None, None)
    with pytest.raises(UnsupportedMediaType):
        handler.invoke(b"1,2,3,4", "image/png", None, None)


def test_a_pickled_xgboost_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "xgboost-model").write_bytes(b"\x80\x04\x95" + b"\x00" * 20)
    with pytest.raises(ValidationError, match="pickled"):
        load_builtin(tmp_path)
    with pytest.raises(ValidationError, match="pickled"):
        load_builtin(tmp_path, algorithm="xgboost")


def test_first_party_algorithm_answers_its_records(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    features = rng.random((60, 3))
    estimator = algorithm_class("kmeans").from_hyperparameters({"k": "2", "feature_dim": "3"})
    estimator.fit(features)
    estimator.save(tmp_path / "model")
    handler = load_builtin(tmp_path / "model")
    assert isinstance(handler, AlgorithmHandler)
    reply = handler.invoke(b"0.1,0.2,0.3\n0.9,0.9,0.9", "text/csv", None, None)
    assert reply.content_type == "application/json"
    records = json.loads(reply.body)["predictions"]
    assert set(records[0]) == {"closest_cluster", "distance_to_cluster"}
    csv = handler.invoke(b"0.1,0.2,0.3", "text/csv", "text/csv", None)
    assert len(csv.body.split(b",")) == 2
    with pytest.raises(ValidationError, match="features"):
        handler.invoke(b"0.1,0.2", "text/csv", None, None)


def _script_model(tmp_path: Path, source: str = LINEAR_INFERENCE) -> tuple[Path, Path]:
    model_dir = tmp_path / "model"
    (model_dir / "code").mkdir(parents=True)
    (model_dir / "coef.json").write_text(json.dumps({"coef": [1.0, 2.0], "intercept": 0.5}))
    (model_dir / "code" / "inference.py").write_text(source)
    return model_dir, model_dir / "code"


def test_script_mode_calls_model_input_predict_output(tmp_path: Path) -> None:
    model_dir, code_dir = _script_model(tmp_path)
    handler = load_script(model_dir, code_dir, "inference.py", module_name="t_inference_1")
    reply = handler.invoke(b"1,1\n2,0", "text/csv", "text/csv", None)
    assert reply.body == b"3.5\n2.5"
    assert reply.content_type == "text/csv"
    reply = handler.invoke(b'{"instances": [[0, 1]]}', "application/json", None, None)
    assert json.loads(reply.body) == {"predictions": [2.5]}


def test_script_mode_defaults_when_only_model_fn_is_given(tmp_path: Path) -> None:
    source = (
        "import json, os\nimport numpy as np\n"
        "class M:\n    def predict(self, x):\n        return np.asarray(x).sum(axis=1)\n"
        "def model_fn(model_dir):\n    return M()\n"
    )
    model_dir, code_dir = _script_model(tmp_path, source)
    handler = load_script(model_dir, code_dir, "inference.py", module_name="t_inference_2")
    assert handler.invoke(b"[[1, 2], [3, 4]]", "application/json", None, None).body == b"[3, 7]"
    assert handler.invoke(b"1,2\n3,4", "text/csv", "text/csv", None).body == b"3.0\n7.0"
    with pytest.raises(UnsupportedMediaType):
        handler.invoke(b"xx", "image/png", None, None)


def test_script_without_model_fn_or_missing_is_refused(tmp_path: Path) -> None:
    model_dir, code_dir = _script_model(tmp_path, "x = 1\n")
    with pytest.raises(ScriptError, match="model_fn"):
        load_script(model_dir, code_dir, "inference.py", module_name="t_inference_3")
    with pytest.raises(ScriptError, match="not in the model's code"):
        load_script(model_dir, code_dir, "other.py", module_name="t_inference_4")
    with pytest.raises(ScriptError, match="not in the model's code"):
        load_script(model_dir, code_dir, "../coef.json", module_name="t_inference_5")
