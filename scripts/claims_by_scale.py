"""Snakemake entry point: every claim's verdict at every scale whose results exist, side by side
(rule claims_by_scale)."""

from pathlib import Path

import pandas as pd

from theorydl import claims
from theorydl.logs import log_to
from theorydl.tables import write_table

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
root = Path(sm.output.csv).parents[1]  # results/, above results/<scale>/
# This run's claims are the input; the other scales' are read if a run of theirs left them.
found = {
    scale: pd.read_csv(root / scale / "claims.csv")
    for scale in sm.params.scales
    if (root / scale / "claims.csv").exists()
}
table = claims.side_by_side(found)
write_table(
    Path(sm.output.csv).with_suffix(""),
    table,
    claims.side_by_side_display(table, list(found)),
    f"Published claims at every scale run here ({', '.join(found)})",
)
for row in table[table.differs].itertuples():
    print(f"verdicts differ: {row.id}: {row.why}")
