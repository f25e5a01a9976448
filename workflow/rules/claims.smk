# Every published claim judged on the aggregated tables (config/claims.yaml).


rule claims:
    """Verdict per published claim: results/claims.{csv,md,tex}."""
    input:
        claims="config/claims.yaml",
        schema="workflow/schemas/claims.schema.yaml",
        tables=sorted({f"{TABLES}/{claim.table}.csv" for claim in CLAIMS}),
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
    log:
        f"{LOGS}/claims.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/judge_claims.py"
