# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel primitives the copy needs and Python lacks: openat2, mount, unshare/setns, fast data copy.

Everything that opens a container path goes through `openat2` with RESOLVE_IN_ROOT, so the kernel (not
string joins on host paths) keeps every lookup inside the container's root, whatever symlinks the
container has planted or swaps in while we work.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ctypes
import errno
import os
import platform

SYS_OPENAT2 = 437  # x86_64 and aarch64 (the generic syscall table)
SYS_UNSHARE = {'x86_64': 272, 'aarch64': 97}
SYS_SETNS = {'x86_64': 308, 'aarch64': 268}

RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10

O_PATH = getattr(os, 'O_PATH', 0o10000000)
O_TMPFILE = getattr(os, 'O_TMPFILE', 0o20200000)

CLONE_NEWNS = 0x00020000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

ST_RDONLY = getattr(os, 'ST_RDONLY', 1)

_libc = None


class _OpenHow(ctypes.Structure):
    _fields_ = [('flags', ctypes.c_uint64), ('mode', ctypes.c_uint64), ('resolve', ctypes.c_uint64)]


def libc():
    global _libc  # pylint: disable=global-statement
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.syscall.restype = ctypes.c_long
    return _libc


def _raise(path=None):
    err = ctypes.get_errno()
    raise OSError(err, os.strerror(err), path)


def openat2(dirfd, path, flags, mode=0, resolve=0):
    """openat2(2); retries EAGAIN (the kernel's answer to a concurrent rename under RESOLVE_IN_ROOT)."""
    if not flags & (os.O_CREAT | O_TMPFILE):
        mode = 0
    how = _OpenHow(flags | os.O_CLOEXEC, mode, resolve)
    raw = path.encode('utf-8', 'surrogateescape') if not isinstance(path, bytes) else path
    for _attempt in range(64):
        fd = libc().syscall(ctypes.c_long(SYS_OPENAT2), ctypes.c_int(dirfd), ctypes.c_char_p(raw),
                            ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how)))
        if fd >= 0:
            return fd
        if ctypes.get_errno() != errno.EAGAIN:
            break
    _raise(path)


def mount(source, target, fstype, flags, data=None):
    def enc(v):
        return None if v is None else v.encode('utf-8', 'surrogateescape')
    if libc().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        _raise(target)


def umount(target, flags=MNT_DETACH):
    if libc().umount2(target.encode('utf-8', 'surrogateescape'), ctypes.c_int(flags)) != 0:
        _raise(target)


def unshare(flags):
    if libc().unshare(ctypes.c_int(flags)) != 0:
        _raise()


def setns(fd, nstype):
    if libc().setns(ctypes.c_int(fd), ctypes.c_int(nstype)) != 0:
        _raise()


def mount_id(fd):
    """The mount ID holding an open file; tells a file bind mount (/etc/hosts) from its directory."""
    with open('/proc/self/fdinfo/%d' % fd, 'r', encoding='ascii') as handle:
        for line in handle:
            if line.startswith('mnt_id:'):
                return int(line.split(':', 1)[1])
    return None


def is_readonly(fd):
    """True when the mount holding `fd` is mounted read-only (the kernel's verdict, not the spec's)."""
    return bool(os.fstatvfs(fd).f_flag & ST_RDONLY)


def proc_fd(fd):
    return '/proc/self/fd/%d' % fd


_NO_FAST = (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF, errno.ETXTBSY)
_CHUNK = 1 << 30        # per syscall; the kernel loops internally, so one call moves a whole ordinary file
_RW_CHUNK = 1 << 20
RENAME_NOREPLACE = 1
SYS_RENAMEAT2 = {'x86_64': 316, 'aarch64': 276}


class DataMover(object):
    """Copy file data with the fastest method the kernel accepts for a pair of filesystems.

    copy_file_range lets the kernel (or the filesystem: reflinks, overlayfs pass-through) move data
    without a trip through user space but refuses some pairs (EXDEV between an overlay and its host
    filesystem, for instance); sendfile works between any two regular files; read/write is the last
    resort.  The verdict is remembered per (source device, destination device), so a tree of small files
    does not pay a failing copy_file_range call per file.
    """

    def __init__(self):
        self._no_cfr = set()
        self._no_sendfile = set()

    def copy(self, src_fd, dst_fd, size, key=None):
        """Copy `size` bytes from the current offsets; returns the bytes copied (less if the source shrank)."""
        done = 0
        if size and key in self._no_cfr and key not in self._no_sendfile:
            # The usual tree between a container's overlayfs and the host: one sendfile per file, no loop.
            try:
                done = os.sendfile(dst_fd, src_fd, None, min(size, _CHUNK))
            except OSError as exc:
                if exc.errno not in _NO_FAST:
                    raise
            else:
                if done in (0, size):
                    return done
        if size and key not in self._no_cfr and hasattr(os, 'copy_file_range'):
            done, ok = _loop(lambda n: os.copy_file_range(src_fd, dst_fd, n), size)
            if ok:
                return done
            self._no_cfr.add(key)
        if size and key not in self._no_sendfile:
            more, ok = _loop(lambda n: os.sendfile(dst_fd, src_fd, None, n), size - done)
            done += more
            if ok:
                return done
            self._no_sendfile.add(key)
        while True:
            buf = os.read(src_fd, _RW_CHUNK)
            if not buf:
                return done
            write_all(dst_fd, buf)
            done += len(buf)


def _loop(call, size):
    """Run a fast-copy call until `size` bytes moved or EOF; (bytes, True) or (0, False) if refused up front."""
    done = 0
    try:
        while done < size:
            n = call(min(_CHUNK, size - done))
            if n == 0:
                break
            done += n
    except OSError as exc:
        if exc.errno not in _NO_FAST or done:
            raise
        return 0, False
    return done, True


def copy_data(src_fd, dst_fd, size):
    """One-off copy (no per-filesystem memory): copy_file_range, else sendfile, else read/write."""
    return DataMover().copy(src_fd, dst_fd, size)


def rename_noreplace(parent_fd, old, new):
    """renameat2(RENAME_NOREPLACE) within one directory: EEXIST instead of replacing what appeared at `new`."""
    lib = libc()
    args = (ctypes.c_int(parent_fd), ctypes.c_char_p(old.encode('utf-8', 'surrogateescape')),
            ctypes.c_int(parent_fd), ctypes.c_char_p(new.encode('utf-8', 'surrogateescape')), ctypes.c_uint(RENAME_NOREPLACE))
    if hasattr(lib, 'renameat2'):   # glibc >= 2.28
        res = lib.renameat2(*args)
    else:
        nr = SYS_RENAMEAT2.get(platform.machine())
        if nr is None:
            raise OSError(errno.ENOSYS, 'renameat2 is not known on this architecture')
        res = lib.syscall(ctypes.c_long(nr), *args)
    if res != 0:
        _raise(new)


def write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
