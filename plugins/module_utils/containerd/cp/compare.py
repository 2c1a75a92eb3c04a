# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide whether a destination already equals what the copy would produce, cheapest test first.

Type, size, mode and owner come from one lstat; only when they all agree are the bytes compared,
streamed in chunks so a large file never sits in memory.  Equal means the destination is not touched
at all (not even its mtime), which is what makes a second run cheap and `changed: false` honest.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

CHUNK = 1 << 20
DIFF_MAX = 64 * 1024


def meta_equal(st, mode, uid, gid):
    """Permission bits (setuid/sgid/sticky included) and owner match what the copy would set."""
    return stat.S_IMODE(st.st_mode) == mode and st.st_uid == uid and st.st_gid == gid


def _read_exact(fd, size):
    chunks = []
    while size > 0:
        buf = os.read(fd, min(size, CHUNK))
        if not buf:
            break
        chunks.append(buf)
        size -= len(buf)
    return b''.join(chunks) if len(chunks) != 1 else chunks[0]


def same_bytes(fd_a, fd_b, size):
    """Stream both files from their current offsets and compare; False at the first difference."""
    left = size
    while left > 0:
        n = min(left, CHUNK)
        a = _read_exact(fd_a, n)
        b = _read_exact(fd_b, n)
        if a != b:
            return False
        if len(a) < n:
            return True
        left -= n
    return True


def same_data(fd, data):
    """Compare an open file against an in-memory buffer (inline `content`)."""
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        buf = _read_exact(fd, min(CHUNK, len(view) - pos))
        if not buf or view[pos:pos + len(buf)] != buf:
            return False
        pos += len(buf)
    return not os.read(fd, 1)


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
