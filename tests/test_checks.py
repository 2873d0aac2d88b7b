"""The hidden checks themselves: found by looking, worth their points, agreeing with the reference.

These run no student code: they check what a TA relies on before grading anyone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from submissions import ROOT

from autograder.assignments import HERE, assignments, get
from autograder.check import checks_of, contract
from autograder.compare import as_code, call_as_code, matches_written
from autograder.diagnosis import relevant_hint, smaller
from autograder.mistakes import MistakeDoesNotApply, edited_cell, implementation, known_mistakes
from autograder.plan import Plan, solve

ASSIGNMENTS = sorted(assignments())


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    return {assignment: Plan(assignment) for assignment in ASSIGNMENTS}


def test_assignments_are_the_folders_with_an_assignment_toml():
    folders = sorted(path.name for path in HERE.iterdir() if (path / "assignment.toml").is_file())
    assert ASSIGNMENTS == folders and len(folders) >= 3
    for assignment in ASSIGNMENTS:
        for kind in ("solutions", "exercises"):
            assert (ROOT / kind / assignment / f"{assignment}.ipynb").is_file()


def test_an_unknown_assignment_is_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match="choose one of canary, ks_drift, mcnemar"):
        get("ks-drift")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_function_has_checks_worth_its_points(assignment):
    spec, checks = get(assignment), checks_of(assignment)
    assert spec.max_score == 10.0
    for name, points in spec.points.items():
        assert checks[name], f"{name} has no checks (test_{name}.py)"
        assert sum(check.check.points for check in checks[name]) == pytest.approx(points), name


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_check_states_the_sentence_it_verifies(assignment):
    for checks in checks_of(assignment).values():
        for check in checks:
            assert check.__name__.startswith("test_") and check.check.points > 0
            assert len(contract(check)) >= 30, f"{check.__name__} needs its contract sentence as a docstring"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hand_picked_cases_agree_with_the_reference(assignment, plans):
    plan = plans[assignment]
    written = [case for calls in plan.calls.values() for call in calls for case in call.cases if case.hand_picked]
    assert len(written) >= 10
    assert plan.disagreements == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_known_mistake_is_an_edit_that_changes_an_answer(assignment, plans):
    """Each mistake applies to the reference once and gives a wrong answer on some planned input."""
    plan = plans[assignment]
    for mistake in known_mistakes(assignment):
        edited_cell(assignment, mistake)
        assert mistake.hint.strip() and mistake.function in plan.spec.functions, mistake.name
        wrong = implementation(assignment, mistake)
        calls = [call for calls in plan.calls.values() for call in calls if call.function == mistake.function]
        if not calls:  # only property checks: the grading tests show the points it loses
            continue
        from autograder.plan import exposes

        exposed = any(exposes(wrong, call, case, expected)
                      for call in calls for case, expected in zip(call.cases, call.expected))
        uses_properties = any(not plan.calls[f"{mistake.function}::{check.__name__}"]
                              for check in plan.checks[mistake.function])
        assert exposed or uses_properties or plan.breaks_a_rule(mistake), f"no planned input exposes {mistake.name}"


def test_a_mistake_that_no_longer_fits_the_reference_fails_loudly():
    from autograder.mistakes import Mistake

    with pytest.raises(MistakeDoesNotApply, match="occurs 0 times"):
        edited_cell("mcnemar", Mistake("gone", "mcnemar_table", "hint", replace={"no such code": "x"}))


def test_reference_answers_raise_as_raises():
    plan_reference = {"f": lambda x: 1 / x}
    assert solve(plan_reference, "f", _case(0)).name == "ZeroDivisionError"


def _case(*args, **kwargs):
    from autograder.check import case

    return case(*args, **kwargs)


# -- feedback ------------------------------------------------------------------------------------------------


def test_a_failing_input_is_printed_as_code_that_rebuilds_it():
    frame = pd.DataFrame({"date": pd.to_datetime(["2024-10-01", "2024-10-02"]), "y_true": [0, 1],
                          "score": [0.5, float("nan")], "flag": [True, False]})
    series = pd.Series([1.5, 2.0, 3.25], name="urgency")
    for value in (frame, series, np.array([[1, 2], [3, 4]]), np.array([True, False]), (1.0, None),
                  {"tp": 1, "fp": 2}, [np.int64(3), np.float64(0.1)]):
        rebuilt = eval(as_code(value), {"np": np, "pd": pd})
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(rebuilt, value)
        elif isinstance(value, pd.Series):
            pd.testing.assert_series_equal(rebuilt, value)
        elif isinstance(value, np.ndarray):
            assert np.array_equal(rebuilt, value) and rebuilt.dtype == value.dtype
        else:
            assert rebuilt == value
    assert "0...." not in call_as_code("ks_statistic", (pd.Series(np.linspace(0, 1, 40)), [1]), {})


def test_a_long_failing_input_is_printed_as_short_code_that_rebuilds_it():
    days = pd.DataFrame({"date": pd.to_datetime(["2024-10-01"] * 1000 + ["2024-10-02"] * 200),
                         "email_id": [f"2024-10-01-l{i}" for i in range(1000)] + [f"x{{'{i}" for i in range(200)],
                         "y_true": [0] * 1000 + [1] * 200, "score": [0.25] * 1180 + list(np.linspace(0, 1, 20))})
    code = call_as_code("run_canary_rollout", (days,), {"salt": "s"})
    assert not code.startswith("#") and code.count("\n") == 0
    rebuilt = eval(code.removeprefix("run_canary_rollout(").removesuffix(", salt='s')"), {"np": np, "pd": pd})
    pd.testing.assert_frame_equal(rebuilt, days)
    assert len(as_code(days["y_true"])) < 60


def test_a_hint_is_shown_only_when_it_concerns_what_differs():
    hints = {"significant": "strictly", "better": "b > c means A"}
    assert relevant_hint(hints, "['better']: wrong value") == "b > c means A"
    assert relevant_hint(hints, "['p_value']: wrong value") is None
    assert relevant_hint("one hint", "raised TypeError: bad operand") is None
    assert relevant_hint("one hint", "wrong value") == "one hint"


def test_shrinking_removes_the_same_rows_from_inputs_of_one_length():
    from autograder.check import case

    original = case([1, 0, 1, 1], np.array([1, 0, 0, 1]), [0, 0, 1, 1], alpha=0.05)
    for candidate in smaller(original):
        lengths = {len(candidate.args[0]), len(candidate.args[1]), len(candidate.args[2])}
        assert len(lengths) == 1 and lengths.pop() < 4 and candidate.kwargs == {"alpha": 0.05}


def test_written_answers_may_be_rounded_to_four_significant_digits():
    assert matches_written((4.0, 0.076812744140625), (4.0, 0.07681))
    assert not matches_written((4.0, 0.076812744140625), (4.0, 0.0769))
    assert matches_written(np.array([[1, 2], [1, 0]]), [[1, 2], [1, 0]])
    assert not matches_written(True, 1)


# -- scoring ---------------------------------------------------------------------------------------------------


def _function(*checks):
    from autograder.scoring import FunctionResult

    return FunctionResult("f", sum(check.max_score for check in checks), list(checks))


def _check(name, passed, points, agreed=0, validation=False):
    from autograder.scoring import CheckResult

    return CheckResult(name, passed, points if passed else 0.0, points, agreed=agreed, validation=validation)


def test_validation_points_are_kept_by_a_function_that_answers_some_valid_input():
    from autograder.scoring import settle

    function = _function(_check("values", False, 4.0, agreed=298), _check("bad input", True, 1.0, validation=True))
    settle(function)
    assert function.score == 1.0


def test_validation_points_are_withheld_from_a_function_that_answers_no_valid_input():
    from autograder.scoring import settle

    function = _function(_check("values", False, 4.0, agreed=0), _check("bad input", True, 1.0, validation=True))
    settle(function)
    assert function.score == 0.0 and "answers some valid input" in function.checks[1].feedback


def test_a_forbidden_call_costs_the_whole_function():
    from autograder.scoring import CheckResult, settle

    function = _function(_check("values", True, 2.0, agreed=10),
                         CheckResult("ties", False, 0.0, 1.0, "ks_statistic called scipy.stats.ks_2samp", True))
    settle(function)
    assert function.score == 0.0 and "ks_2samp" in function.problem
