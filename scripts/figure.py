"""Snakemake entry point of every figure rule: the function ``figure`` of the rule's ``module``
(a family's ``figures.py``, or the datasets') draws the figure, which is saved as PDF and PNG
with what made it."""

import importlib

from theorydl.logs import log_to
from theorydl.plotting import save_figure, use_style

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
use_style()
module, name = sm.params.module, sm.params.figure  # module: a path under scripts/
draw = getattr(importlib.import_module(module.removesuffix(".py").replace("/", ".")), name)
figure = draw(sm.input, **sm.params.args)
save_figure(figure, sm.output, f"{module}:{name}", sm.input)
