"""Hidden checks of ``run_canary_rollout(traffic, stages, max_fpr_ratio, min_negatives, salt)`` (4 points).

While these run, the reference's assign_to_canary (answering id by id, so one
call per day or several get the same arms) and canary_decision stand in for the
student's, so a mistake there is not charged twice.

In the hand-picked traffic every email of a day is legitimate (or every one is
phishing) and each model flags all of a day's emails or none, so the decisions
and rates do not depend on which emails the bucketing sends to the canary.
"""

import numpy as np
import pandas as pd

from autograder.check import Lend, Raises, case, check
from autograder.compare import same, same_frame, show

CALLEES = (Lend("assign_to_canary", per_item="email_ids"), "canary_decision")
COLUMNS = ["date", "stage", "canary_fraction", "control_fpr", "canary_fpr", "decision"]
NAN = float("nan")
NEXT_STAGE = ("The day that completes a stage belongs to it; the next stage starts the next day, with fresh totals "
              "for both arms.")


def same_rollout(expected, actual):
    """Compare the tables column by column, naming the first day a column differs on; the index is free."""
    if not isinstance(expected, pd.DataFrame) or not isinstance(actual, pd.DataFrame):
        return same(expected, actual)
    if list(actual.columns) != COLUMNS:
        return f"columns should be exactly {COLUMNS}, got {list(actual.columns)}"
    if len(actual) != len(expected):
        return f"should have one row per day ({len(expected)} rows), got {len(actual)} rows"
    actual = actual.reset_index(drop=True)
    for column in ("date", "decision", "stage", "canary_fraction", "control_fpr", "canary_fpr"):
        problem = same_frame(expected[[column]], actual[[column]])
        if not problem:
            continue
        for row in range(len(expected)):
            if same_frame(expected[[column]].iloc[[row]], actual[[column]].iloc[[row]].set_axis([row])):
                day = pd.Timestamp(expected["date"].iloc[row]).date()
                return (f"[{column!r}]: wrong from {day} on (row {row}): expected "
                        f"{show(expected[column].iloc[row])}, got {show(actual[column].iloc[row])}")
        return f"[{column!r}]: {problem}"
    return None


def emails(date, n, *, phishing=False, control=False, canary=False):
    """One day's n emails, all legitimate (or all phishing); each model flags all of them or none."""
    kind = "p" if phishing else "l"
    return pd.DataFrame({"date": pd.Timestamp(date), "email_id": [f"{date}-{kind}{i}" for i in range(n)],
                         "y_true": int(phishing), "pred_control": int(control), "pred_canary": int(canary)})


def traffic(*days):
    """The days' emails in one table."""
    return pd.concat(days, ignore_index=True)


def table(*rows):
    """The expected result: one (date, stage, canary_fraction, control_fpr, canary_fpr, decision) per day."""
    frame = pd.DataFrame(list(rows), columns=COLUMNS)
    return frame.assign(date=pd.to_datetime(frame["date"]))


# Day 2 has only phishing emails: the day alone has no negatives, the stage's totals are those of day 1.
PHISHING_DAY = traffic(emails("2024-10-01", 1000, control=True), emails("2024-10-02", 100, phishing=True, canary=True),
                       emails("2024-10-03", 100, control=True, canary=True))
# The canary flags every email; the stage gathers 100 negatives per arm only on day 2.
SLOW_ROLLBACK = traffic(emails("2024-10-01", 120, canary=True), emails("2024-10-02", 120, canary=True),
                        emails("2024-10-03", 50, control=True))
# Day 1 completes stage 1; on day 2 stage 2's own totals are a canary FPR of 1 against 0.
NEW_STAGE = traffic(emails("2024-10-01", 1000, control=True), emails("2024-10-02", 200, canary=True),
                    emails("2024-10-03", 100))
NEW_STAGE_RESULT = table(("2024-10-01", 1, 0.5, 1.0, 0.0, "healthy"), ("2024-10-02", 2, 0.6, 0.0, 1.0, "rollback"),
                         ("2024-10-03", 0, 0.0, 0.0, NAN, "rolled_back"))
# Two flawless models: 2 healthy days at 10 %, 3 at 50 %, then complete.
FLAWLESS = traffic(*(emails(f"2024-10-0{day}", 900) for day in range(1, 9)),
                   *(emails(f"2024-10-0{day}", 100, phishing=True, control=True, canary=True) for day in range(1, 9)))
# Day 1 is too small to judge (hold); days 2 and 3 are healthy.
SMALL_FIRST_DAY = traffic(emails("2024-10-01", 40), emails("2024-10-02", 1000), emails("2024-10-03", 1000),
                          emails("2024-10-04", 100))
