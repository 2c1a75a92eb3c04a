# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data store location, locking and file writing (nerdctl-behaviour.md §1.1, §1.2, §3.16)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat
import subprocess
import sys

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import datastore as ds
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import UserError

ID1 = 'a' * 64
ID2 = 'b' * 64


def other_process_can_lock(path):
    """Try a non-blocking flock on `path` from a separate process (flock is per open file description)."""
    code = ('import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_RDONLY)\n'
            'try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept OSError:\n    sys.exit(1)\nsys.exit(0)\n')
    return subprocess.call([sys.executable, '-c', code, path]) == 0


def test_reference_hash():
    assert ds.path_hash('/run/containerd/containerd.sock') == '1935db59'


def test_address_hash_strips_unix_and_resolves_symlinks(tmp_path):
    real = tmp_path / 'real.sock'
    real.write_text('')
    link = tmp_path / 'link.sock'
    link.symlink_to(real)
    expected = ds.path_hash(str(real))
    assert ds.address_hash(str(real)) == expected
    assert ds.address_hash('unix://' + str(link)) == expected


def test_address_hash_missing_socket(tmp_path):
    with pytest.raises(UserError) as exc:
        ds.address_hash(str(tmp_path / 'nope.sock'))
    assert str(exc.value).startswith('lstat ')
    assert str(exc.value).endswith(': no such file or directory')


def test_data_store_creates_both_dirs_0700(tmp_path):
    sock = tmp_path / 'c.sock'
    sock.write_text('')
    root = tmp_path / 'root'
    store = ds.data_store(str(root), str(sock))
    assert store == os.path.join(str(root), ds.path_hash(str(sock)))
    for path in (str(root), store):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    assert ds.container_state_dir(store, 'default', ID1) == os.path.join(store, 'containers', 'default', ID1)


def test_data_store_without_create(tmp_path):
    sock = tmp_path / 'c.sock'
    sock.write_text('')
    store = ds.data_store(str(tmp_path / 'root'), str(sock), create=False)
    assert not os.path.exists(store)


def test_store_lock_is_exclusive_and_reentrant(tmp_path):
    path = str(tmp_path / 'names' / 'default')
    with ds.store_lock(path):
        assert os.path.isdir(path)
        assert not other_process_can_lock(path)
        with ds.store_lock(path):  # nested use in one process must not deadlock
            assert not other_process_can_lock(path)
        assert not other_process_can_lock(path)
    assert other_process_can_lock(path)


def test_container_lock_uses_oplock_dir(tmp_path):
    state = str(tmp_path / 'state')
    with ds.container_lock(state):
        oplock = os.path.join(state, 'oplock')
        assert stat.S_IMODE(os.stat(oplock).st_mode) == 0o700
        assert not other_process_can_lock(oplock)
    assert other_process_can_lock(oplock)


def test_atomic_write_replaces_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / 'network-config.json'
    path.write_text('old')
    old_inode = os.stat(str(path)).st_ino
    ds.atomic_write(str(path), '{}', 0o600)
    assert path.read_text() == '{}'
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert os.stat(str(path)).st_ino != old_inode
    assert os.listdir(str(tmp_path)) == ['network-config.json']


def test_write_in_place_keeps_inode(tmp_path):
    path = tmp_path / 'hosts'
    path.write_text('a much longer old content\n')
    inode = os.stat(str(path)).st_ino
    ds.write_in_place(str(path), 'new\n', 0o644)
    assert path.read_text() == 'new\n'
    assert os.stat(str(path)).st_ino == inode
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o644
    fresh = tmp_path / 'hostname'
    ds.write_in_place(str(fresh), 'h\n', 0o644)
    assert fresh.read_text() == 'h\n'


def test_name_store(tmp_path):
    names = ds.NameStore(str(tmp_path), 'default')
    names.acquire('web', ID1)
    path = tmp_path / 'names' / 'default' / 'web'
    assert path.read_text() == ID1
    assert names.lookup('web') == ID1
    names.acquire('web', ID1)  # the owner may re-acquire (the OCI hook does at every start)
    with pytest.raises(UserError) as exc:
        names.acquire('web', ID2)
    assert str(exc.value) == 'name "web" is already used by ID "%s"' % ID1
    with pytest.raises(UserError) as exc:
        names.release('web', ID2)
    assert str(exc.value) == 'cannot release name "web" (used by ID "%s", not by "%s")' % (ID1, ID2)
    names.release('web', ID1)
    assert not path.exists()
    assert names.lookup('web') is None
    names.release('web', ID1)  # already gone: nothing to do
    names.release('', ID1)
    names.acquire('web', ID2)
    assert names.lookup('web') == ID2


@pytest.mark.parametrize('name', ['a', '-web', 'we/b', 'we b', '.x', ''])
def test_name_store_rejects_invalid_names(tmp_path, name):
    with pytest.raises(UserError):
        ds.NameStore(str(tmp_path), 'default').acquire(name, ID1)
