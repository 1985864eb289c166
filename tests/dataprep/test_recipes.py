"""Recipes: loading and checking, the book's wine pipeline, train/serve parity, diffs."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep import FittedRecipe, Recipe, diff_recipes, example_recipe, example_recipes

SIMPLE: dict[str, Any] = {
    "name": "simple",
    "version": 1,
    "steps": [
        {"transform": "impute", "columns": ["x"], "params": {"strategy": "mean"}},
        {"transform": "one_hot", "columns": ["cat"]},
        {"transform": "min_max", "columns": ["x", "y"]},
    ],
}


def hand_wine(df: pd.DataFrame, smoothing: float = 10.0, folds: int = 5) -> pd.DataFrame:
    """The wine recipe written by hand in pandas (the reference for fit_transform)."""
    df = df.copy()
    df["price"] = df["price"].fillna(df["price"].mean())
    df["designation"] = df["designation"].fillna("Unknown")
    df = df.drop(columns=["region_1", "region_2"])
    df = df.dropna(subset=["country", "points"])
    for column in ("designation", "winery"):
        counts = df[column].value_counts()
        df[column] = df[column].map(counts.rank(method="dense", ascending=False)).astype(float)
    # Out-of-fold target means, folds from default_rng(seed).permutation(n) % folds.
    fold = np.random.default_rng(0).permutation(len(df)) % folds
    variety, price = df["variety"].to_numpy(dtype=object), df["price"].to_numpy()
    encoded = np.empty(len(df))
    for f in range(folds):
        train = fold != f
        prior = price[train].mean()
        stats = pd.DataFrame({"v": variety[train], "p": price[train]}).groupby("v")["p"]
        table = (stats.sum() + smoothing * prior) / (stats.count() + smoothing)
        encoded[~train] = pd.Series(variety[~train]).map(table).fillna(prior).to_numpy()
    df["variety"] = encoded
    dummies = pd.get_dummies(df["country"], prefix="country", dtype="uint8")
    df = pd.concat([df.drop(columns="country"), dummies], axis=1)
    numeric = df.select_dtypes("number").columns
    low, high = df[numeric].min(), df[numeric].max()
    df[numeric] = (df[numeric] - low) / (high - low)
    return df


@pytest.fixture(scope="module")
def wine_fit(wine: pd.DataFrame) -> tuple[FittedRecipe, pd.DataFrame]:
    return example_recipe("wine").fit_transform(wine)


# -- the wine recipe ------------------------------------------------------------------------


def test_the_wine_recipe_ships() -> None:
    assert "wine" in example_recipes()
    recipe = example_recipe("wine")
    assert (recipe.name, recipe.version, len(recipe.steps)) == ("wine", 1, 8)
    with pytest.raises(ValidationError, match="available: \\['wine'\\]"):
        example_recipe("beer")


def test_wine_recipe_equals_hand_written_pandas(
    wine: pd.DataFrame, wine_fit: tuple[FittedRecipe, pd.DataFrame]
) -> None:
    _, ours = wine_fit
    expected = hand_wine(wine)
    assert sorted(ours.columns) == sorted(expected.columns)
    assert "province" in ours.columns
    assert "region_1" not in ours.columns
    pd.testing.assert_frame_equal(ours[expected.columns], expected, check_exact=False, rtol=1e-9)
    numeric = ours.select_dtypes("number")
    assert numeric.min().min() == 0.0
    assert numeric.max().max() == 1.0


def test_wine_recipe_on_the_canvas_sample(wine_canvas: pd.DataFrame) -> None:
    fitted, ours = example_recipe("wine").fit_transform(wine_canvas)
    expected = hand_wine(wine_canvas)
    pd.testing.assert_frame_equal(ours[expected.columns], expected, check_exact=False, rtol=1e-9)
    assert fitted.rows == len(expected) == 1998


def test_train_serve_parity_through_json(
    wine: pd.DataFrame, wine_fit: tuple[FittedRecipe, pd.DataFrame]
) -> None:
    fitted, _ = wine_fit
    text = fitted.to_json()
    loaded = FittedRecipe.from_json(text.encode())  # as read from a file or a request
    sample = wine.sample(500, random_state=3)
    in_process = fitted.transform(sample)
    pd.testing.assert_frame_equal(loaded.transform(sample), in_process)
    # Row by row (one-row requests) gives the same numbers as the batch.
    for position in (0, 17, 499):
        row = loaded.transform(sample.iloc[[position]])
        pd.testing.assert_frame_equal(row, in_process.iloc[[position]])
    # And through pyarrow.
    table = loaded.transform(pa.Table.from_pandas(sample, preserve_index=False))
    assert isinstance(table, pa.Table)
    pd.testing.assert_frame_equal(table.to_pandas(), in_process.reset_index(drop=True))


def test_fitted_artifact_carries_recipe_schema_and_state(
    wine_fit: tuple[FittedRecipe, pd.DataFrame],
) -> None:
    data = json.loads(wine_fit[0].to_json())
    assert data["format"] == "lakeworks.fitted-recipe"
    assert data["format_version"] == 1
    assert data["recipe"]["name"] == "wine"
    assert {"name": "price", "kind": "numeric", "dtype": "float64"} in data["input_schema"]
    assert [s["transform"] for s in data["steps"]][:2] == ["impute", "impute"]
    assert data["steps"][0]["state"]["fill_"]["price"] == pytest.approx(33.1234, abs=1e-4)
    assert data["rows"] == 144030


def test_serving_without_the_target_column(wine: pd.DataFrame) -> None:
    recipe = Recipe.from_dict(
        {
            "name": "no-target-at-serving",
            "version": 1,
            "steps": [
                {"transform": "target_encode", "columns": ["variety"],
                 "params": {"target": "price"}},
                {"transform": "drop_columns", "columns": ["price"]},
            ],
        }
    )  # fmt: skip
    fitted = recipe.fit(wine.dropna(subset=["price"]))
    out = fitted.transform(wine[["variety"]].head(3))
    assert list(out.columns) == ["variety"]


# -- checking recipes -----------------------------------------------------------------------


def test_round_trips_through_json_and_yaml() -> None:
    recipe = Recipe.from_dict(SIMPLE)
    assert Recipe.from_json(recipe.to_json()) == recipe
    assert Recipe.from_yaml(recipe.to_yaml()) == recipe
    assert Recipe.from_text(recipe.to_yaml()) == recipe
    assert recipe.to_dict()["format"] == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": 2}, "Unknown recipe format 2; this version of Lakeworks reads format 1"),
        ({"version": 0}, "'version' must be a whole number ≥ 1; got 0"),
        ({"version": "v1"}, "'version' must be a whole number"),
        ({"name": "bad name"}, "Invalid recipe name 'bad name'"),
        ({"steps": []}, "needs 'steps'"),
        ({"owner": "me"}, "Unknown recipe keys \\['owner'\\]; allowed keys"),
        ({"format": "lakeworks.fitted-recipe"}, "This is a fitted recipe, not a recipe"),
    ],
)
def test_bad_recipes_say_what_is_wrong(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        Recipe.from_dict({**SIMPLE, **change})
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"transform": "scale"}, "step 2 \\(scale\\): Unknown transform 'scale'; allowed"),
        (
            {"transform": "min_max", "params": {"range": [0, 1]}},
            "step 2 \\(min_max\\): .*no parameter 'range'; allowed parameters: "
            "\\['feature_range', 'clip'\\]",
        ),
        (
            {"transform": "impute", "params": {"strategy": "average"}},
            "step 2 \\(impute\\): parameter 'strategy' must be one of "
            "\\['mean', 'median', 'mode', 'constant'\\]",
        ),
        ({"transform": "min_max", "columns": "x"}, "'columns' must be a list"),
        ({"transform": "min_max", "colums": ["x"]}, "unknown step keys \\['colums'\\]"),
        ({"transform": "target_encode"}, "needs parameter 'target'"),
    ],
)
def test_bad_steps_are_named_by_position(step: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Recipe.from_dict({**SIMPLE, "steps": [SIMPLE["steps"][0], step]})


def test_bad_documents() -> None:
    with pytest.raises(ValidationError, match="not valid JSON"):
        Recipe.from_json("{nope")
    with pytest.raises(ValidationError, match="not valid YAML"):
        Recipe.from_yaml("steps: [unclosed")
    with pytest.raises(ValidationError, match="not UTF-8"):
        Recipe.from_text(b"\xff\xfe{}")
    with pytest.raises(ValidationError, match="must be an object"):
        Recipe.from_yaml("- just a list")


def test_missing_column_fails_before_any_step_runs(
    frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = Recipe.from_dict(
        {**SIMPLE, "steps": [*SIMPLE["steps"], {"transform": "log", "columns": ["pricee"]}]}
    )
    ran: list[str] = []
    from lakeworks.dataprep.transforms.base import Transform

    original = Transform.fit_transform
    monkeypatch.setattr(
        Transform, "fit_transform", lambda self, f: ran.append(self.name) or original(self, f)
    )
    with pytest.raises(ValidationError) as caught:
        recipe.fit(frame)
    assert ran == []
    message = caught.value.message
    assert message.startswith("step 4 (log): column 'pricee' not found; the data has columns")
    # The columns listed are those the data has at that step (after one-hot of 'cat').
    assert "'cat'" not in message
    assert "'text'" in message
    assert caught.value.details["step"] == 4


def test_scaling_text_fails_before_anything_runs(frame: pd.DataFrame) -> None:
    recipe = Recipe.from_dict(
        {**SIMPLE, "steps": [*SIMPLE["steps"], {"transform": "standardize", "columns": ["text"]}]}
    )
    with pytest.raises(
        ValidationError,
        match=r"step 4 \(standardize\): .*works on numeric or "
        "boolean columns; column 'text' is string",
    ):
        recipe.validate(frame)
    with pytest.raises(ValidationError, match="column 'text' is string"):
        recipe.fit(frame)


def test_validate_follows_columns_through_the_steps(frame: pd.DataFrame) -> None:
    schema = Recipe.from_dict(SIMPLE).validate(frame)
    assert "cat" not in schema.kinds
    assert schema.open == {"cat_": "numeric"}
    later = {**SIMPLE, "steps": [*SIMPLE["steps"], {"transform": "log", "columns": ["cat_red"]}]}
    Recipe.from_dict(later).validate({"x": "numeric", "y": "numeric", "cat": "string"})


def test_empty_dataset_is_a_clear_error(frame: pd.DataFrame) -> None:
    with pytest.raises(ValidationError, match="Cannot fit recipe 'simple' on an empty dataset"):
        Recipe.from_dict(SIMPLE).fit(frame.iloc[:0])
    drop_all = {
        "name": "drop-all",
        "version": 1,
        "steps": [
            {"transform": "drop_missing_rows", "columns": ["x"]},
            {"transform": "min_max", "columns": ["x"]},
        ],
    }
    empty_x = frame.assign(x=np.nan)
    with pytest.raises(ValidationError, match=r"step 2 \(min_max\): .*empty frame"):
        Recipe.from_dict(drop_all).fit(empty_x)


def test_serving_data_is_checked_first(frame: pd.DataFrame) -> None:
    fitted = Recipe.from_dict(SIMPLE).fit(frame)
    with pytest.raises(ValidationError, match="step 1 \\(impute\\): column 'x' not found"):
        fitted.transform(frame.drop(columns=["x"]))
    wrong = frame.assign(y=frame["text"])
    with pytest.raises(ValidationError, match=r"step 3 \(min_max\): .*column 'y' is string"):
        fitted.transform(wrong)


def test_fitted_artifact_problems() -> None:
    with pytest.raises(ValidationError, match="Not a fitted recipe"):
        FittedRecipe.from_dict(SIMPLE)
    with pytest.raises(ValidationError, match="Unknown fitted-recipe format version 9"):
        FittedRecipe.from_dict({"format": "lakeworks.fitted-recipe", "format_version": 9})


def test_fitted_steps_must_match_the_recipe(frame: pd.DataFrame) -> None:
    data = Recipe.from_dict(SIMPLE).fit(frame).to_dict()
    data["steps"][0]["params"]["strategy"] = "median"
    with pytest.raises(ValidationError, match="step 1 \\(impute\\): fitted step does not match"):
        FittedRecipe.from_dict(data)
    data = Recipe.from_dict(SIMPLE).fit(frame).to_dict()
    data["steps"][2]["state"] = None
    with pytest.raises(ValidationError, match="step 3 \\(min_max\\): fitted step has no state"):
        FittedRecipe.from_dict(data)


# -- diffs ----------------------------------------------------------------------------------


def test_diff_of_two_versions() -> None:
    old = example_recipe("wine").to_dict()
    new = json.loads(json.dumps(old))
    new["version"] = 2
    new["steps"][5]["params"]["smoothing"] = 20.0  # target-encode-variety
    new["steps"][6]["params"]["top_k"] = 10  # one-hot-country
    del new["steps"][2]  # drop-regions
    new["steps"].append({"name": "clip", "transform": "outliers", "params": {"action": "clip"}})
    changes = diff_recipes(old, new)
    assert changes[0] == {"change": "recipe_changed", "field": "version", "old": 1, "new": 2}
    kinds = [(c["change"], c.get("field"), c.get("index")) for c in changes[1:]]
    assert kinds == [
        ("step_removed", None, 3),
        ("step_changed", "params.smoothing", None),
        ("step_changed", "params.top_k", None),
        ("step_added", None, 8),
    ]
    smoothing = changes[2]
    assert (smoothing["old"], smoothing["new"], smoothing["index_a"], smoothing["index_b"]) == (
        10.0, 20.0, 6, 5
    )  # fmt: skip
    assert changes[3]["param"] == "added"
    assert diff_recipes(old, old) == []


def test_diff_without_step_names_aligns_by_transform_and_columns() -> None:
    a = Recipe.from_dict(SIMPLE)
    steps = [*SIMPLE["steps"]]
    steps.insert(1, {"transform": "log", "columns": ["y"]})
    steps[3] = {"transform": "min_max", "columns": ["x", "y"], "params": {"clip": True}}
    b = Recipe.from_dict({**SIMPLE, "steps": steps})
    changes = diff_recipes(a, b)
    assert [(c["change"], c.get("field")) for c in changes] == [
        ("step_added", None),
        ("step_changed", "params.clip"),
    ]
