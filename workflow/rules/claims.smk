# Every published claim judged on the aggregated tables (config/claims.yaml).


rule claims:
    """Verdict per published claim: results/claims.{csv,md,tex}."""
    input:
        claims="config/claims.yaml",
        schema="workflow/schemas/claims.schema.yaml",
        tables=sorted({f"{TABLES}/{c.table}.csv" for c in CLAIMS if c.family in SELECTED}),
    output:
        csv=report(
            f"{RESULTS}/claims.csv",
            caption="../report/claims.rst",
            category="Claims",
        ),
        md=f"{RESULTS}/claims.md",
        tex=f"{RESULTS}/claims.tex",
    params:
        code=code_digest("scripts/judge_claims.py"),
        families=SELECTED,  # the claims of the others are "not run"
    log:
        f"{LOGS}/claims.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/judge_claims.py"


rule claims_by_scale:
    """Each claim's measured value and verdict at every scale whose results exist, side by side:
    results/<scale>/claims_by_scale.{csv,md,tex}.

    The other scales' claims are read when the job runs, not declared as inputs: a run of one
    scale never makes another scale's outputs out of date.
    """
    input:
        claims=rules.claims.output.csv,
    output:
        csv=f"{RESULTS}/claims_by_scale.csv",
        md=f"{RESULTS}/claims_by_scale.md",
        tex=f"{RESULTS}/claims_by_scale.tex",
    params:
        code=code_digest("scripts/claims_by_scale.py"),
        scales=list(tdl_config.SCALES),
    log:
        f"{LOGS}/claims_by_scale.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/claims_by_scale.py"
