"""Evaluate: what the students are measured on.

Takes a model (in memory or by name) and a suite name; gives tidy result rows and per-item rows from
lm-evaluation-harness. Holds the suites (task, shots, metric keys), the offline course tasks and their
item generators, the lm-eval backend, and the sandbox that runs model-written code. It sits below the
corpus stage because the contamination audit fingerprints these benchmarks' items.
"""
