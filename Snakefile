# theorydl-artifact: every failure case of "Failures of Gradient-Based Deep Learning", the
# weight-sharing ablation, GaLU networks and (reconstructed) hierarchical models, from training
# to the report.
#
#   snakemake --cores all                       # paper scale (config/config.yaml)
#   snakemake --cores all --config scale=quick  # every claim judgeable on a laptop CPU
#
# This file only includes the rules (workflow/rules/*.smk); each family's code is a package,
# scripts/theorydl/families/<family>/.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/parity.smk"
include: "workflow/rules/tuples.smk"
include: "workflow/rules/stocks.smk"
include: "workflow/rules/curves.smk"
include: "workflow/rules/flat.smk"
include: "workflow/rules/sharing.smk"
include: "workflow/rules/gating.smk"
include: "workflow/rules/hierarchical.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/report.smk"


rule all:
    """Every table, figure and verdict, the report PDF when TeX is available, and the manifest."""
    input:
        final_outputs(),
        rules.manifest.output,
    default_target: True
