"""Every registered transform honours the contract (the scikit-learn estimator rules and more).

Each transform needs an entry in SPECS: a working configuration on the small frame and a column
of a kind it must refuse. A new transform without one fails ``test_every_transform_has_a_spec``.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.transforms import (
    Transform,
    create_transform,
    describe_transforms,
    transform_names,
)

# name → (columns, params, a column of a kind the transform must refuse, or None)
SPECS: dict[str, tuple[list[str] | None, dict[str, Any], str | None]] = {
    "bin": (["x", "y"], {"n_bins": 4, "strategy": "quantile"}, "cat"),
    "box_cox": (["x"], {"standardize": True}, "cat"),
    "clean_text": (["text"], {}, "y"),
    "date_parts": (["when"], {"parts": ["year", "month", "weekday", "epoch"]}, "y"),
    "drop_columns": (["z"], {}, None),
    "drop_correlated": (["x", "y", "z"], {"threshold": 0.9}, "cat"),
    "drop_duplicate_rows": (["cat"], {}, "tokens"),
    "drop_missing_rows": (["x", "cat"], {"how": "any"}, None),
    "drop_sparse_columns": (None, {"max_missing": 0.01}, None),
    "frequency_encode": (["cat"], {"method": "rank"}, "tokens"),
    "impute": (["x"], {"strategy": "median"}, "cat"),
    "lemmatize": (["tokens"], {"pos": "auto"}, "text"),
    "log": (["x"], {"offset": 1.0}, "cat"),
    "min_max": (["x", "y"], {"feature_range": [-1, 1]}, "cat"),
    "ngrams": (["tokens"], {"n_min": 1, "n_max": 2}, "text"),
    "normalize": (["x", "y"], {"norm": "l1"}, "text"),
    "one_hot": (["cat"], {"top_k": 2}, "tokens"),
    "ordinal_encode": (["cat"], {}, "tokens"),
    "outliers": (["x", "y"], {"method": "zscore", "threshold": 2.0}, "cat"),
    "pca": (["y", "z"], {"n_components": 1}, "cat"),
    "remove_stopwords": (["tokens"], {"extra": ["wine"]}, "text"),
    "standardize": (["x", "y"], {}, "cat"),
    "stem": (["tokens"], {}, "text"),
    "target_encode": (["cat"], {"target": "target", "smoothing": 2.0}, "tokens"),
    "tfidf": (["text"], {"min_df": 1}, "y"),
    "tokenize": (["text"], {"strip_punctuation": False}, "y"),
    "yeo_johnson": (["y"], {}, "cat"),
}

NAMES = sorted(SPECS)


def build(name: str, columns: list[str] | None = None) -> Transform:
    spec_columns, params, _ = SPECS[name]
    return create_transform(name, spec_columns if columns is None else columns, params)


def test_every_transform_has_a_spec() -> None:
    assert transform_names() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_hyperparameters_are_explicit_and_stored_unchanged(name: str) -> None:
    columns, params, _ = SPECS[name]
    transform = create_transform(name, columns, params)
    signature = inspect.signature(type(transform).__init__)
    assert all(
        p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        for n, p in signature.parameters.items()
        if n != "self"
    ), "no *args/**kwargs: every hyperparameter is an explicit keyword"
    stored = transform.get_params()
    for key, value in params.items():
        assert stored[key] is value
    assert transform.columns == columns


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_and_learns_only_underscore_state(name: str, frame: pd.DataFrame) -> None:
    transform = build(name)
    before = dict(vars(transform))
    assert transform.fit(frame) is transform
    learned = {k for k in vars(transform) if k not in before}
    assert learned == {"columns_", *transform.state_keys}
    assert all(k.endswith("_") for k in learned)
    assert {k: v for k, v in vars(transform).items() if k in before} == before


@pytest.mark.parametrize("name", NAMES)
def test_transform_before_fit_is_a_clear_error(name: str, frame: pd.DataFrame) -> None:
    with pytest.raises(ValidationError, match=f"{name}.* is not fitted: call fit"):
        build(name).transform(frame)


@pytest.mark.parametrize("name", NAMES)
def test_json_round_trip_gives_identical_output(name: str, frame: pd.DataFrame) -> None:
    original = frame.copy()
    fitted = build(name).fit(frame)
    expected = fitted.transform(frame)
    pd.testing.assert_frame_equal(frame, original)  # the input is never changed
    text = fitted.to_json()
    assert "NaN" not in text
    clone = Transform.from_dict(json.loads(text))
    assert type(clone) is type(fitted)
    assert clone.get_params() == json.loads(json.dumps(fitted.get_params()))
    pd.testing.assert_frame_equal(clone.transform(frame), expected)


@pytest.mark.parametrize("name", NAMES)
def test_pyarrow_in_pyarrow_out(name: str, frame: pd.DataFrame) -> None:
    fitted = build(name).fit(frame)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    result = fitted.transform(table)
    assert isinstance(result, pa.Table)
    expected = pa.Table.from_pandas(fitted.transform(frame), preserve_index=False)
    assert result.column_names == expected.column_names
    assert result.to_pylist() == expected.to_pylist() or all(
        result.column(c).equals(expected.column(c)) for c in result.column_names
    )
    # Fitting on pyarrow learns the same state as fitting on pandas.
    assert build(name).fit(table).to_dict() == fitted.to_dict()


@pytest.mark.parametrize("name", NAMES)
def test_unknown_column_is_named_with_the_frame_columns(name: str, frame: pd.DataFrame) -> None:
    transform = build(name, ["no_such_column"])
    with pytest.raises(ValidationError) as caught:
        transform.fit(frame)
    message = caught.value.message
    assert "'no_such_column'" in message
    assert str(list(frame.columns)) in message
    assert caught.value.details["missing_columns"] == ["no_such_column"]


@pytest.mark.parametrize("name", [n for n in NAMES if SPECS[n][2] is not None])
def test_wrong_kind_fails_before_anything_runs(
    name: str, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = SPECS[name][2]
    assert wrong is not None
    transform = build(name, [wrong])

    def must_not_run(*args: object) -> None:
        raise AssertionError("fitting started although a column has the wrong kind")

    monkeypatch.setattr(transform, "_fit", must_not_run)
    with pytest.raises(ValidationError, match=f"column '{wrong}' is") as caught:
        transform.fit(frame)
    assert caught.value.status == 400
    assert caught.value.details["column"] == wrong


@pytest.mark.parametrize("name", NAMES)
def test_fitted_transform_checks_new_data_first(name: str, frame: pd.DataFrame) -> None:
    fitted = build(name).fit(frame)
    if not fitted.columns_:
        pytest.skip("selects no columns on this frame")
    missing = fitted.columns_[0]
    if name == "drop_columns":
        # The one exception: a column already gone needs no dropping (a target at serving).
        assert missing not in fitted.transform(frame.drop(columns=[missing])).columns
        return
    with pytest.raises(ValidationError, match=f"'{missing}' not found"):
        fitted.transform(frame.drop(columns=[missing]))


@pytest.mark.parametrize("name", NAMES)
def test_empty_frame_cannot_be_fitted(name: str, frame: pd.DataFrame) -> None:
    with pytest.raises(ValidationError, match="empty frame"):
        build(name).fit(frame.iloc[:0])


@pytest.mark.parametrize("name", NAMES)
def test_unknown_parameter_lists_the_allowed_ones(name: str) -> None:
    with pytest.raises(ValidationError, match="has no parameter 'bogus'; allowed parameters"):
        create_transform(name, SPECS[name][0], {"bogus": 1})


def test_unknown_transform_lists_the_registry() -> None:
    with pytest.raises(ValidationError, match="Unknown transform 'scale'; allowed") as caught:
        create_transform("scale", ["x"])
    assert caught.value.details["allowed"] == NAMES


def test_refitting_starts_from_the_parameters(frame: pd.DataFrame) -> None:
    transform = create_transform("min_max")  # all numeric columns
    transform.fit(frame[["x", "y"]])
    transform.fit(frame)
    assert transform.columns_ == ["x", "y", "z", "target"]


def test_state_must_match_the_transform(frame: pd.DataFrame) -> None:
    data = create_transform("min_max", ["x"]).fit(frame).to_dict()
    del data["state"]["max_"]
    with pytest.raises(ValidationError, match=r"missing \['max_'\]"):
        Transform.from_dict(data)


def test_column_names_must_be_unique_strings(frame: pd.DataFrame) -> None:
    with pytest.raises(ValidationError, match="Column names must be strings; got \\[0, 1\\]"):
        create_transform("min_max").fit(pd.DataFrame([[1.0, 2.0]]))
    twice = pd.concat([frame[["x"]], frame[["x"]]], axis=1)
    with pytest.raises(ValidationError, match="repeated: \\['x'\\]"):
        create_transform("min_max").fit(twice)


def test_describe_transforms_lists_every_parameter() -> None:
    described = {d["name"]: d for d in describe_transforms()}
    assert sorted(described) == NAMES
    target = {p["name"]: p for p in described["target_encode"]["params"]}
    assert target["target"]["required"] is True
    assert target["smoothing"] == {"name": "smoothing", "default": 1.0, "required": False}
    assert described["min_max"]["accepts"] == ["numeric", "boolean"]
    assert described["min_max"]["summary"].startswith("Scale numeric columns")
