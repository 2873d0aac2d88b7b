"""What crosses the sandbox boundary: plain data both ways, and nothing that costs the grading process
more than the bytes it was sent as."""

import json

import numpy as np
import pandas as pd
import pytest

from autograder import plain


@pytest.mark.parametrize("value", [
    1.5, float("inf"), {"a": (1, 2)}, np.array(["a", "bb"]), np.float64(0.25),
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}, index=pd.Index([3, 4], name="i")),
    pd.Series([1.0, 2.0], index=["p", "q"], name="s"), pd.Timestamp("2024-10-01 12:30:00+02:00"),
    pd.DataFrame({"day": pd.to_datetime(["2024-10-01", None])}), pd.DataFrame(),
])
def test_plain_values_cross_unchanged(value):
    back = plain.loads(plain.dumps(value))
    if isinstance(value, pd.DataFrame):
        pd.testing.assert_frame_equal(back, value, check_column_type=False)
    elif isinstance(value, pd.Series):
        pd.testing.assert_series_equal(back, value)
    elif isinstance(value, np.ndarray):
        np.testing.assert_array_equal(back, value)
    else:
        assert back == value and type(back) is type(value)


def _forged(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def test_keys_that_share_one_hash_are_refused_before_the_dict_is_built():
    keys = [[k * (2**61 - 1), 0] for k in range(1, plain.MAX_KEYS + 2)]
    with pytest.raises(plain.TooLarge):
        plain.loads(_forged({"$dict": keys}))
    assert len(plain.loads(_forged({"$dict": keys[:plain.MAX_KEYS]}))) == plain.MAX_KEYS


def test_a_short_message_never_becomes_a_wide_text_array():
    padded = {"$ndarray": {"dtype": "str", "shape": [250], "data": ["x" * 20_000] + [""] * 249}}
    with pytest.raises(plain.TooLarge):
        plain.loads(_forged(padded))
    ids = {"$ndarray": {"dtype": "str", "shape": [3], "data": ["user-1", "user-22", "user-333"]}}
    assert plain.loads(_forged(ids)).tolist() == ["user-1", "user-22", "user-333"]


def test_timestamps_are_parsed_only_from_short_text():
    with pytest.raises(plain.TooLarge):
        plain.loads(_forged({"$timestamp": "1" * 100_000}))
    with pytest.raises(plain.TooLarge):
        plain.loads(_forged({"$ndarray": {"dtype": "datetime64[ns]", "shape": [1], "data": ["1" * 100_000]}}))


def test_a_column_is_never_broadcast_over_a_long_index():
    index = {"$index": {"name": None, "data": {"dtype": "int64", "shape": [100_000], "data": [0] * 100_000}}}
    scalar = {"dtype": "int64", "shape": [], "data": [1]}
    with pytest.raises(ValueError, match="one value per row"):
        plain.loads(_forged({"$dataframe": {"columns": ["a"], "data": [scalar], "index": index}}))
    with pytest.raises(ValueError, match="one value per row"):
        plain.loads(_forged({"$series": {"name": None, "data": scalar, "index": index}}))


def test_only_the_special_floats_are_tagged():
    assert np.isnan(plain.loads(_forged({"$float": "nan"})))
    with pytest.raises(KeyError):
        plain.loads(_forged({"$float": "1" * 100_000}))
