# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a file of a container's prepared root file system without mounting it.

nerdctl resolves `user` and additional groups against the image's /etc/passwd and /etc/group; a mount would
need privileges and cleanup, while the snapshot's layer directories can simply be read in overlay order.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

from .datastore import read_file


def read_rootfs_file(mounts, path):
    """A file of a prepared snapshot, read from its overlay/bind layer directories without mounting.

    Upper dir first, then the lower dirs in order; an overlay whiteout (a 0/0 char device) hides the file.
    """
    dirs = []
    for mount in mounts:
        if mount.type == 'bind':
            dirs.append(mount.source)
        elif mount.type == 'overlay':
            upper, lower = None, []
            for opt in mount.options:
                if opt.startswith('upperdir='):
                    upper = opt[len('upperdir='):]
                elif opt.startswith('lowerdir='):
                    lower = opt[len('lowerdir='):].split(':')
            dirs.extend(([upper] if upper else []) + lower)
    rel = path.lstrip('/')
    for base in dirs:
        full = os.path.join(base, rel)
        try:
            st = os.lstat(full)
        except OSError:
            continue
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            return None
        if stat.S_ISREG(st.st_mode):
            return read_file(full)
        return None
    return None
