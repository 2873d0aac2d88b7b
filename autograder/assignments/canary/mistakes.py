"""Known mistakes of the ``canary`` assignment, as edits of the reference solution.

Each entry names one misconception a student's answer can show; see
:mod:`autograder.mistakes` for how the graders and the tests use them.

Not listed, because they are not mistakes the assignment can hold against a
student: bucketing by ``int(sha, 16) % 100 < fraction * 100`` (sticky,
monotone, process-independent; its share is off by less than one percentage
point, within sampling error at the fractions of a rollout), and resetting
the count of healthy days on a "hold" (a stage's totals only grow, so a hold
never follows a healthy day of the same stage).
"""

from autograder.mistakes import Mistake

_HASH_LOOP = ('    for email_id in email_ids:\n'
              '        digest = hashlib.sha256(f"{salt}:{email_id}".encode("utf-8")).digest()\n'
              '        positions.append(int.from_bytes(digest[:8], "big") / 2**64)\n')
_FRESH_TOTALS = '                totals = {"control": dict(empty), "canary": dict(empty)}\n'

MISTAKES = [
    # --- assign_to_canary --------------------------------------------------------------------------
    Mistake(
        "builtin_hash", "assign_to_canary",
        "Python's built-in hash() of a string is randomised per process (PYTHONHASHSEED), so the split changes "
        "from run to run; hash with hashlib instead (e.g. SHA-256 of f'{salt}:{email_id}').",
        replace={'        digest = hashlib.sha256(f"{salt}:{email_id}".encode("utf-8")).digest()\n'
                 '        positions.append(int.from_bytes(digest[:8], "big") / 2**64)\n':
                 '        positions.append(hash(f"{salt}:{email_id}") % 2**32 / 2**32)\n'},
    ),
    Mistake(
        "ignores_salt", "assign_to_canary",
        "Include the salt in what you hash (e.g. f'{salt}:{email_id}'): another salt must give an "
        "independent split.",
        replace={'f"{salt}:{email_id}"': "str(email_id)"},
    ),
    Mistake(
        "not_monotone", "assign_to_canary",
        "Do not hash the fraction: an id's number u must not depend on fraction, so that an id in the canary "
        "at 10 % stays in it at 50 % (monotone).",
        replace={'f"{salt}:{email_id}"': 'f"{salt}:{email_id}:{fraction}"'},
    ),
    Mistake(
        "random_not_sticky", "assign_to_canary",
        "Not sticky: a fresh random number per email puts the same id in different arms on different calls. "
        "Derive each id's number from a hash of the salt and the id.",
        replace={_HASH_LOOP: "    for _email_id in email_ids:\n        positions.append(np.random.random())\n"},
    ),
    Mistake(
        "random_per_position", "assign_to_canary",
        "Not sticky per id: a seeded random number per position depends on where an id sits in the list, so "
        "the same id lands in another arm in another batch. Hash each id together with the salt.",
        replace={"    positions = []\n" + _HASH_LOOP:
                 '    seed = int.from_bytes(hashlib.sha256(salt.encode("utf-8")).digest()[:8], "big")\n'
                 "    positions = np.random.default_rng(seed).random(len(email_ids))\n"},
    ),
    # --- canary_decision ---------------------------------------------------------------------------
    Mistake(
        "compares_fp_counts_not_rates", "canary_decision",
        "Compare false-positive rates fp / (fp + tn) of the two arms, not their raw false-positive counts: "
        "the arms see different numbers of emails.",
        replace={"canary_fpr > max_fpr_ratio * control_fpr": 'canary["fp"] > max_fpr_ratio * control["fp"]'},
    ),
    Mistake(
        "decision_not_strict", "canary_decision",
        "Roll back only when the canary FPR is strictly greater than max_fpr_ratio x the control FPR; "
        "a canary exactly at the limit is healthy.",
        replace={"canary_fpr > max_fpr_ratio": "canary_fpr >= max_fpr_ratio"},
    ),
    Mistake(
        "min_negatives_counts_all_emails", "canary_decision",
        "min_negatives counts each arm's negatives (fp + tn), not all its emails: "
        "hold when either arm has fewer than min_negatives negatives.",
        replace={"if min(control_negatives, canary_negatives) < max(min_negatives, 1):":
                 "if (min(sum(control.values()), sum(canary.values())) < max(min_negatives, 1)\n"
                 "            or 0 in (control_negatives, canary_negatives)):"},
    ),
    Mistake(
        "zero_control_fpr_healthy", "canary_decision",
        "With a control FPR of 0, any canary false positive is more than max_fpr_ratio x 0: roll back, "
        "do not call it healthy.",
        replace={'    return "rollback" if canary_fpr':
                 '    if control_fpr == 0:\n        return "healthy"\n    return "rollback" if canary_fpr'},
    ),
    Mistake(
        "no_negatives_divides", "canary_decision",
        "An arm with no negatives (fp + tn = 0) has no FPR: return 'hold', also when min_negatives is 0, "
        "instead of dividing by zero.",
        replace={"< max(min_negatives, 1):": "< min_negatives:"},
    ),
    Mistake(
        "no_negatives_healthy", "canary_decision",
        "An arm with no negatives (fp + tn = 0) has no FPR, not an FPR of 0: return 'hold', also when "
        "min_negatives is 0.",
        replace={"< max(min_negatives, 1):": "< min_negatives:",
                 'control["fp"] / control_negatives': 'control["fp"] / control_negatives if control_negatives else 0.0',
                 'canary["fp"] / canary_negatives': 'canary["fp"] / canary_negatives if canary_negatives else 0.0'},
    ),
    # --- run_canary_rollout ------------------------------------------------------------------------
    Mistake(
        "advances_same_day", "run_canary_rollout",
        "The day that completes a stage belongs to that stage; the next stage starts on the next day. "
        "Record the day's row before moving on to the next stage.",
        replace={'        rows.append((day, stage_index + 1, fraction, false_positive_rate(totals["control"]),\n'
                 '                     false_positive_rate(totals["canary"]), decision))\n':
                 '        control_fpr = false_positive_rate(totals["control"])\n'
                 '        canary_fpr = false_positive_rate(totals["canary"])\n',
                 _FRESH_TOTALS + "    return pd.DataFrame(":
                 _FRESH_TOTALS
                 + "        rows.append((day, stage_index + 1, stages[stage_index][0], control_fpr, canary_fpr,"
                   " decision))\n"
                 + "    return pd.DataFrame("},
    ),
    Mistake(
        "reset_on_hold", "run_canary_rollout",
        "A 'hold' day resets nothing: keep adding the days' counts to the stage's running totals, "
        "which is how a held stage gathers enough negatives.",
        replace={'        elif decision == "healthy":\n':
                 '        elif decision == "hold":\n'
                 '            totals = {"control": dict(empty), "canary": dict(empty)}\n'
                 '        elif decision == "healthy":\n'},
    ),
    Mistake(
        "decides_on_daily_counts", "run_canary_rollout",
        "Decide on the stage's running totals (the counts of all its days so far, added up), "
        "not on one day's counts.",
        replace={"totals[arm][key] += value": "totals[arm][key] = value"},
    ),
    Mistake(
        "hold_counts_as_healthy", "run_canary_rollout",
        "A 'hold' day does not count towards the stage's healthy days; only 'healthy' days do.",
        replace={'        elif decision == "healthy":\n': "        else:\n"},
    ),
    Mistake(
        "rollback_keeps_stage", "run_canary_rollout",
        "After a rollback every later day is 'rolled_back' at stage 0 with canary fraction 0.0, "
        "not at the stage it was rolled back in.",
        replace={'rows.append((day, 0, 0.0, served, float("nan"), "rolled_back"))':
                 'rows.append((day, stage_index + 1, 0.0, served, float("nan"), "rolled_back"))'},
    ),
    Mistake(
        "rollout_unsorted_dates", "run_canary_rollout",
        "Process the days in date order: the rows may come unsorted, so sort by date before going "
        "through the days (groupby(..., sort=False) keeps the order of first appearance).",
        replace={'frame.sort_values("date", kind="stable").groupby("date", sort=True)':
                 'frame.groupby("date", sort=False)'},
    ),
    Mistake(
        "totals_not_reset", "run_canary_rollout",
        "A new stage starts with fresh totals: reset the running counts of both arms when the stage changes.",
        replace={_FRESH_TOTALS: ""},
    ),
]