SMALL_FIRST_DAY_RESULT = table(("2024-10-01", 1, 0.2, 0.0, 0.0, "hold"),
                               ("2024-10-02", 1, 0.2, 0.0, 0.0, "healthy"),
                               ("2024-10-03", 1, 0.2, 0.0, 0.0, "healthy"),
                               ("2024-10-04", 2, 1.0, NAN, 0.0, "complete"))


@check(points=0.5, hint="Add each day's counts to the stage's running totals and decide on the totals, not on "
                        "the day's own counts.", lend=CALLEES)
def test_decides_on_the_stages_running_totals(run_canary_rollout):
    """Each day of a non-final stage adds its counts to the stage's running totals, and canary_decision decides
    on the totals; the FPR columns are those of the totals."""
    run_canary_rollout.agrees_on([
        case(PHISHING_DAY, stages=((0.5, 2), (1.0, 0)),
             expect=table(("2024-10-01", 1, 0.5, 1.0, 0.0, "healthy"), ("2024-10-02", 1, 0.5, 1.0, 0.0, "healthy"),
                          ("2024-10-03", 2, 1.0, NAN, 1.0, "complete")),
             why="2024-10-02 has no legitimate email, but the stage's totals (day 1's) are healthy: decide on "
                 "the running totals, and report their FPRs."),
        case(SLOW_ROLLBACK, stages=((0.5, 2), (1.0, 0)), min_negatives=100,
             expect=table(("2024-10-01", 1, 0.5, 0.0, 1.0, "hold"), ("2024-10-02", 1, 0.5, 0.0, 1.0, "rollback"),
                          ("2024-10-03", 0, 0.0, 1.0, NAN, "rolled_back")),
             why="Each day alone has about 60 negatives per arm (< 100, hold); the two days' totals have about "
                 "120: decide on the totals, and roll back on 2024-10-02."),
    ], compare=same_rollout)


@check(points=0.5, hint=dict.fromkeys(COLUMNS[1:], NEXT_STAGE), lend=CALLEES)
def test_the_next_stage_starts_the_next_day_with_fresh_totals(run_canary_rollout):
    """"healthy" counts a day; when a stage has its number of healthy days, the next day starts the next stage,
    with fresh totals."""
    run_canary_rollout.agrees_on([
        case(NEW_STAGE, stages=((0.5, 1), (0.6, 1), (1.0, 0)), expect=NEW_STAGE_RESULT,
             why="2024-10-01 completes stage 1; stage 2 starts on 2024-10-02 with fresh totals, in which the "
                 "canary's FPR is 1 against 0: rollback. Carrying day 1's totals over would call it healthy."),
        case(FLAWLESS,
             expect=table(*((f"2024-10-0{day}", 1, 0.1, 0.0, 0.0, "healthy") for day in (1, 2)),
                          *((f"2024-10-0{day}", 2, 0.5, 0.0, 0.0, "healthy") for day in (3, 4, 5)),
                          *((f"2024-10-0{day}", 3, 1.0, NAN, 0.0, "complete") for day in (6, 7, 8))),
             why="With the default stages: 2 healthy days at 10 %, then 3 at 50 % from the next day on, then "
                 "complete."),
    ], compare=same_rollout)


@check(points=0.25, hint="A 'hold' day neither counts towards the stage's healthy days nor resets its totals.",
       lend=CALLEES)
def test_a_hold_day_neither_counts_nor_resets_anything(run_canary_rollout):
    """"hold" does not count as a healthy day, nor does it reset anything."""
    run_canary_rollout.agrees_on([
        case(SMALL_FIRST_DAY, stages=((0.2, 2), (1.0, 0)), expect=SMALL_FIRST_DAY_RESULT,
             why="2024-10-01 holds (40 emails); only 2024-10-02 and 2024-10-03 count, so the final stage starts "
                 "on 2024-10-04."),
        case(traffic(*(emails(f"2024-10-0{day}", n) for day, n in ((1, 150), (2, 150), (3, 100), (4, 50)))),
             stages=((0.5, 2), (1.0, 0)), min_negatives=100,
             expect=table(("2024-10-01", 1, 0.5, 0.0, 0.0, "hold"), ("2024-10-02", 1, 0.5, 0.0, 0.0, "healthy"),
                          ("2024-10-03", 1, 0.5, 0.0, 0.0, "healthy"), ("2024-10-04", 2, 1.0, NAN, 0.0, "complete")),
             why="2024-10-01 holds (about 75 negatives per arm < 100) and resets nothing: with day 2 the totals "
                 "reach about 150 per arm, healthy."),
    ], compare=same_rollout)


