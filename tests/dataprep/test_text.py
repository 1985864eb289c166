"""Text preparation: Porter stems, stop words, lemmas, n-grams, TF-IDF, bad bytes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.recipes import Recipe
from lakeworks.dataprep.text import lemmatize, ngrams, stem, stop_words, tokenize
from lakeworks.dataprep.transforms import create_transform

# Examples from Porter's paper (1980) and his published vocabulary/output lists, as stemmed by
# his reference implementation (which maps -bli to -ble and -logi to -log).
PORTER = {
    "caresses": "caress", "ponies": "poni", "ties": "ti", "caress": "caress", "cats": "cat",
    "feed": "feed", "agreed": "agre", "plastered": "plaster", "bled": "bled",
    "motoring": "motor", "sing": "sing", "conflated": "conflat", "troubled": "troubl",
    "sized": "size", "hopping": "hop", "tanned": "tan", "falling": "fall", "hissing": "hiss",
    "fizzed": "fizz", "failing": "fail", "filing": "file", "happy": "happi", "sky": "sky",
    "relational": "relat", "conditional": "condit", "rational": "ration",
    "valenci": "valenc", "hesitanci": "hesit", "digitizer": "digit",
    "conformabli": "conform", "radicalli": "radic", "differentli": "differ", "vileli": "vile",
    "analogousli": "analog", "vietnamization": "vietnam", "predication": "predic",
    "operator": "oper", "feudalism": "feudal", "decisiveness": "decis",
    "hopefulness": "hope", "callousness": "callous", "formaliti": "formal",
    "sensitiviti": "sensit", "sensibiliti": "sensibl", "triplicate": "triplic",
    "formative": "form", "formalize": "formal", "electriciti": "electr",
    "electrical": "electr", "hopeful": "hope", "goodness": "good", "revival": "reviv",
    "allowance": "allow", "inference": "infer", "airliner": "airlin",
    "gyroscopic": "gyroscop", "adjustable": "adjust", "defensible": "defens",
    "irritant": "irrit", "replacement": "replac", "adjustment": "adjust",
    "dependent": "depend", "adoption": "adopt", "homologou": "homolog",
    "communism": "commun", "activate": "activ", "angulariti": "angular",
    "homologous": "homolog", "effective": "effect", "bowdlerize": "bowdler",
    "probate": "probat", "rate": "rate", "cease": "ceas", "controll": "control",
    "roll": "roll", "generalizations": "gener", "oscillators": "oscil",
    "abandoned": "abandon", "abilities": "abil", "abnormalities": "abnorm",
    "knightly": "knightli", "analogy": "analog", "archaeology": "archaeolog",
    "abominable": "abomin", "consign": "consign", "consigned": "consign",
    "consignment": "consign", "consolation": "consol", "consolidate": "consolid",
    "knack": "knack", "knavish": "knavish", "kneel": "kneel", "kneeling": "kneel",
    "is": "is", "a": "a", "by": "by",
}  # fmt: skip


@pytest.mark.parametrize(("word", "expected"), sorted(PORTER.items()))
def test_porter_stems(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_stop_words_ship_and_adjust() -> None:
    english = stop_words()
    assert {"the", "and", "not", "don't"} <= english
    assert "wine" not in english
    assert "not" not in stop_words(keep=["not"])
    assert "wine" in stop_words(extra=["Wine"])
    with pytest.raises(ValidationError, match="available: \\['english'\\]"):
        stop_words("klingon")


@pytest.mark.parametrize(
    ("word", "pos", "expected"),
    [
        ("children", "noun", "child"),
        ("wines", "noun", "wine"),
        ("berries", "auto", "berry"),
        ("churches", "auto", "church"),
        ("glasses", "auto", "glass"),
        ("knives", "auto", "knife"),
        ("was", "auto", "be"),
        ("news", "auto", "news"),
        ("running", "verb", "run"),
        ("making", "verb", "make"),
        ("tried", "verb", "try"),
        ("opened", "verb", "open"),
        ("went", "verb", "go"),
        ("watches", "verb", "watch"),
    ],
)
def test_lemmatizer_rules_and_exceptions(word: str, pos: str, expected: str) -> None:
    assert lemmatize(word, pos) == expected


def test_ngrams_follow_scikit_learns_order() -> None:
    analyzer = CountVectorizer(ngram_range=(1, 3), token_pattern=r"\S+").build_analyzer()
    tokens = ["a", "dry", "red", "wine"]
    assert ngrams(tokens, 1, 3) == analyzer(" ".join(tokens))
    assert ngrams(["x"], 2, 2) == []


def test_tokenize_cleans_and_keeps_contractions() -> None:
    assert tokenize("Don't stop: 100% Pinot-Noir!") == ["don't", "stop", "100", "pinot", "noir"]
    df = pd.DataFrame({"t": pd.array(["A, b!", None], dtype="str")})
    out = create_transform("tokenize", ["t"], {"strip_punctuation": False}).fit_transform(df)
    assert out["t"].tolist() == [["a", ",", "b", "!"], None]
    cleaned = create_transform("clean_text", ["t"]).fit_transform(df)
    assert cleaned["t"].tolist()[0] == "a b"


def test_text_pipeline_in_a_recipe(frame: pd.DataFrame) -> None:
    recipe = Recipe.from_dict(
        {
            "name": "reviews",
            "version": 1,
            "steps": [
                {"transform": "tokenize", "columns": ["text"]},
                {"transform": "remove_stopwords", "columns": ["text"]},
                {"transform": "lemmatize", "columns": ["text"]},
                {"transform": "stem", "columns": ["text"]},
                {"transform": "ngrams", "columns": ["text"], "params": {"n_max": 2}},
                {"transform": "tfidf", "columns": ["text"], "params": {"min_df": 2}},
            ],
        }
    )
    fitted, out = recipe.fit_transform(frame[["text"]])
    assert list(out.columns) == ["text_tfidf_indices", "text_tfidf_values"]
    terms = fitted.transforms[-1].terms_["text"]  # type: ignore[attr-defined]
    assert "dry crisp" in terms
    assert "tannin firm" in terms
    assert "the" not in terms
    first = out.iloc[0]
    assert np.linalg.norm(first["text_tfidf_values"]) == pytest.approx(1.0)


@pytest.mark.parametrize("sublinear", [False, True])
def test_tfidf_matches_scikit_learn(frame: pd.DataFrame, sublinear: bool) -> None:
    docs = list(frame["text"])
    ours = create_transform(
        "tfidf", ["text"], {"output": "dense", "sublinear_tf": sublinear, "min_df": 2}
    ).fit(frame[["text"]])
    reference = TfidfVectorizer(sublinear_tf=sublinear, min_df=2).fit(docs)
    assert ours.terms_["text"] == list(reference.get_feature_names_out())  # type: ignore[attr-defined]
    np.testing.assert_allclose(ours.idf_["text"], reference.idf_)  # type: ignore[attr-defined]
    dense = ours.transform(frame[["text"]]).to_numpy()
    np.testing.assert_allclose(dense, reference.transform(docs).toarray(), atol=1e-12)


def test_tfidf_sparse_rows_are_csr(frame: pd.DataFrame) -> None:
    docs = list(frame["text"])
    out = create_transform("tfidf", ["text"]).fit_transform(frame[["text"]])
    matrix = TfidfVectorizer().fit_transform(docs)
    for i in range(3):
        row = matrix.getrow(i)
        assert out["text_tfidf_indices"].iloc[i] == sorted(row.indices.tolist())
        order = np.argsort(row.indices)
        np.testing.assert_allclose(out["text_tfidf_values"].iloc[i], row.data[order])


def test_tfidf_max_features_and_empty_vocabulary() -> None:
    df = pd.DataFrame({"t": ["aa bb bb cc", "bb cc dd", "bb"]})
    fitted = create_transform("tfidf", ["t"], {"max_features": 2}).fit(df)
    assert fitted.terms_["t"] == ["bb", "cc"]  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="no term is left after min_df=5"):
        create_transform("tfidf", ["t"], {"min_df": 5}).fit(df)


def test_non_utf8_text_is_reported_not_a_crash() -> None:
    df = pd.DataFrame({"t": ["fine", b"caf\xe9 cr\xe8me", b"ok", None]})
    with pytest.raises(
        ValidationError,
        match=r"column 't' has 1 value\(s\) that are not valid "
        r"UTF-8 \(rows \[1\]\)",
    ) as caught:
        create_transform("tokenize", ["t"]).fit(df)
    assert caught.value.details["rows"] == [1]
    replaced = create_transform("tokenize", ["t"], {"on_invalid": "replace"}).fit_transform(df)
    assert replaced["t"].tolist() == [["fine"], ["caf", "cr", "me"], ["ok"], None]


def test_token_steps_want_token_lists() -> None:
    df = pd.DataFrame({"t": [["a"], "not a list"]})
    with pytest.raises(ValidationError, match=r"row 1: expected a list of tokens.*tokenize"):
        create_transform("stem", ["t"]).fit(df)
    with pytest.raises(ValidationError, match="name the text 'columns'"):
        create_transform("tokenize")
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        create_transform("tokenize", ["t"], {"pattern": "(unclosed"})
