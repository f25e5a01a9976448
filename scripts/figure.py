"""Snakemake entry point of every figure rule (``<family>_figure_<name>``): the function ``name``
of the family's ``figures.py`` draws the figure, which is saved as PDF and PNG with what made it."""

import importlib

from theorydl.logs import log_to
from theorydl.plotting import save_figure, use_style

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
family, name = sm.params.family, sm.params.figure
draw = getattr(importlib.import_module(f"theorydl.families.{family}.figures"), name)
figure = draw(sm.input, **sm.params.args)
save_figure(figure, sm.output, f"theorydl/families/{family}/figures.py:{name}", sm.input)
