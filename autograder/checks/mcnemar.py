"""Checks of the ``mcnemar`` assignment."""

from __future__ import annotations

import numpy as np
from scipy import stats

from autograder.checks import Case, Check, FunctionSpec, Mistake, Raised, case_size, same_array

# --- inputs ----------------------------------------------------------------------------------------


def _labels(rng, n, kind):
    if kind == 0:
        return rng.integers(0, 2, n)
    if kind == 1:
        return rng.integers(0, 3, n)  # three classes: correctness, not the label value, matters
    return np.array(["legit", "phish"])[rng.integers(0, 2, n)]


def table_examples(rng) -> list[Case]:
    examples = [
        ([1, 0, 1, 1], [1, 0, 0, 1], [1, 1, 1, 0]), ([0, 1, 1], [0, 0, 1], [0, 0, 1]), ([1], [1], [0]),
        ([1], [0], [1]), ([0], [1], [1]), ([0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]),
        ([1, 1, 0, 0, 1, 0], [0, 1, 1, 0, 1, 0], [1, 0, 0, 1, 1, 0]),
        (["a", "b", "a"], ["a", "a", "b"], ["b", "b", "a"]),
    ]
    cases = [Case(tuple(np.asarray(v) if i % 2 else v for v in args), size=case_size(*args))
             for i, args in enumerate(examples)]
    for _ in range(200):
        n = int(rng.integers(1, 120))
        kind = int(rng.integers(0, 3))
        y = _labels(rng, n, kind)
        a = np.where(rng.random(n) < rng.uniform(0.5, 1), y, _labels(rng, n, kind))
        b = np.where(rng.random(n) < rng.uniform(0.5, 1), y, _labels(rng, n, kind))
        args = (y.tolist(), a, b) if rng.random() < 0.5 else (y, a.tolist(), b.tolist())
        cases.append(Case(args, size=3 * n))
    return cases


def table_bad_input(rng) -> list[Case]:
    bad = [([0, 1], [0, 1], [0]), ([0, 1, 1], [0], [0, 1, 1]), ([], [], []), ([1], [], [])]
    return [Case(args, size=case_size(*args)) for args in bad]


def _random_table(rng):
    table = rng.integers(0, 60, size=(2, 2))
    if rng.random() < 0.4:
        table[0, 1], table[1, 0] = rng.integers(0, 16, 2)
    return table


def test_examples(rng) -> list[Case]:
    tables = [[[50, 12], [4, 34]], [[40, 0], [0, 10]], [[0, 0], [0, 0]], [[5, 13], [11, 5]],
              [[5, 13], [12, 5]], [[5, 12], [12, 5]], [[3, 1], [0, 9]], [[0, 30], [0, 0]], [[0, 0], [25, 0]],
              [[100, 7], [7, 100]], [[10, 24], [0, 3]], [[1, 200], [180, 2]]]
    cases = []
    for table in tables:
        for exact, correction in ((None, True), (True, True), (False, True), (False, False), (None, False)):
            cases.append(Case((np.array(table) if exact else table,), {"exact": exact, "correction": correction},
                              size=sum(map(sum, table))))
    cases.append(Case((np.array([[3.0, 2.0], [1.0, 0.0]]),), size=6))
    return cases


def test_random(rng) -> list[Case]:
    cases = []
    for i in range(300):
        table = _random_table(rng)
        mode = i % 4
        kwargs = [{}, {"exact": True}, {"exact": False}, {"exact": False, "correction": False}][mode]
        cases.append(Case((table.tolist() if i % 2 else table,), kwargs, size=int(table.sum())))
    return cases


def test_bad_input(rng) -> list[Case]:
    bad = [[[1, 2, 3], [4, 5, 6]], [1, 2, 3, 4], [[1, -2], [3, 4]], [[1, 2], [-3, 4]], [[1.5, 2], [3, 4]],
           [[1, 2], [3, 4], [5, 6]], [[1, 2], [3, 0.25]]]
    return [Case((table,), size=4) for table in bad]


