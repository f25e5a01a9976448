# The report: generated LaTeX inputs, then the PDF built from paper/ with latexmk.

import shutil

TEX_INSTALL = (
    "sudo apt-get install latexmk texlive-latex-recommended "
    "texlive-fonts-recommended texlive-latex-extra"
)
HAVE_LATEXMK = shutil.which("latexmk") is not None
if config["report"] == "on" and not HAVE_LATEXMK:
    raise WorkflowError(
        f"config key 'report' is 'on' but latexmk is not installed. Install TeX Live with:\n"
        f"  {TEX_INSTALL}\nor run with --config report=off (or auto) to skip the PDF."
    )
BUILD_PDF = config["report"] == "on" or (config["report"] == "auto" and HAVE_LATEXMK)
REPORT_PDF = f"{RESULTS}/report/report.pdf"


onstart:
    if config["report"] == "auto" and not HAVE_LATEXMK:
        print(
            f"NOTE: report: auto and latexmk is not installed, so {REPORT_PDF} is skipped "
            f"(everything else is built). To get the PDF:\n  {TEX_INSTALL}\n"
            f"Set --config report=off to silence this note."
        )


rule costs:
    """Wall time, CPU time and peak memory per job, per family and per claim (from benchmarks);
    GPU utilization and memory per job where jobs ran on a GPU (from the runs' meta.json)."""
    input:
        claims=rules.claims.output.csv,
        claims_file="config/claims.yaml",
        tables=selected_tables(),
        metas=[f for family in SELECTED for f in all_run_files(family, "meta.json")],
        # The dataset jobs are costed too: their benchmarks must exist before this job reads them.
        datasets=[f"{DATASETS}/{name}.npz" for name in tdl_datasets.DATASETS],
    output:
        jobs=table_files("runtime_jobs"),
        families=[
            report(
                f"{TABLES}/runtime_families.csv",
                caption="../report/runtime_families.rst",
                category="Cost and hardware",
            ),
            *table_files("runtime_families", suffixes=("md", "tex")),
        ],
        claims=table_files("runtime_claims"),
    params:
        code=code_digest("scripts/cost_tables.py"),
        benchmarks=benchmark_files,
        families=[*SELECTED, "datasets"],
        # What each claim's table is made of (costs.claim_jobs): variants and training jobs.
        variants={family: VARIANTS[family] for family in SELECTED},
        training_jobs={family: training_jobs(family) for family in SELECTED},
    log:
        f"{LOGS}/costs.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/cost_tables.py"


rule report_inputs:
    """Every number the report quotes, as LaTeX definitions; plus the claims and setup tables."""
    input:
        claims=rules.claims.output.csv,
        by_scale=rules.claims_by_scale.output.csv,
        tables=selected_tables(),
        runtime=[rules.costs.output.families[0], rules.costs.output.claims[0]],
        metas=[f for family in SELECTED for f in all_run_files(family, "meta.json")],
        datasets=[f"{DATASETS}/{name}.json" for name in tdl_datasets.DATASETS],
    output:
        values=f"{RESULTS}/report/generated/values.tex",
        claims=f"{RESULTS}/report/generated/claims_table.tex",
        by_scale=f"{RESULTS}/report/generated/claims_by_scale_table.tex",
        sections=f"{RESULTS}/report/generated/sections.tex",
        hparams=[f"{RESULTS}/report/generated/hparams_{f}.tex" for f in SELECTED],
    params:
        code=code_digest(
            "scripts/report_inputs.py", *(family_file(f, "analysis") for f in SELECTED)
        ),
        scale=config["scale"],
        config={k: v for k, v in config.items() if k != "_variants"},
        variants=VARIANTS,
        families=SELECTED,
    log:
        f"{LOGS}/report_inputs.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/report_inputs.py"


rule report_pdf:
    """The report PDF (paper/report.tex), with every figure, table and verdict."""
    input:
        main="paper/report.tex",
        sections=sorted(
            str(p.relative_to(ROOT)) for p in (ROOT / "paper").glob("*.tex") if p.name != "report.tex"
        ),
        generated=rules.report_inputs.output,
        runtime=[*rules.costs.output.families, *rules.costs.output.jobs],
        tables=selected_outputs("tex_tables"),
        figures=[f for f in all_figures() if f.endswith(".pdf")],
    output:
        pdf=REPORT_PDF,
    params:
        code=code_digest("scripts/build_report.py"),
        build_dir=f"{RESULTS}/report/build",
        search_dirs=[f"{RESULTS}/report/generated", TABLES, FIGURES],
    log:
        f"{LOGS}/report_pdf.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/build_report.py"


rule manifest:
    """results/manifest.json: sha256, size and producing rule of every output, and the config."""
    input:
        final_outputs(),
    output:
        manifest=f"{RESULTS}/manifest.json",
    params:
        code=code_digest("scripts/write_manifest.py"),
        patterns=output_patterns,
        config=config,
    log:
        f"{LOGS}/manifest.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/write_manifest.py"


rule verify:
    """`snakemake --cores 1 verify`: recompute every checksum, name what changed since the manifest.

    The manifest is a param, not an input: verifying must never rebuild what it checks.
    """
    params:
        manifest=f"{RESULTS}/manifest.json",
    log:
        f"{LOGS}/verify.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/verify_manifest.py"