@check(points=0.5, hint="After a rollback every later day is 'rolled_back' at stage 0 and fraction 0.0, with the "
                        "control arm's FPR of that day and canary_fpr NaN.", lend=CALLEES)
def test_a_rollback_ends_the_rollout(run_canary_rollout, rng):
    """"rollback" ends the rollout: every later day runs at stage 0 and fraction 0.0 with decision
    "rolled_back", its control_fpr that day's and canary_fpr NaN."""
    bad = traffic(emails("2024-10-01", 1000, canary=True), emails("2024-10-02", 300, control=True),
                  emails("2024-10-03", 300), emails("2024-10-04", 30, phishing=True))
    late = traffic(emails("2024-10-01", 1000), emails("2024-10-02", 1000, canary=True), emails("2024-10-03", 100))
    run_canary_rollout.agrees_on([
        case(bad, expect=table(("2024-10-01", 1, 0.1, 0.0, 1.0, "rollback"),
                               ("2024-10-02", 0, 0.0, 1.0, NAN, "rolled_back"),
                               ("2024-10-03", 0, 0.0, 0.0, NAN, "rolled_back"),
                               ("2024-10-04", 0, 0.0, NAN, NAN, "rolled_back")),
             why="After the rollback every day is stage 0 at fraction 0.0; control_fpr is that day's control FPR "
                 "(NaN on a day without legitimate email)."),
        case(late, stages=((0.1, 1), (0.5, 2), (1.0, 0)),
             expect=table(("2024-10-01", 1, 0.1, 0.0, 0.0, "healthy"), ("2024-10-02", 2, 0.5, 0.0, 1.0, "rollback"),
                          ("2024-10-03", 0, 0.0, 0.0, NAN, "rolled_back")),
             why="A rollback in stage 2 also sends every later day to stage 0, not to the stage it happened in."),
        *canaries_turning_bad(rng, 8),
    ], compare=same_rollout)


@check(points=0.25, hint="Days in the final stage are 'complete' (even with a bad canary): canary_fpr is that "
                         "day's FPR, control_fpr NaN.", lend=CALLEES)
def test_final_stage_days_are_complete_with_no_control_arm(run_canary_rollout):
    """Days in the final stage (fraction 1.0) have decision "complete" and no control arm: control_fpr is NaN,
    canary_fpr that day's."""
    days = traffic(emails("2024-10-01", 100, canary=True), emails("2024-10-02", 40, phishing=True),
                   emails("2024-10-03", 50))
    run_canary_rollout.agrees_on([
        case(days, stages=((1.0, 0),),
             expect=table(("2024-10-01", 1, 1.0, NAN, 1.0, "complete"), ("2024-10-02", 1, 1.0, NAN, NAN, "complete"),
                          ("2024-10-03", 1, 1.0, NAN, 0.0, "complete")),
             why="The final stage is never judged: a canary flagging every email is still 'complete'."),
        case(days, stages=((1.0, 0),), max_fpr_ratio=100.0, min_negatives=10**6,
             expect=table(("2024-10-01", 1, 1.0, NAN, 1.0, "complete"), ("2024-10-02", 1, 1.0, NAN, NAN, "complete"),
                          ("2024-10-03", 1, 1.0, NAN, 0.0, "complete"))),
    ], compare=same_rollout)


@check(points=0.25, hint="The FPR fp / (fp + tn) of an arm with no negatives (fp + tn = 0) is NaN.", lend=CALLEES)
def test_the_fpr_of_an_arm_with_no_negatives_is_nan(run_canary_rollout):
    """The FPR of an arm with no negatives is NaN (and such a stage holds)."""
    run_canary_rollout.agrees_on([
        case(traffic(emails("2024-10-01", 200, phishing=True, control=True), emails("2024-10-02", 1000),
                     emails("2024-10-03", 50, phishing=True)),
             stages=((0.5, 1), (1.0, 0)),
             expect=table(("2024-10-01", 1, 0.5, NAN, NAN, "hold"), ("2024-10-02", 1, 0.5, 0.0, 0.0, "healthy"),
                          ("2024-10-03", 2, 1.0, NAN, NAN, "complete")),
             why="2024-10-01 has only phishing emails: neither arm has a negative, so both FPRs are NaN."),
        case(traffic(emails("2024-10-01", 1000), emails("2024-10-02", 500, control=True)), stages=((0.0, 1), (1.0, 0)),
             expect=table(("2024-10-01", 1, 0.0, 0.0, NAN, "hold"), ("2024-10-02", 1, 0.0, 500 / 1500, NAN, "hold")),
             why="At fraction 0.0 the canary gets no email: its FPR is NaN, and the stage holds; the control arm's "
                 "totals reach 500 false positives in 1500 negatives."),
    ], compare=same_rollout)


