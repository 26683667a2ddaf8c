"""Write small files in the legacy (non-zip) ``torch.save`` format, without PyTorch.

Used by the tests to check :func:`nst_helpers.weights.read_legacy_torch_file` on files
made here. The format: pickled magic number, protocol version and system info, the
pickled object whose tensors reference storages by key, the pickled list of keys, then
each storage as an int64 element count followed by its raw little-endian bytes.
Pickle records classes by module and name, so stand-ins named ``torch.FloatStorage``
and ``torch._utils._rebuild_tensor_v2`` are registered in ``sys.modules`` while writing.
"""

from __future__ import annotations

import io
import pickle
import sys
import types
from collections import OrderedDict

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
STORAGE_NAMES = {np.dtype(np.uint8): "ByteStorage", np.dtype(np.float32): "FloatStorage",
                 np.dtype(np.int64): "LongStorage"}


def _rebuild_tensor_v2(*args):  # stand-in; never called while writing
    raise AssertionError("only used as a pickle reference")


class _Storage:
    def __init__(self, key: str, data: np.ndarray):
        self.key, self.data = key, np.ascontiguousarray(data).ravel()


class _Tensor:
    def __init__(self, storage: _Storage, shape, stride, offset=0):
        self.storage, self.shape, self.stride, self.offset = storage, shape, stride, offset

    def __reduce__(self):
        return (_rebuild_tensor_v2,
                (self.storage, self.offset, tuple(self.shape), tuple(self.stride), False, OrderedDict()))


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


def legacy_torch_bytes(arrays: dict[str, np.ndarray], monkeypatch, transpose: set[str] = frozenset(),
                       extra: object = None) -> bytes:
    """Serialize name -> array like ``torch.save(dict)`` did before PyTorch 1.6.

    Names in ``transpose`` are stored as a non-contiguous (transposed) view of a 2-D
    storage, to check that strides are honoured. ``extra`` is pickled into the dict
    as-is (to check that unexpected objects are refused).
    """
    classes = _fake_torch_modules(monkeypatch)
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
        storages.append(storage)
    if extra is not None:
        tensors["extra"] = extra

    class _Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, _Storage):
                cls = classes[STORAGE_NAMES[obj.data.dtype]]
                return ("storage", cls, obj.key, "cpu", obj.data.size, None)
            return None

    out = io.BytesIO()
    for header in (MAGIC_NUMBER, 1001, {"protocol_version": 1001, "little_endian": True,
                                         "type_sizes": {"short": 2, "int": 4, "long": 4}}):
        pickle.dump(header, out, protocol=2)
    _Pickler(out, protocol=2).dump(tensors)
    pickle.dump([s.key for s in storages], out, protocol=2)
    for storage in storages:
        out.write(np.int64(storage.data.size).tobytes())
        out.write(storage.data.astype(storage.data.dtype.newbyteorder("<")).tobytes())
    return out.getvalue()
