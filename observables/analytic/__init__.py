"""Closed forms and independent quadratures that Monte Carlo estimates are checked against."""
