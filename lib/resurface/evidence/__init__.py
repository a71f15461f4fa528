"""Evidence: numbers a page may state.

Takes the tidy rows of runs and measures; gives intervals, contrasts, verdicts on the paper's claims,
the proxy and relational tables, Figure 1's overview, and the page prose computed from them.
"""
