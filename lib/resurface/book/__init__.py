"""Book: from notebooks to pages.

Takes the figure notebooks and a profile; gives executed pages (papermill, reused when nothing
changed), figures in one style, the cost estimate, the pilot tables, and the built Jupyter Book,
checked in a headless browser.
"""
