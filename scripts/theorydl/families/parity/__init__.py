"""Parities: non-informative gradients (Failures of Gradient-Based Deep Learning, §2)."""
