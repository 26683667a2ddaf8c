"""Real-time style transfer end to end: the shipped networks, painting with one, training one.

This is the plumbing around :mod:`.transformer` (the network) and :mod:`.realtime` (its
training): finding a model by name, keeping a training run's checkpoints and settings
together so that it resumes, and saving the result with a record of how it was made::

    network, record = load_model("starry_night")      # a shipped model, a file or checkpoints
    painted = paint(network, load_content("tubingen", max_dim=512))
    train_fast("wave", "my_wave.npz", TrainSettings(steps=2000, size=128))
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Callable
from pathlib import Path

import tensorflow as tf

from .data import get_entry, load_content, load_style, resolve_image
from .errors import NSTError
from .files import file_hash
from .images import as_image, check_writable, save_image
from .photos import HELD_OUT, training_photos
from .realtime import PerceptualLoss, TrainSettings, photo_batches, train
from .runs import (
    checkpoint_folder,
    load_checkpoint,
    resume_run,
    saved_record,
    train_and_record,
    write_record,
)
from .settings import StyleSettings
from .transformer import build_transformer, load_network, save_network
from .vgg import FeatureExtractor

MODELS_DIR = Path(__file__).parent / "models"
"""Where the shipped networks are: ``<name>.npz`` (float16 weights) and ``<name>.json``."""

Log = Callable[[str], object]


def shipped_models() -> dict[str, dict]:
    """The shipped networks: name -> their JSON record (style, training, time...)."""
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(MODELS_DIR.glob("*.json"))
        if path.with_suffix(".npz").is_file()
    }


def shipped_file(name: str | os.PathLike) -> Path | None:
    """The ``.npz`` of the shipped network called ``name``, or None: there is none, or a file
    or folder of that name exists (one's own comes first)."""
    text = str(name)
    path = MODELS_DIR / f"{text}.npz"
    return path if path.is_file() and not Path(text).expanduser().exists() else None


def is_steady(record: dict) -> bool:
    """Whether a network's record says it was trained with the temporal loss (:mod:`.steady`)."""
    return record.get("train", {}).get("temporal_weight", 0.0) > 0


def steady_version(name: str) -> str:
    """The shipped steady network for the shipped network ``name`` (``starry_night`` ->
    ``starry_night_steady``) if there is one; otherwise ``name`` itself."""
    steady = f"{name}_steady"
    return steady if shipped_file(name) and shipped_file(steady) else str(name)


def training_phases(record: dict) -> list[dict]:
    """The training runs that made a model, first to last (a run started from another model,
    ``init``, comes after that model's own runs)."""
    earlier = record.get("init") or {}
    return [*(training_phases(earlier["record"]) if earlier else []), record]


def model_summary(name: str, record: dict) -> dict:
    """One row for a table of models: the painting, the training (all phases), time, hardware."""
    phases = training_phases(record)
    style = record.get("style", {})
    return {
        "model": name,
        "painting": style.get("title", style.get("file")),
        "artist": style.get("artist"),
        "steps": sum(p["train"]["steps"] for p in phases),
        "crops (px) x batch": " then ".join(
            f"{p['train']['size']} x {p['train']['batch']}" for p in phases
        ),
        "width": record.get("width"),
        "temporal weight": record.get("train", {}).get("temporal_weight", 0.0),
        "training photos": len(record.get("data", {}).get("photos", [])),
        "training time (min)": round(sum(p.get("seconds", 0.0) for p in phases) / 60, 1),
        "hardware": record.get("hardware"),
    }


def load_model(name_or_path: str | os.PathLike) -> tuple[tf.keras.Model, dict]:
    """A trained network and its record: a shipped model's name (:func:`shipped_models`), a
    ``.npz`` saved by :func:`~nst_helpers.transformer.save_network`, or the checkpoint
    folder of a training run (its latest checkpoint)."""
    text, shipped = str(name_or_path), shipped_file(name_or_path)
    if shipped is not None:
        return load_network(shipped)
    path = Path(text).expanduser()
    if path.is_dir():
        return load_checkpoint(path, build_transformer, "training")
    if path.is_file():
        return load_network(path)
    names = ", ".join(shipped_models()) or "none installed"
    raise NSTError(f"no model {text!r}: give a shipped model ({names}), a .npz or a folder")


def paint(network: tf.keras.Model, photo) -> tf.Tensor:
    """The photo painted by the network in one pass: (1, H, W, 3) in [0, 1], any H and W.

    The network runs as one compiled graph (traced on the first call, for every size), which
    is about a third faster than calling the Keras model directly.
    """
    compiled = _COMPILED.get(network)
    if compiled is None:
        compiled = _COMPILED[network] = _compile(weakref.ref(network))
    return compiled(as_image(photo, "the photo"))


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compile(network: weakref.ref) -> Callable[[tf.Tensor], tf.Tensor]:
    signature = [tf.TensorSpec((None, None, None, 3), tf.float32)]
    return tf.function(lambda photo: network()(photo, training=False), input_signature=signature)


# ----------------------------------------------------------------------------- training


def _loss_record(loss: StyleSettings) -> dict:
    fields = ("content_weight", "style_weight", "tv_weight", "content_layers", "style_layers")
    return {name: _plain(getattr(loss, name)) for name in fields}


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _style_record(style: str | os.PathLike) -> dict:
    """What the painting is and whose: the catalogue's entry, or the file and its hash."""
    path = resolve_image(style)
    if Path(str(style)).expanduser().exists():
        return {"file": path.name, "sha256": file_hash(path)}
    entry = get_entry(str(style))
    return {k: getattr(entry, k) for k in ("name", "title", "artist", "year", "rights", "url")}


def preview_callback(
    network: tf.keras.Model,
    photo: tf.Tensor,
    every: int = 100,
    folder: Path | None = None,
    title: str | None = None,
) -> Callable[[int, dict[str, float]], None]:
    """Paints ``photo`` every ``every`` steps: shown in Jupyter (with the loss so far), and
    saved as ``preview_<step>.png`` in ``folder`` when one is given. The callback's
    ``preview`` attribute is the :class:`~nst_helpers.plotting.LivePreview` (its history)."""
    from .plotting import LivePreview

    preview = LivePreview(title=title)

    def callback(step: int, terms: dict[str, float]) -> None:
        if step % every == 0:
            painted = paint(network, photo)
            preview(step, painted[0], terms)
            if folder is not None:
                save_image(painted, folder / f"preview_{step:06d}.png", overwrite=True)

    callback.preview = preview
    return callback


def train_fast(
    style: str | os.PathLike,
    output: str | os.PathLike,
    settings: TrainSettings | None = None,
    loss: StyleSettings | None = None,
    data: str | os.PathLike | None = None,
    init: str | os.PathLike | None = None,
    strategy: tf.distribute.Strategy | None = None,
    preview_every: int = 100,
    progress: bool = True,
    overwrite: bool = False,
    log: Log = print,
) -> Path:
    """Train a network for one painting and save it as ``output`` (``.npz`` and ``.json``).

    Checkpoints go to :func:`checkpoint_folder` ``(output)``; running again with the same
    arguments resumes there (more ``steps`` continue a finished run; its model is then
    replaced, so give ``overwrite=True``). ``data`` is a folder of
    photos; None uses the photos that installed packages ship (:mod:`.photos`). ``init`` is
    a trained model (:func:`load_model`) to start from instead of random weights, e.g. to go
    on at a larger crop size (its record is kept in the new one's). Ctrl-C keeps
    a checkpoint of the steps done and raises KeyboardInterrupt. ``settings`` and ``loss``
    default to :class:`TrainSettings` and :class:`StyleSettings` (the course's weights).
    """
    settings, loss = settings or TrainSettings(), loss or StyleSettings()
    output = check_writable(output, overwrite, suffixes=(".npz",))
    folder, (photos, credits) = checkpoint_folder(output), training_photos(data)
    start = None if init is None else load_model(init)
    run = _start_run(folder, style, settings, loss, {"folder": data, "photos": credits}, log)
    run = _with_init(run, start, init)
    write_record(folder, run)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        network = build_transformer(settings.width)
    if start is not None:
        network.set_weights(start[0].get_weights())  # the checkpoints, if any, come after
    extractor = FeatureExtractor([*loss.style_layers, *loss.content_layers], log=log)
    log(extractor.source.describe())
    perceptual = PerceptualLoss(extractor, load_style(style, max_dim=settings.style_size), loss)
    objective, batches = _training_data(perceptual, photos, settings)
    title = f"{Path(str(style)).stem}, painted by the network in training"
    watch = preview_callback(network, _preview_photo(photos), preview_every, folder, title)
    train_and_record(
        run,
        folder,
        lambda: train(network, objective, batches, folder, settings, watch, strategy, progress),
    )
    return save_network(network, output, _about(run, extractor), overwrite=overwrite)


def _training_data(perceptual: PerceptualLoss, photos: list[tf.Tensor], settings: TrainSettings):
    """The loss and batches of a run: photos, or pairs of video frames with the temporal
    loss when ``settings.temporal_weight`` is above 0 (:mod:`.steady`)."""
    if not settings.temporal_weight:
        return perceptual, photo_batches(photos, settings.size, settings.batch, settings.seed)
    from .steady import SteadyLoss, pair_batches

    batches = pair_batches(photos, settings.size, settings.batch, settings.seed)
    return SteadyLoss(perceptual, settings.temporal_weight), batches


def _start_run(
    folder: Path, style, settings: TrainSettings, loss: StyleSettings, data: dict, log: Log
) -> dict:
    """The run's record (``folder`` is made); a run already there must be the same run."""
    run = {
        "train": settings.as_dict(),
        "loss": _loss_record(loss),
        "style": _style_record(style),
        "data": {**data, "folder": str(data["folder"]) if data["folder"] else None},
        "seconds": 0.0,
    }
    return resume_run(folder, run, log)


def _with_init(run: dict, start: tuple | None, init) -> dict:
    """The run's record with the model it starts from (refused if the width differs)."""
    if start is None:
        return run
    if start[1].get("width") != run["train"]["width"]:
        raise NSTError(f"{init} is a {start[1].get('width')}-width network, not the run's width")
    record = {k: v for k, v in start[1].items() if k != "checkpoint"}
    return {**run, "init": {"model": str(init), "record": record}}


def _preview_photo(photos: list[tf.Tensor]) -> tf.Tensor:
    """The held-out photo at 256 px (never trained on), or the first training photo."""
    try:
        return load_content(HELD_OUT, max_dim=256)
    except NSTError:
        return photos[0]


def _about(run: dict, extractor: FeatureExtractor) -> dict:
    """The saved model's provenance record."""
    return saved_record(run, extractor.source.describe(), held_out=HELD_OUT)
