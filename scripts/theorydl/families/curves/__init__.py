"""Piecewise-linear curves: architecture and conditioning (Failures of Gradient-Based DL, §4)."""
