"""Checks of the ``canary`` assignment.

``assign_to_canary`` has no single right output -- any sticky, monotone,
process-independent hash is valid -- so it is checked through properties.
``run_canary_rollout`` is graded with the reference ``assign_to_canary`` and
``canary_decision`` standing in for the student's, so a different valid hash
or a mistake in the decision rule is not charged twice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from autograder.checks import Case, Check, FunctionSpec, Mistake, Oracle, Raised, same

# --- assign_to_canary --------------------------------------------------------------------------------


def _ids(rng, n, style=None):
    style = int(rng.integers(0, 3)) if style is None else style
    if style == 0:
        return [f"2024{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}-{i:04d}" for i in range(n)]
    if style == 1:
        return [f"user-{int(x)}" for x in rng.choice(10**9, size=n, replace=False)]
    return [f"train-{i}" for i in range(n)]


def extremes(rng) -> list[Case]:
    ids = _ids(rng, 300, 0)
    return [Case((ids, 0.0)), Case((ids, 1.0)), Case((ids[:1], 1.0)), Case((ids[:1], 0.0)), Case(([], 0.5)),
            Case((np.array(ids[:50]), 0.0)), Case((pd.Series(ids[:50]), 1.0)), Case((ids, 0), {"salt": "v3.0"}),
            Case((ids, 1), {"salt": ""})]


def bad_fraction(rng) -> list[Case]:
    return [Case((["a", "b"], f)) for f in (-0.1, 1.0001, 2, -1e-9)]


def sticky_monotone_cases(rng) -> list[Case]:
    cases = []
    for group in range(12):
        ids = _ids(rng, int(rng.integers(50, 800)))
        salt = str(rng.choice(["v2.0", "v3.0", "experiment-7"]))
        fractions = sorted(float(f) for f in rng.uniform(0, 1, 3))
        for fraction in (*fractions, fractions[0]):  # the first fraction twice: stickiness
            cases.append(Case((ids, fraction), {"salt": salt}, label=f"group {group}"))
    return cases


def _bool_array(answer, n) -> str | None:
    if isinstance(answer, Raised):
        return f"raised {answer.types[0]}: {answer.message}"
    if not isinstance(answer, np.ndarray) or answer.dtype.kind != "b" or answer.shape != (n,):
        return f"should return a bool NumPy array of shape ({n},), got {type(answer).__name__}"
    return None


def sticky_monotone(answers, cases) -> str | None:
    groups: dict[str, list[tuple[Case, np.ndarray]]] = {}
    for case, answer in zip(cases, answers):
        problem = _bool_array(answer, len(case.args[0]))
        if problem:
            return problem
        groups.setdefault(case.label, []).append((case, answer))
    for members in groups.values():
        (first_case, first), *_rest = members
        _repeat_case, repeat = members[-1]
        if not np.array_equal(first, repeat):
            return (f"Not sticky: two calls with the same {len(first_case.args[0])} ids, fraction "
                    f"{first_case.args[1]:.3f} and salt {first_case.kwargs['salt']!r} put "
                    f"{int(np.sum(first != repeat))} ids in different arms.")
        ordered = sorted(members[:-1], key=lambda m: m[0].args[1])
        for (low_case, low), (high_case, high) in zip(ordered, ordered[1:]):
            dropped = int(np.sum(low & ~high))
            if dropped:
                return (f"Not monotone: {dropped} ids in the canary at fraction {low_case.args[1]:.3f} "
                        f"are not in it at the larger fraction {high_case.args[1]:.3f}.")
    return None


def share_cases(rng) -> list[Case]:
    return [Case((_ids(rng, 5000, i % 3), float(f)), {"salt": f"s{i}"})
            for i, f in enumerate((0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99))]


def share(answers, cases) -> str | None:
    for case, answer in zip(cases, answers):
        problem = _bool_array(answer, len(case.args[0]))
        if problem:
            return problem
        n, fraction = len(case.args[0]), case.args[1]
        tolerance = 5 * np.sqrt(fraction * (1 - fraction) / n) + 1 / n
        if abs(answer.mean() - fraction) > tolerance:
            return (f"With fraction {fraction} the canary got {answer.mean():.3f} of {n} ids; expected "
                    f"{fraction} +- {tolerance:.3f}.")
    return None


def process_cases(rng) -> list[Case]:
    return [Case((_ids(rng, 2000, i % 3), f)) for i, f in enumerate((0.1, 0.5, 0.9))]


def same_in_other_process(answers, other_answers, cases) -> str | None:
    for case, here, there in zip(cases, answers, other_answers):
        problem = _bool_array(here, len(case.args[0])) or _bool_array(there, len(case.args[0]))
        if problem:
            return problem
        if not np.array_equal(here, there):
            return (f"The split is different in another Python process: {int(np.sum(here != there))} of "
                    f"{len(here)} ids changed arms. Python's built-in hash() of a string is randomised per "
                    "process (PYTHONHASHSEED); use hashlib.")
    return None


def salt_cases(rng) -> list[Case]:
    ids = _ids(rng, 6000, 0)
    return [Case((ids, 0.5), {"salt": "v2.0"}), Case((ids, 0.5), {"salt": "v3.0"}),
            Case((ids, 0.2), {"salt": "a"}), Case((ids, 0.2), {"salt": "b"})]


def salt_independent(answers, cases) -> str | None:
    for (case, first), second in zip(zip(cases[::2], answers[::2]), answers[1::2]):
        problem = _bool_array(first, len(case.args[0])) or _bool_array(second, len(case.args[0]))
        if problem:
            return problem
        fraction, n = case.args[1], len(case.args[0])
        both, expected = float(np.mean(first & second)), fraction * fraction
        if abs(both - expected) > 5 * np.sqrt(expected * (1 - expected) / n) + 0.01:
            return (f"Salts {cases[0].kwargs['salt']!r} and {cases[1].kwargs['salt']!r} give nearly the same "
                    f"split ({both:.3f} of ids in both canaries, independent splits give {expected:.3f}): "
                    "include the salt in what you hash.")
    return None


# --- canary_decision ---------------------------------------------------------------------------------


def _arm(fp, tn, tp=5, fn=1):
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn}


def decision_boundaries(rng) -> list[Case]:
    return [
        Case((_arm(2, 98), _arm(3, 97))), Case((_arm(2, 98), _arm(4, 96))),
        Case((_arm(1, 49), _arm(1, 49))), Case((_arm(1, 49), _arm(1, 48))), Case((_arm(1, 48), _arm(9, 91))),
        Case((_arm(0, 500), _arm(1, 499))), Case((_arm(0, 500), _arm(0, 60))),
        Case((_arm(4, 396, 40, 2), _arm(3, 97, 10, 1))), Case((_arm(4, 396, 40, 2), _arm(1, 99, 10, 1))),
        Case((_arm(4, 396, 40, 2), _arm(1, 20, 3, 0))),
        Case((_arm(10, 90, tp=500, fn=500), _arm(10, 40, tp=500, fn=500))),
        Case((_arm(5, 95), _arm(5, 95)), {"max_fpr_ratio": 1.0}),
        Case((_arm(5, 95), _arm(6, 94)), {"max_fpr_ratio": 1.0}),
        Case((_arm(5, 95), _arm(10, 90)), {"max_fpr_ratio": 2.0}),
        Case((_arm(5, 95), _arm(11, 89)), {"max_fpr_ratio": 2.0}),
        Case((_arm(0, 10), _arm(0, 10)), {"min_negatives": 10}),
        Case((_arm(0, 9), _arm(3, 7)), {"min_negatives": 10}),
    ]


def decision_random(rng) -> list[Case]:
    cases = []
    for _ in range(400):
        control = {k: int(v) for k, v in zip(("tp", "fp", "tn", "fn"), rng.integers(0, 150, 4))}
        canary = {k: int(v) for k, v in zip(("tp", "fp", "tn", "fn"), rng.integers(0, 150, 4))}
        if rng.random() < 0.2:
            control["fp"] = 0
        kwargs = {"max_fpr_ratio": float(rng.choice([1.0, 1.25, 1.5, 2.0, 3.0])),
                  "min_negatives": int(rng.choice([1, 10, 50, 100]))}
        cases.append(Case((control, canary), kwargs if rng.random() < 0.7 else {}, size=8))
    return cases


def _decision_variant(strict=True, negatives="negatives", rates=True, zero="rollback", both_arms=True):
    def decide(control, canary, max_fpr_ratio=1.5, min_negatives=50):
        def evidence(arm):
            return arm["fp"] + arm["tn"] if negatives == "negatives" else sum(arm.values())
        arms = (control, canary) if both_arms else (canary,)
        if min(evidence(arm) for arm in arms) < max(min_negatives, 1):
            return "hold"
        if control["fp"] + control["tn"] == 0 or canary["fp"] + canary["tn"] == 0:
            return "hold"
        if rates:
            control_rate = control["fp"] / (control["fp"] + control["tn"])
            canary_rate = canary["fp"] / (canary["fp"] + canary["tn"])
        else:
            control_rate, canary_rate = control["fp"], canary["fp"]
        if control_rate == 0 and zero == "healthy":
            return "healthy"
        worse = canary_rate > max_fpr_ratio * control_rate if strict else canary_rate >= max_fpr_ratio * control_rate
        return "rollback" if worse else "healthy"
    return decide


DECISION_MISTAKES = [
    Mistake("not_strict", _decision_variant(strict=False),
            "Roll back only when the canary FPR is strictly greater than max_fpr_ratio x the control FPR."),
    Mistake("all_emails", _decision_variant(negatives="all"),
            "min_negatives counts negatives (fp + tn) of each arm, not all its emails."),
    Mistake("counts", _decision_variant(rates=False),
            "Compare false-positive rates fp / (fp + tn), not raw false-positive counts."),
    Mistake("zero_control", _decision_variant(zero="healthy"),
            "With a control FPR of 0, any canary false positive is more than max_fpr_ratio x 0: roll back."),
    Mistake("canary_only", _decision_variant(both_arms=False),
            "Hold when either arm has fewer than min_negatives negatives, the control arm included."),
]

# --- run_canary_rollout ------------------------------------------------------------------------------


def _traffic(rng, days, per_day, control_fp=0.02, canary_fp=0.02, start="2024-10-01", shuffle=False):
    frames = []
    for day in pd.date_range(start, periods=days, freq="D"):
        n = int(rng.poisson(per_day))
        y = (rng.random(n) < 0.1).astype(int)
        control = np.where(y == 1, (rng.random(n) < 0.9).astype(int), (rng.random(n) < control_fp).astype(int))
        canary = np.where(y == 1, (rng.random(n) < 0.95).astype(int), (rng.random(n) < canary_fp).astype(int))
        frames.append(pd.DataFrame({"date": day, "email_id": [f"{day:%Y%m%d}-{i:04d}" for i in range(n)],
                                    "y_true": y, "pred_control": control, "pred_canary": canary}))
    traffic = pd.concat(frames, ignore_index=True)
    return traffic.sample(frac=1, random_state=int(rng.integers(0, 10**6))).reset_index(drop=True) \
        if shuffle else traffic


def rollout_scenarios(rng) -> list[Case]:
    clean = _traffic(rng, 10, 800, 0.0, 0.0)
    noisy = _traffic(rng, 14, 400)
    slow = _traffic(rng, 12, 120)
    return [
        Case((clean,)), Case((noisy,)), Case((slow,)),
        Case((noisy,), {"stages": ((0.2, 1), (0.6, 2), (1.0, 0))}),
        Case((noisy,), {"stages": ((1.0, 0),)}), Case((slow,), {"min_negatives": 10**6}),
        Case((noisy,), {"stages": ((0.0, 2), (0.5, 1), (1.0, 0))}),
        Case((slow,), {"stages": ((0.1, 1), (0.2, 1), (0.3, 1), (0.4, 1), (1.0, 0))}),
    ]


def rollback_scenarios(rng) -> list[Case]:
    bad = _traffic(rng, 8, 600, 0.02, 0.30)
    late = pd.concat([_traffic(rng, 4, 600, 0.02, 0.02), _traffic(rng, 5, 600, 0.02, 0.5, start="2024-10-05")],
                     ignore_index=True)
    return [Case((bad,)), Case((late,)), Case((bad,), {"max_fpr_ratio": 100.0}),
            Case((late,), {"stages": ((0.5, 10), (1.0, 0))}), Case((bad,), {"min_negatives": 5})]


def rollout_random(rng) -> list[Case]:
    cases = []
    for _ in range(40):
        days = int(rng.integers(3, 11))
        traffic = _traffic(rng, days, int(rng.integers(40, 200)), float(rng.uniform(0, 0.05)),
                           float(rng.choice([0.0, 0.02, 0.05, 0.2])), shuffle=bool(rng.random() < 0.3))
        fractions = sorted(set(float(round(f, 2)) for f in rng.uniform(0.05, 0.95, int(rng.integers(1, 4)))))
        stages = (*tuple((f, int(rng.integers(1, 4))) for f in fractions), (1.0, 0))
        kwargs = {"stages": stages, "max_fpr_ratio": float(rng.choice([1.2, 1.5, 2.0, 4.0])),
                  "min_negatives": int(rng.choice([5, 20, 50, 150])), "salt": str(rng.choice(["v2.0", "x"]))}
        cases.append(Case((traffic,), kwargs, size=len(traffic)))
    return cases


def rollout_unsorted(rng) -> list[Case]:
    traffic = _traffic(rng, 9, 500, shuffle=True)
    as_text = traffic.assign(date=traffic["date"].dt.strftime("%Y-%m-%d"))
    return [Case((traffic,)), Case((as_text,)), Case((traffic.iloc[::-1].reset_index(drop=True),))]


def rollout_bad_input(rng) -> list[Case]:
    traffic = _traffic(rng, 3, 200)
    cases = [Case((traffic.drop(columns=column),)) for column in ("date", "y_true", "pred_canary", "email_id")]
    for stages in (((0.1, 2), (0.5, 3)), ((0.5, 2), (0.1, 2), (1.0, 0)), ((0.1, 0), (1.0, 0)),
                   ((-0.1, 2), (1.0, 0)), ((0.2, 1), (1.5, 0)), ((0.3, 1), (0.3, 1), (1.0, 0))):
        cases.append(Case((traffic,), {"stages": stages}))
    return cases


ROLLOUT_COLUMNS = ["date", "stage", "canary_fraction", "control_fpr", "canary_fpr", "decision"]


def same_rollout(expected, actual) -> str | None:
    """Rows and values must match; the index is free."""
    if isinstance(expected, Raised) or not isinstance(expected, pd.DataFrame):
        return same(expected, actual)
    if isinstance(actual, Raised):
        return f"raised {actual.types[0]}: {actual.message}"
    if not isinstance(actual, pd.DataFrame):
        return f"should return a pandas DataFrame, got {type(actual).__name__}"
    if list(actual.columns) != ROLLOUT_COLUMNS:
        return f"columns should be exactly {ROLLOUT_COLUMNS}, got {list(actual.columns)}"
    if len(actual) != len(expected):
        return f"should have one row per day ({len(expected)} rows), got {len(actual)}"
    try:
        dates = pd.to_datetime(pd.Series(actual["date"].to_numpy())).dt.normalize()
    except (TypeError, ValueError):
        return "the date column does not hold dates"
    if not np.array_equal(dates.to_numpy(), expected["date"].to_numpy()):
        return "the days are not in date order (or not one row per day)"
    for column in ("decision", "stage", "canary_fraction", "control_fpr", "canary_fpr"):
        wanted, got = expected[column].to_numpy(), actual[column].to_numpy()
        if column == "decision":
            wrong = [i for i, (w, g) in enumerate(zip(wanted, got)) if w != g]
        else:
            try:
                numbers = got.astype(float)
            except (TypeError, ValueError):
                return f"column {column!r} should be numeric"
            ok = np.isclose(wanted.astype(float), numbers, rtol=1e-9, atol=1e-12, equal_nan=True)
            wrong = list(np.flatnonzero(~ok))
        if wrong:
            day = pd.Timestamp(expected["date"].iloc[wrong[0]]).date()
            return f"column {column!r} is wrong from {day} on: expected {wanted[wrong[0]]!r}, got {got[wrong[0]]!r}"
    return None


def _rollout_variant(reference, sort=True, hold_counts=False, reset=True, same_day=False, keep_stage=False,
                     running=True):
    """The rollout with one deliberate mistake, driven by the reference bucketing and decision rule."""
    assign, decide = reference["assign_to_canary"], reference["canary_decision"]

    def rollout(traffic, stages=((0.10, 2), (0.50, 3), (1.00, 0)), max_fpr_ratio=1.5, min_negatives=50,
                salt="v2.0"):
        frame = traffic.assign(date=pd.to_datetime(traffic["date"]).dt.normalize())
        days = frame.sort_values("date", kind="stable").groupby("date", sort=True) if sort else \
            [(day, frame[frame["date"] == day]) for day in frame["date"].drop_duplicates()]
        zero = dict.fromkeys(("tp", "fp", "tn", "fn"), 0)
        totals, index, healthy, rolled, rows = {"c": dict(zero), "k": dict(zero)}, 0, 0, False, []
        stopped_at = 0

        def counts(y, p):
            return {"tp": int(np.sum((y == 1) & (p == 1))), "fp": int(np.sum((y == 0) & (p == 1))),
                    "tn": int(np.sum((y == 0) & (p == 0))), "fn": int(np.sum((y == 1) & (p == 0)))}

        def rate(c):
            return c["fp"] / (c["fp"] + c["tn"]) if c["fp"] + c["tn"] else float("nan")

        for day, emails in days:
            y = emails["y_true"].to_numpy()
            if rolled:
                rows.append((day, stopped_at, 0.0, rate(counts(y, emails["pred_control"].to_numpy())),
                             float("nan"), "rolled_back"))
                continue
            fraction, needed = stages[index]
            if index == len(stages) - 1:
                rows.append((day, index + 1, fraction, float("nan"),
                             rate(counts(y, emails["pred_canary"].to_numpy())), "complete"))
                continue
            mask = np.asarray(assign(emails["email_id"].tolist(), fraction, salt), dtype=bool)
            today = {"c": counts(y[~mask], emails["pred_control"].to_numpy()[~mask]),
                     "k": counts(y[mask], emails["pred_canary"].to_numpy()[mask])}
            for arm in totals:
                for key in zero:
                    totals[arm][key] += today[arm][key]
            used = totals if running else today
            decision = decide(used["c"], used["k"], max_fpr_ratio, min_negatives)
            rows.append((day, index + 1, fraction, rate(used["c"]), rate(used["k"]), decision))
            if decision == "rollback":
                rolled = True
                stopped_at = index + 1 if keep_stage else 0
            elif decision == "healthy" or (hold_counts and decision == "hold"):
                healthy += 1
                if healthy >= needed:
                    index, healthy = index + 1, 0
                    if reset:
                        totals = {"c": dict(zero), "k": dict(zero)}
                    if same_day and index < len(stages) - 1:
                        healthy = 1
        return pd.DataFrame(rows, columns=ROLLOUT_COLUMNS)
    return rollout


def rollout_mistakes(reference) -> list[Mistake]:
    return [
        Mistake("unsorted", _rollout_variant(reference, sort=False),
                "Process the days in date order: sort by date first (the rows may arrive unsorted)."),
        Mistake("hold_counts", _rollout_variant(reference, hold_counts=True),
                "A 'hold' day does not count towards the stage's healthy days."),
        Mistake("no_reset", _rollout_variant(reference, reset=False),
                "A new stage starts with fresh totals: reset the running counts when the stage changes."),
        Mistake("same_day", _rollout_variant(reference, same_day=True),
                "The next stage starts on the next day; the day that completes a stage belongs to it."),
        Mistake("rollback_stage", _rollout_variant(reference, keep_stage=True),
                "After a rollback every later day is 'rolled_back' at stage 0 with fraction 0.0."),
        Mistake("daily", _rollout_variant(reference, running=False),
                "Decide on the stage's running totals (all days of the stage so far), not on one day's counts."),
    ]


# The rollout may bucket a day's emails in one call or several: the lent bucketing answers per id.
ROLLOUT_ORACLES = (Oracle("assign_to_canary", per_item="email_ids"), "canary_decision")

MISTAKE_FACTORIES = {"run_canary_rollout": rollout_mistakes}
"""Mistakes that need the reference (they reuse its bucketing and decision rule)."""

FUNCTIONS = [
    FunctionSpec(
        "assign_to_canary", ("email_ids", "fraction", "salt"),
        [
            Check("fraction 0 sends nobody, 1 sends everybody; empty input", 0.5, extremes,
                  "Return a bool NumPy array with one entry per id: all False at fraction 0, all True at 1."),
            Check("sticky and monotone in fraction", 1.0, sticky_monotone_cases,
                  "The same id and salt must land in the same arm every time (sticky), and an id in the canary "
                  "at a smaller fraction must stay in it at a larger one (monotone): compare a hash-derived "
                  "number in [0, 1) with the fraction.", property_check=sticky_monotone),
            Check("canary share within sampling error of fraction", 0.5, share_cases,
                  "Map the hash to a uniform number in [0, 1) and compare it with fraction.",
                  property_check=share),
            Check("the same split in another Python process", 0.5, process_cases,
                  "Python's built-in hash() of a string changes from process to process; use hashlib "
                  "(e.g. SHA-256 of salt and id).", property_check=same_in_other_process, other_process=True),
            Check("another salt gives an independent split", 0.25, salt_cases,
                  "Include the salt in what you hash.", property_check=salt_independent),
            Check("ValueError for a fraction outside [0, 1]", 0.25, bad_fraction,
                  "Raise ValueError when fraction < 0 or fraction > 1."),
        ],
    ),
    FunctionSpec(
        "canary_decision", ("control", "canary", "max_fpr_ratio", "min_negatives"),
        [
            Check("worked examples and values exactly at the ratio or at min_negatives", 1.5, decision_boundaries,
                  "hold if either arm has fewer than min_negatives negatives; rollback if canary FPR > "
                  "max_fpr_ratio x control FPR (strictly); otherwise healthy."),
            Check("400 random count pairs", 1.5, decision_random,
                  "hold if either arm has fewer than min_negatives negatives; rollback if canary FPR > "
                  "max_fpr_ratio x control FPR (strictly); otherwise healthy."),
        ],
        DECISION_MISTAKES,
    ),
    FunctionSpec(
        "run_canary_rollout", ("traffic", "stages", "max_fpr_ratio", "min_negatives", "salt"),
        [
            Check("stages, holds and completion", 1.0, rollout_scenarios,
                  "Follow the rollout day by day: healthy days count, hold days do not, the next stage starts "
                  "the next day with fresh totals, the final stage is 'complete'.", compare=same_rollout,
                  oracles=ROLLOUT_ORACLES),
            Check("rollback and the days after it", 0.75, rollback_scenarios,
                  "After a rollback every later day is 'rolled_back' at stage 0 and fraction 0.0, with the "
                  "control arm's FPR of that day.", compare=same_rollout, oracles=ROLLOUT_ORACLES),
            Check("40 random rollouts (about 230 simulated days)", 1.25, rollout_random,
                  "Compare your table with the rules day by day.", compare=same_rollout, oracles=ROLLOUT_ORACLES),
            Check("unsorted rows and dates given as text", 0.5, rollout_unsorted,
                  "Process the days in date order, whatever the order of the rows.", compare=same_rollout,
                  oracles=ROLLOUT_ORACLES),
            Check("ValueError for missing columns or invalid stages", 0.5, rollout_bad_input,
                  "Validate the columns and the stages (strictly increasing fractions in [0, 1] ending at 1.0, "
                  "at least 1 healthy day for every stage before the last).", oracles=ROLLOUT_ORACLES),
        ],
    ),
]
