# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filesystem a copy works on: the host, or a container's view of its own files.

A container with a live process (running, paused, or created but not started) is reached through
`/proc/<pid>/root`: that is exactly the container's mount tree, tmpfs mounts and all.  A container
without one gets its view rebuilt in a private mount namespace of the calling thread: its snapshot
mounted on a temp dir and every bind mount / volume bind-mounted at its destination (ro stays ro), the
way runc would assemble it.  The namespace is private, so nothing is visible to the host and nothing can
outlive the module; it is still unmounted and left explicitly on every path.

Paths are always opened relative to the root fd with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import errno
import os
import stat
import tempfile

from . import fs, parallel
from .resolve import CopyError, ERR_FILESYSTEM, ERR_MOUNT_SNAPSHOT, ERR_VANISHED

LIVE_STATUSES = ('running', 'paused', 'created')
IN_ROOT = fs.RESOLVE_IN_ROOT | fs.RESOLVE_NO_MAGICLINKS
VOLATILE_MSG = 'it is on a %s mount that only exists while the container runs; start the container to copy there'

# Flags of mount(2) that containerd's snapshotters and OCI specs spell as options.
_MOUNT_FLAGS = {
    'ro': (fs.MS_RDONLY, True), 'rw': (fs.MS_RDONLY, False), 'nosuid': (fs.MS_NOSUID, True),
    'suid': (fs.MS_NOSUID, False), 'nodev': (fs.MS_NODEV, True), 'dev': (fs.MS_NODEV, False),
    'noexec': (fs.MS_NOEXEC, True), 'exec': (fs.MS_NOEXEC, False),
}
_IGNORED = ('bind', 'rbind', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'relatime',
            'norelatime', 'strictatime', 'noatime', 'nodiratime', 'defaults')


class Root(object):
    """An open root directory and the rules to open paths below it."""

    def __init__(self, fd, container, label, resolve_flags=IN_ROOT, volatile=None, root_readonly=False, private_ns=False):
        self.fd = fd
        self.container = container
        self.label = label
        self.resolve_flags = resolve_flags
        self.volatile = volatile or {}   # container path -> mount type, for mounts a stopped view lacks
        self.root_readonly = root_readonly
        # Built in this thread's private mount namespace (a stopped container): this thread must not fork
        # (see cp/parallel.py).
        self.private_ns = private_ns

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def open(self, comps, flags, mode=0, follow=True):
        """Open `comps` below the root; symlinks (if followed) resolve inside the root, never outside."""
        path = '/' + '/'.join(comps)
        if not follow:
            flags |= os.O_NOFOLLOW
        return fs.openat2(self.fd, path, flags, mode, self.resolve_flags)

    def lstat(self, comps):
        """(stat, symlink target or None) of a path whose parent is already resolved."""
        fd = self.open(comps, fs.O_PATH, follow=False)
        try:
            st = os.fstat(fd)
            target = os.readlink('', dir_fd=fd) if stat.S_ISLNK(st.st_mode) else None
            return st, target
        finally:
            os.close(fd)

    def stat(self, comps):
        fd = self.open(comps, fs.O_PATH)
        try:
            return os.fstat(fd)
        finally:
            os.close(fd)

    def volatile_mount(self, comps):
        """The (destination, type) of a volatile mount holding `comps`, if any (stopped views only)."""
        path = '/' + '/'.join(comps)
        hits = [(dest, kind) for dest, kind in self.volatile.items()
                if path == dest or path.startswith(dest.rstrip('/') + '/')]
        return max(hits, key=lambda hit: len(hit[0])) if hits else None

    def judge_read_only(self, spec):
        """The verdict of the mount that finally holds the resolved path (the path itself if it exists)."""
        comps = spec.comps if spec.exists else spec.comps[:-1]
        try:
            fd = self.open(comps, fs.O_PATH)
        except OSError:
            return False
        try:
            return fs.is_readonly(fd)
        finally:
            os.close(fd)


def host_root():
    """The managed node's own filesystem; host paths resolve normally (the host is trusted)."""
    return Root(os.open('/', fs.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC), False, 'host', resolve_flags=0)


def _live_pid(client, container_id):
    try:
        status, task = client.task_status(container_id)
    except Exception as exc:  # pylint: disable=broad-except
        raise CopyError(ERR_VANISHED, exc)
    if status in LIVE_STATUSES and task.pid:
        return task.pid
    return None


