"""The hidden graders as pytest runs them.

::

    pytest autograder/assignments/mcnemar --submission alice/mcnemar/mcnemar.ipynb
    pytest autograder/assignments/mcnemar --submission a.ipynb --submission b.ipynb -k p_value --junitxml=out.xml

grades notebooks with the assignment's checks: each check is a test, passing
or failing with the feedback a student would read, and the summary gives the
points per check, per function and in total -- the same points
``python -m autograder grade`` gives, because both run the same check
functions in the same :class:`~autograder.run.Session`. Without
``--submission`` the checks grade the instructor's own solution notebook.

Fixtures: every graded function by name (the student's function, run in the
sandbox), ``reference`` (the reference functions) and ``rng`` (seeded by the
check's name). Markers: ``points(value)`` and ``hint(text)``, set from each
check's ``@check`` so ``-m`` and reports can see them; the points also go to
JUnit XML as a ``points`` property.
"""

from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pytest

from autograder.assignments import assignments, get
from autograder.check import CheckFailed, assignment_of, graded_function, seed_of
from autograder.reference import solution_notebook
from autograder.scoring import settle


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograder", "grading notebooks with the hidden checks")
    group.addoption("--submission", action="append", default=[], metavar="NOTEBOOK",
                    help="a notebook to grade (repeat for several); default: the instructor's solution")
    group.addoption("--allow-weak-isolation", action="store_true",
                    help="grade without bubblewrap, with every output marked WEAK ISOLATION")
    group.addoption("--points-json", metavar="PATH", help="also write each notebook's points as JSON")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(value): the points a hidden check is worth")
    config.addinivalue_line("markers", "hint(text): the hint a failing hidden check may show")
    state = _State(config)
    config.stash[_STATE] = state
    config.pluginmanager.register(_graded_function_fixtures(), "autograder-graded-functions")


def _graded_function_fixtures():
    """An object holding one fixture per graded function of every assignment, named after it."""
    def make(name: str):
        @pytest.fixture(name=name)
        def submitted(request: pytest.FixtureRequest):
            return _state(request.config).session(request.node).function(name)
        return submitted

    holder = types.ModuleType("autograder_graded_functions")
    for name in sorted({name for assignment in assignments().values() for name in assignment.functions}):
        setattr(holder, f"fixture_{name}", make(name))
    return holder


@pytest.fixture
def reference(request: pytest.FixtureRequest):
    """The reference solution's graded functions, by name (run in this process)."""
    return _state(request.config).session(request.node).plan.reference


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded by the check's name, as in ``python -m autograder grade``."""
    session = _state(request.config).session(request.node)
    return np.random.default_rng(seed_of(request.node.function, session.plan.seed))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    submissions = metafunc.config.getoption("--submission")
    if hasattr(metafunc.function, "check") and len(submissions) > 1:
        metafunc.parametrize("_notebook", submissions, ids=[Path(s).stem for s in submissions], scope="function")


@pytest.fixture(autouse=True)
def _notebook():
    """The notebook a check grades, when several are given (a parameter, so test ids name it)."""
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Grade one notebook at a time, its functions in notebook order, each function's checks as written."""
    for item in items:
        info = getattr(getattr(item, "function", None), "check", None)
        if info is not None:
            item.add_marker(pytest.mark.points(info.points))
            if info.hint:
                item.add_marker(pytest.mark.hint(info.hint))

    def order(item: pytest.Item):
        function = getattr(item, "function", None)
        if not hasattr(function, "check"):
            return ("", 0, 0)
        notebook = item.callspec.params.get("_notebook", "") if hasattr(item, "callspec") else ""
        spec = get(_assignment(item))
        return (str(notebook), spec.functions.index(graded_function(function)),
                function.__code__.co_firstlineno)

    items.sort(key=order)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    function = getattr(item, "function", None)
    if not hasattr(function, "check"):
        yield
        return
    session = _state(item.config).session(item)
    session.begin(function)
    outcome = yield
    excinfo = outcome.excinfo
    result = session.end(excinfo[1] if excinfo else None)
    session.result.functions[graded_function(function)].checks.append(result)
    item.user_properties.append(("points", f"{result.score:g}/{result.max_score:g}"))
    item.stash[_RESULT] = result


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    result = item.stash.get(_RESULT, None)
    if call.when == "call" and result is not None and not result.passed and call.excinfo is not None \
            and call.excinfo.errisinstance((CheckFailed, AssertionError)):
        report.longrepr = f"{result.contract}\n\n{result.feedback}"


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or not state.sessions:
        return
    state.close()
    write = terminalreporter.write_line
    points = {}
    for (assignment, notebook), session in state.sessions.items():
        result = session.result
        terminalreporter.section(f"points: {assignment} -- {notebook}")
        for function in result.functions.values():
            if not function.checks:
                continue
            write(f"{function.name}: {function.score:g} / {sum(c.max_score for c in function.checks):g}"
                  + (f"  ({function.problem})" if function.problem else ""))
            for check in function.checks:
                write(f"    {'passed' if check.passed else 'FAILED'} {check.score:g}/{check.max_score:g}  "
                      f"{check.name}")
        total = sum(f.score for f in result.functions.values())
        graded = sum(c.max_score for f in result.functions.values() for c in f.checks)
        write(f"Score: {total:g} / {graded:g}" + ("" if graded == result.max_score else
                                                 f" (of the checks selected; the assignment has {result.max_score:g})"))
        points[notebook] = {"score": total, "functions": {f.name: f.score for f in result.functions.values()}}
    target = config.getoption("--points-json")
    if target:
        Path(target).write_text(json.dumps(points, indent=1) + "\n", encoding="utf-8")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.close()