@check(points=0.5, hint="Process the days in date order, whatever the order of the rows; convert text dates with "
                        "pd.to_datetime.", lend=CALLEES)
def test_days_in_date_order_whatever_the_order_of_the_rows(run_canary_rollout):
    """The days are processed in date order; the rows may come unsorted, and dates may be datetimes or text
    such as "2024-10-01"."""
    as_text = SMALL_FIRST_DAY.assign(date=SMALL_FIRST_DAY["date"].dt.strftime("%Y-%m-%d"))
    run_canary_rollout.agrees_on([
        case(SMALL_FIRST_DAY.sample(frac=1, random_state=1).reset_index(drop=True), stages=((0.2, 2), (1.0, 0)),
             expect=SMALL_FIRST_DAY_RESULT, why="Shuffled rows: sort by date before going through the days."),
        case(as_text, stages=((0.2, 2), (1.0, 0)), expect=SMALL_FIRST_DAY_RESULT,
             why="Dates given as text: convert them with pd.to_datetime."),
        case(as_text.iloc[::-1].reset_index(drop=True), stages=((0.2, 2), (1.0, 0)), expect=SMALL_FIRST_DAY_RESULT),
        case(NEW_STAGE.iloc[::-1], stages=((0.5, 1), (0.6, 1), (1.0, 0)), expect=NEW_STAGE_RESULT,
             why="Rows in reverse date order: the days still go from the earliest to the latest."),
    ], compare=same_rollout)


@check(points=0.5, hint="Raise ValueError if a column is missing, or if the stage fractions are not strictly "
                        "increasing, do not end at 1.0 or leave [0, 1], or a non-final stage needs fewer than 1 "
                        "healthy day.", lend=CALLEES)
def test_value_error_for_a_missing_column_or_invalid_stages(run_canary_rollout):
    """A missing column, stage fractions not strictly increasing, not ending at 1.0 or outside [0, 1], and a
    non-final stage needing fewer than 1 healthy day raise ValueError."""
    days = traffic(emails("2024-10-01", 200), emails("2024-10-02", 200))
    run_canary_rollout.agrees_on([
        *(case(days.drop(columns=column), expect=Raises(ValueError))
          for column in ("date", "email_id", "y_true", "pred_control", "pred_canary")),
        case(days, stages=((0.1, 2), (0.5, 3)), expect=Raises(ValueError)),
        case(days, stages=((0.5, 2), (0.1, 2), (1.0, 0)), expect=Raises(ValueError)),
        case(days, stages=((0.3, 1), (0.3, 1), (1.0, 0)), expect=Raises(ValueError)),
        case(days, stages=((-0.1, 2), (1.0, 0)), expect=Raises(ValueError)),
        case(days.iloc[:0], stages=((-0.1, 2), (1.0, 0)), expect=Raises(ValueError),
             why="Check the stages before reading the traffic: a fraction below 0 is an error even on no emails."),
        case(days, stages=((0.2, 1), (1.5, 0)), expect=Raises(ValueError)),
        case(days, stages=((0.1, 0), (1.0, 0)), expect=Raises(ValueError)),
        case(days, stages=((0.1, 2), (0.5, -1), (1.0, 0)), expect=Raises(ValueError)),
    ], compare=same_rollout)


@check(points=0.25, hint="Keep the signature's defaults: min_negatives=50, max_fpr_ratio=1.5, the stages "
                         "((0.10, 2), (0.50, 3), (1.00, 0)) and salt 'v2.0'.", lend=CALLEES)
def test_by_default_each_arm_needs_50_negatives(run_canary_rollout, reference):
    """With the signature's defaults, the first stage sends 10 % of the ids (salt 'v2.0') to the canary and
    judges only once each arm has 50 negatives."""
    run_canary_rollout.agrees_on([
        case(canary_day(reference, 49), expect=table(("2024-10-01", 1, 0.1, 0.0, 1.0, "hold")),
             why="The canary arm has 49 legitimate emails, one short of the default min_negatives=50."),
        case(canary_day(reference, 50), expect=table(("2024-10-01", 1, 0.1, 0.0, 1.0, "rollback")),
             why="Both arms have at least 50 legitimate emails: the canary's FPR 1 against 0 rolls back."),
    ], compare=same_rollout)


