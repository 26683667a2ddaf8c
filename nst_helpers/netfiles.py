"""Trained networks on disk: float16 weights (``.npz``) with a JSON record beside them.

float16 halves the file and gives the same pictures to the eye. The record says what the
network is (its builder's options, e.g. the width) and how it was made (style, data, steps,
hardware...). :mod:`.transformer` and :mod:`.decoder` save and load their networks with these.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf

from .errors import NSTError
from .files import atomic_write


def save_float16(
    network: tf.keras.Model, path: str | os.PathLike, record: dict, overwrite: bool = False
) -> Path:
    """Write the weights to ``path`` (.npz) and ``record`` to the .json beside it.
    Overwrites only when told; returns the path."""
    path = Path(path)
    taken = [p for p in (path, path.with_suffix(".json")) if p.exists()]
    if taken and not overwrite:
        raise NSTError(f"{taken[0]} exists; choose another name (nothing is overwritten)")
    arrays = {f"{i:03d}": w.numpy().astype(np.float16) for i, w in enumerate(network.weights)}
    with atomic_write(path, overwrite=overwrite) as stream:
        np.savez_compressed(stream, **arrays)
    with atomic_write(path.with_suffix(".json"), overwrite=overwrite) as stream:
        stream.write(json.dumps(record, indent=2).encode("utf-8"))
    return path


def load_float16(
    path: str | os.PathLike, build: Callable[[dict], tf.keras.Model]
) -> tuple[tf.keras.Model, dict]:
    """The network saved at ``path``, made by ``build(record)`` and given the saved weights,
    and its record."""
    path = Path(path)
    try:
        record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        network = build(record)
        with np.load(path) as archive:
            arrays = [archive[f"{i:03d}"] for i in range(len(network.weights))]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise NSTError(f"{path} is not a saved network ({error})") from error
    for variable, array in zip(network.weights, arrays):
        if variable.shape != array.shape:
            raise NSTError(f"{path} does not fit the network its record describes")
        variable.assign(array.astype(np.float32))
    return network, record
