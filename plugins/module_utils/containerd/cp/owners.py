# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn `owner`/`group` into numeric IDs using the container's own /etc/passwd and /etc/group.

Nothing runs inside the container (it may have no shell, be stopped or be paused): the two files are
read through the same safe root as the copy, so a symlinked /etc/passwd cannot make us read a host file.
On the host side the host's databases are used.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import grp
import os
import pwd

from .resolve import CopyError


def parse_db(text):
    """name -> id from passwd/group text (`name:x:id:...`); malformed lines are skipped."""
    ids = {}
    for line in text.splitlines():
        fields = line.split(':')
        if len(fields) < 3 or not fields[0] or fields[0].startswith('#'):
            continue
        try:
            ids.setdefault(fields[0], int(fields[2]))
        except ValueError:
            continue
    return ids


def _read(root, path):
    try:
        fd = root.open([c for c in path.split('/') if c], os.O_RDONLY)
    except OSError:
        return ''
    try:
        chunks = []
        while True:
            buf = os.read(fd, 1 << 16)
            if not buf:
                break
            chunks.append(buf)
        return b''.join(chunks).decode('utf-8', 'replace')
    finally:
        os.close(fd)


def lookup(root, value, kind):
    """Numeric ID for `value` (a number or a name) of `kind` ('owner' or 'group') in `root`'s databases."""
    if value is None:
        return None
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    if root.container:
        db = parse_db(_read(root, '/etc/passwd' if kind == 'owner' else '/etc/group'))
        if text in db:
            return db[text]
        where = 'the container'
    else:
        try:
            return pwd.getpwnam(text).pw_uid if kind == 'owner' else grp.getgrnam(text).gr_gid
        except KeyError:
            where = 'the host'
    raise CopyError('unable to find %s %s' % ('user' if kind == 'owner' else 'group', text),
                    'no such entry in %s /etc/%s' % (where, 'passwd' if kind == 'owner' else 'group'))
