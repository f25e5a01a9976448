"""Stocks: end-to-end vs decomposition (Failures of Gradient-Based Deep Learning, §3.2-3.3)."""
