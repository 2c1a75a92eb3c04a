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


def copy_data(src_fd, dst_fd, size):
    """Copy `size` bytes with copy_file_range, else sendfile, else read/write; returns bytes copied.

    copy_file_range lets the kernel (or the filesystem: reflinks, overlayfs pass-through) move data
    without a trip through user space; it refuses some cross-filesystem pairs, hence the fallbacks.
    """
    done = 0
    chunk = 1 << 30
    if size and hasattr(os, 'copy_file_range'):
        try:
            while done < size:
                n = os.copy_file_range(src_fd, dst_fd, min(chunk, size - done))
                if n == 0:
                    return done
                done += n
            return done
        except OSError as exc:
            if exc.errno not in _NO_FAST or done:
                raise
    if size:
        try:
            while done < size:
                n = os.sendfile(dst_fd, src_fd, None, min(chunk, size - done))
                if n == 0:
                    return done
                done += n
            return done
        except OSError as exc:
            if exc.errno not in _NO_FAST or done:
                raise
    while True:
        buf = os.read(src_fd, 1 << 20)
        if not buf:
            return done
        view = memoryview(buf)
        while view:
            n = os.write(dst_fd, view)
            view = view[n:]
            done += n


def write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
