"""Shared simulation code for the phishing-detector course.

One module per responsibility:

* :mod:`phishlab.simulation` -- seeded email-traffic generator;
* :mod:`phishlab.scenarios` -- drift scenarios, described as data;
* :mod:`phishlab.training` -- the scaling + SMOTE + random-forest pipeline;
* :mod:`phishlab.registry` -- the model registry (version tracker);
* :mod:`phishlab.scoring` -- production scoring and the prediction log;
* :mod:`phishlab.monitoring` -- daily and rolling metrics, alert thresholds;
* :mod:`phishlab.feedback` -- analyst review, user reports and the labels they give;
* :mod:`phishlab.retraining` -- combining labels, tuning, the FPR-budget threshold;
* :mod:`phishlab.plotting` -- the course's figure style and shared figures;
* :mod:`phishlab.course` -- the course's timeline, seeds, artifact folder and storyline.

And one module per practice challenge:

* :mod:`phishlab.ensemble` -- weighted voting of two models, weight sweeps (Challenge 1);
* :mod:`phishlab.active_learning` -- labelling strategies and learning curves (Challenge 2);
* :mod:`phishlab.costs` -- expected cost, Bayes and cost-optimal thresholds (Challenge 3);
* :mod:`phishlab.policies` -- retraining policies over a drifting timeline (Challenge 4);
* :mod:`phishlab.importance` -- feature importances month by month, rank tables (Challenge 5).

The package knows nothing about grading: the graded functions live only in the
assignment notebooks.
"""

__version__ = "0.1.0"
