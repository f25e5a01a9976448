"""Snakemake entry point of every figure rule (``<family>_figure_<name>``): the function ``name``
of the family's ``figures.py`` draws the figure, which is saved as PDF and PNG with what made it.
A figure of no family (the datasets') names the module that draws it in the ``module`` param."""

import importlib

from theorydl.logs import log_to
from theorydl.plotting import save_figure, use_style

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
family, name = sm.params.family, sm.params.figure
module = sm.params.get("module") or f"theorydl/families/{family}/figures.py"
draw = getattr(importlib.import_module(module.removesuffix(".py").replace("/", ".")), name)
figure = draw(sm.input, **sm.params.args)
save_figure(figure, sm.output, f"{module}:{name}", sm.input)
