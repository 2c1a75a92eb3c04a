# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide whether a destination already equals what the copy would produce, cheapest test first.

Type and size come from one lstat; only when they agree are the bytes compared (different sizes never
need a read), streamed in chunks so a large file never sits in memory.  Mode and owner are compared too;
when only they differ they are fixed in place.  Equal means the destination is not touched at all (not
even its mtime), which is what makes a second run cheap and `changed: false` honest.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

CHUNK = 1 << 20
SMALL = 256 * 1024    # read whole with pread below this
CMP_BUF = 256 * 1024  # larger files: compared in pieces that stay in the CPU cache (measured faster than 1-16 MiB)
DIFF_MAX = 64 * 1024


def meta_equal(st, mode, uid, gid):
    """Permission bits (setuid/sgid/sticky included) and owner match what the copy would set."""
    return stat.S_IMODE(st.st_mode) == mode and st.st_uid == uid and st.st_gid == gid


def _pread_into(fd, buf, offset):
    """Fill `buf` from `offset` (fewer bytes only at end of file); returns the count."""
    view = memoryview(buf)
    got = 0
    while got < len(buf):
        n = os.preadv(fd, [view[got:]], offset + got)
        if n == 0:
            break
        got += n
    return got


class Comparer(object):
    """Byte-for-byte comparison of two open files, with buffers reused across files.

    Small files are read whole with pread; large ones in CMP_BUF-sized pieces into two preallocated
    bytearrays compared with memcmp (bytearray ==), so comparing a 200 MB file neither allocates 400
    fresh megabytes nor faults in new pages for every piece.  pread leaves the file offsets at 0, so
    a copy can follow without seeking back.
    """

    def __init__(self):
        self._bufs = None

    def same(self, fd_a, fd_b, size):
        if size <= SMALL:
            return os.pread(fd_a, size, 0) == os.pread(fd_b, size, 0)
        if self._bufs is None:
            self._bufs = (bytearray(CMP_BUF), bytearray(CMP_BUF))
        off = 0
        while off < size:
            n = min(CMP_BUF, size - off)
            buf_a, buf_b = self._bufs if n == CMP_BUF else (bytearray(n), bytearray(n))
            got_a = _pread_into(fd_a, buf_a, off)
            got_b = _pread_into(fd_b, buf_b, off)
            if got_a != n or got_b != n:   # a file shrank under us: compare what is there
                return got_a == got_b and buf_a[:got_a] == buf_b[:got_b]
            if buf_a != buf_b:
                return False
            off += n
        return True


def same_bytes(fd_a, fd_b, size):
    """Compare the first `size` bytes of two open files (offsets are not used or moved)."""
    return Comparer().same(fd_a, fd_b, size)


def same_data(fd, data):
    """Compare an open file (from offset 0) against an in-memory buffer (inline `content`)."""
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        buf = os.pread(fd, min(CHUNK, len(view) - pos), pos)
        if not buf or view[pos:pos + len(buf)] != buf:
            return False
        pos += len(buf)
    return not os.pread(fd, 1, pos)


def as_text(data):
    """The text a diff may show, or None for binary or large data (then the diff shows a note)."""
    if data is None:
        return None
    if len(data) > DIFF_MAX or b'\0' in data:
        return None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        return None
