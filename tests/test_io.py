"""Atomic output: all or nothing, readable by others, clear errors."""

import os
import stat

import pytest

from qsnn_mem.errors import QsnnError
from qsnn_mem.io import atomic_path, ensure_dir, write_text


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "a.txt"
    write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.txt"]  # no temporary left behind


def test_written_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "b.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o644


def test_output_folder_that_cannot_be_created(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(QsnnError, match="cannot create output folder"):
        ensure_dir(tmp_path / "f" / "sub")
