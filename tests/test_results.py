"""Tests for cifar_helpers.results: reading benchmark records and summarising seeds."""

import json
import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cifar_helpers import results
from cifar_helpers.results import MAX_RECORD_BYTES, mean_and_spread, read_records, summarize

# --- read_records ------------------------------------------------------------------------


def test_read_records_returns_the_objects_in_order_skipping_blank_lines(tmp_path):
    runs = [{"setting": "full", "accuracy": 0.81, "recipe": {"widths": [16, 64, 64]}},
            {"setting": "no BatchNorm", "accuracy": None, "diverged": True},
            {"setting": "full", "accuracy": 0.79}]
    path = tmp_path / "runs.jsonl"
    path.write_text("\n" + json.dumps(runs[0]) + "\n\n   \n" + json.dumps(runs[1]) + "\n\t\n"
                    + json.dumps(runs[2]), encoding="utf-8")  # no newline at the end
    assert read_records(path) == runs
    assert read_records(str(path)) == runs  # a str path works too


def test_read_records_of_an_empty_file_is_empty(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    assert read_records(path) == []


def test_a_bad_json_line_names_its_line_number(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text('{"accuracy": 0.5}\n\n{"accuracy": 0.7\n{"accuracy": 0.9}\n')
    with pytest.raises(ValueError) as raised:
        read_records(path)
    message = str(raised.value)
    assert "line 3:" in message and "expected one JSON object" in message
    assert str(path) in message


@pytest.mark.parametrize("line, kind", [("[0.5, 0.7]", "list"), ("0.5", "float"),
                                        ('"text"', "str"), ("null", "NoneType")])
def test_a_json_line_that_is_not_an_object_is_refused(tmp_path, line, kind):
    path = tmp_path / "runs.jsonl"
    path.write_text('{"accuracy": 0.5}\n' + line + "\n")
    with pytest.raises(ValueError, match=rf"line 2: expected a JSON object\. Received {kind}\."):
        read_records(path)


def test_a_file_over_the_size_limit_is_refused_naming_both_sizes(tmp_path, monkeypatch):
    assert MAX_RECORD_BYTES == 16 * 2**20
    monkeypatch.setattr(results, "MAX_RECORD_BYTES", 1000)
    path = tmp_path / "big.jsonl"
    path.write_text('{"accuracy": 0.5}\n' * 100)  # 1,800 bytes
    with pytest.raises(ValueError) as raised:
        read_records(path)
    message = str(raised.value)
    assert "at most 1,000 bytes" in message and "Received 1,800 bytes" in message
    path.write_text('{"accuracy": 0.5}\n' * 55)  # 990 bytes: under the limit
    assert len(read_records(path)) == 55


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_records(tmp_path / "no-such-file.jsonl")


# --- mean_and_spread ---------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False, allow_infinity=False), min_size=2,
                max_size=20))
def test_mean_and_spread_match_the_statistics_module(values):
    mean, spread = mean_and_spread(values)
    assert mean == pytest.approx(statistics.mean(values), abs=1e-4)
    assert spread == pytest.approx(statistics.stdev(values), abs=1e-4)
    assert isinstance(mean, float) and isinstance(spread, float)


def test_mean_and_spread_known_answers():
    # Two runs: the spread is their difference over sqrt(2), 0.02 / 1.41421 = 0.014142.
    assert mean_and_spread([0.80, 0.82]) == (0.81, 0.01414)
    # 0.90, 0.92, 0.94: mean 0.92, squared deviations 0.0004 + 0 + 0.0004 over 2 -> 0.02.
    assert mean_and_spread((0.90, 0.92, 0.94)) == (0.92, 0.02)
    assert mean_and_spread([0.7, 0.7, 0.7]) == (0.7, 0.0)


def test_one_value_has_no_spread():
    mean, spread = mean_and_spread([0.875])
    assert mean == 0.875 and math.isnan(spread)


