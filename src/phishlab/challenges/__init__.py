"""The practice challenges' code, one module per challenge, named after its chapter.

* :mod:`phishlab.challenges.ensemble` -- weighted voting of two models, weight sweeps (Challenge 1);
* :mod:`phishlab.challenges.active_learning` -- labelling strategies and learning curves (Challenge 2);
* :mod:`phishlab.challenges.cost_weighted` -- expected cost, Bayes and cost-optimal thresholds (Challenge 3);
* :mod:`phishlab.challenges.multi_wave` -- retraining policies over a drifting timeline (Challenge 4);
* :mod:`phishlab.challenges.importance_drift` -- feature importances month by month, rank tables (Challenge 5).

Each module also holds the functions its exercise notebook asks students to
write: the chapter runs on them, and shows them folded after its "Your turn".
The core of the package never imports from here.
"""
