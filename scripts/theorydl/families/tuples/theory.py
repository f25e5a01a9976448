"""Signal-to-noise ratio of the stochastic gradient at initialization (Failures §3.3, Fig 5).

At a random initialization of N(1) and N(2), take the gradient of a loss with respect to the
weights of N(1)'s last layer (the 100 "score" weights), one gradient per training tuple:

- signal = ‖E g‖², the squared norm of the full gradient;
- noise = E‖g − E g‖², the variance of a single-tuple gradient around it;
- SNR = signal / noise.

For the end-to-end loss (tuple hinge) the paper finds the SNR collapses by about three orders of
magnitude from k = 1 to k ≥ 2, below float32 resolution; for the decomposition loss (per-image
hinge) it stays flat in k. That is why E2E cannot learn large k and decomposition can.

The authors' ``tuple_rect_SNR.py`` estimates the noise from mean gradients of batches of 100 as
M − S², M = 100·mean_b‖g_b‖²; the definition is M − S (S ≪ M, so the slip changes little). We use
exact per-tuple gradients (for a last layer they are the features weighted by the loss's
derivative in the score, from one backward pass) and the definition, and record the script's
formula beside it. With no signal at all the plug-in estimate from n tuples still averages 1/n:
that is the resolution of any such measurement, and the tables record it beside the SNR.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import tensorflow as tf

from theorydl import runtime
from theorydl.families.tuples.model import (
    FEATURES,
    ImageScorer,
    ParityHead,
    draw_lines,
    hinge,
    image_labels,
    line_parameters,
    tuple_labels,
)
from theorydl.families.tuples.spec import CHUNK_IMAGES, SnrConfig
from theorydl.runs import write_job_outputs
from theorydl.runtime import stream_key

__all__ = [
    "CHUNK_IMAGES",
    "GradientMoments",
    "SnrConfig",
    "gradient_snr_job",
    "measure",
    "tuple_gradients",
]


@dataclass
class GradientMoments:
    """Running sums over single-example gradients ``g`` (float64), batch by batch."""

    dim: int
    count: int = 0
    batches: int = 0
    total: np.ndarray = field(init=False)  # Σ g
    total_squared_norm: float = 0.0  # Σ ‖g‖²
    batch_squared_norms: float = 0.0  # Σ_b ‖mean of batch b‖², for the script's formula

    def __post_init__(self) -> None:
        self.total = np.zeros(self.dim)

    def add(self, grads: np.ndarray, batch_size: int) -> None:
        """Add single-example gradients ``[n, dim]``, consecutive ``batch_size`` rows forming a
        batch (an incomplete last batch counts for the per-example sums only)."""
        grads = np.asarray(grads, dtype=np.float64)
        self.count += grads.shape[0]
        self.total += grads.sum(axis=0)
        self.total_squared_norm += float(np.sum(grads**2))
        whole = grads.shape[0] // batch_size * batch_size
        means = grads[:whole].reshape(-1, batch_size, self.dim).mean(axis=1)
        self.batches += means.shape[0]
        self.batch_squared_norms += float(np.sum(means**2))

    def statistics(self, batch_size: int) -> dict[str, float]:
        """signal ‖ḡ‖², noise mean‖g − ḡ‖², their ratio, and the script's version of it."""
        mean = self.total / self.count
        signal = float(mean @ mean)
        noise = self.total_squared_norm / self.count - signal
        # tuple_rect_SNR.py: M = B·mean_b‖g_b‖² and Noise = M − S² (the definition is M − S).
        second_moment = batch_size * self.batch_squared_norms / self.batches
        return {
            "signal": signal,
            "noise": noise,
            "snr": signal / noise,
            "snr_script": signal / (second_moment - signal**2),
        }


