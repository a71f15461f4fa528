"""resurface: reproduce "Not All Synthetic Data Is Yours to Learn From" (arXiv 2605.31126).

The stages are packages, stacked in the order each may import (a package imports only the core and
the packages above it in this list):

- the core (this folder's modules): the artifact store, model identity, aliases and loading, paths,
  errors, progress, condition names, the n-gram rule, the CLI;
- ``evaluate/``: suites, course tasks, lm-eval in process, code execution;
- ``corpus/``: BOS sampling, the 8-gram audit, subsets, replay text, memorization pools;
- ``train/``: full fine-tuning with per-epoch evaluation, and planting (training on a pool);
- ``measures/``: proxies, extraction, the memorization and resurfacing measures (pools, probes, hooks,
  held-out filters, traces), none of which trains a model;
- ``study/``: profiles and each figure's conditions and runs, the set-up of the planted-memory and
  buried-skill studies included;
- ``evidence/``: statistics, verdicts, per-figure rows and page prose;
- ``book/``: notebooks to pages, figures, costs, the browser check.

Import a name from the module that defines it (``from resurface.corpus.sampling import sample``);
the packages re-export nothing. The notebooks in ``notebooks/`` are thin drivers over these stages.
"""

__version__ = "0.1.0"