def compare_cases(rng) -> list[Case]:
    cases = []
    y = np.array([1] * 40 + [0] * 60)
    b = y.copy()
    b[:30] = 0
    cases += [Case((y, y.copy(), b)), Case((y, b, y.copy())), Case((y, y.copy(), y.copy())),
              Case((y, y.copy(), b), {"alpha": 0.01})]
    for _ in range(150):
        n = int(rng.integers(5, 300))
        y = rng.integers(0, 2, n)
        a = np.where(rng.random(n) < rng.uniform(0.6, 1.0), y, 1 - y)
        b = np.where(rng.random(n) < rng.uniform(0.6, 1.0), y, 1 - y)
        kwargs = {"alpha": float(rng.choice([0.01, 0.05, 0.1, 0.2]))} if rng.random() < 0.5 else {}
        cases.append(Case((y.tolist(), a, b), kwargs, size=3 * n))
    return cases


def compare_boundary(rng) -> list[Case]:
    """p-values exactly at alpha: exact tests whose p-value is a known dyadic number."""
    # Five discordant pairs all favouring B: p = 2 * 0.5**5 = 0.0625 exactly.
    y = np.zeros(20, dtype=int)
    a = y.copy()
    a[:5] = 1
    return [Case((y, a, y.copy()), {"alpha": 0.0625}), Case((y, a, y.copy()), {"alpha": 0.0626}),
            Case((y, y.copy(), a), {"alpha": 0.0625})]


def compare_expect(reference, case):
    value = reference["compare_models"](*case.args, **case.kwargs)
    return {**value, "table": np.asarray(value["table"])}


def compare_result(expected, actual) -> str | None:
    if isinstance(actual, Raised):
        return f"raised {actual.types[0]}: {actual.message}"
    if not isinstance(actual, dict):
        return f"should return a dict, got {type(actual).__name__}"
    if set(actual) != set(expected):
        return f"keys should be {sorted(expected)}, got {sorted(map(str, actual))}"
    table = np.asarray(actual["table"]) if isinstance(actual["table"], (list, np.ndarray)) else actual["table"]
    problem = same_array(expected["table"], table) if isinstance(table, np.ndarray) else "table is not 2x2"
    if problem:
        return f"'table': {problem}"
    from autograder.checks import same

    for key in ("statistic", "p_value", "significant", "better"):
        problem = same(expected[key], actual[key])
        if problem:
            return f"{key!r}: {problem}"
    return None


# --- known mistakes --------------------------------------------------------------------------------


def _table(y, a, b, transpose=False, predictions=False):
    y, a, b = np.asarray(y), np.asarray(a), np.asarray(b)
    first, second = (a == 1, b == 1) if predictions else (a == y, b == y)
    table = np.array([[np.sum(first & second), np.sum(first & ~second)],
                      [np.sum(~first & second), np.sum(~first & ~second)]], dtype=np.int64)
    return table.T if transpose else table


def _test_variant(double=True, cap=True, continuity=True, threshold=25, inclusive=False, df=1,
                  diagonal=False, zero="ok"):
    def test(table, exact=None, correction=True):
        t = np.asarray(table)
        b, c = (int(t[0, 0]), int(t[1, 1])) if diagonal else (int(t[0, 1]), int(t[1, 0]))
        n = b + c
        if n == 0:
            if zero == "nan":
                return float("nan"), float("nan")
            if zero == "ok":
                return 0.0, 1.0
        use_exact = (n <= threshold if inclusive else n < threshold) if exact is None else exact
        if use_exact:
            p = (2 if double else 1) * stats.binom.cdf(min(b, c), n, 0.5)
            return float(min(b, c)), float(min(1.0, p) if cap else p)
        corr = 1 if (correction and continuity) else 0
        statistic = (abs(b - c) - corr) ** 2 / n
        return float(statistic), float(stats.chi2.sf(statistic, df))
    return test


TABLE_MISTAKES = [
    Mistake("transposed", lambda y, a, b: _table(y, a, b, transpose=True),
            "Wrong orientation: table[0][1] counts A correct and B wrong, table[1][0] A wrong and B correct."),
    Mistake("predictions", lambda y, a, b: _table(y, a, b, predictions=True),
            "Count whether each model's prediction is correct (equals y_true), not whether it predicted 1."),
]

