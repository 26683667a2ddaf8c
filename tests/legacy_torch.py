"""Write small files in the legacy (non-zip) ``torch.save`` format, without PyTorch.

Used by the tests to check :func:`nst_helpers.weights.read_legacy_torch_file` on files
made here. The format: pickled magic number, protocol version and system info, the
pickled object whose tensors reference storages by key, the pickled list of keys, then
each storage as an int64 element count followed by its raw little-endian bytes.
Pickle records classes by module and name, so stand-ins named ``torch.FloatStorage``
and ``torch._utils._rebuild_tensor_v2`` are registered in ``sys.modules`` while writing.

Crafted (broken or hostile) files are made with the keyword arguments of
:func:`legacy_torch_bytes`: any of the five pickles can be replaced, a tensor can be
given any offset, shape and strides, a storage any element count in its header, and
the persistent ids (which name the storages) can be rewritten.
"""

from __future__ import annotations

import io
import pickle
import sys
import types
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
STORAGE_NAMES = {
    np.dtype(np.uint8): "ByteStorage",
    np.dtype(np.float32): "FloatStorage",
    np.dtype(np.int64): "LongStorage",
}
PARTS = ("magic", "protocol", "info", "object", "keys")
"""The five pickles of a legacy file, in order: names for ``replace``."""

Layout = tuple[int, tuple[int, ...], tuple[int, ...]]  # offset, shape, strides (in elements)


def _rebuild_tensor_v2(*args):  # stand-in; never called while writing
    raise AssertionError("only used as a pickle reference")


class _Storage:
    def __init__(self, key: str, data: np.ndarray):
        self.key, self.data = key, np.ascontiguousarray(data).ravel()


class _Tensor:
    def __init__(self, storage: _Storage, shape, stride, offset=0):
        self.storage, self.shape, self.stride, self.offset = storage, shape, stride, offset

    def __reduce__(self):
        return (
            _rebuild_tensor_v2,
            (
                self.storage,
                self.offset,
                tuple(self.shape),
                tuple(self.stride),
                False,
                OrderedDict(),
            ),
        )


def _fake_torch_modules(monkeypatch):
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    _rebuild_tensor_v2.__module__ = "torch._utils"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    storage_classes = {}
    for name in STORAGE_NAMES.values():
        cls = type(name, (), {"__module__": "torch"})
        setattr(torch, name, cls)
        storage_classes[name] = cls
    torch._utils = utils
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return storage_classes


def _tensors(
    arrays: dict[str, np.ndarray], transpose: set[str], layout: dict[str, Layout]
) -> tuple[dict[str, _Tensor], list[_Storage]]:
    """One storage per array; each tensor views its storage as asked (default: the array)."""
    storages: list[_Storage] = []
    tensors = {}
    for index, (name, array) in enumerate(arrays.items()):
        if name in transpose:
            base = np.ascontiguousarray(array.T)  # stored transposed, viewed back
            storage = _Storage(str(1000 + index), base)
            tensors[name] = _Tensor(storage, array.shape, (1, array.shape[0]))
        else:
            storage = _Storage(str(1000 + index), array)
            strides = tuple(s // array.itemsize for s in np.ascontiguousarray(array).strides)
            tensors[name] = _Tensor(storage, array.shape, strides)
        if name in layout:
            offset, shape, stride = layout[name]
            tensors[name] = _Tensor(storage, shape, stride, offset)
        storages.append(storage)
    return tensors, storages


def legacy_torch_bytes(
    arrays: dict[str, np.ndarray],
    monkeypatch,
    transpose: set[str] = frozenset(),
    extra: object = None,
    replace: dict[str, object] | None = None,
    layout: dict[str, Layout] | None = None,
    counts: dict[str, int] | None = None,
    pid: Callable[[tuple], object] | None = None,
) -> bytes:
    """Serialize name -> array like ``torch.save(dict)`` did before PyTorch 1.6.

    Names in ``transpose`` are stored as a non-contiguous (transposed) view of a 2-D
    storage, to check that strides are honoured. ``extra`` is pickled into the dict
    as-is (to check that unexpected objects are refused). ``replace`` maps names in
    :data:`PARTS` to objects pickled instead of that part; ``layout`` gives a tensor
    another (offset, shape, strides) over its storage; ``counts`` writes another element
    count into a tensor's storage header; ``pid`` rewrites each persistent id.
    """
    classes = _fake_torch_modules(monkeypatch)
    tensors, storages = _tensors(arrays, transpose, layout or {})
    if extra is not None:
        tensors["extra"] = extra

    class _Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, _Storage):
                cls = classes[STORAGE_NAMES[obj.data.dtype]]
                found = ("storage", cls, obj.key, "cpu", obj.data.size, None)
                return pid(found) if pid else found
            return None

    info = {
        "protocol_version": 1001,
        "little_endian": True,
        "type_sizes": {"short": 2, "int": 4, "long": 4},
    }
    parts = dict(zip(PARTS, (MAGIC_NUMBER, 1001, info, tensors, [s.key for s in storages])))
    parts.update(replace or {})
    out = io.BytesIO()
    for part in PARTS:
        _Pickler(out, protocol=2).dump(parts[part])
    sizes = {s.key: s.data.size for s in storages}
    sizes.update({tensors[name].storage.key: count for name, count in (counts or {}).items()})
    for storage in storages:
        out.write(np.int64(sizes[storage.key]).tobytes())
        out.write(storage.data.astype(storage.data.dtype.newbyteorder("<")).tobytes())
    return out.getvalue()