def _assignment(item: pytest.Item) -> str:
    return assignment_of(item.function)


def _state(config: pytest.Config) -> _State:
    return config.stash[_STATE]


class _State:
    """The graders and sessions of one pytest run: one session per notebook, one at a time."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.graders: dict = {}
        self.sessions: dict = {}
        self.open = None
        self.closed = False

    def session(self, item: pytest.Item):
        from autograder.grading import Grader
        from autograder.reference import BrokenReference
        from autograder.sandbox import IsolationUnavailable, isolation
        from autograder.submission import SubmissionProblem, read_submission

        assignment = _assignment(item)
        notebooks = self.config.getoption("--submission")
        notebook = (item.callspec.params["_notebook"] if hasattr(item, "callspec")
                    and "_notebook" in item.callspec.params
                    else notebooks[0] if notebooks else str(solution_notebook(assignment)))
        key = (assignment, notebook)
        if key in self.sessions:
            return self.sessions[key]
        if self.open is not None:
            self._finish(self.open)
        if assignment not in self.graders:
            # One line, as the grade command says it, instead of a traceback under every check.
            try:
                level = isolation(allow_weak=self.config.getoption("--allow-weak-isolation"))
            except IsolationUnavailable as error:
                pytest.exit(f"cannot grade safely here: {error} (or pass --allow-weak-isolation)", returncode=2)
            try:
                self.graders[assignment] = Grader(assignment, isolation=level)
            except BrokenReference as error:
                pytest.exit(str(error), returncode=2)
        grader = self.graders[assignment]
        try:
            session = grader.session(read_submission(Path(notebook), assignment))
        except SubmissionProblem as problem:
            session = _Ungraded(grader, problem)
        self.sessions[key], self.open = session, key
        return session

    def _finish(self, key) -> None:
        session = self.sessions[key]
        session.finish()
        for function in session.result.functions.values():
            settle(function)
        self.open = None

    def close(self) -> None:
        if self.open is not None:
            self._finish(self.open)
        if not self.closed:
            for grader in self.graders.values():
                grader.close()
            self.closed = True


class _Ungraded:
    """A notebook that could not be read: every check fails saying why."""

    def __init__(self, grader, problem) -> None:
        self.plan = grader.plan
        self.result = grader.ungraded(problem.status, problem.message)
        for function in self.result.functions.values():
            function.problem = None
        self.message = problem.message
        self.current = None

    def function(self, name: str):
        return _Refusing(f"the notebook could not be graded: {self.message}")

    def begin(self, check_function) -> None:
        self.current = check_function

    def end(self, error):
        from autograder.check import contract, title
        from autograder.scoring import CheckResult

        info = self.current.check
        return CheckResult(title(self.current), False, 0.0, info.points, feedback=self.message,
                           contract=contract(self.current))

    def finish(self) -> None:
        return None


class _Refusing:
    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, *args, **kwargs):
        raise CheckFailed(self.message)

    agrees_on = in_another_process = __call__


_STATE = pytest.StashKey[_State]()
_RESULT = pytest.StashKey[object]()

__all__ = ["_notebook", "pytest_addoption", "pytest_collection_modifyitems", "pytest_configure",
           "pytest_generate_tests", "pytest_runtest_call", "pytest_runtest_makereport", "pytest_terminal_summary",
           "pytest_unconfigure", "reference", "rng"]
