# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd_cp's policy: find the container, open both sides, apply nerdctl's rules, copy, report.

Kept apart from the module file so the whole flow can be driven by tests and by scripts/bench_cp.py
with a plain Client and a dict of parameters.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import os

from ..errors import ContainerdError, UserError
from ..resolve import find_container
from . import owners, view
from .engine import Copier, Options
from .compare import as_text
from .resolve import CopyError, ERR_READ_ONLY, ERR_SRC_MISSING, check, resolve, target

VOLATILE_MSG = 'it is on a %s mount that only exists while the container runs; start the container to copy there'


def parse_mode(value):
    """`mode` like ansible.builtin.copy: an octal string ('0644', '644') or an int (YAML 0644 is 420)."""
    if value is None:
        return None
    if isinstance(value, int):
        mode = value
    else:
        text = str(value).strip()
        try:
            mode = int(text, 8)
        except ValueError:
            raise UserError('mode must be an octal number such as "0644", got %r' % (value,))
    if mode < 0 or mode > 0o7777:
        raise UserError('mode must be between 0000 and 07777, got %r' % (value,))
    return mode


def _content_bytes(params):
    content = params.get('content')
    if content is None:
        return None
    if params.get('content_is_b64'):
        try:
            return base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise UserError('content is not valid base64: %s' % exc)
    return content.encode('utf-8')


def find(client, req):
    """The container record, with nerdctl cp's texts for no match and listing failures."""
    try:
        record = find_container(client, req)
    except UserError:
        raise
    except ContainerdError as exc:
        raise UserError('unable to retrieve containers with error: %s' % exc)
    if record is None:
        raise UserError('no container found for: %s' % req)
    return record


def _judge(root, spec, is_dest):
    """Read-only and volatile-mount verdicts for a container-side spec (nerdctl judges destinations)."""
    if not root.container:
        return
    if spec.error == 'notexist':
        # The parent is missing; judge the path as written (a stopped view lacks /dev/shm and the like).
        vol = root.volatile_mount([c for c in os.path.normpath('/' + spec.original.lstrip('/')).split('/') if c])
        if vol is not None:
            raise CopyError(ERR_READ_ONLY if is_dest else ERR_SRC_MISSING, VOLATILE_MSG % vol[1])
        return
    if spec.error is not None:
        return
    vol = root.volatile_mount(spec.comps)
    if vol is not None:
        why = VOLATILE_MSG % vol[1]
        if is_dest:
            spec.read_only, spec.read_only_why = True, why
        elif spec.exists:
            raise CopyError(ERR_SRC_MISSING, why)
        return
    if is_dest:
        spec.read_only = root.judge_read_only(spec)


def copy(client, params, check_mode=False, want_diff=False):
    """Run one copy as described by the module's parameters; returns the module result."""
    data = _content_bytes(params)
    from_container = bool(params.get('from_container'))
    if data is not None and (params.get('src') is not None or from_container):
        raise UserError('content cannot be combined with src or from_container')
    if data is None and not params.get('src'):
        raise UserError('one of src or content is required')
    mode = parse_mode(params.get('mode'))
    record = find(client, params['container'])
    host = view.host_root()
    try:
        with view.container_root(client, record, params.get('snapshotter'), create_mountpoints=not check_mode) as croot:
            src_root, dst_root = (croot, host) if from_container else (host, croot)
            dst = resolve(dst_root, params['dest'])
            _judge(dst_root, dst, True)
            src = None
            if data is None:
                src = resolve(src_root, params['src'])
                if src.exists:
                    _judge(src_root, src, False)
            check(src, dst)
            tgt = target(src, dst)
            uid = owners.lookup(dst_root, params.get('owner'), 'owner')
            gid = owners.lookup(dst_root, params.get('group'), 'group')
            opts = Options(mode=mode, uid=uid, gid=gid, keep_owner=not from_container, force=params.get('force', True),
                           follow_link=bool(params.get('follow_link')), check_mode=check_mode, want_diff=want_diff)
            copier = Copier(src_root, dst_root, opts)
            if data is not None:
                stats = copier.copy_content(data, tgt, os.geteuid() if uid is None else uid,
                                            os.getegid() if gid is None else gid)
            else:
                stats = copier.copy_path(src.comps, tgt)
    finally:
        host.close()
    dest = '/' + '/'.join(tgt.comps)
    result = dict(changed=stats.changed, dest=dest, files_copied=stats.files, dirs_created=stats.dirs,
                  bytes_copied=stats.bytes)
    if want_diff and stats.changed:
        result['diff'] = _diff(stats, dest)
    return result


def _diff(stats, dest):
    where = dest
    if stats.single:
        before = as_text(stats.before) if stats.existed else ''
        after = as_text(stats.after)
        if before is None or after is None:
            before = '' if not stats.existed else '(binary or large file)\n'
            after = '(binary or large file: %d bytes)\n' % stats.bytes if stats.bytes else '(owner or mode changed)\n'
        return dict(before=before, after=after, before_header=where, after_header=where)
    note = '%d files (%d bytes) and %d directories copied or updated\n' % (stats.files, stats.bytes, stats.dirs)
    return dict(before='', after=note, before_header=where, after_header=where)
