"""Safe loading of user arrays: round trips, refused pickles, clear errors."""

import os
import pickle

import numpy as np
import pytest
import torch

from qsnn_mem.data.files import load_array
from qsnn_mem.errors import QsnnError

RASTER = (np.arange(12).reshape(3, 4) % 2).astype(np.int64)


def _pickle(path, obj, protocol=pickle.HIGHEST_PROTOCOL):
    with open(path, "wb") as fh:
        pickle.dump(obj, fh, protocol=protocol)
    return path


def test_npy_round_trip(tmp_path):
    np.save(tmp_path / "a.npy", RASTER)
    out = load_array(tmp_path / "a.npy", expect_shape=(3, 4), binary=True)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, RASTER)


def test_npz_single_and_keyed(tmp_path):
    np.savez(tmp_path / "one.npz", RASTER)
    np.testing.assert_array_equal(load_array(tmp_path / "one.npz"), RASTER)
    np.savez(tmp_path / "two.npz", a=RASTER, b=RASTER.T)
    np.testing.assert_array_equal(load_array(tmp_path / "two.npz", key="b"), RASTER.T)
    with pytest.raises(QsnnError, match="available keys: a, b"):
        load_array(tmp_path / "two.npz")


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_numpy_pickle_round_trip(tmp_path, protocol):
    path = _pickle(tmp_path / "smile.pkl", RASTER, protocol)
    np.testing.assert_array_equal(load_array(path, expect_shape=(3, None)), RASTER)


@pytest.mark.parametrize("protocol", [2, 4])
def test_torch_tensor_pickle_round_trip(tmp_path, protocol):
    tensor = torch.rand(5, 7)
    path = _pickle(tmp_path / "input.pickle", tensor.t(), protocol)  # non-contiguous view
    out = load_array(path, expect_shape=(7, 5))
    np.testing.assert_array_equal(out, tensor.t().numpy())


def test_torch_save_file_named_pkl(tmp_path):
    tensor = torch.ones(2, 3)
    torch.save(tensor, tmp_path / "z.pkl")
    np.testing.assert_array_equal(load_array(tmp_path / "z.pkl"), np.ones((2, 3)))
    torch.save(tensor, tmp_path / "legacy.pkl", _use_new_zipfile_serialization=False)
    np.testing.assert_array_equal(load_array(tmp_path / "legacy.pkl"), np.ones((2, 3)))


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = _pickle(tmp_path / "evil.pkl", _Evil(marker))
    with pytest.raises(QsnnError, match=r"evil\.pkl.*(posix|os|nt)\.system"):
        load_array(path)
    assert not marker.exists()


def test_malicious_storage_bytes_are_refused(tmp_path):
    # torch's own _load_from_bytes would unpickle these nested bytes without restriction.
    marker = tmp_path / "pwned"
    inner = pickle.dumps(_Evil(marker), protocol=2)

    class _Sneaky:
        def __reduce__(self):
            return (torch.storage._load_from_bytes, (inner,))

    path = _pickle(tmp_path / "sneaky.pkl", _Sneaky())
    with pytest.raises(QsnnError, match=r"sneaky\.pkl"):
        load_array(path)
    assert not marker.exists()


def test_pickle_of_non_array_is_refused(tmp_path):
    path = _pickle(tmp_path / "tuple.pkl", (RASTER, 1))
    with pytest.raises(QsnnError, match="holds a tuple"):
        load_array(path)


def test_wrong_shape_message_with_transpose_hint(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((700, 250)))
    with pytest.raises(QsnnError, match=r"x\.npy.*\(700, 250\), expected \(250, 700\).*transpose"):
        load_array(tmp_path / "x.npy", expect_shape=(250, 700))
    with pytest.raises(QsnnError) as info:
        load_array(tmp_path / "x.npy", expect_shape=(250, 250))
    assert "transpose" not in str(info.value)


def test_missing_file_and_unknown_suffix(tmp_path):
    with pytest.raises(QsnnError, match=r"nope\.npy: target file not found"):
        load_array(tmp_path / "nope.npy", name="target")
    with pytest.raises(QsnnError, match=r"allowed: \.npy, \.npz, \.pkl, \.pickle"):
        load_array(tmp_path / "x.csv")


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".pkl"])
def test_truncated_files(tmp_path, suffix):
    good = tmp_path / f"good{suffix}"
    if suffix == ".npy":
        np.save(good, RASTER)
    elif suffix == ".npz":
        np.savez(good, RASTER)
    else:
        _pickle(good, torch.rand(4, 4))
    data = good.read_bytes()
    bad = tmp_path / f"bad{suffix}"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(QsnnError, match=r"bad\.(npy|npz|pkl).*corrupt or truncated"):
        load_array(bad)


def test_binary_check(tmp_path):
    np.save(tmp_path / "v.npy", np.array([[0.0, 0.5], [1.0, 2.0]]))
    with pytest.raises(QsnnError, match="only 0 and 1, but 2 values differ"):
        load_array(tmp_path / "v.npy", binary=True)


def test_numpy_files_do_not_import_torch(tmp_path):
    import subprocess
    import sys

    path = _pickle(tmp_path / "n.pkl", RASTER)
    code = (
        "import sys; from qsnn_mem.data.files import load_array; "
        f"load_array({str(path)!r}); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