TEST_MISTAKES = [
    Mistake("not_doubled", _test_variant(double=False),
            "The exact test is two-sided: double the binomial tail, p = min(1, 2 * P[Bin(n, 1/2) <= min(b, c)])."),
    Mistake("not_capped", _test_variant(cap=False),
            "The doubled exact p-value must be capped at 1: p = min(1, 2 * tail)."),
    Mistake("no_continuity", _test_variant(continuity=False),
            "With correction=True use the continuity correction (|b - c| - 1)^2 / n."),
    Mistake("inclusive_threshold", _test_variant(inclusive=True),
            "exact=None means the exact test when n < 25 (strictly); n = 25 uses the chi-square test."),
    Mistake("diagonal", _test_variant(diagonal=True),
            "Use the discordant counts b = table[0][1] and c = table[1][0], not the diagonal."),
    Mistake("zero_nan", _test_variant(zero="nan"),
            "With no discordant pairs (n = 0) return (0.0, 1.0): there is no evidence either way."),
    Mistake("df_two", _test_variant(df=2),
            "The chi-square test has 1 degree of freedom."),
]


def _compare_variant(reverse=False, strict=True):
    def compare(y_true, pred_a, pred_b, alpha=0.05):
        table = _table(y_true, pred_a, pred_b)
        statistic, p_value = _test_variant()(table)
        significant = bool(p_value < alpha if strict else p_value <= alpha)
        b, c = table[0, 1], table[1, 0]
        better = None
        if significant and b != c:
            better = ("B" if b > c else "A") if reverse else ("A" if b > c else "B")
        return {"table": table, "statistic": statistic, "p_value": p_value, "significant": significant,
                "better": better}
    return compare


COMPARE_MISTAKES = [
    Mistake("better_reversed", _compare_variant(reverse=True),
            "'better' is 'A' when b > c: b counts emails where A is right and B is wrong."),
    Mistake("not_strict", _compare_variant(strict=False),
            "Significant means p_value < alpha, strictly."),
]

NO_DISCORDANT_HINT = "With no discordant pairs (n = 0) return (0.0, 1.0) in every mode."

FUNCTIONS = [
    FunctionSpec(
        "mcnemar_table", ("y_true", "pred_a", "pred_b"),
        [
            Check("worked examples and 200 random label sets (including non-binary labels)", 2.5, table_examples,
                  "table = [[both correct, A correct & B wrong], [A wrong & B correct, both wrong]] as an "
                  "integer NumPy array."),
            Check("ValueError for different lengths or empty input", 0.5, table_bad_input,
                  "Raise ValueError when the inputs differ in length or are empty."),
        ],
        TABLE_MISTAKES,
    ),
    FunctionSpec(
        "mcnemar_test", ("table", "exact", "correction"),
        [
            Check("worked examples in every mode; n = 0, 24 and 25 discordant pairs", 2.0, test_examples,
                  "Check each mode: exact when n < 25 by default; chi-square with and without the continuity "
                  "correction. " + NO_DISCORDANT_HINT),
            Check("300 random tables, compared with statsmodels' mcnemar", 2.0, test_random,
                  "Your result should equal statsmodels.stats.contingency_tables.mcnemar(table, exact=..., "
                  "correction=...) for n > 0."),
            Check("ValueError for a table that is not 2x2, negative or non-integer counts", 1.0, test_bad_input,
                  "Validate the table: shape 2x2, whole non-negative counts."),
        ],
        TEST_MISTAKES,
    ),
    FunctionSpec(
        "compare_models", ("y_true", "pred_a", "pred_b", "alpha"),
        [
            Check("examples and 150 random model pairs", 1.5, compare_cases,
                  "Build the table with mcnemar_table, test it with mcnemar_test's defaults, and report "
                  "significant = p_value < alpha and the better model.", compare=compare_result,
                  expect=compare_expect, oracles=("mcnemar_table", "mcnemar_test")),
            Check("p-value exactly at alpha", 0.5, compare_boundary,
                  "Significant means p_value < alpha, strictly.", compare=compare_result, expect=compare_expect,
                  oracles=("mcnemar_table", "mcnemar_test")),
        ],
        COMPARE_MISTAKES,
    ),
]
