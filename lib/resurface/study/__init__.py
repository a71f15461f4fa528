"""Study: the figures' designs.

Takes a profile name (``smoke``, ``course``, ``paper``) and a figure; gives its parameters and the
conditions, corpora and training runs it needs, built through the corpus, train and measures stages
below (the memorization study of Figures 7 and 8: :mod:`resurface.study.planted_memory`; Figure 13's
planted, buried and resurfaced skill: :mod:`resurface.study.buried_skill`).
"""
