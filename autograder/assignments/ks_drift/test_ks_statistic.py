"""Hidden checks of ``ks_statistic(reference, current)`` (3 points).

D = max_x |F_ref(x) - F_cur(x)|, each ECDF F(x) = #{x_i <= x} / n evaluated at every
value of both samples; it equals ``scipy.stats.ks_2samp(reference, current).statistic``
(compared up to 1e-9). "NumPy only" is a rule of assignment.toml: SciPy's KS functions
raise in the sandbox while ks_statistic is graded.
"""

import numpy as np
import pandas as pd

from autograder.check import Raises, case, check

SCIPY = "Compare your D with scipy.stats.ks_2samp(reference, current).statistic on the input shown."


@check(points=0.5, hint="D = max over x of |F_ref(x) - F_cur(x)|: the absolute difference, whichever sample is first.")
def test_largest_absolute_gap_between_the_two_ecdfs(ks_statistic):
    """D is the largest vertical distance |F_ref(x) - F_cur(x)| between the ECDFs: 5/12 in the worked
    example, and the same whichever sample is passed first."""
    ks_statistic.agrees_on([
        case([1, 2, 2, 3], [2, 3, 4], expect=0.4167,
             why="The worked example: at x = 2, F_ref = 3/4 and F_cur = 1/3, so D = 5/12."),
        case([2, 3, 4], [1, 2, 2, 3], expect=0.4167,
             why="Swapping the samples does not change D: take the absolute difference |F_ref - F_cur|."),
        case([3, 1, 2], [1, 2, 3], expect=0.0),
        case([1, 2, 3], [10, 11], expect=1.0),
        case(np.array([1.0, 2.0, 4.0]), np.array([2.0, 3.0, 4.0]), expect=0.3333),
        case(np.array([2.0, 3.0, 4.0]), np.array([1.0, 2.0, 4.0]), expect=0.3333,
             why="Here F_cur lies above F_ref: D is the largest |F_ref - F_cur|, not the largest F_ref - F_cur."),
        case(pd.Series([9, 1, 5, 3, 7]), pd.Series([2, 8, 4, 6]), expect=0.2),
        case(pd.Series([2, 8, 4, 6]), pd.Series([9, 1, 5, 3, 7]), expect=0.2),
    ])


@check(points=0.5, hint="Keep repeated values and count x_i <= x in both ECDFs (np.searchsorted(..., side='right')).")
def test_ties_count_in_full(ks_statistic):
    """F(x) counts the values <= x, so a value repeated k times makes an ECDF jump by k/n: ties count in full."""
    ks_statistic.agrees_on([
        case([0, 0, 0, 1], [0, 1, 1, 1], expect=0.5,
             why="For 0/1 flags D is the difference of the shares of zeros, 3/4 - 1/4 = 1/2; "
                 "keep repeated values and count x_i <= x in both ECDFs."),
        case([2, 2, 2, 2, 5], [2, 5, 5, 5], expect=0.55,
             why="At x = 2, F_ref = 4/5 and F_cur = 1/4: every copy of 2 counts, in both ECDFs (<=, side='right')."),
        case([0, 1, 1, 1], [0, 0, 0, 1], expect=0.5),
        case([2, 5, 5, 5], [2, 2, 2, 2, 5], expect=0.55),
        case([2, 2, 2], [2, 2, 3], expect=0.3333),
        case([5, 5, 5], [5, 5], expect=0.0),
        case([0, 0, 1, 1], [1, 1, 1, 0], expect=0.25),
        case([1, 1, 1, 1, 1, 2], [2, 2, 2, 2, 2, 1], expect=0.6667),
        case(np.array([0, 1, 1, 2, 2, 2, 3]), np.array([1, 2, 3, 3, 3, 4]), expect=0.5238),
        case(pd.Series([0.25, 0.25, 0.5, 0.75, 0.75]), pd.Series([0.5, 0.5, 0.75, 0.75]), expect=0.4),
    ])


@check(points=0.25, hint="Evaluate both ECDFs at every value of both samples (concatenate them), "
                         "not only at the reference values and not on a grid.")
def test_ecdfs_are_compared_at_every_value_of_both_samples(ks_statistic):
    """Both ECDFs are evaluated at every value of both samples: the largest gap can sit at a value of the
    current sample only, or between two values closer than any grid."""
    ks_statistic.agrees_on([
        case([1, 5, 9], [2, 3], expect=0.6667,
             why="The largest gap is at x = 3, a value of the current sample only: F_ref = 1/3, F_cur = 1."),
        case([2, 3], [1, 5, 9], expect=0.6667),
        case([50], list(range(100)), expect=0.5,
             why="The largest gap is at x = 49, a value of the current sample only: F_ref = 0, F_cur = 1/2."),
        case(list(range(100)), [50], expect=0.5),
        case(np.array([0.0]), np.array([-3.5, 2.0, -1.0]), expect=0.6667),
        case(np.array([-3.5, 2.0, -1.0]), np.array([0.0]), expect=0.6667),
        case([5, 6, 7], [1, 2, 3, 8], expect=0.75,
             why="The largest gap is at x = 3, a value of the current sample only: F_ref = 0, F_cur = 3/4."),
        case([0.0, 0.50001, 1.0], [0.0, 0.50002, 1.0], expect=0.3333,
             why="The ECDFs differ (by 1/3) only for 0.50001 <= x < 0.50002, which a grid of points steps over."),
    ])


