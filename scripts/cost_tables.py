"""Snakemake entry point: what every job, family and claim cost on this machine (rule costs).

Costs come from Snakemake's benchmark files; GPU usage from the runs' meta.json."""

from pathlib import Path

import pandas as pd
import yaml

from theorydl import costs
from theorydl.logs import log_to
from theorydl.tables import write_table

sm = snakemake  # noqa: F821 (injected by Snakemake's script directive)
log_to(sm.log[0])
gpu = costs.gpu_usage(sm.input.metas)
jobs = costs.job_costs((Path(p) for p in sm.params.benchmarks), sm.params.families, gpu)
verdicts = pd.read_csv(sm.input.claims)
families = costs.family_costs(jobs, sm.params.families, verdicts)
# What each claim is judged on: its table's rows, traced back to the jobs that made them.
charged = {}
for claim in yaml.safe_load(Path(sm.input.claims_file).read_text())["claims"]:
    family = claim["family"]
    if family not in sm.params.variants:
        continue  # not run
    theory = jobs[(jobs.family == family) & ~jobs.job.str.startswith("train_")].job
    charged[claim["id"]] = costs.claim_jobs(
        family,
        claim["table"],
        claim.get("where", {}),
        sm.params.variants[family],
        sm.params.training_jobs[family],
        theory,
    )
claims = costs.claim_costs(verdicts, jobs, charged)
write_table(
    Path(sm.output.jobs[0]).with_suffix(""),
    jobs,
    costs.display(jobs),
    "Cost of every job: wall time, CPU time and peak memory (resident set); on a GPU, how busy "
    "the device was and the GPU memory the job held",
    long=True,  # a row per job: pages long at the paper scale
)
write_table(
    Path(sm.output.families[0]).with_suffix(""),
    families,
    costs.display(families),
    "Cost of each experiment family, summed over its jobs, and its claims' verdicts",
)
write_table(
    Path(sm.output.claims[0]).with_suffix(""),
    claims,
    costs.display(claims),
    "Time to reproduce each claim: the jobs whose outputs it is judged on (the training jobs of "
    "the variants behind its table's rows, the theory jobs and datasets they need)",
)
print(costs.display(families).to_string(index=False))
