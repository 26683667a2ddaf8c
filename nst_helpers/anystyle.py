"""Any style in one pass, end to end: the shipped decoder, painting with it, training one.

This is the plumbing around :mod:`.arbitrary` (AdaIN and the whitening-colouring transform)
and :mod:`.decoder` (the network and its loss)::

    painter = AnyStyle.load()                          # the shipped decoder and the encoder
    painted = painter.paint(photo, [painting], alpha=0.8, method="wct")
    train_decoder("my_decoder.npz", TrainSettings(steps=4000, size=128, width="half"))

Controls (Huang and Belongie 2017, Section 7.3): ``alpha`` trades content for style;
several paintings with ``weights`` interpolate between styles; ``masks`` give each painting
its own region; ``keep_colours`` paints in the photo's colours (the painting's colours are
first matched to the photo's, as in notebook 06).
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf

from .arbitrary import adain, whiten_colour
from .color import match_color_histogram
from .data import load_content, load_style
from .decoder import (
    ENCODER_LAYERS,
    AdaINLoss,
    ReconstructionLoss,
    build_decoder,
    build_encoder,
    load_decoder,
    save_decoder,
)
from .errors import NSTError
from .images import as_image, check_writable, save_image
from .layers import PadToMultiple
from .masks import as_mask
from .photos import HELD_OUT, folder_photos, training_photos
from .realtime import TrainSettings, train
from .runs import (
    checkpoint_folder,
    load_checkpoint,
    resume_run,
    saved_record,
    train_and_record,
    write_record,
)
from .style_images import TRAINING_PAINTINGS, UNSEEN_PAINTINGS, pair_batches
from .vgg import FeatureExtractor

SHIPPED_DECODER = Path(__file__).parent / "models" / "any_style" / "decoder.npz"
"""The shipped decoder (float16) and its record, ``decoder.json`` (a folder of its own: the
real-time networks are every ``.npz`` in ``models/``)."""

METHODS = {"adain": adain, "wct": whiten_colour}
"""How the photo's relu4_1 features get the painting's statistics."""

TRAINING_MODES = ("adain", "reconstruction")
"""The decoder's training losses: Huang and Belongie's, or Li et al.'s reconstruction."""

Log = Callable[[str], object]


@dataclass
class AnyStyle:
    """The encoder (VGG19 to relu4_1, normalised) and a trained decoder: paints any photo in
    any painting's style in one pass. ``record`` says how the decoder was trained."""

    encoder: FeatureExtractor
    decoder: tf.keras.Model
    record: dict

    @classmethod
    def load(cls, decoder: str | os.PathLike | None = None, log: Log = print) -> AnyStyle:
        """The shipped decoder (None), a saved ``.npz`` or a training run's checkpoint folder."""
        network, record = _load(decoder)
        return cls(build_encoder(log=log), network, record)

    def features(self, image: tf.Tensor) -> tf.Tensor:
        """relu4_1 of an image (1, H, W, 3) in [0, 1]: (1, H/8, W/8, 512)."""
        return _compiled(self.encoder)(image)

    def decode(self, features: tf.Tensor) -> tf.Tensor:
        """Features (1, h, w, 512) back to an image (1, 8h, 8w, 3), clipped to [0, 1]."""
        return tf.clip_by_value(_compiled(self.decoder)(features), 0.0, 1.0)

    def paint(
        self,
        photo,
        paintings: Sequence,
        alpha: float = 1.0,
        method: str = "adain",
        weights: Sequence[float] | None = None,
        masks: Sequence | None = None,
        keep_colours: bool = False,
    ) -> tf.Tensor:
        """The photo (1, H, W, 3) in [0, 1] painted in the paintings' style: (1, H, W, 3).

        Each painting's statistics are given to the photo's features (``method``), the
        results are mixed by ``weights`` (default: equal) or placed by ``masks`` (one per
        painting, (H, W) in [0, 1]), blended with the photo's own features by ``alpha`` and
        decoded. Any H and W: the photo is padded by reflection to a multiple of 8.
        """
        photo = as_image(photo, "the photo")
        if method not in METHODS:
            raise NSTError(f"method must be one of {list(METHODS)}, not {method!r}")
        if not 0.0 <= alpha <= 1.0:
            raise NSTError(f"alpha must be between 0 and 1, not {alpha}")
        paintings = [as_image(p, "the painting") for p in paintings]
        if keep_colours:
            paintings = [match_color_histogram(p, photo) for p in paintings]
        height, width = photo.shape[1:3]
        content = self.features(PadToMultiple(8)(photo))
        styled = [METHODS[method](content, self.features(p)) for p in paintings]
        if masks is not None:  # at the photo's size, padded like it, then at the features'
            masks = [PadToMultiple(8)(as_mask(m, height, width)) for m in masks]
            masks = [tf.image.resize(m, content.shape[1:3], "area") for m in masks]
        mixed = _mix(styled, weights, masks, content)
        painted = self.decode(alpha * mixed + (1.0 - alpha) * content)
        return painted[:, :height, :width, :]