@check(points=0.25, hint="Accept any 1-D sequence (np.asarray(values, dtype=float)) and return float(D).")
def test_any_sequence_of_numbers_of_any_lengths(ks_statistic):
    """Inputs are lists, NumPy arrays or pandas Series of numbers, of possibly different lengths down to a
    single value; D is returned as a float."""
    ks_statistic.agrees_on([
        case([7], [7], expect=0.0),
        case([1], [2], expect=1.0),
        case(np.array([0.5, 1.5]), pd.Series([1.0]), expect=0.5),
        case(pd.Series([3, 1, 2], index=[10, 20, 30]), np.array([2.5]), expect=0.6667,
             why="A Series may carry any index: use its values, not positions 0, 1, 2 of its index."),
        case(np.array([1, 2, 3], dtype=np.int32), [1.5, 2.5], expect=0.3333),
        case([1e9, -1e9], [0.0, 1e9], expect=0.5),
        case([0.1, 0.2, 0.3], [0.3, 0.2, 0.1, 0.4], expect=0.25),
    ])


@check(points=0.5, hint=SCIPY)
def test_random_samples_with_ties(ks_statistic, rng):
    """On 200 random pairs of samples with ties (counts, 0/1 flags, rounded scores) D equals
    scipy.stats.ks_2samp(reference, current).statistic."""
    ks_statistic.agrees_on(random_samples_with_ties(rng, 200))


@check(points=0.5, hint=SCIPY)
def test_random_continuous_samples(ks_statistic, rng):
    """On 100 random pairs of continuous samples of different lengths, locations and spreads D equals
    scipy.stats.ks_2samp(reference, current).statistic."""
    ks_statistic.agrees_on(random_continuous_samples(rng, 100))


@check(points=0.5, hint="Raise ValueError when either sample is empty or contains NaN.")
def test_value_error_for_an_empty_sample_or_nan(ks_statistic):
    """An empty sample, or one that contains NaN, raises ValueError (either argument)."""
    ks_statistic.agrees_on([
        case([], [1.0, 2.0], expect=Raises(ValueError)),
        case([1.0, 2.0], [], expect=Raises(ValueError)),
        case(np.array([]), np.array([]), expect=Raises(ValueError)),
        case([1.0, np.nan], [1.0], expect=Raises(ValueError), why="A sample that contains NaN raises ValueError."),
        case([1.0], [np.nan, 2.0], expect=Raises(ValueError), why="A sample that contains NaN raises ValueError."),
        case(pd.Series([0.5, np.nan, 1.5]), pd.Series([1.0, 2.0]), expect=Raises(ValueError)),
        case(np.array([np.nan]), np.array([np.nan]), expect=Raises(ValueError)),
    ])


def random_samples_with_ties(rng, count):
    """1 to 80 values per sample, many repeated: Poisson counts, 0/1 flags or scores rounded to two decimals;
    the samples come as lists, arrays or Series."""
    cases = []
    for i in range(count):
        n, m = (int(size) for size in rng.integers(1, 80, size=2))
        kind = i % 3
        if kind == 0:
            reference, current = rng.poisson(rng.uniform(0.2, 4), n), rng.poisson(rng.uniform(0.2, 4), m)
        elif kind == 1:
            reference, current = rng.integers(0, 2, n), rng.integers(0, 2, m)
        else:
            reference, current = rng.beta(2, 5, n).round(2), rng.beta(rng.uniform(1, 4), 5, m).round(2)
        cases.append(case(_as(i, reference), _as(i + 1, current)))
    return cases


def random_continuous_samples(rng, count):
    """1 to 80 normal values per sample, the current one shifted and scaled at random; lists, arrays or Series."""
    cases = []
    for i in range(count):
        n, m = (int(size) for size in rng.integers(1, 80, size=2))
        reference = rng.normal(0, 1, n)
        current = rng.normal(rng.normal(0, 0.7), rng.uniform(0.5, 2), m)
        cases.append(case(_as(i, reference), _as(i + 2, current)))
    return cases


def _as(kind, values):
    """The values as a list, an array or a Series, in turn."""
    if kind % 3 == 0:
        return values.tolist()
    return pd.Series(values) if kind % 3 == 1 else values