def tuple_gradients(
    features: tf.Tensor,
    per_image: tf.Tensor,
    scorer: ImageScorer,
    head: ParityHead,
    convention: str,
    dec_loss: str,
) -> dict[str, tf.Tensor]:
    """Per-tuple gradients ``[n, 100]`` of each loss with respect to N(1)'s score weights.

    ``features`` ``[n, k, 100]`` is N(1)'s last hidden layer on each image, ``per_image``
    ``[n, k]`` the image labels; ``scorer`` and ``head`` hold one initialization. As
    score = h·w + b, tuple i's gradient is Σ_j (∂ℓ_i/∂score_ij)·h_ij: the derivatives of the
    summed loss in the scores are every tuple's own, so one backward pass gives all of them.
    """
    labels = tuple_labels(per_image, convention)
    with tf.GradientTape(persistent=True) as tape:
        scores = scorer.scores(features[None])[0]  # [n, k]
        tape.watch(scores)
        e2e = tf.reduce_sum(hinge(labels, head(scores[None])[0]))
        if dec_loss == "first":
            dec = tf.reduce_sum(hinge(per_image[:, 0], scores[:, 0]))
        else:
            dec = tf.reduce_sum(tf.reduce_mean(hinge(per_image, scores), axis=1))
    return {
        name: tf.einsum("nk,nkf->nf", tape.gradient(loss, scores), features)
        for name, loss in (("e2e", e2e), ("dec", dec))
    }


def measure(
    cfg: SnrConfig, init_seed: int, ks: Sequence[int], log: Any = print
) -> list[dict[str, Any]]:
    """SNR of the E2E and decomposition gradients for each k at one initialization.

    N(1) is one initialization (shared by every k, as in the script) and N(2) one per k, both
    drawn from ``init_seed``'s streams (the same weights as training seed ``init_seed`` starts
    from). Every k reads the same stream of fresh images, cut into k-tuples, so the features of
    N(1), the costly part, are computed once: ``cfg.images`` images give ⌊images/k⌋ tuples.
    """
    scorer = ImageScorer([init_seed])
    heads = {k: ParityHead(k, [init_seed]) for k in ks}
    key = tf.constant(stream_key(init_seed, "tuples/snr/images"))

    @tf.function
    def chunk_gradients(index: tf.Tensor) -> dict[tuple[int, str], tf.Tensor]:
        theta, length, centre = line_parameters(
            tf.random.experimental.stateless_fold_in(key, index), CHUNK_IMAGES
        )
        features = scorer.features(draw_lines(theta, length, centre)[None])[0]
        labels = image_labels(theta)
        grads = {}
        for k, head in heads.items():
            n = CHUNK_IMAGES // k  # whole tuples; a chunk's last k-1 images may go unused
            per_tuple = tuple_gradients(
                tf.reshape(features[: n * k], [n, k, -1]),
                tf.reshape(labels[: n * k], [n, k]),
                scorer,
                head,
                cfg.label,
                cfg.dec_loss,
            )
            grads.update({(k, method): g for method, g in per_tuple.items()})
        return grads

    moments = {(k, m): GradientMoments(FEATURES) for k in ks for m in ("e2e", "dec")}
    for index in range(-(-cfg.images // CHUNK_IMAGES)):
        for name, grads in chunk_gradients(tf.constant(index, tf.int64)).items():
            moments[name].add(grads.numpy(), cfg.batch_size)
    rows = []
    for (k, method), moment in moments.items():
        stats = moment.statistics(cfg.batch_size)
        rows.append({"k": k, "init_seed": init_seed, "method": method, "tuples": moment.count})
        rows[-1].update(stats)
        log(f"init {init_seed} k={k} {method}: {moment.count} tuples, SNR {stats['snr']:.3e}")
    return rows


def gradient_snr_job(
    outputs: Any, tf_threads: int, ks: list[int], hparams: dict[str, Any], init: str
) -> None:
    """Rule ``tuples_snr``: the gradient SNR at initialization ``init`` (the rule's wildcard),
    for every k, to ``outputs.csv``, with the job's provenance in ``outputs.meta``."""
    tf_module = runtime.setup_tensorflow(tf_threads)
    cfg = SnrConfig(**hparams)
    init_seed = int(init)
    started = time.perf_counter()
    rows = measure(cfg, init_seed, list(ks), log=lambda line: print(line, flush=True))
    table = pd.DataFrame(rows)
    meta = {
        "init_seed": init_seed,
        "ks": list(ks),
        "config": asdict(cfg),
        "wall_time_s": round(time.perf_counter() - started, 3),
        **runtime.provenance(tf_module, tf_threads),
    }
    write_job_outputs({outputs.csv: table}, outputs.meta, meta)
