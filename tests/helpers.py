"""Helpers shared by the tests: a fresh copy of the repository for Snakemake runs, and a
stand-in for nvidia-smi."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def fresh_copy(target: Path) -> Path:
    """The repository's files as a clone would have them (tracked or not ignored), nothing else."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    return target


def snakemake(workdir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir`` with this interpreter; output captured, never raises."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {})),
    )


def fake_nvidia_smi(directory, lines):
    """An ``nvidia-smi`` that records its arguments, prints ``lines`` and then waits."""
    program = directory / "nvidia-smi"
    printed = "".join(f"print({line!r}, flush=True)\n" for line in lines)
    program.write_text(
        f"#!{sys.executable}\nimport sys, time\n"
        f"open({str(directory / 'args')!r}, 'w').write(' '.join(sys.argv[1:]))\n"
        f"{printed}time.sleep(60)\n"
    )
    program.chmod(0o755)
    return program


def resolve(repo: Path, base: dict, **cli) -> dict:
    """The resolved config of ``base`` with ``cli`` laid over it, as the workflow resolves it."""
    from theorydl import config as tdl_config

    return tdl_config.resolve(tdl_config.deep_merge(base, cli), cli=cli, root=repo)


def assert_figures_drawn(smoke_run: Path, family: str, names: list[str]) -> None:
    """Each figure of ``family`` exists as PDF and PNG, and the PNG names its drawing function."""
    figures = smoke_run / "results" / "smoke" / "figures"
    for name in names:
        pdf, png = (figures / f"{family}_{name}{s}" for s in (".pdf", ".png"))
        assert pdf.stat().st_size > 5000 and png.stat().st_size > 5000
        assert f"families/{family}/figures.py:{name}".encode() in png.read_bytes()


def assert_not_judged_at_smoke(smoke_run: Path, repo: Path, family: str, count: int) -> None:
    """``family`` has ``count`` claims, and the smoke run judges none of them."""
    import pandas as pd
    import yaml

    listed = yaml.safe_load((repo / "config" / "claims.yaml").read_text())["claims"]
    ours = [c["id"] for c in listed if c["family"] == family]
    assert len(ours) == count
    claims = pd.read_csv(smoke_run / "results" / "smoke" / "claims.csv").set_index("id")
    for claim in ours:
        assert claims.loc[claim, "verdict"] == "not judged at this scale", claim


def fake_real_images(monkeypatch, train: int, test: int, seed: int = 0) -> dict:
    """``theorydl.datasets.load`` made to return random 28×28 "images" (``train`` and ``test``
    of them, labels 0-9) whatever the dataset: split → (images, labels)."""
    import numpy as np

    from theorydl import datasets

    rng = np.random.default_rng(seed)
    fake = {
        split: (rng.random((n, 28, 28)).astype(np.float32), rng.integers(0, 10, n))
        for split, n in (("train", train), ("test", test))
    }
    monkeypatch.setattr(datasets, "load", lambda name, split, root: fake[split])
    return fake
