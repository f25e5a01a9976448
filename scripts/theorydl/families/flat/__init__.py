"""Flat activations: learning through a step function (Failures of Gradient-Based DL, §5)."""
