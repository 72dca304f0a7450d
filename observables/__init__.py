"""Tallies, estimators, statistics, analytic references and result tables."""
