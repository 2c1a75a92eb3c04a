# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tree shared among forked workers lands exactly as a single process lands it: same bytes, modes and
times, same counts, same check-mode verdict, and a worker's failure surfaces with its own message and
leaves nothing behind."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.cp import engine, fs, parallel
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.cp.resolve import CopyError, ERR_FILESYSTEM
from ansible_collections.ctrd.containerd.tests.unit.plugins.module_utils.containerd.cp.cp_tree import Target, snapshot


def _wide_tree(base, dirs=6, files=5):
    """Several subdirectories (so the walk is shared), each with files of several modes and sizes."""
    base.mkdir()
    (base / 'top').write_bytes(b'top')
    for d in range(dirs):
        sub = base / ('d%d' % d)
        (sub / 'inner').mkdir(parents=True)
        for f in range(files):
            path = sub / ('f%d' % f)
            path.write_bytes(os.urandom(d * 1000 + f))
            os.chmod(str(path), (0o600, 0o644, 0o755, 0o4755, 0o640)[f % 5])
            os.utime(str(path), ns=(1500000000000000000 + f, 1600000000000000000 + d))
        (sub / 'inner' / 'x').write_bytes(b'x' * d)
        os.symlink('f0', str(sub / 'link'))
        os.chmod(str(sub), 0o750)
        os.utime(str(sub), (1000000000, 1000000000 + d))


def _copy(host, ctr, name, workers, **opts):
    copier = engine.Copier(host, ctr, engine.Options(**opts), workers=workers)
    return copier.copy_path(['tree'], Target([], name))


def _counts(stats):
    return stats.changed, stats.files, stats.dirs, stats.bytes


def _spy_forks(monkeypatch):
    started = []
    real = parallel.start

    def start(work):
        worker = real(work)
        started.append(worker.pid)
        return worker

    monkeypatch.setattr(parallel, 'start', start)
    return started


def _gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_shared_tree_equals_single_process_copy(tmp_path, roots, monkeypatch):
    host, ctr = roots
    _wide_tree(tmp_path / 'host' / 'tree')
    started = _spy_forks(monkeypatch)
    single = _copy(host, ctr, 'one', 1)
    assert started == []
    shared = _copy(host, ctr, 'two', 2)
    assert len(started) == 1 and _gone(started[0])   # one worker, reaped
    assert _counts(shared) == _counts(single) == (True, 1 + 6 * 7, 1 + 6 * 2, _counts(single)[3])
    source = snapshot(tmp_path / 'host' / 'tree')
    assert snapshot(tmp_path / 'ctr' / 'two') == source == snapshot(tmp_path / 'ctr' / 'one')
    assert sorted(os.listdir(str(tmp_path / 'ctr'))) == ['one', 'two']   # no temp directory left
    mtimes = snapshot(tmp_path / 'ctr' / 'two')
    again = engine.Copier(host, ctr, engine.Options(), workers=2).copy_path(['tree'], Target([], 'two'))
    assert _counts(again) == (False, 0, 0, 0)
    assert snapshot(tmp_path / 'ctr' / 'two') == mtimes   # nothing touched


def test_shared_update_and_check_mode_agree(tmp_path, roots):
    host, ctr = roots
    _wide_tree(tmp_path / 'host' / 'tree')
    _copy(host, ctr, 'tree', 2)
    for d in (1, 4):   # changes in two subdirectories, so both processes find some
        (tmp_path / 'host' / 'tree' / ('d%d' % d) / 'f2').write_bytes(b'changed')
    (tmp_path / 'ctr' / 'tree' / 'd3' / 'inner' / 'x').write_bytes(b'tampered')
    before = snapshot(tmp_path / 'ctr' / 'tree')
    check = engine.Copier(host, ctr, engine.Options(check_mode=True), workers=2).copy_path(['tree'], Target([], 'tree'))
    assert snapshot(tmp_path / 'ctr' / 'tree') == before
    real = engine.Copier(host, ctr, engine.Options(), workers=2).copy_path(['tree'], Target([], 'tree'))
    assert _counts(check) == _counts(real) == (True, 3, 0, 7 + 7 + 3)
    assert snapshot(tmp_path / 'ctr' / 'tree') == snapshot(tmp_path / 'host' / 'tree')


def test_flat_directory_is_shared_too(tmp_path, roots, monkeypatch):
    host, ctr = roots
    flat = tmp_path / 'host' / 'tree'
    flat.mkdir()
    for i in range(engine.SPLIT_MIN_ENTRIES + 10):
        (flat / ('f%04d' % i)).write_bytes(b'%d' % i)
    started = _spy_forks(monkeypatch)
    stats = _copy(host, ctr, 'tree', 3)
    assert len(started) == 2 and all(_gone(pid) for pid in started)
    assert stats.files == engine.SPLIT_MIN_ENTRIES + 10
    assert snapshot(tmp_path / 'ctr' / 'tree') == snapshot(flat)


def _fail_in_workers(monkeypatch, owner, attr, error):
    """Make `owner.attr` raise `error` in forked workers only; the parent keeps the real one."""
    parent = os.getpid()
    real = getattr(owner, attr)

    def patched(*args, **kwargs):
        if os.getpid() != parent:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, attr, patched)


def _copy_fails_in_a_worker(tmp_path, roots):
    host, ctr = roots
    _wide_tree(tmp_path / 'host' / 'tree')
    with pytest.raises(CopyError) as info:
        _copy(host, ctr, 'tree', 2)
    assert os.listdir(str(tmp_path / 'ctr')) == []   # the unpublished tree is gone
    return info.value


