"""Training runs on disk: a checkpoint folder beside the model, with a record of the run.

A run of :func:`nst_helpers.fast.train_fast` or :func:`nst_helpers.anystyle.train_decoder`
keeps its checkpoints in ``<model>.checkpoints/`` with ``training.json`` (settings, loss,
data, seconds so far). Running again resumes there, and a run with other settings is refused
rather than mixed with the old one.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import tensorflow as tf

from .config import cpu_name
from .errors import NSTError
from .files import atomic_write

TRAINING_RECORD = "training.json"  # in a checkpoint folder: what the run was, for resuming


def checkpoint_folder(output: str | os.PathLike) -> Path:
    """Where a training run for ``output`` keeps its checkpoints: ``<name>.checkpoints``."""
    output = Path(output).expanduser()
    return output.with_name(output.stem + ".checkpoints")


def read_record(folder: Path) -> dict | None:
    """The run record in ``folder``, or None when there is none."""
    path = folder / TRAINING_RECORD
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError) as error:
        raise NSTError(f"{path} is damaged ({error}); delete it to start again") from error


def write_record(folder: Path, record: dict) -> None:
    """Replace the run record in ``folder`` (atomically: a crash leaves the old one)."""
    with atomic_write(folder / TRAINING_RECORD) as stream:
        stream.write(json.dumps(record, indent=2).encode("utf-8"))


def same_run(old: dict, new: dict, folder: Path) -> None:
    """Refuse to resume checkpoints made with other settings (steps and checkpoints aside)."""
    ignored = {"steps": None, "checkpoint_every": None}  # these do not change the network
    before, now = ({**run, "train": {**run["train"], **ignored}} for run in (old, new))
    changed = [k for k in ("train", "loss", "style", "data") if before.get(k) != now.get(k)]
    if changed:
        raise NSTError(
            f"{folder} holds a run with other {', '.join(changed)}; "
            "give another --output or delete that folder to start again"
        )


def hardware() -> str:
    """The machine in words: cores, CPU, GPUs."""
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    cpu = cpu_name() or platform.processor() or platform.machine()
    return f"{os.cpu_count()} x {cpu}" + (f"; GPUs: {', '.join(gpus)}" if gpus else "; no GPU")


def commit() -> str | None:
    """The project's git commit (short), or None outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def train_and_record(run: dict, folder: Path, train: Callable[[], list[dict]]) -> list[dict]:
    """``train()`` (a training loop returning one row of loss terms per step), with its
    seconds and last terms added to ``run`` and the record written: also when Ctrl-C or an
    error stops it."""
    started, history = time.perf_counter(), []
    try:
        history = train()
    finally:
        run["seconds"] += time.perf_counter() - started
        if history:
            run["final_loss"] = {k: v for k, v in history[-1].items() if k != "step"}
        write_record(folder, run)
    return history


def resume_run(folder: Path, run: dict, log: Callable[[str], object]) -> dict:
    """``run`` (a new run's record) continuing the run already in ``folder``, if any: that one
    must be the same run; its seconds, last loss and starting model carry over. ``folder``
    is made; the record is not written yet."""
    old = read_record(folder)
    if old is not None:
        same_run(old, run, folder)
        run.update({k: old[k] for k in ("seconds", "final_loss", "init") if k in old})
        log(f"Resuming the run in {folder}")
    folder.mkdir(exist_ok=True)
    return run


def load_checkpoint(
    folder: Path, build: Callable[[str], tf.keras.Model], what: str
) -> tuple[tf.keras.Model, dict]:
    """The network ``build(width)`` with the latest checkpoint in ``folder`` restored, and the
    run's record with the checkpoint and the steps done (``what`` names the network in the
    error when there is none)."""
    record, latest = read_record(folder), tf.train.latest_checkpoint(str(folder))
    if record is None or latest is None:
        raise NSTError(f"{folder} holds no {what} checkpoints of nst_helpers")
    network = build(record["train"]["width"])
    tf.train.Checkpoint(network=network).restore(latest).expect_partial()
    steps = int(latest.rsplit("-", 1)[1])  # ckpt-<step>: the steps done so far
    return network, {**record, "checkpoint": latest, "steps_done": steps}


def saved_record(run: dict, vgg_weights: str, **extra) -> dict:
    """A trained network's provenance: the run's settings, data and loss, what it started
    from, ``extra`` (e.g. what was held out), the VGG19 weights, the last loss, the seconds
    of all sessions, and the hardware, TensorFlow, commit and date of this one."""
    return {
        **{k: run[k] for k in ("style", "data", "train", "loss")},
        "init": run.get("init"),
        **extra,
        "vgg_weights": vgg_weights,
        "final_loss": run.get("final_loss"),
        "seconds": round(run["seconds"], 1),
        "hardware": hardware(),
        "tensorflow": tf.__version__,
        "commit": commit(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
    }