def _mix(styled: list[tf.Tensor], weights, masks, content: tf.Tensor) -> tf.Tensor:
    """The transformed features of several paintings mixed into one (1, h, w, C): by
    ``weights``, or by ``masks`` ((1, h, w, 1) each; where they add up to less than one,
    the rest is the photo's own ``content`` features: black is no style)."""
    if not styled:
        raise NSTError("give at least one painting")
    if masks is not None:
        if len(masks) != len(styled):
            raise NSTError(f"give one mask per painting ({len(styled)}), not {len(masks)}")
        total = tf.add_n(masks)
        painted = tf.add_n([f * m for f, m in zip(styled, masks)]) / tf.maximum(total, 1.0)
        return painted + tf.nn.relu(1.0 - total) * content
    weights = [1.0] * len(styled) if weights is None else list(weights)
    if len(weights) != len(styled) or min(weights) < 0 or sum(weights) <= 0:
        raise NSTError(f"give {len(styled)} weights, none negative, not all zero: {weights}")
    return tf.add_n([w * f for w, f in zip(weights, styled)]) / sum(weights)


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled(model) -> Callable[[tf.Tensor], tf.Tensor]:
    """A network (or the encoder's relu4_1) as one graph traced once for every size."""
    function = _COMPILED.get(model)
    if function is None:
        ref = weakref.ref(model)
        if isinstance(model, FeatureExtractor):
            call = lambda x: ref()(x)[ENCODER_LAYERS[-1]]  # noqa: E731
        else:
            call = lambda x: ref()(x, training=False)  # noqa: E731
        channels = 3 if isinstance(model, FeatureExtractor) else 512
        spec = [tf.TensorSpec((None, None, None, channels), tf.float32)]
        function = _COMPILED[model] = tf.function(call, input_signature=spec)
    return function


def _load(decoder: str | os.PathLike | None) -> tuple[tf.keras.Model, dict]:
    path = SHIPPED_DECODER if decoder is None else Path(decoder).expanduser()
    if path.is_dir():
        return load_checkpoint(path, build_decoder, "decoder")
    if not path.is_file():
        raise NSTError(f"no decoder at {path}: give a .npz saved by train_decoder or a folder")
    return load_decoder(path)


# ----------------------------------------------------------------------------- training


