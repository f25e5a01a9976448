"""Progress of long jobs: one line per evaluation in a training job's log (step / total, elapsed,
ETA, the median metric), TensorFlow's Python noise kept out, and `python -m theorydl.status`
reading the lines back."""

import logging
import os
import subprocess
import sys
import time

from theorydl import status

SMALL = {"d": 6, "steps": 400, "eval_every": 100}


def test_a_training_job_logs_its_progress_and_its_end(tf, tmp_path, caplog):
    from theorydl.job import train_variant

    with caplog.at_level(logging.INFO, logger="theorydl.engine"):
        dirs = [tmp_path / f"seed{s}" for s in (0, 1)]
        train_variant("parity", "d6", SMALL, [0, 1], dirs, tmp_path / "ckpt", 3600.0, 1)
    lines = [r.getMessage() for r in caplog.records]
    progress = [line for line in lines if line.startswith("progress parity/d6")]
    assert [line.split(" step ")[1].split()[0] for line in progress] == [
        "100/400",
        "200/400",
        "300/400",
        "400/400",
    ]
    assert "(25%)" in progress[0] and "accuracy median" in progress[0]
    assert " eta " in progress[0] and progress[-1].split(" eta ")[1].startswith("0s")
    assert lines[0] == "starting parity/d6 from scratch (2 seeds)"
    assert lines[-1].startswith("finished parity/d6 at step 400 in ")

    log = tmp_path / "logs" / "parity" / "train_d6.log"
    log.parent.mkdir(parents=True)
    log.write_text("\n".join(f"2026-12-06 INFO theorydl.engine: {line}" for line in lines))
    (variant,) = status.status(tmp_path)
    assert (variant.job, variant.variant, variant.state) == ("d6", "d6", "finished")
    assert (variant.step, variant.total) == (400, 400)
    assert variant.metric.startswith("accuracy ")


def test_a_job_whose_log_went_quiet_is_shown_stopped(tmp_path):
    log = tmp_path / "logs" / "gating" / "train_memorise_relu_m256.log"
    log.parent.mkdir(parents=True)
    lines = [
        "progress gating/memorise-relu-m256-d8-k8 step 20000/20000 (100%) elapsed 9s eta 0s "
        "train_loss median 0.62",
        "finished gating/memorise-relu-m256-d8-k8 at step 20000 in 9s of training",
        "progress gating/memorise-relu-m256-d8-k16 step 5000/20000 (25%) elapsed 3s eta 9s "
        "train_loss median 0.71",
    ]
    log.write_text("\n".join(lines) + "\n")
    first, second = status.read_log(log)
    assert (first.state, second.state) == ("finished", "training")
    assert (second.step, second.total, second.eta) == (5000, 20000, "9s")
    old = time.time() - 3600
    os.utime(log, (old, old))
    assert status.read_log(log)[1].state == "stopped"
    shown = status.render(tmp_path, status.status(tmp_path))
    assert "1 of 2 variants finished" in shown and "5000/20000" in shown


def test_the_status_command_names_what_is_missing(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "theorydl.status", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "no logs/" in done.stderr


def test_tensorflows_python_info_lines_stay_out_of_a_job_log(tmp_path):
    log = tmp_path / "job.log"
    code = (
        "import logging; from theorydl.logs import log_to; "
        f"log_to({str(log)!r}); "
        "logging.getLogger('absl').info('Sharding callback duration: 46 microseconds'); "
        "logging.getLogger('theorydl.engine').info('progress parity/d6 step 1/2')"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    text = log.read_text()
    assert "progress parity/d6" in text and "Sharding" not in text