@contextlib.contextmanager
def container_root(client, record, snapshotter, create_mountpoints=True):
    """Yield a Root for the container's view; every mount made for it is gone when this returns."""
    try:
        spec = client.read_spec(record)
    except Exception as exc:  # pylint: disable=broad-except
        raise CopyError(ERR_VANISHED, exc)
    readonly = bool((spec.get('root') or {}).get('readonly'))
    pid = _live_pid(client, record.id)
    if pid is not None:
        try:
            fd = os.open('/proc/%d/root' % pid, fs.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            fd = None   # the task exited between the lookup and now: fall back to the snapshot
        if fd is not None:
            root = Root(fd, True, record.id, root_readonly=readonly)
            try:
                yield root
            finally:
                root.close()
            return
    with _snapshot_root(client, record, snapshotter or record.snapshotter, spec, readonly,
                        create_mountpoints) as root:
        yield root


def _split_options(options):
    flags, data = 0, []
    for opt in options:
        if opt in _MOUNT_FLAGS:
            bit, on = _MOUNT_FLAGS[opt]
            flags = flags | bit if on else flags & ~bit
        elif opt not in _IGNORED:
            data.append(opt)
    return flags, ','.join(data)


def _mount_snapshot(mounts, target, readonly):
    if not mounts:
        raise CopyError(ERR_MOUNT_SNAPSHOT, 'the snapshot has no mounts')
    for m in mounts:
        flags, data = _split_options(list(m.options))
        if m.type == 'bind' or 'bind' in m.options or 'rbind' in m.options:
            fs.mount(m.source, target, None, fs.MS_BIND | fs.MS_REC)
            if flags & fs.MS_RDONLY or readonly:
                fs.mount(None, target, None, fs.MS_BIND | fs.MS_REMOUNT | fs.MS_RDONLY | flags)
        else:
            fs.mount(m.source, target, m.type, flags | (fs.MS_RDONLY if readonly else 0), data or None)


def _place_bind(root_fd, mount, create):
    """Bind-mount one spec mount's host source at its destination inside the new root."""
    source = mount.get('source', '')
    dest = mount.get('destination', '')
    opts = mount.get('options') or []
    try:
        src_st = os.stat(source)
    except OSError:
        return  # runc would fail to start such a container; nothing of it is reachable
    try:
        fd = fs.openat2(root_fd, dest, fs.O_PATH, 0, IN_ROOT)
    except OSError as exc:
        if exc.errno != errno.ENOENT or not create:
            return
        fd = _make_mountpoint(root_fd, dest, stat.S_ISDIR(src_st.st_mode))
    try:
        flags = fs.MS_BIND | (fs.MS_REC if 'rbind' in opts else 0)
        fs.mount(source, fs.proc_fd(fd), None, flags)
    finally:
        os.close(fd)
    if 'ro' in opts or 'rro' in opts:
        fd = fs.openat2(root_fd, dest, fs.O_PATH, 0, IN_ROOT)
        try:
            fs.mount(None, fs.proc_fd(fd), None, fs.MS_BIND | fs.MS_REMOUNT | fs.MS_RDONLY)
        finally:
            os.close(fd)


def _make_mountpoint(root_fd, dest, is_dir):
    """Create a missing mount point as runc does on first start (directories 0755, an empty file)."""
    comps = [c for c in dest.split('/') if c not in ('', '.')]
    for i in range(1, len(comps) + 1):
        last = i == len(comps)
        path = '/' + '/'.join(comps[:i])
        try:
            fd = fs.openat2(root_fd, path, fs.O_PATH, 0, IN_ROOT)
            os.close(fd)
            continue
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
        parent = fs.openat2(root_fd, '/' + '/'.join(comps[:i - 1]), fs.O_PATH | os.O_DIRECTORY, 0, IN_ROOT)
        try:
            if last and not is_dir:
                os.close(os.open(comps[i - 1], os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, 0o755,
                                 dir_fd=parent))
            else:
                os.mkdir(comps[i - 1], 0o755, dir_fd=parent)
        finally:
            os.close(parent)
    return fs.openat2(root_fd, dest, fs.O_PATH, 0, IN_ROOT)


@contextlib.contextmanager
def _snapshot_root(client, record, snapshotter, spec, readonly, create_mountpoints):
    try:
        mounts = client.snapshot_mounts(snapshotter, record.snapshot_key)
    except Exception as exc:  # pylint: disable=broad-except
        raise CopyError(ERR_MOUNT_SNAPSHOT, exc)
    parallel.prepare()   # copy workers must be forked from a thread outside the namespace made below
    host_ns = os.open('/proc/thread-self/ns/mnt', os.O_RDONLY | os.O_CLOEXEC)
    tmpdir = tempfile.mkdtemp(prefix='ctrd-cp-')
    root = None
    entered = False
    try:
        try:
            fs.unshare(fs.CLONE_NEWNS)
            entered = True
            fs.mount(None, '/', None, fs.MS_REC | fs.MS_PRIVATE)
            _mount_snapshot(mounts, tmpdir, False)   # rw until the mount points exist, as runc does
        except OSError as exc:
            raise CopyError(ERR_MOUNT_SNAPSHOT, exc)
        root_fd = os.open(tmpdir, fs.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        volatile = {}
        try:
            for m in spec.get('mounts') or []:
                opts = m.get('options') or []
                if m.get('type') == 'bind' or 'bind' in opts or 'rbind' in opts:
                    _place_bind(root_fd, m, create_mountpoints)
                else:
                    volatile[os.path.normpath('/' + m.get('destination', '/').lstrip('/'))] = m.get('type') or 'special'
            if readonly:
                fs.mount(None, tmpdir, None, fs.MS_BIND | fs.MS_REMOUNT | fs.MS_RDONLY)
        except OSError as exc:
            os.close(root_fd)
            raise CopyError(ERR_FILESYSTEM, 'placing the container mounts: %s' % exc)
        root = Root(root_fd, True, record.id, volatile=volatile, root_readonly=readonly, private_ns=True)
        yield root
    finally:
        if root is not None:
            root.close()
        if entered:
            try:
                fs.umount(tmpdir, fs.MNT_DETACH)
            except OSError:
                pass  # the private namespace drops it with us anyway
            fs.setns(host_ns, fs.CLONE_NEWNS)
        os.close(host_ns)
        try:
            os.rmdir(tmpdir)   # empty in the host namespace: the mounts lived in the private one
        except OSError:
            pass
