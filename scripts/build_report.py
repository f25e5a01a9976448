"""Snakemake entry point: build the report PDF with latexmk (rule report_pdf).

The LaTeX sources in paper/ are copied into a build directory; generated inputs, tables and
figures are found through TEXINPUTS, so the sources name them without paths.
"""

import os
import shutil
import subprocess
from pathlib import Path

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
build = Path(sm.params.build_dir)
shutil.rmtree(build, ignore_errors=True)
build.mkdir(parents=True)
for source in map(Path, [sm.input.main, *sm.input.sections]):
    shutil.copy(source, build / source.name)
search = [Path(p).resolve() for p in sm.params.search_dirs]
env = dict(os.environ, TEXINPUTS=os.pathsep.join(["."] + [str(p) for p in search] + [""]))
main = Path(sm.input.main).name
with open(sm.log[0], "w") as log:
    done = subprocess.run(
        ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", main],
        cwd=build,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
if done.returncode != 0:
    raise SystemExit(f"latexmk failed (exit {done.returncode}); see {sm.log[0]} and {build}")
shutil.copy(build / Path(main).with_suffix(".pdf"), sm.output.pdf)
