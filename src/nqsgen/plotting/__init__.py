"""Plotting for nqsgen (matplotlib, vector PDF, no display needed).

Submodules are imported explicitly (``from nqsgen.plotting.clusters import draw_cluster``) so
that importing this package does not import matplotlib.
"""
