"""Snakemake entry point: results/<scale>/manifest.json (rule manifest)."""

from pathlib import Path

from theorydl import manifest
from theorydl.logs import log_to

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
path = Path(sm.output.manifest)
built = manifest.build(path.parent, sm.params.patterns, sm.params.config)
manifest.write(path, built)
print(f"{len(built['files'])} files recorded in {path}")
