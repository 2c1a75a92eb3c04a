# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the engine tests share: a host and a container root in a temp dir, a landing place, and a
snapshot of a tree (type, mode, bytes or link target, mtime) to compare copies with their sources."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.cp import fs, view


def make_roots(tmp_path):
    """`host` and `ctr` directories under tmp_path, opened as the engine's roots (close them after)."""
    for name in ('host', 'ctr'):
        (tmp_path / name).mkdir()
    host = view.Root(os.open(str(tmp_path / 'host'), fs.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC), False, 'host')
    ctr = view.Root(os.open(str(tmp_path / 'ctr'), fs.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC), True, 'ctr')
    return host, ctr


class Target(object):
    """Where a copy lands, as resolve.target() describes it: the parent's components and a name."""

    def __init__(self, parent, name):
        self.parent = parent
        self.name = name


def snapshot(base):
    """Every entry below `base`: (type, mode, bytes or link target, mtime; None for links)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(str(base)):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            body = os.readlink(path) if stat.S_ISLNK(st.st_mode) else (open(path, 'rb').read() if stat.S_ISREG(st.st_mode) else None)
            out[os.path.relpath(path, str(base))] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), body,
                                                     None if stat.S_ISLNK(st.st_mode) else st.st_mtime_ns)
    return out