@pytest.mark.parametrize("values", [[], [0.5, float("nan")], [float("inf")], [[0.5, 0.6]]])
def test_mean_and_spread_refuses_empty_or_non_finite_values(values):
    with pytest.raises(ValueError, match="non-empty 1-D list of finite numbers"):
        mean_and_spread(values)


# --- summarize ---------------------------------------------------------------------------


def test_summarize_groups_in_first_appearance_order():
    runs = [{"setting": "b", "accuracy": 0.6, "seed": 0},
            {"setting": "a", "accuracy": 0.8, "seed": 0},
            {"setting": "b", "accuracy": 0.7, "seed": 1},
            {"setting": "a", "accuracy": 0.9, "seed": 1},
            {"setting": "a", "accuracy": 0.85, "seed": 2}]
    summary = summarize(runs)
    assert list(summary) == ["b", "a"]
    assert summary["a"]["values"] == [0.8, 0.9, 0.85] and summary["a"]["runs"] == 3
    assert summary["a"]["mean"] == pytest.approx(statistics.mean([0.8, 0.9, 0.85]), abs=1e-5)
    assert summary["a"]["std"] == pytest.approx(statistics.stdev([0.8, 0.9, 0.85]), abs=1e-5)
    assert summary["b"]["mean"] == pytest.approx(0.65) and summary["b"]["runs"] == 2
    assert summary["b"]["std"] == pytest.approx(0.1 / math.sqrt(2), abs=1e-5)


def test_none_values_count_as_runs_but_not_in_the_mean():
    runs = [{"setting": "no BatchNorm", "accuracy": None, "diverged": True},
            {"setting": "no BatchNorm", "accuracy": 0.5},
            {"setting": "no BatchNorm", "accuracy": 0.7},
            {"setting": "full", "accuracy": None},
            {"setting": "single", "accuracy": 0.6}]
    summary = summarize(runs)
    assert summary["no BatchNorm"]["runs"] == 3
    assert summary["no BatchNorm"]["values"] == [0.5, 0.7]
    assert summary["no BatchNorm"]["mean"] == pytest.approx(0.6)
    assert summary["full"]["runs"] == 1 and summary["full"]["values"] == []
    assert math.isnan(summary["full"]["mean"]) and math.isnan(summary["full"]["std"])
    assert summary["single"]["mean"] == 0.6 and math.isnan(summary["single"]["std"])


def test_summarize_other_value_and_group_fields():
    runs = [{"config": "fast-90", "seconds": 100, "accuracy": 0.9},
            {"config": "fast-90", "seconds": 110},  # no accuracy: irrelevant here
            {"config": "seed", "seconds": 500}]
    summary = summarize(runs, value="seconds", by="config")
    assert summary["fast-90"]["values"] == [100.0, 110.0]
    assert summary["fast-90"]["mean"] == 105.0
    assert summary["seed"]["runs"] == 1 and summary["seed"]["mean"] == 500.0


def test_a_record_missing_the_value_field_is_counted_like_none():
    summary = summarize([{"setting": "a", "accuracy": 0.5}, {"setting": "a"}])
    assert summary["a"]["runs"] == 2 and summary["a"]["values"] == [0.5]


@pytest.mark.parametrize("bad", [{"accuracy": 0.5}, ["setting", "a"], None])
def test_a_record_without_the_group_field_is_refused(bad):
    records = [{"setting": "a", "accuracy": 0.5}, bad]
    with pytest.raises(ValueError, match=r"a 'setting' field\. Record 1 is "):
        summarize(records)


def test_summarize_nothing_is_empty():
    assert summarize([]) == {}


def test_read_then_summarize_a_results_file(tmp_path):
    path = tmp_path / "ablation.jsonl"
    lines = [{"setting": "full", "seed": s, "accuracy": a} for s, a in ((0, 0.8), (1, 0.82))]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert summarize(read_records(path))["full"] == {
        "values": [0.8, 0.82], "runs": 2, "mean": 0.81, "std": 0.01414}
