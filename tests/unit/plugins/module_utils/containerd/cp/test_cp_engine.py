# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The copy engine's fast paths on local files: byte comparison, data mover fallbacks, and new trees
published whole (temp directory + RENAME_NOREPLACE) with nothing left behind on failure."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.cp import engine, fs
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.cp.compare import CHUNK, SMALL, Comparer
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.cp.resolve import CopyError
from ansible_collections.ctrd.containerd.tests.unit.plugins.module_utils.containerd.cp.cp_tree import Target, snapshot


def _fd(path, flags=os.O_RDONLY):
    return os.open(str(path), flags | os.O_CLOEXEC)


@pytest.mark.parametrize('size', [0, 10, SMALL + 1, 2 * CHUNK + 123])
def test_comparer_equal_and_last_byte_differs(tmp_path, size):
    data = os.urandom(size)
    (tmp_path / 'a').write_bytes(data)
    (tmp_path / 'b').write_bytes(data)
    (tmp_path / 'c').write_bytes(data[:-1] + bytes([(data[-1] + 1) % 256]) if size else b'')
    cmp = Comparer()
    fa, fb, fc = _fd(tmp_path / 'a'), _fd(tmp_path / 'b'), _fd(tmp_path / 'c')
    try:
        assert cmp.same(fa, fb, size)
        assert cmp.same(fa, fc, size) == (size == 0)
        assert cmp.same(fa, fb, size)   # buffers are reused: a previous mismatch leaves nothing behind
        assert os.lseek(fa, 0, os.SEEK_CUR) == 0   # offsets untouched, a copy can follow
    finally:
        for fd in (fa, fb, fc):
            os.close(fd)


def test_comparer_file_shrunk_under_us(tmp_path):
    data = os.urandom(2 * CHUNK)
    (tmp_path / 'a').write_bytes(data)
    (tmp_path / 'b').write_bytes(data[:CHUNK + 5])
    fa, fb = _fd(tmp_path / 'a'), _fd(tmp_path / 'b')
    try:
        assert not Comparer().same(fa, fb, len(data))
    finally:
        os.close(fa)
        os.close(fb)


def test_data_mover_falls_back_and_remembers(tmp_path, monkeypatch):
    data = os.urandom(300000)
    (tmp_path / 'src').write_bytes(data)
    calls = []

    def refuse(*_args):
        calls.append(1)
        raise OSError(errno.EXDEV, 'cross-device')

    monkeypatch.setattr(os, 'copy_file_range', refuse, raising=False)
    mover = fs.DataMover()
    for name in ('d1', 'd2'):
        src = _fd(tmp_path / 'src')
        dst = _fd(tmp_path / name, os.O_WRONLY | os.O_CREAT)
        try:
            assert mover.copy(src, dst, len(data), ('dev', 'dev')) == len(data)
        finally:
            os.close(src)
            os.close(dst)
        assert (tmp_path / name).read_bytes() == data
    assert len(calls) == 1   # refused once, not asked again for the same pair of filesystems


def _make_tree(base):
    (base / 'sub' / 'deep').mkdir(parents=True)
    (base / 'a').write_bytes(b'a' * 10)
    (base / 'sub' / 'b').write_bytes(os.urandom(2 * CHUNK))
    (base / 'sub' / 'deep' / 'c').write_bytes(b'c')
    os.symlink('a', str(base / 'link'))
    os.chmod(str(base / 'a'), 0o640)
    os.chmod(str(base / 'sub'), 0o750)
    os.utime(str(base / 'sub'), (1000000000, 1000000000))


def test_new_tree_is_published_whole_and_equal(tmp_path, roots):
    host, ctr = roots
    _make_tree(tmp_path / 'host' / 'tree')
    stats = engine.Copier(host, ctr, engine.Options()).copy_path(['tree'], Target([], 'tree'))
    assert stats.changed and stats.files == 4 and stats.dirs == 3
    assert snapshot(tmp_path / 'ctr' / 'tree') == snapshot(tmp_path / 'host' / 'tree')
    assert os.listdir(str(tmp_path / 'ctr')) == ['tree']   # no temp directory left
    again = engine.Copier(host, ctr, engine.Options()).copy_path(['tree'], Target(['tree'], 'tree'))
    assert again.changed   # the nerdctl shape: now it goes inside
    same = engine.Copier(host, ctr, engine.Options()).copy_path(['tree'], Target([], 'tree'))
    assert not same.changed


def test_new_subdirectory_inside_an_existing_tree(tmp_path, roots):
    host, ctr = roots
    _make_tree(tmp_path / 'host' / 'tree')
    (tmp_path / 'ctr' / 'tree').mkdir()
    (tmp_path / 'ctr' / 'tree' / 'a').write_bytes(b'old')
    stats = engine.Copier(host, ctr, engine.Options()).copy_path(['tree'], Target([], 'tree'))
    assert stats.files == 4
    assert (tmp_path / 'ctr' / 'tree' / 'a').read_bytes() == b'a' * 10
    assert snapshot(tmp_path / 'ctr' / 'tree') == snapshot(tmp_path / 'host' / 'tree')
    leftovers = [n for _d, dirs, files in os.walk(str(tmp_path / 'ctr')) for n in dirs + files if n.startswith(engine.TMP_PREFIX)]
    assert leftovers == []


def test_failed_new_tree_leaves_nothing(tmp_path, roots, monkeypatch):
    host, ctr = roots
    _make_tree(tmp_path / 'host' / 'tree')
    real = fs.DataMover.copy

    def fail_on_big(self, src_fd, dst_fd, size, key=None):
        if size > CHUNK:
            raise OSError(errno.ENOSPC, 'No space left on device')
        return real(self, src_fd, dst_fd, size, key)

    monkeypatch.setattr(fs.DataMover, 'copy', fail_on_big)
    with pytest.raises(CopyError) as info:
        engine.Copier(host, ctr, engine.Options()).copy_path(['tree'], Target([], 'tree'))
    assert 'filesystem error' in str(info.value)
    assert os.listdir(str(tmp_path / 'ctr')) == []


def test_name_that_appears_meanwhile_is_not_replaced(tmp_path):
    (tmp_path / 'd').mkdir()
    (tmp_path / 'd' / 'tmp').mkdir()
    (tmp_path / 'd' / 'taken').write_bytes(b'keep')
    parent = os.open(str(tmp_path / 'd'), os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(OSError) as info:
            fs.rename_noreplace(parent, 'tmp', 'taken')
        assert info.value.errno == errno.EEXIST
        fs.rename_noreplace(parent, 'tmp', 'free')
    finally:
        os.close(parent)
    assert (tmp_path / 'd' / 'taken').read_bytes() == b'keep' and (tmp_path / 'd' / 'free').is_dir()
