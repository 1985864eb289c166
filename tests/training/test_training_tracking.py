"""Run tracking as pure functions: log lines, metric matching, final metrics, the SVG curve."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree

from lakeworks.training.metrics import xgboost_definition, xgboost_line
from lakeworks.training.tracking import (
    MAX_EVENT_CHARS,
    MetricMatcher,
    digest_objects,
    learning_curve_html,
    learning_curve_svg,
    merge_final_metrics,
    split_lines,
    stream_name,
)


def test_split_lines_keeps_an_incomplete_line_for_later() -> None:
    lines, used = split_lines(b"one\r\ntwo\nthr", final=False)
    assert lines == ["one", "two"]
    assert used == len(b"one\r\ntwo\n")
    assert split_lines(b"thr", final=False) == ([], 0)
    assert split_lines(b"thr", final=True) == (["thr"], 3)


def test_split_lines_replaces_bad_bytes_and_splits_huge_lines() -> None:
    lines, _ = split_lines(b"caf\xc3\xa9 \xff\n", final=False)
    assert lines == ["café \ufffd"]
    long = b"x" * (MAX_EVENT_CHARS + 10) + b"\n"
    parts, used = split_lines(long, final=False)
    assert [len(p) for p in parts] == [MAX_EVENT_CHARS, 10]
    assert used == len(long)


def test_empty_lines_are_events_too() -> None:
    assert split_lines(b"a\n\nb\n", final=False) == (["a", "", "b"], 5)


def test_metric_matcher_applies_sagemakers_xgboost_regexes_line_by_line() -> None:
    definitions = [
        xgboost_definition("validation", "rmse").as_aws(),
        xgboost_definition("train", "rmse").as_aws(),
    ]
    matcher = MetricMatcher(definitions)
    line = xgboost_line(3, [("train", "rmse", 0.5), ("validation", "rmse", 0.75)])
    assert sorted(matcher.match(line)) == [("train:rmse", 0.5), ("validation:rmse", 0.75)]
    assert matcher.match("[lakeworks] nothing here") == []


def test_metric_matcher_skips_non_numbers_and_bad_definitions() -> None:
    matcher = MetricMatcher(
        [
            {"Name": "loss", "Regex": r"loss=(\S+)"},
            {"Name": "broken", "Regex": r"(unclosed"},
            {"Name": "nogroup", "Regex": r"loss"},
        ]
    )
    assert matcher.match("loss=nan") == []
    assert matcher.match("loss=abc") == []
    assert matcher.match("epoch 2 loss=0.25") == [("loss", 0.25)]


def test_check_definitions_names_each_problem() -> None:
    problems = MetricMatcher.check_definitions(
        [
            {"Name": "a", "Regex": r"a=(\d+)"},
            {"Name": "a", "Regex": r"a=(\d+)"},
            {"Name": "b", "Regex": r"(oops"},
            {"Name": "c", "Regex": r"c=\d+"},
        ]
    )
    assert len(problems) == 3
    assert "'a' is defined twice" in problems[0]
    assert "'b'" in problems[1]
    assert "does not compile" in problems[1]
    assert "'c'" in problems[2]
    assert "group" in problems[2]


def test_final_metrics_prefer_what_the_algorithm_reported() -> None:
    merged = merge_final_metrics(
        {"validation:rmse": 0.12346, "train:rmse": 0.1}, {"validation:rmse": 0.123456789}
    )
    assert merged == {"validation:rmse": 0.123456789, "train:rmse": 0.1}
    assert merge_final_metrics({}, {"x": float("inf")}) == {}


def test_digest_ignores_order_but_not_content() -> None:
    a = digest_objects([("k1", "e1"), ("k2", "e2")])
    assert a == digest_objects([("k2", "e2"), ("k1", "e1")])
    assert a != digest_objects([("k1", "e1"), ("k2", "changed")])
    assert len(a) == 64


def test_stream_name_is_sagemakers() -> None:
    started = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert stream_name("my-job", started) == "my-job/algo-1-1704164645"


def test_learning_curve_is_valid_self_contained_svg() -> None:
    series = {
        "train:rmse": [(1, 1.0), (2, 0.5), (3, 0.25)],
        "validation:<rmse> & co": [(1, 1.2), (2, 0.7), (3, 0.6)],
    }
    svg = learning_curve_svg(series, title="Job <x>")
    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    polylines = root.findall(".//{http://www.w3.org/2000/svg}polyline")
    assert len(polylines) == 2
    assert len(polylines[0].get("points", "").split()) == 3
    text = "".join(root.itertext())
    assert "Job <x>" in text
    assert "validation:<rmse> & co" in text
    assert "<script" not in svg
    assert "href" not in svg


def test_learning_curve_without_points_says_so() -> None:
    svg = learning_curve_svg({}, title="empty")
    ElementTree.fromstring(svg)
    assert "No metric values recorded" in svg
    one = learning_curve_svg({"m": [(1, 2.0)]}, title="one point")
    ElementTree.fromstring(one)
    assert "circle" in one


def test_learning_curve_html_embeds_the_svg_and_a_table() -> None:
    html = learning_curve_html({"loss": [(1, 3.0), (2, 1.0)]}, title="t")
    assert html.startswith("<!DOCTYPE html>")
    assert "<svg" in html
    assert "<td>loss</td><td>2</td><td>1</td>" in html
