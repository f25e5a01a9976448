"""Snakemake entry point: compare results/<scale>/ with its manifest.json (rule verify)."""

import sys
from pathlib import Path

from theorydl import manifest

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
path = Path(sm.params.manifest)
if not path.is_file():
    verdict, problems = f"{path} does not exist: run the workflow first (snakemake --cores all)", 1
else:
    problems = manifest.verify(path)
    lines = (
        [f"results/ differs from {path}:", *problems] if problems else [f"results/ matches {path}"]
    )
    verdict = "\n  ".join(lines)
Path(sm.log[0]).write_text(verdict + "\n")
print(verdict, file=sys.stderr)  # shown on the terminal too: this rule is run to be read
sys.exit(1 if problems else 0)
