"""One suite run on every built-in algorithm: the estimator contract, hyperparameter checking,
learning, artifacts, metrics and input formats."""

from __future__ import annotations

import inspect
import io
import json
import math
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.training import entrypoint
from lakeworks.training.algorithms import ALGORITHMS, NotFittedError, algorithm_class, load_model
from lakeworks.training.algorithms.base import MANIFEST
from lakeworks.training.algorithms.hyperparameters import REQUIRED, Float, Integer
from lakeworks.training.formats import ContentType, read_channel
from lakeworks.training.metrics import MetricLog, extract_metrics, read_metrics_file

NAMES = sorted(ALGORITHMS)


@pytest.mark.parametrize("name", NAMES)
def test_constructor_takes_exactly_the_aws_hyperparameters(name: str) -> None:
    cls = algorithm_class(name)
    signature = inspect.signature(cls.__init__)
    parameters = {p.name: p for p in signature.parameters.values() if p.name != "self"}
    assert list(parameters) == [p.attr for p in cls.spec.params] or set(parameters) == {
        p.attr for p in cls.spec.params
    }
    for param in cls.spec.params:
        given = parameters[param.attr]
        assert given.kind is inspect.Parameter.KEYWORD_ONLY
        if param.default is REQUIRED:
            assert given.default is inspect.Parameter.empty, param.name
        else:
            assert given.default == param.default, param.name


@pytest.mark.parametrize("name", NAMES)
def test_hyperparameters_are_stored_unchanged(name: str, cases: Callable[[str], Any]) -> None:
    case = cases(name)
    cls = algorithm_class(name)
    model = cls.from_hyperparameters(case.hyperparameters)
    params = model.get_params()
    assert set(params) == set(cls.spec.names)
    for key, value in case.hyperparameters.items():
        assert params[key] == cls.spec.convert(cls.spec[key], value)
    # Defaults are the AWS defaults, untouched ("auto" stays "auto").
    for param in cls.spec.params:
        if param.name not in case.hyperparameters:
            assert params[param.name] == param.default


@pytest.mark.parametrize("name", NAMES)
def test_unknown_hyperparameter_is_named_with_the_allowed_ones(
    name: str, cases: Callable[[str], Any]
) -> None:
    cls = algorithm_class(name)
    with pytest.raises(ValidationError) as caught:
        cls.from_hyperparameters({**cases(name).hyperparameters, "num_trees_typo": "3"})
    assert "'num_trees_typo'" in caught.value.message
    assert caught.value.details["hyperparameter"] == "num_trees_typo"
    assert sorted(cls.spec.names) == caught.value.details["allowed"]
    assert caught.value.status == 400


def _numeric(name: str) -> Integer | Float:
    cls = algorithm_class(name)
    for param in cls.spec.params:
        if isinstance(param, Integer | Float) and param.low is not None:
            return param
    raise AssertionError(f"{name} has no bounded numeric hyperparameter")


@pytest.mark.parametrize("name", NAMES)
def test_wrong_type_is_rejected_with_the_expected_type(
    name: str, cases: Callable[[str], Any]
) -> None:
    param = _numeric(name)
    with pytest.raises(ValidationError) as caught:
        algorithm_class(name).from_hyperparameters(
            {**cases(name).hyperparameters, param.name: "not-a-number"}
        )
    message = caught.value.message
    assert repr(param.name) in message
    assert "'not-a-number'" in message
    assert ("an integer" if isinstance(param, Integer) else "a number") in message


@pytest.mark.parametrize("name", NAMES)
def test_out_of_range_is_rejected_with_the_range(name: str, cases: Callable[[str], Any]) -> None:
    param = _numeric(name)
    assert param.low is not None
    below = param.low - 1
    with pytest.raises(ValidationError) as caught:
        algorithm_class(name).from_hyperparameters(
            {**cases(name).hyperparameters, param.name: str(below)}
        )
    assert param.describe() in caught.value.message
    assert caught.value.details["allowed"] == param.describe()


@pytest.mark.parametrize("name", NAMES)
def test_missing_required_hyperparameters_are_named(name: str, cases: Callable[[str], Any]) -> None:
    cls = algorithm_class(name)
    required = [p.name for p in cls.spec.params if p.required]
    if not required:
        cls.from_hyperparameters({})  # all optional: the defaults must be valid on their own
        return
    for missing in required:
        given = {k: v for k, v in cases(name).hyperparameters.items() if k != missing}
        with pytest.raises(ValidationError, match=f"Missing required hyperparameter '{missing}'"):
            cls.from_hyperparameters(given)


@pytest.mark.parametrize("name", NAMES)
def test_fit_beats_a_trivial_baseline(name: str, trained: Any) -> None:
    result = trained.get(name)
    case = result.case
    error, baseline = case.quality(result.model.predict(case.X_test), case.y_test)
    assert error < baseline, f"{name}: error {error} not below the baseline {baseline}"
    learned = [attr for attr in vars(result.model) if attr.endswith("_") and attr != "lambda_"]
    assert learned, "learned state ends in '_'"
    assert (
        result.model.get_params()
        == algorithm_class(name).from_hyperparameters(case.hyperparameters).get_params()
    ), "fit must not change the hyperparameters"


@pytest.mark.parametrize("name", NAMES)
def test_artifact_round_trip_gives_the_same_predictions(
    name: str, trained: Any, tmp_path: Path
) -> None:
    result = trained.get(name)
    result.model.save(tmp_path)
    loaded = load_model(tmp_path)
    assert type(loaded) is type(result.model)
    X = result.case.X_test
    np.testing.assert_array_equal(loaded.predict(X), result.model.predict(X))
    assert loaded.predict_records(X[:5]) == result.model.predict_records(X[:5])
    assert json.loads(json.dumps(loaded.predict_records(X[:5]))) == loaded.predict_records(X[:5])
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["algorithm"] == name
    assert set(manifest["hyperparameters"]) == set(algorithm_class(name).spec.names)