def test_worker_os_error_surfaces_and_new_tree_is_removed(tmp_path, roots, monkeypatch):
    _fail_in_workers(monkeypatch, fs.DataMover, 'copy', OSError(errno.ENOSPC, 'No space left on device'))
    error = _copy_fails_in_a_worker(tmp_path, roots)
    assert 'filesystem error' in str(error) and 'No space left on device' in str(error)


def test_worker_copy_error_keeps_nerdctl_text(tmp_path, roots, monkeypatch):
    _fail_in_workers(monkeypatch, engine.Copier, '_symlink', CopyError(ERR_FILESYSTEM, 'planted failure'))
    error = _copy_fails_in_a_worker(tmp_path, roots)
    assert error.text == ERR_FILESYSTEM
    assert str(error) == 'unable to copy: %s: planted failure' % ERR_FILESYSTEM


def test_worker_that_dies_without_a_report():
    worker = parallel.start(lambda: os._exit(3))
    result, error = worker.finish()
    assert result is None and isinstance(error, CopyError) and 'ended without a report' in str(error)
    assert _gone(worker.pid)


def test_worker_unexpected_exception_is_named():
    def boom():
        raise ValueError('odd')

    result, error = parallel.start(boom).finish()
    assert result is None and 'a copy worker failed: ValueError: odd' in str(error)


def test_worker_result_round_trip():
    assert parallel.start(lambda: {'files': 2, 'changed': True}).finish() == ({'files': 2, 'changed': True}, None)


def test_worker_count_bounds():
    assert 1 <= parallel.worker_count() <= parallel.MAX_WORKERS


def _in_private_namespace(body):
    """Run body() in a fresh thread that unshares its mount namespace and setns back afterwards, as the
    view of a stopped container does; return (body's result, whether setns back worked)."""
    out = {}

    def thread():
        host = os.open('/proc/thread-self/ns/mnt', os.O_RDONLY | os.O_CLOEXEC)
        try:
            fs.unshare(fs.CLONE_NEWNS)
            try:
                out['result'] = body()
            finally:
                try:
                    fs.setns(host, fs.CLONE_NEWNS)
                    out['back'] = True
                except OSError as exc:
                    out['back'] = exc
        finally:
            os.close(host)

    parallel.prepare()
    runner = threading.Thread(target=thread)
    runner.start()
    runner.join()
    return out.get('result'), out.get('back')


def test_workers_of_a_private_namespace_are_forked_by_the_spawner():
    host_ns = os.readlink('/proc/self/ns/mnt')

    def body():
        private_ns = os.readlink('/proc/thread-self/ns/mnt')
        result, error = parallel.start(lambda: {'ns': os.readlink('/proc/self/ns/mnt')}).finish()
        return private_ns, result, error

    (private_ns, result, error), back = _in_private_namespace(body)
    assert private_ns != host_ns and back is True
    assert error is None and result == {'ns': host_ns}   # forked outside the private namespace


def test_shared_copy_inside_a_private_namespace(tmp_path, roots, monkeypatch):
    host, ctr = roots
    _wide_tree(tmp_path / 'host' / 'tree')
    ctr.private_ns = True   # as view builds a stopped container's root
    monkeypatch.setattr(parallel, 'worker_count', lambda: 2)   # whatever this machine's CPUs
    started = _spy_forks(monkeypatch)
    stats, back = _in_private_namespace(lambda: engine.Copier(host, ctr, engine.Options()).copy_path(['tree'], Target([], 'tree')))
    assert back is True
    assert len(started) == 1 and _gone(started[0])   # the default decision: workers, through the spawner
    assert stats.files == 1 + 6 * 7
    assert snapshot(tmp_path / 'ctr' / 'tree') == snapshot(tmp_path / 'host' / 'tree')


def _dead(pid):
    """Gone or a zombie (this machine's PID 1 may not reap orphans)."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] in ('Z', 'X')
    except (IOError, OSError):
        return True


def test_workers_die_with_a_killed_module(tmp_path):
    marker = tmp_path / 'worker.pid'
    script = '\n'.join([
        'import os, sys, time',
        'from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.cp import parallel',
        'def work():',
        '    with open(sys.argv[1] + ".tmp", "w") as f:',
        '        f.write(str(os.getpid()))',
        '    os.rename(sys.argv[1] + ".tmp", sys.argv[1])',
        '    time.sleep(60)',
        'parallel.start(work)',
        'time.sleep(60)',
    ])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))   # finds the collection as we do
    module = subprocess.Popen([sys.executable, '-c', script, str(marker)], env=env)
    try:
        deadline = time.monotonic() + 20
        while not marker.exists() and module.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        worker = int(marker.read_text())
        assert not _dead(worker)
    finally:
        module.kill()
        module.wait()
    deadline = time.monotonic() + 10
    while not _dead(worker) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _dead(worker)


def test_no_process_to_spare_means_one_process_does_it_all(tmp_path, roots, monkeypatch):
    host, ctr = roots
    _wide_tree(tmp_path / 'host' / 'tree')

    def refuse():
        raise OSError(errno.EAGAIN, 'Resource temporarily unavailable')

    monkeypatch.setattr(os, 'fork', refuse)
    fds_before = len(os.listdir('/proc/self/fd'))
    stats = _copy(host, ctr, 'tree', 3)
    assert len(os.listdir('/proc/self/fd')) == fds_before   # no pipe left open
    assert _counts(stats)[:3] == (True, 1 + 6 * 7, 1 + 6 * 2)
    assert snapshot(tmp_path / 'ctr' / 'tree') == snapshot(tmp_path / 'host' / 'tree')
