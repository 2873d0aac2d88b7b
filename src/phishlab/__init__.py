"""Shared simulation code for the phishing-detector course.

One module per responsibility:

* :mod:`phishlab.simulation` -- seeded email-traffic generator;
* :mod:`phishlab.scenarios` -- drift scenarios, described as data;
* :mod:`phishlab.training` -- the scaling + SMOTE + random-forest pipeline;
* :mod:`phishlab.registry` -- the model registry (version tracker);
* :mod:`phishlab.scoring` -- production scoring and the prediction log;
* :mod:`phishlab.monitoring` -- daily and rolling metrics, alert thresholds;
* :mod:`phishlab.drift` -- Chapter 3's feature monitor: a test fit for each kind of
  feature, a minimum effect size, a sliding window;
* :mod:`phishlab.labels` -- when each label becomes known: late, biased user reports and
  analysts with a daily capacity; the rates a dashboard knows on each day;
* :mod:`phishlab.outputs` -- label-free monitoring of the model's outputs (alert rate, PSI,
  Wasserstein distance);
* :mod:`phishlab.feedback` -- analyst review, user reports and the labels they give;
* :mod:`phishlab.retraining` -- combining labels, tuning, the FPR-budget threshold;
* :mod:`phishlab.plotting` -- the course's figure style and shared figures;
* :mod:`phishlab.course` -- the course's timeline, seeds, artifact folder and storyline.

The practice challenges' code is apart, in :mod:`phishlab.challenges`, one
module per challenge named after its chapter.

The package knows nothing about grading: the graded functions live only in the
assignment notebooks.
"""

__version__ = "0.1.0"
