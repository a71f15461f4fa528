"""Study: the figures' designs.

Takes a profile name (``smoke``, ``course``, ``paper``) and a figure; gives its parameters and the
conditions, corpora and training runs it needs, built through the corpus and train stages below.
"""