def canary_day(reference, negatives):
    """One day of legitimate emails, flagged by the canary only: ``negatives`` of them in the canary arm of the
    default first stage (10 %, salt 'v2.0'), 400 in the control arm."""
    ids = [f"2024-10-01-l{i}" for i in range(3000)]
    in_canary = reference["assign_to_canary"](ids, 0.10, "v2.0")
    chosen = [i for i, flag in zip(ids, in_canary) if flag][:negatives] + \
             [i for i, flag in zip(ids, in_canary) if not flag][:400]
    return pd.DataFrame({"date": pd.Timestamp("2024-10-01"), "email_id": chosen, "y_true": 0, "pred_control": 0,
                         "pred_canary": 1})


@check(points=0.5, hint="Compare your table with the rules day by day: running totals per stage, the next stage "
                        "the next day, hold not counted, rolled_back after a rollback, complete in the final stage.",
       lend=CALLEES)
def test_random_rollouts(run_canary_rollout, rng):
    """30 random rollouts (about 200 simulated days) with random stages, max_fpr_ratio, min_negatives and salt,
    rows sometimes shuffled and dates sometimes text, get the reference's table."""
    run_canary_rollout.agrees_on(random_rollouts(rng, 30), compare=same_rollout)


def random_traffic(rng, days, per_day, control_fp=0.02, canary_fp=0.02, start="2024-10-01"):
    """days of Poisson(per_day) emails, 10 % phishing; the control (canary) model catches 90 % (95 %) of phishing
    and flags legitimate emails with probability control_fp (canary_fp)."""
    frames = []
    for day in pd.date_range(start, periods=days, freq="D"):
        n = int(rng.poisson(per_day))
        y = (rng.random(n) < 0.1).astype(int)
        control = np.where(y == 1, rng.random(n) < 0.9, rng.random(n) < control_fp).astype(int)
        canary = np.where(y == 1, rng.random(n) < 0.95, rng.random(n) < canary_fp).astype(int)
        frames.append(pd.DataFrame({"date": day, "email_id": [f"{day:%Y%m%d}-{i:04d}" for i in range(n)],
                                    "y_true": y, "pred_control": control, "pred_canary": canary}))
    return pd.concat(frames, ignore_index=True)


def _scrambled(rng, frame):
    """The rows shuffled a third of the time, the dates written as text a quarter of the time."""
    if rng.random() < 1 / 3:
        frame = frame.sample(frac=1, random_state=int(rng.integers(0, 10**6))).reset_index(drop=True)
    if rng.random() < 1 / 4:
        frame = frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d"))
    return frame


def random_rollouts(rng, count):
    """3 to 10 days of 40 to 200 emails a day; control FPR 0-5 %, canary FPR 0-20 %; 1 to 3 stages before the
    final one, needing 1 to 3 healthy days; max_fpr_ratio 1.2-4, min_negatives 5-150, salt 'v2.0' or 'x'."""
    cases = []
    for _ in range(count):
        frame = random_traffic(rng, int(rng.integers(3, 11)), int(rng.integers(40, 200)), float(rng.uniform(0, 0.05)),
                               float(rng.choice([0.0, 0.02, 0.05, 0.2])))
        fractions = sorted({round(float(f), 2) for f in rng.uniform(0.05, 0.95, int(rng.integers(1, 4)))})
        stages = (*((f, int(rng.integers(1, 4))) for f in fractions), (1.0, 0))
        cases.append(case(_scrambled(rng, frame), stages=stages, max_fpr_ratio=float(rng.choice([1.2, 1.5, 2.0, 4.0])),
                          min_negatives=int(rng.choice([5, 20, 50, 150])), salt=str(rng.choice(["v2.0", "x"]))))
    return cases


def canaries_turning_bad(rng, count):
    """A canary as good as the control for 0 to 4 days, then flagging 30-50 % of legitimate emails; 300 to 600
    emails a day, default stages, max_fpr_ratio and min_negatives."""
    cases = []
    for _ in range(count):
        good, per_day = int(rng.integers(0, 5)), int(rng.integers(300, 600))
        parts = [random_traffic(rng, good, per_day)] if good else []
        parts.append(random_traffic(rng, int(rng.integers(2, 6)), per_day, canary_fp=float(rng.uniform(0.3, 0.5)),
                                    start=str((pd.Timestamp("2024-10-01") + pd.Timedelta(days=good)).date())))
        cases.append(case(_scrambled(rng, pd.concat(parts, ignore_index=True))))
    return cases
