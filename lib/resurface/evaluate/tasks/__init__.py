"""Package data of the evaluation suites: lm-eval task templates, item files and metric hooks.

- ``templates/*.yaml.in``: lm-eval task YAMLs with ``@DATA@``-style placeholders; they are written
  with absolute paths into a cache folder at run time by :func:`resurface.evaluate.coursetasks.task_dir`
  (lm-eval resolves relative ``data_files`` against the working directory).
- ``data/*.jsonl``: the course items, written for this project (never copied from a benchmark);
  every file is generated, deterministically, by :mod:`resurface.evaluate.itemgen`.
- :mod:`resurface.evaluate.tasks.metrics`: the functions the YAMLs name with ``!function``.
- ``BASE_SCORES.md``: measured base scores and timings of the course models.
"""
