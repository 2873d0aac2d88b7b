"""Plain-data encoding of values that cross the sandbox boundary.

Only JSON crosses between the grading process and the sandboxed child: no
pickle, so an object with a lying ``__eq__`` or a booby-trapped ``__reduce__``
cannot reach the trusted side. NumPy arrays, pandas frames and the few scalar
types the assignments use are written as tagged JSON objects; anything else
arrives as an ``Opaque`` placeholder naming its type.

This module is also executed inside the sandbox (its source is sent there), so
it depends only on the standard library, NumPy and pandas.
"""

from __future__ import annotations

import datetime
import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_ITEMS = 2_000_000
"""Largest number of scalar items one value may hold."""
MAX_DEPTH = 32
"""Deepest nesting of lists, dicts and tuples one value may have."""
MAX_CHARACTERS = 4_000_000
"""Most characters a decoded NumPy text array may take, counted as NumPy stores it (every element as
wide as the longest); it may also take at most four times the characters it was sent as: a few bytes of
JSON must not become gigabytes in the grading process."""
MAX_STAMP = 64
"""Longest text a timestamp may be decoded from (parsing long digit strings is slower than linear)."""
MAX_KEYS = 1_000
"""Most dict entries one decoded value may hold, all dicts together. The answers hold a handful; the cap
is there because keys with colliding hashes (integers k * (2**61 - 1) all hash alike) make building and
comparing a dict quadratic, work the grading process does and a time limit cannot interrupt."""

_SCALARS = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
            "float16", "float32", "float64"}
_DTYPES = _SCALARS | {"object", "datetime64[ns]", "str"}


class TooLarge(ValueError):
    """A value exceeds :data:`MAX_ITEMS`, :data:`MAX_DEPTH`, :data:`MAX_KEYS`, :data:`MAX_CHARACTERS` or
    :data:`MAX_STAMP`."""


@dataclass(frozen=True)
class Opaque:
    """Stands for a value of a type that cannot cross the boundary."""

    type_name: str

    def __repr__(self) -> str:
        return f"<object of type {self.type_name}>"


class _Budget:
    def __init__(self) -> None:
        self.items = 0

    def spend(self, count: int) -> None:
        self.items += count
        if self.items > MAX_ITEMS:
            raise TooLarge(f"value holds more than {MAX_ITEMS:,} items")


def _float(value: float):
    if math.isnan(value):
        return {"$float": "nan"}
    if math.isinf(value):
        return {"$float": "inf" if value > 0 else "-inf"}
    return value


def _array(values: np.ndarray, budget: _Budget, depth: int):
    budget.spend(values.size)
    if values.dtype.kind == "M":
        data = [None if pd.isna(v) else pd.Timestamp(v).isoformat() for v in values.ravel()]
        dtype = "datetime64[ns]"
    elif values.dtype.kind in "biuf":
        dtype = values.dtype.name
        data = [_float(float(v)) if values.dtype.kind == "f" else v for v in values.ravel().tolist()]
    elif values.dtype.kind == "U":
        dtype, data = "str", values.ravel().tolist()
    else:
        dtype = "object"
        data = [encode(v, budget, depth + 1) for v in values.ravel().tolist()]
    return {"dtype": dtype, "shape": list(values.shape), "data": data}


def encode(value, budget: _Budget | None = None, depth: int = 0):
    """A JSON-ready description of ``value``."""
    budget = budget or _Budget()
    if depth > MAX_DEPTH:
        raise TooLarge(f"value is nested more than {MAX_DEPTH} levels deep")
    budget.spend(1)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.bool_,)):
        return {"$np": "bool", "value": bool(value)}
    if isinstance(value, np.integer):
        return {"$np": value.dtype.name, "value": int(value)}
    if isinstance(value, np.floating):
        return {"$np": value.dtype.name, "value": _float(float(value))}
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, (list, tuple)):
        items = [encode(v, budget, depth + 1) for v in value]
        return items if isinstance(value, list) else {"$tuple": items}
    if isinstance(value, dict):
        return {"$dict": [[encode(k, budget, depth + 1), encode(v, budget, depth + 1)]
                          for k, v in value.items()]}
    if isinstance(value, np.ndarray):
        return {"$ndarray": _array(value, budget, depth)}
    if isinstance(value, pd.DataFrame):
        return {"$dataframe": {
            "columns": [encode(c, budget, depth + 1) for c in value.columns],
            "data": [_array(value[c].to_numpy(), budget, depth) for c in value.columns]
            if value.columns.is_unique else
            [_array(value.iloc[:, i].to_numpy(), budget, depth) for i in range(value.shape[1])],
            "index": encode(value.index, budget, depth + 1),
        }}
    if isinstance(value, pd.Series):
        return {"$series": {"name": encode(value.name, budget, depth + 1),
                            "data": _array(value.to_numpy(), budget, depth),
                            "index": encode(value.index, budget, depth + 1)}}
    if isinstance(value, pd.Index):
        return {"$index": {"name": encode(value.name, budget, depth + 1),
                           "data": _array(value.to_numpy(), budget, depth)}}
    if isinstance(value, pd.Timestamp):
        return {"$timestamp": value.isoformat()}
    if isinstance(value, (datetime.date, np.datetime64)):  # a day as Python or NumPy gives it: a timestamp
        stamp = pd.Timestamp(value)
        return None if pd.isna(stamp) else {"$timestamp": stamp.isoformat()}
    return {"$opaque": type(value).__name__[:80]}


