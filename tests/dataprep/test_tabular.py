"""Tabular transforms against reference computations (scikit-learn, scipy, pandas by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import cluster, decomposition, preprocessing

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.transforms import create_transform
from lakeworks.dataprep.transforms.decompose import correlation_matrix
from lakeworks.dataprep.transforms.power import box_cox_lambda, yeo_johnson_lambda
from lakeworks.dataprep.transforms.target import fold_ids


def numbers(n: int = 400, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.lognormal(1.0, 0.7, n),
            "b": rng.normal(5, 2, n),
            "c": rng.exponential(3.0, n) - 1.0,
            "d": rng.integers(0, 10, n).astype(float),
        }
    )


# -- imputation -----------------------------------------------------------------------------


def test_impute_statistics(frame: pd.DataFrame) -> None:
    for strategy, expected in (
        ("mean", frame["x"].mean()),
        ("median", frame["x"].median()),
    ):
        out = create_transform("impute", ["x"], {"strategy": strategy}).fit_transform(frame)
        assert out["x"].iloc[3] == pytest.approx(expected)
        assert out["x"].notna().all()
    mode = create_transform("impute", ["cat"], {"strategy": "mode"}).fit_transform(frame)
    assert mode["cat"].iloc[5] == frame["cat"].mode().iloc[0]


def test_impute_constant_must_suit_the_column(frame: pd.DataFrame) -> None:
    out = create_transform(
        "impute", ["cat"], {"strategy": "constant", "value": "Unknown"}
    ).fit_transform(frame)
    assert out["cat"].iloc[5] == "Unknown"
    with pytest.raises(ValidationError, match="does not suit numeric column 'x'"):
        create_transform("impute", ["x"], {"strategy": "constant", "value": "n/a"}).fit(frame)
    with pytest.raises(ValidationError, match="needs a scalar 'value'"):
        create_transform("impute", ["x"], {"strategy": "constant"})


def test_impute_per_group_falls_back_to_the_overall_statistic() -> None:
    df = pd.DataFrame(
        {
            "variety": ["red", "red", "white", "white", "rose", "red"],
            "price": [10.0, np.nan, 30.0, np.nan, np.nan, 20.0],
        }
    )
    fitted = create_transform("impute", ["price"], {"strategy": "mean", "group_by": "variety"})
    out = fitted.fit_transform(df)
    assert out["price"].tolist() == [10.0, 15.0, 30.0, 30.0, 20.0, 20.0]
    unseen = pd.DataFrame({"variety": ["orange"], "price": [np.nan]})
    assert fitted.transform(unseen)["price"].tolist() == [20.0]


# -- encodings ------------------------------------------------------------------------------


def test_frequency_encodings() -> None:
    df = pd.DataFrame({"c": ["a", "b", "a", "c", "b", "a", None, "d"]})
    counts = create_transform("frequency_encode", ["c"], {"method": "count"}).fit(df)
    assert counts.transform(df)["c"].tolist()[:6] == [3, 2, 3, 1, 2, 3]
    share = create_transform("frequency_encode", ["c"], {"method": "frequency"}).fit(df)
    assert share.transform(df)["c"].iloc[0] == pytest.approx(3 / 7)
    rank = create_transform("frequency_encode", ["c"], {"method": "rank"}).fit(df)
    out = rank.transform(df)["c"]
    # Dense rank by count: a (3) → 1, b (2) → 2, c and d (1) → 3; missing stays missing.
    assert out.tolist()[:6] == [1, 2, 1, 3, 2, 1]
    assert np.isnan(out.iloc[6])
    assert out.iloc[7] == 3
    new = pd.DataFrame({"c": ["zzz", "a"]})
    assert rank.transform(new)["c"].tolist() == [4.0, 1.0]  # unseen: one past the last rank
    assert counts.transform(new)["c"].tolist() == [0.0, 3.0]


def test_one_hot_top_k_and_unknowns() -> None:
    df = pd.DataFrame({"c": ["a", "b", "a", "c", "b", "a"], "n": range(6)})
    fitted = create_transform("one_hot", ["c"], {"top_k": 2}).fit(df)
    out = fitted.transform(df)
    assert list(out.columns) == ["c_a", "c_b", "c_other", "n"]  # in place of the column
    assert out["c_other"].tolist() == [0, 0, 0, 1, 0, 0]
    new = pd.DataFrame({"c": ["zzz", "c", None], "n": [1, 2, 3]})
    ignored = fitted.transform(new)
    assert ignored[["c_a", "c_b", "c_other"]].to_numpy().tolist() == [
        [0, 0, 0],
        [0, 0, 1],
        [0, 0, 0],
    ]
    other = create_transform("one_hot", ["c"], {"handle_unknown": "other"}).fit(df)
    assert other.transform(new)["c_other"].tolist() == [1, 0, 0]
    strict = create_transform("one_hot", ["c"], {"handle_unknown": "error"}).fit(df)
    with pytest.raises(ValidationError, match=r"not seen when fitting: \['zzz'\]"):
        strict.transform(new)


def test_one_hot_matches_pandas_get_dummies(wine_canvas: pd.DataFrame) -> None:
    out = create_transform("one_hot", ["country"]).fit_transform(wine_canvas)
    dummies = pd.get_dummies(wine_canvas["country"], prefix="country", dtype="uint8")
    pd.testing.assert_frame_equal(out[list(dummies.columns)], dummies)


def test_ordinal_encode_with_a_given_order() -> None:
    df = pd.DataFrame({"size": ["M", "S", "L", None, "M"]})
    fitted = create_transform(
        "ordinal_encode", ["size"], {"categories": {"size": ["S", "M", "L"]}}
    ).fit(df)
    assert fitted.transform(df)["size"].tolist()[:3] == [1.0, 0.0, 2.0]
    with pytest.raises(ValidationError, match=r"outside its order: \['XL'\]"):
        fitted.transform(pd.DataFrame({"size": ["XL"]}))
    lenient = create_transform(
        "ordinal_encode", ["size"], {"handle_unknown": "value", "unknown_value": -1.0}
    ).fit(df)
    assert lenient.transform(pd.DataFrame({"size": ["XL", "L"]}))["size"].tolist() == [-1.0, 0.0]


def test_target_encoding_out_of_fold_by_hand(frame: pd.DataFrame) -> None:
    m, folds = 2.0, 4
    transform = create_transform(
        "target_encode", ["cat"], {"target": "target", "smoothing": m, "folds": folds, "seed": 7}
    )
    encoded = transform.fit_transform(frame)["cat"].to_numpy()
    fold = fold_ids(len(frame), folds, 7)
    cat, y = frame["cat"].to_numpy(dtype=object), frame["target"].to_numpy()
    for i in range(len(frame)):
        train = fold != fold[i]
        prior = y[train].mean()
        same = train & (cat == cat[i]) if cat[i] is not None else np.zeros(len(y), bool)
        expected = (y[same].sum() + m * prior) / (same.sum() + m)
        assert encoded[i] == pytest.approx(expected)
    # transform() on new data uses the statistics of the whole training frame.
    full = transform.transform(pd.DataFrame({"cat": ["red", "unseen"]}))["cat"].tolist()
    red = y[cat == "red"]
    assert full[0] == pytest.approx((red.sum() + m * y.mean()) / (len(red) + m))
    assert full[1] == pytest.approx(y.mean())


def test_target_encoding_without_folds_is_plain_smoothing(frame: pd.DataFrame) -> None:
    transform = create_transform("target_encode", ["cat"], {"target": "target", "folds": 1})
    assert transform.fit_transform(frame).equals(transform.transform(frame))


# -- scaling --------------------------------------------------------------------------------


def test_scalers_match_scikit_learn() -> None:
    df = numbers()
    x = df.to_numpy()
    cases = [
        ("min_max", {}, preprocessing.MinMaxScaler()),
        ("min_max", {"feature_range": [-2, 3]}, preprocessing.MinMaxScaler((-2, 3))),
        ("standardize", {}, preprocessing.StandardScaler()),
        ("standardize", {"with_mean": False}, preprocessing.StandardScaler(with_mean=False)),
    ]
    for name, params, reference in cases:
        ours = create_transform(name, None, params).fit_transform(df).to_numpy()
        np.testing.assert_allclose(ours, reference.fit_transform(x), rtol=1e-12, atol=1e-12)
    for norm in ("l1", "l2", "max"):
        ours = create_transform("normalize", None, {"norm": norm}).fit_transform(df).to_numpy()
        np.testing.assert_allclose(ours, preprocessing.normalize(x, norm=norm), rtol=1e-12)


def test_scaling_keeps_missing_values_and_constant_columns_finite() -> None:
    df = pd.DataFrame({"a": [1.0, np.nan, 3.0], "k": [5.0, 5.0, 5.0]})
    out = create_transform("min_max").fit_transform(df)
    assert np.isnan(out["a"].iloc[1])
    assert out["k"].tolist() == [0.0, 0.0, 0.0]
    clipped = create_transform("min_max", ["a"], {"clip": True}).fit(df)
    assert clipped.transform(pd.DataFrame({"a": [10.0, -10.0]}))["a"].tolist() == [1.0, 0.0]


# -- binning --------------------------------------------------------------------------------


def test_kmeans_bins_are_converged_lloyd_centers() -> None:
    # KBinsDiscretizer stops k-means at scikit-learn's default tolerance; run it to convergence
    # from the same uniform start to compare with ours, which iterates until centers settle.
    values = numbers(300)["a"].to_numpy()
    ours = create_transform("bin", ["a"], {"n_bins": 4, "strategy": "kmeans"})
    edges = ours.fit(pd.DataFrame({"a": values})).edges_["a"]
    uniform = np.linspace(values.min(), values.max(), 5)
    start = ((uniform[1:] + uniform[:-1]) / 2)[:, None]
    km = cluster.KMeans(4, init=start, n_init=1, tol=0, max_iter=1000).fit(values[:, None])
    centers = np.sort(km.cluster_centers_[:, 0])
    expected = [values.min(), *((centers[1:] + centers[:-1]) / 2), values.max()]
    np.testing.assert_allclose(edges, expected, rtol=1e-9)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_binning_matches_kbins_discretizer(strategy: str) -> None:
    df = numbers(300)[["a", "b"]]
    ours = create_transform("bin", None, {"n_bins": 5, "strategy": strategy}).fit(df)
    extra = {"quantile_method": "linear"} if strategy == "quantile" else {}
    reference = preprocessing.KBinsDiscretizer(
        n_bins=5, encode="ordinal", strategy=strategy, **extra
    ).fit(df.to_numpy())
    for i, column in enumerate(df.columns):
        np.testing.assert_allclose(ours.edges_[column], reference.bin_edges_[i], rtol=1e-6)
    np.testing.assert_array_equal(ours.transform(df).to_numpy(), reference.transform(df.to_numpy()))


def test_binning_one_hot_output() -> None:
    df = pd.DataFrame({"v": [0.0, 1.0, 2.0, 3.0, np.nan]})
    out = create_transform("bin", ["v"], {"n_bins": 2, "strategy": "uniform", "encode": "onehot"})
    result = out.fit_transform(df)
    assert list(result.columns) == ["v_bin0", "v_bin1"]
    assert result.to_numpy().tolist() == [[1, 0], [1, 0], [0, 1], [0, 1], [0, 0]]


# -- power transforms -----------------------------------------------------------------------


def test_box_cox_lambda_is_scipys_maximum_likelihood() -> None:
    rng = np.random.default_rng(3)
    for data in (rng.lognormal(0, 1, 500), rng.gamma(2.0, 2.0, 800), rng.uniform(1, 9, 300)):
        _, expected = stats.boxcox(data)
        assert box_cox_lambda(data) == pytest.approx(expected, abs=1e-5)
        # And it is a maximum of scipy's log-likelihood.
        best = box_cox_lambda(data)
        assert stats.boxcox_llf(best, data) >= stats.boxcox_llf(best + 1e-3, data)
        assert stats.boxcox_llf(best, data) >= stats.boxcox_llf(best - 1e-3, data)


def test_yeo_johnson_matches_scikit_learn() -> None:
    df = numbers(500)[["b", "c"]]
    ours = create_transform("yeo_johnson", None, {"standardize": True}).fit(df)
    reference = preprocessing.PowerTransformer(method="yeo-johnson").fit(df.to_numpy())
    for i, column in enumerate(df.columns):
        assert ours.lambdas_[column] == pytest.approx(reference.lambdas_[i], abs=1e-5)
        assert yeo_johnson_lambda(df[column].to_numpy()) == pytest.approx(
            stats.yeojohnson(df[column].to_numpy())[1], abs=1e-5
        )
    np.testing.assert_allclose(
        ours.transform(df).to_numpy(), reference.transform(df.to_numpy()), atol=1e-4
    )


def test_box_cox_and_log_refuse_non_positive_values() -> None:
    df = pd.DataFrame({"v": [1.0, 2.0, -3.0]})
    with pytest.raises(
        ValidationError, match=r"box_cox: column 'v' has 1 value.*-3\.0.*yeo_johnson"
    ):
        create_transform("box_cox", ["v"]).fit(df)
    fitted = create_transform("log", ["v"], {"offset": 4.0}).fit(df)
    np.testing.assert_allclose(fitted.transform(df)["v"], np.log([5.0, 6.0, 1.0]))
    with pytest.raises(ValidationError, match="not positive after the offset"):
        fitted.transform(pd.DataFrame({"v": [-10.0]}))


# -- decomposition and correlation ----------------------------------------------------------


@pytest.mark.parametrize("n_components", [2, 0.9, None])
def test_pca_matches_scikit_learn(n_components: float | None) -> None:
    df = numbers(200)
    ours = create_transform("pca", None, {"n_components": n_components}).fit(df)
    reference = decomposition.PCA(n_components=n_components, svd_solver="full").fit(df)
    np.testing.assert_allclose(ours.components_, reference.components_, atol=1e-10)
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, reference.explained_variance_ratio_, rtol=1e-10
    )
    out = ours.transform(df)
    assert list(out.columns) == [f"pc{i + 1}" for i in range(reference.n_components_)]
    np.testing.assert_allclose(out.to_numpy(), reference.transform(df), atol=1e-9)


def test_pca_wants_complete_columns() -> None:
    df = numbers(20)
    df.loc[3, "b"] = np.nan
    with pytest.raises(ValidationError, match=r"columns \['b'\] have missing values; impute"):
        create_transform("pca").fit(df)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_correlation_matrix_matches_pandas(method: str) -> None:
    df = numbers(100)
    df.loc[::7, "a"] = np.nan
    result = correlation_matrix(df, method=method)
    np.testing.assert_allclose(
        np.array(result["matrix"], dtype=float), df.corr(method=method).to_numpy()
    )


def test_drop_correlated_keeps_the_first_of_a_pair(frame: pd.DataFrame) -> None:
    fitted = create_transform("drop_correlated", ["y", "z", "x"], {"threshold": 0.9}).fit(frame)
    assert fitted.dropped_ == ["z"]
    assert "z" not in fitted.transform(frame).columns


# -- outliers, dates, rows ------------------------------------------------------------------


def test_outlier_flags_by_iqr_and_zscore() -> None:
    df = pd.DataFrame({"v": [1.0, 2.0, 3.0, 4.0, 5.0, 100.0]})
    iqr = create_transform("outliers", ["v"]).fit(df)
    q1, q3 = df["v"].quantile([0.25, 0.75])
    assert iqr.lower_["v"] == pytest.approx(q1 - 1.5 * (q3 - q1))
    assert iqr.transform(df)["v_outlier"].tolist() == [0, 0, 0, 0, 0, 1]
    clip = create_transform("outliers", ["v"], {"action": "clip"}).fit(df)
    assert clip.transform(df)["v"].iloc[-1] == pytest.approx(iqr.upper_["v"])
    dropped = create_transform("outliers", ["v"], {"action": "drop_rows"}).fit_transform(df)
    assert len(dropped) == 5
    z = create_transform("outliers", ["v"], {"method": "zscore", "threshold": 2.0}).fit(df)
    assert z.upper_["v"] == pytest.approx(df["v"].mean() + 2 * df["v"].std(ddof=0))


def test_date_parts_from_datetimes_and_iso_strings() -> None:
    df = pd.DataFrame({"d": ["2024-02-29", "2023-12-31", None]})
    out = create_transform(
        "date_parts", ["d"], {"parts": ["year", "month", "day", "weekday", "week", "is_weekend"]}
    ).fit_transform(df)
    assert out.iloc[0].tolist() == [2024, 2, 29, 3, 9, 0]
    assert out.iloc[1].tolist() == [2023, 12, 31, 6, 52, 1]
    assert out.iloc[2].isna().all()
    with pytest.raises(ValidationError, match="not dates in format 'ISO 8601'"):
        create_transform("date_parts", ["d"]).fit(pd.DataFrame({"d": ["31/12/2023"]}))
    european = create_transform("date_parts", ["d"], {"format": "%d/%m/%Y", "parts": ["month"]})
    assert european.fit_transform(pd.DataFrame({"d": ["31/12/2023"]}))["d_month"].tolist() == [12]


def test_row_and_column_dropping() -> None:
    df = pd.DataFrame({"a": [1.0, None, 3.0, 1.0], "b": [None, None, "x", None], "c": [1, 2, 3, 1]})
    assert len(create_transform("drop_missing_rows", ["a"]).fit_transform(df)) == 3
    assert len(create_transform("drop_missing_rows", None, {"how": "all"}).fit_transform(df)) == 4
    assert (
        len(create_transform("drop_missing_rows", None, {"min_present": 3}).fit_transform(df)) == 1
    )
    sparse = create_transform("drop_sparse_columns", None, {"max_missing": 0.5}).fit(df)
    assert sparse.dropped_ == ["b"]
    deduplicated = create_transform("drop_duplicate_rows", ["a", "c"]).fit_transform(df)
    assert deduplicated.index.tolist() == [0, 1, 2]
    with pytest.raises(ValidationError, match="name the 'columns' to drop"):
        create_transform("drop_columns")