def _pickle_free(data: bytes, where: str) -> None:
    # Pickle protocols 2-5 start with PROTO (0x80) and the protocol number.
    assert not (data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")), where


@pytest.mark.parametrize("name", NAMES)
def test_artifact_holds_no_pickle(name: str, trained: Any, tmp_path: Path) -> None:
    trained.get(name).model.save(tmp_path)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert files
    for path in files:
        data = path.read_bytes()
        _pickle_free(data, str(path))
        if path.suffix == ".npz":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    raw = archive.read(member)
                    _pickle_free(raw, f"{path}:{member}")
                    stream = io.BytesIO(raw)
                    version = np.lib.format.read_magic(stream)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    _shape, _fortran, dtype = read_header(stream)
                    assert not np.dtype(dtype).hasobject, f"{path}:{member} holds objects"
            with np.load(path, allow_pickle=False) as arrays:
                for key in arrays.files:
                    arrays[key]  # loads without pickle
        elif path.suffix == ".json":
            json.loads(data)


@pytest.mark.parametrize("name", NAMES)
def test_metrics_carry_aws_names_and_match_the_published_regexes(name: str, trained: Any) -> None:
    result = trained.get(name)
    definitions = algorithm_class(name).metric_definitions()
    published = {d.name for d in definitions}
    if name == "pca":  # SageMaker's PCA publishes no metrics
        assert not definitions
        assert not result.final_metrics
        return
    assert result.final_metrics, f"{name} reported no final metrics"
    assert set(result.final_metrics) <= published
    found = extract_metrics(result.log, definitions)
    for metric, value in result.final_metrics.items():
        assert metric in found, f"no log line for {metric}"
        assert math.isclose(found[metric], value, rel_tol=1e-3, abs_tol=1e-5), metric


@pytest.mark.parametrize("name", NAMES)
def test_every_input_format_gives_the_same_matrix(
    name: str, cases: Callable[[str], Any], encoder: Callable[..., bytes], tmp_path: Path
) -> None:
    cls = algorithm_class(name)
    case = cases(name)
    X, y = case.X[:50], (case.y[:50] if case.y is not None else None)
    for content_type in cls.content_types:
        directory = tmp_path / content_type.replace("/", "_")
        directory.mkdir()
        (directory / "part").write_bytes(encoder(content_type, X, y))
        label_size = 1 if y is not None else 0
        data = read_channel(
            directory,
            channel="train",
            content_type=ContentType(content_type),
            label_size=label_size,
        )
        np.testing.assert_array_equal(data.dense(), X, err_msg=content_type)
        if y is None:
            assert data.labels is None
        else:
            assert data.labels is not None
            np.testing.assert_array_equal(data.labels, y, err_msg=content_type)


@pytest.mark.parametrize("name", NAMES)
def test_prediction_input_is_checked(name: str, trained: Any) -> None:
    model = trained.get(name).model
    X = trained.get(name).case.X_test
    with pytest.raises(ValidationError, match="features"):
        model.predict(np.hstack([X, X[:, :1]]))
    with pytest.raises(NotFittedError):
        algorithm_class(name).from_hyperparameters(trained.get(name).case.hyperparameters).predict(
            X
        )


@pytest.mark.parametrize("name", NAMES)
def test_entrypoint_trains_saves_and_reports(
    name: str, trained: Any, job_factory: Callable[..., Path]
) -> None:
    case = trained.get(name).case
    channels = {"train": (case.X, case.y)}
    for channel in case.channels:
        channels[channel] = (case.X_test, case.y_test)
    # Unsupervised algorithms read CSV without a label unless the channel says label_size=1.
    config = {
        channel: {"ContentType": "text/csv;label_size=1" if y is not None else "text/csv"}
        for channel, (_x, y) in channels.items()
    }
    root = job_factory(case.hyperparameters, channels, config=config)
    log = MetricLog(io.StringIO())
    entrypoint.run(name, entrypoint.JobDirs.resolve({}, root, root), log)
    model = load_model(root / "model")
    # CSV carries floats exactly (repr), so the job learns what fitting in memory learned.
    np.testing.assert_allclose(
        model.predict(case.X_test), trained.get(name).model.predict(case.X_test), rtol=1e-9
    )
    assert read_metrics_file(root / "output") == log.final_metrics
    assert set(log.final_metrics) <= {d.name for d in algorithm_class(name).metric_definitions()}


SDK_HYPERPARAMETERS = json.loads(
    (Path(__file__).parent / "data" / "sagemaker_sdk_hyperparameters.json").read_text()
)


@pytest.mark.parametrize("name", sorted(SDK_HYPERPARAMETERS))
def test_what_the_sagemaker_sdk_sends_is_accepted_and_trains(name: str) -> None:
    # Recorded from sagemaker 2.257's first-party estimators' hyperparameters() (the strings a
    # CreateTrainingJob call carries), including extras such as k-means' force_dense.
    hyperparameters = SDK_HYPERPARAMETERS[name]
    model = algorithm_class(name).from_hyperparameters(hyperparameters)
    dim = int(hyperparameters["feature_dim"])
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, dim))
    y = (X[:, 0] > 0).astype(np.float64) if model.supervised else None
    model.fit(X, y, log=MetricLog(io.StringIO()))
    assert len(model.predict_records(X[:3])) == 3
