"""resurface: reproduce "Not All Synthetic Data Is Yours to Learn From" (arXiv 2605.31126).

The library holds every stage of the paper's pipeline (sampling, decontamination, subsets,
training, evaluation, proxies, attacks) behind one artifact store; the notebooks in
``notebooks/`` are thin drivers that turn its results into figures.
"""

__version__ = "0.1.0"