def train_decoder(
    output: str | os.PathLike,
    settings: TrainSettings | None = None,
    style_weight: float = 10.0,
    mode: str = "adain",
    data: str | os.PathLike | None = None,
    paintings: Sequence[str | os.PathLike] | str | os.PathLike = TRAINING_PAINTINGS,
    texture_share: float = 0.6,
    init: str | os.PathLike | None = None,
    strategy: tf.distribute.Strategy | None = None,
    preview_every: int = 100,
    progress: bool = True,
    overwrite: bool = False,
    log: Log = print,
) -> Path:
    """Train a decoder and save it as ``output`` (``.npz`` and ``.json``): ``mode="adain"``
    with Huang and Belongie's loss (:class:`AdaINLoss`, ``style_weight``), or
    ``"reconstruction"`` with Li et al.'s (:class:`ReconstructionLoss`: the photo back from
    its own features; the styles are then not used).

    Photos: ``data`` (a folder) or the packaged photos; styles: ``paintings`` (catalogue
    names or files, or a folder of paintings) and, for ``texture_share`` of the crops, new
    procedural textures (:mod:`.style_images`). Checkpoints go to ``<output>.checkpoints``;
    the same call resumes there. The held-out photo is painted in an unseen painting every
    ``preview_every`` steps (PNGs in the checkpoint folder, a live plot in Jupyter).
    ``init`` is a trained decoder (a ``.npz`` or a checkpoint folder) to start from; its
    record is kept in the new one's.
    """
    settings = settings or TrainSettings(width="half")
    if mode not in TRAINING_MODES:
        raise NSTError(f"mode must be one of {list(TRAINING_MODES)}, not {mode!r}")
    output = check_writable(output, overwrite, suffixes=(".npz",))
    folder, (photos, credits) = checkpoint_folder(output), training_photos(data)
    styles, paintings = _paintings(paintings, settings.style_size)
    run = {
        "train": settings.as_dict(),
        "loss": _loss_record(mode, style_weight),
        "style": {"paintings": paintings, "texture_share": texture_share},
        "data": {"folder": str(data) if data else None, "photos": credits},
        "seconds": 0.0,
    }
    run = resume_run(folder, run, log)
    start = None if init is None else _load(init)
    if start is not None:
        run["init"] = {"model": str(init), "record": start[1]}
    write_record(folder, run)
    batches = pair_batches(
        photos, styles, settings.size, settings.batch, settings.seed, texture_share
    )
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        decoder = build_decoder(settings.width)
    if start is not None:
        decoder.set_weights(start[0].get_weights())  # the checkpoints, if any, come after
    painter = AnyStyle(build_encoder(log=log), decoder, run)
    log(painter.encoder.source.describe())
    watch = _preview(painter, preview_every, folder)
    loss = _training_loss(mode, painter.encoder, style_weight)
    train_and_record(
        run,
        folder,
        lambda: train(decoder, loss, batches, folder, settings, watch, strategy, progress),
    )
    return save_decoder(decoder, output, _about(run, painter), overwrite=overwrite)


def _paintings(paintings, size: int) -> tuple[list[tf.Tensor], list[str]]:
    """The style images (1, H, W, 3) and their names: catalogue names or files, or every
    image in a folder."""
    if isinstance(paintings, (str, os.PathLike)):
        return folder_photos(paintings, size)
    return [load_style(p, max_dim=size) for p in paintings], [str(p) for p in paintings]


def _training_loss(mode: str, encoder: FeatureExtractor, style_weight: float):
    if mode == "adain":
        return AdaINLoss(encoder, style_weight)
    return ReconstructionLoss(encoder)


def _loss_record(mode: str, style_weight: float) -> dict:
    weights = {"style_weight": style_weight} if mode == "adain" else {"feature_weight": 1.0}
    return {"kind": mode, "encoder": "normalized, reflection padding", **weights}


def _preview(painter: AnyStyle, every: int, folder: Path) -> Callable[[int, dict], None]:
    """Every ``every`` steps: the held-out photo in an unseen painting, shown (in Jupyter,
    with the loss so far) and saved as ``preview_<step>.png`` in ``folder``."""
    from .plotting import LivePreview

    photo = load_content(HELD_OUT, max_dim=256)
    painting = load_style(UNSEEN_PAINTINGS[0], max_dim=256)
    preview = LivePreview(title="the decoder in training: an unseen photo and painting")

    def callback(step: int, terms: dict[str, float]) -> None:
        if step % every == 0:
            painted = painter.paint(photo, [painting])
            preview(step, painted[0], terms)
            save_image(painted, folder / f"preview_{step:06d}.png", overwrite=True)

    callback.preview = preview
    return callback


def _about(run: dict, painter: AnyStyle) -> dict:
    held_out = {"photo": HELD_OUT, "paintings": list(UNSEEN_PAINTINGS)}
    return saved_record(run, painter.encoder.source.describe(), held_out=held_out)
