"""Tuples of line images: end-to-end vs decomposition, and the gradient SNR (Failures §3)."""