_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _decode_float(value):
    if isinstance(value, dict) and "$float" in value:
        return _SPECIAL_FLOATS[value["$float"]]  # only what _float writes
    return value


def _stamp(text):
    """A timestamp from the short text :func:`encode` writes; long text is refused before pandas parses it."""
    if not isinstance(text, str) or len(text) > MAX_STAMP:
        raise TooLarge(f"a timestamp is written in at most {MAX_STAMP} characters")
    return pd.Timestamp(text)


def _column(array: np.ndarray, length: int) -> np.ndarray:
    """A frame's or series' values: one dimension, one value per index entry (nothing to broadcast)."""
    if array.ndim != 1 or len(array) != length:
        raise ValueError("a column must hold one value per row")
    return array


def _decode_array(spec, depth: int = 0, keys: list[int] | None = None) -> np.ndarray:
    dtype, shape, data = spec["dtype"], spec["shape"], spec["data"]
    if dtype not in _DTYPES:
        raise ValueError(f"unsupported dtype {dtype!r}")
    if not isinstance(shape, list) or len(shape) > 8 or not all(isinstance(n, int) and n >= 0 for n in shape) \
            or not isinstance(data, list) or math.prod(shape) != len(data):
        raise ValueError("malformed shape")
    if dtype == "datetime64[ns]":
        if any(v is not None and (not isinstance(v, str) or len(v) > MAX_STAMP) for v in data):
            raise TooLarge(f"a timestamp is written in at most {MAX_STAMP} characters")
        array = pd.to_datetime(pd.Series(data, dtype=object)).to_numpy()
    elif dtype == "object":
        array = np.empty(len(data), dtype=object)
        array[:] = [decode(v, depth + 1, keys) for v in data]
    elif dtype == "str":
        if not all(isinstance(v, str) for v in data):
            raise ValueError("a text array holds text only")
        padded, written = max(map(len, data), default=0) * len(data), sum(map(len, data)) + 2 * len(data)
        if padded > MAX_CHARACTERS or padded > max(4 * written, 4096):
            raise TooLarge("a text array would take far more memory than the text it was sent as")
        array = np.array(data, dtype=str)
    else:
        array = np.array([_decode_float(v) for v in data], dtype=dtype)
    return array.reshape(shape)


def decode(value, depth: int = 0, keys: list[int] | None = None):
    """Rebuild a value written by :func:`encode`; unknown tags become :class:`Opaque`.

    Raises
    ------
    TooLarge
        If the value's dicts hold more than :data:`MAX_KEYS` entries in all.
    """
    keys = [0] if keys is None else keys  # entries decoded so far, shared by the whole value
    if depth > MAX_DEPTH + 8:
        return Opaque("value nested too deeply")
    if isinstance(value, list):
        return [decode(v, depth + 1, keys) for v in value]
    if not isinstance(value, dict):
        return value
    if "$float" in value:
        return _decode_float(value)
    if "$np" in value:
        if value["$np"] not in _SCALARS:
            return Opaque("unsupported scalar type")
        return np.dtype(value["$np"]).type(_decode_float(value["value"]))
    if "$tuple" in value:
        return tuple(decode(v, depth + 1, keys) for v in value["$tuple"])
    if "$dict" in value:
        keys[0] += len(value["$dict"])
        if keys[0] > MAX_KEYS:
            raise TooLarge(f"value holds more than {MAX_KEYS:,} dict entries")
        return {_hashable(decode(k, depth + 1, keys)): decode(v, depth + 1, keys) for k, v in value["$dict"]}
    if "$ndarray" in value:
        return _decode_array(value["$ndarray"], depth, keys)
    if "$index" in value:
        spec = value["$index"]
        return pd.Index(_decode_array(spec["data"], depth, keys), name=decode(spec["name"], depth + 1, keys))
    if "$series" in value:
        spec = value["$series"]
        index = decode(spec["index"], depth + 1, keys)
        return pd.Series(_column(_decode_array(spec["data"], depth, keys), len(index)), index=index,
                         name=decode(spec["name"], depth + 1, keys))
    if "$dataframe" in value:
        spec = value["$dataframe"]
        columns = [decode(c, depth + 1, keys) for c in spec["columns"]]
        index = decode(spec["index"], depth + 1, keys)
        data = [_column(_decode_array(d, depth, keys), len(index)) for d in spec["data"]]
        frame = pd.DataFrame(dict(enumerate(data)), index=index)
        frame.columns = pd.Index(columns, dtype=object) if columns else frame.columns
        return frame
    if "$timestamp" in value:
        return _stamp(value["$timestamp"])
    if "$opaque" in value:
        return Opaque(str(value["$opaque"]))
    return Opaque("dict with unknown tags")


def _hashable(key):
    try:
        hash(key)
    except TypeError:
        return repr(key)
    return key


def dumps(value) -> str:
    """``encode`` then JSON, refusing NaN literals (they are tagged instead)."""
    return json.dumps(encode(value), allow_nan=False, separators=(",", ":"))


def loads(text: str):
    """Inverse of :func:`dumps`."""
    return decode(json.loads(text))
