"""Hidden checks of ``mcnemar_test(table, exact=None, correction=True)`` (5 points).

b = table[0][1], c = table[1][0], n = b + c. Exact test: statistic min(b, c),
p = min(1, 2 P[Bin(n, 1/2) <= min(b, c)]); chi-square: ((|b - c| - 1)^2 / n with
the continuity correction, (b - c)^2 / n without), 1 degree of freedom.
exact=None means exact when n < 25.
"""

import numpy as np

from autograder.check import Raises, case, check


@check(points=1.0, hint="The exact test: statistic min(b, c), p = min(1, 2 * P[Binomial(n, 1/2) <= min(b, c)]).")
def test_exact_test(mcnemar_test):
    """The exact test uses the discordant counts: statistic min(b, c), two-sided p doubled and capped at 1."""
    mcnemar_test.agrees_on([
        case([[50, 12], [4, 34]], expect=(4.0, 0.07681), why="n = 16 < 25: the exact test, doubled tail."),
        case([[5, 13], [11, 5]], exact=True, expect=(11.0, 0.8388)),
        case(np.array([[5, 12], [12, 5]]), exact=True, expect=(12.0, 1.0),
             why="b = c: twice the tail exceeds 1, so p is capped at 1."),
        case([[0, 30], [0, 0]], exact=True, expect=(0.0, 1.863e-09)),
        case([[10, 24], [0, 3]], expect=(0.0, 1.192e-07), why="The diagonal (10, 3) carries no evidence."),
    ])


@check(points=1.0, hint="With exact=None use the exact test when n < 25 and the chi-square test when n >= 25.")
def test_default_is_exact_below_25_discordant_pairs(mcnemar_test):
    """exact=None uses the exact test when n < 25 discordant pairs, and the chi-square test from n = 25 on."""
    mcnemar_test.agrees_on([
        case([[5, 13], [11, 5]], expect=(11.0, 0.8388), why="n = 24 < 25: the exact test."),
        case([[5, 13], [12, 5]], expect=(0.0, 1.0), why="n = 25: the chi-square test, (|13 - 12| - 1)^2 / 25."),
        case([[0, 0], [25, 0]], expect=(23.04, 1.587e-06), why="n = 25: the chi-square test."),
        case([[1, 200], [180, 2]], expect=(0.95, 0.3297)),
    ])


@check(points=1.0, hint="Chi-square: ((|b - c| - 1)^2 / n with correction, (b - c)^2 / n without), 1 df.")
def test_chi_square_with_and_without_continuity_correction(mcnemar_test):
    """exact=False gives the chi-square test with 1 degree of freedom, corrected unless correction=False."""
    mcnemar_test.agrees_on([
        case([[50, 12], [4, 34]], exact=False, expect=(3.0625, 0.08012)),
        case([[50, 12], [4, 34]], exact=False, correction=False, expect=(4.0, 0.0455)),
        case([[100, 7], [7, 100]], exact=False, expect=(0.07143, 0.7893),
             why="b = c with the correction: (|0| - 1)^2 / n = 1/14, not 0."),
        case([[3, 1], [0, 9]], exact=False, correction=False, expect=(1.0, 0.3173)),
        case(np.array([[3.0, 2.0], [1.0, 0.0]]), exact=False, expect=(0.0, 1.0)),
    ])


@check(points=0.5, hint="With no discordant pairs (n = 0) return (0.0, 1.0) in every mode: no evidence.")
def test_no_discordant_pairs_is_no_evidence(mcnemar_test):
    """With no discordant pairs (n = 0) the answer is (0.0, 1.0) in every mode."""
    mcnemar_test.agrees_on([
        case([[40, 0], [0, 10]], expect=(0.0, 1.0)),
        case([[0, 0], [0, 0]], exact=True, expect=(0.0, 1.0)),
        case([[40, 0], [0, 10]], exact=False, expect=(0.0, 1.0)),
        case([[40, 0], [0, 10]], exact=False, correction=False, expect=(0.0, 1.0)),
    ])


@check(points=0.25, hint="Return (statistic, p_value) as two floats: float(min(b, c)), not the integer count.")
def test_returns_two_floats(mcnemar_test):
    """The answer is a pair of floats in every mode, the exact test's statistic min(b, c) too."""
    mcnemar_test.agrees_on([
        case([[50, 12], [4, 34]], expect=(4.0, 0.07681)),
        case([[5, 13], [11, 5]], exact=True, expect=(11.0, 0.8388)),
        case([[50, 12], [4, 34]], exact=False, correction=False, expect=(4.0, 0.0455)),
        case([[40, 0], [0, 10]], expect=(0.0, 1.0)),
    ], compare=two_floats)


@check(points=0.75, hint="Compare your function with statsmodels' mcnemar(table, exact=..., correction=...).")
def test_random_tables_in_every_mode(mcnemar_test, rng):
    """300 random tables, a quarter in each mode, agree with the reference (and with statsmodels' mcnemar)."""
    mcnemar_test.agrees_on(random_tables(rng, 300))


@check(points=0.5, hint="Validate the table: shape 2x2, whole non-negative counts.")
def test_value_error_for_a_table_that_is_not_2x2_or_not_counts(mcnemar_test):
    """A table that is not 2x2, or holds negative or fractional counts, raises ValueError."""
    mcnemar_test.agrees_on([
        case([[1, 2, 3], [4, 5, 6]], expect=Raises(ValueError)),
        case([1, 2, 3, 4], expect=Raises(ValueError)),
        case([[1, 2], [3, 4], [5, 6]], expect=Raises(ValueError)),
        case([[1, -2], [3, 4]], expect=Raises(ValueError)),
        case([[1, 2], [-3, 4]], expect=Raises(ValueError)),
        case([[1.5, 2], [3, 4]], expect=Raises(ValueError)),
        case([[1, 2], [3, 0.25]], expect=Raises(ValueError)),
    ])


def two_floats(expected, actual):
    """A pair of floats (NumPy floats are floats). Only the types: the values are the other checks' business,
    so a wrong value is not charged twice, under a hint about types."""
    if not isinstance(actual, (tuple, list)) or len(actual) != 2:
        return f"should return a pair (statistic, p_value), got {type(actual).__name__}"
    if not all(isinstance(v, float) for v in actual):
        return f"should return two floats, got ({', '.join(type(v).__name__ for v in actual)})"
    return None


def random_tables(rng, count):
    """Tables with counts up to 60, often with few discordant pairs (< 16), cycling through the four modes."""
    modes = [{}, {"exact": True}, {"exact": False}, {"exact": False, "correction": False}]
    cases = []
    for i in range(count):
        table = rng.integers(0, 60, size=(2, 2))
        if rng.random() < 0.4:
            table[0, 1], table[1, 0] = rng.integers(0, 16, 2)
        cases.append(case(table.tolist() if i % 2 else table, **modes[i % 4]))
    return cases
