"""Snakemake entry point: judge every published claim on the aggregated tables (rule claims)."""

from pathlib import Path

from theorydl import claims, config
from theorydl.logs import log_to
from theorydl.tables import write_table

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
checked = claims.load_claims(Path(sm.input.claims), Path(sm.input.schema), config.known_tables())
tables = Path(sm.output.csv).parent / "tables"  # results/<scale>/tables
results = claims.evaluate(checked, tables, sm.params.families)
write_table(
    Path(sm.output.csv).with_suffix(""),
    results,
    claims.display(results),
    "Published claims and their verdicts",
)
for row in results.itertuples():
    print(f"{row.verdict:>26}  {row.id}: {row.criterion}; measured {row.measured}")
