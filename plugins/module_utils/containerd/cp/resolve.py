# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nerdctl cp's path rules: how a path resolves, its shape flags, the error table and the check order.

The walk follows filepath.EvalSymlinks' algorithm (every symlink, the last element included, `..`
applied after each expansion and never above `/`), but each step is an lstat done by the kernel
inside the root (see view.Root), so the resulting path is both nerdctl's answer and one that cannot
leave the container.  The texts below are nerdctl's exported error values, verbatim.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat

from ..errors import UserError

ERR_FILESYSTEM = 'filesystem error'
ERR_VANISHED = 'the container you are trying to copy to/from has been deleted'
ERR_MOUNT_SNAPSHOT = 'failed mounting snapshot'
ERR_READ_ONLY = 'cannot copy into read-only location'
ERR_SRC_NOT_DIR = 'source is not a directory'
ERR_DST_NOT_DIR = 'destination is not a directory'
ERR_SRC_MISSING = 'source does not exist'
ERR_DST_PARENT = 'destination parent does not exist'
ERR_DST_DIR_MUST_EXIST = 'the destination directory must exist to be able to copy a file'
ERR_DIR_TO_FILE = 'cannot copy a directory to a file'

MAX_LINKS = 255


class CopyError(UserError):
    """A failure of the copy, worded `unable to copy: <nerdctl text>[: cause]` as nerdctl prints it."""

    def __init__(self, text, cause=None):
        self.text = text
        self.cause = str(cause) if cause else None
        msg = 'unable to copy: %s' % text
        if cause:
            msg += ': %s' % cause
        super(CopyError, self).__init__(msg)


class _NotExist(Exception):
    pass


class _NotDir(Exception):
    pass


class PathSpec(object):
    """One side of the copy after resolution: nerdctl's pathSpecifier plus what we need to act on it."""

    def __init__(self, root, original):
        self.root = root
        self.original = original
        self.comps = []          # the resolved path, as components below the root
        self.exists = False
        self.is_dir = False
        self.error = None        # 'notexist', 'notdir' or an OSError
        self.read_only = False
        self.read_only_why = None
        stripped = original.rstrip('/')
        self.ends_with_sep = original.endswith('/')
        self.ends_with_sep_dot = stripped == '.' or stripped.endswith('/.') or original in ('.', './')

    @property
    def path(self):
        return '/' + '/'.join(self.comps)

    @property
    def basename(self):
        return self.comps[-1] if self.comps else '/'


def split(path):
    return path.split('/')


def walk(root, path):
    """Resolve every symlink of `path` inside `root`; return the components of the real path.

    Raises _NotExist / _NotDir like lstat's ENOENT / ENOTDIR, CopyError(filesystem error) for loops.
    """
    todo = split(path)
    todo.reverse()
    done = []
    links = 0
    while todo:
        comp = todo.pop()
        if comp in ('', '.'):
            continue
        if comp == '..':
            if done:
                done.pop()
            continue
        cand = done + [comp]
        try:
            st, link = root.lstat(cand)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise _NotExist()
            if exc.errno == errno.ENOTDIR:
                raise _NotDir()
            raise
        if link is not None:
            links += 1
            if links > MAX_LINKS:
                raise CopyError(ERR_FILESYSTEM, 'EvalSymlinks: too many links')
            if link.startswith('/'):
                done = []
            parts = split(link)
            parts.reverse()
            todo.extend(parts)
            continue
        if not stat.S_ISDIR(st.st_mode) and todo:
            raise _NotDir()
        done = cand
    return done


def resolve(root, path):
    """nerdctl's path resolution for one side (container side: relative to `/`; host side: to cwd)."""
    if not root.container and not path.startswith('/'):
        path = os.path.join(os.getcwd(), path)
    spec = PathSpec(root, path)
    try:
        spec.comps = walk(root, path)
        spec.exists = True
    except _NotDir:
        spec.error = 'notdir'
        return spec
    except _NotExist:
        stripped = path
        while True:
            before = stripped
            if stripped.endswith('/.'):
                stripped = stripped[:-2]
            stripped = stripped.rstrip('/') if stripped != '/' else stripped
            if stripped == before:
                break
        parent, base = stripped.rsplit('/', 1) if '/' in stripped else ('', stripped)
        try:
            spec.comps = walk(root, parent or '/') + ([base] if base not in ('', '.') else [])
        except _NotExist:
            spec.error = 'notexist'
            return spec
        except _NotDir:
            spec.error = 'notdir'
            return spec
        except OSError as exc:
            spec.error = exc
            return spec
    except OSError as exc:
        spec.error = exc
        return spec
    if spec.exists:
        st = root.stat(spec.comps)
        spec.is_dir = stat.S_ISDIR(st.st_mode)
    return spec


def check(src, dst):
    """nerdctl's checks, in its order: destination resolution, source resolution, then the semantics."""
    for spec, missing, notdir in ((dst, ERR_DST_PARENT, ERR_DST_NOT_DIR), (src, ERR_SRC_MISSING, ERR_SRC_NOT_DIR)):
        if spec is None or spec.error is None:
            continue
        if spec.error == 'notexist':
            raise CopyError(missing)
        if spec.error == 'notdir':
            raise CopyError(notdir)
        raise CopyError(ERR_FILESYSTEM, spec.error)
    if src is not None and not src.exists:
        raise CopyError(ERR_SRC_MISSING)
    if dst.read_only:
        raise CopyError(ERR_READ_ONLY, dst.read_only_why)
    src_is_dir = src is not None and src.is_dir
    if src_is_dir and dst.exists and not dst.is_dir:
        raise CopyError(ERR_DIR_TO_FILE)
    if not src_is_dir and not dst.exists and (dst.ends_with_sep or dst.ends_with_sep_dot):
        raise CopyError(ERR_DST_DIR_MUST_EXIST)


class Target(object):
    """Where the copy lands: the directory that receives it and the name inside it.

    `contents` means a directory source is merged into an existing or new directory (nerdctl archives
    `.`), otherwise the source keeps its own basename or takes the destination's (the rename case).
    """

    def __init__(self, parent_comps, name):
        self.parent = parent_comps
        self.name = name

    @property
    def comps(self):
        return self.parent + ([self.name] if self.name else [])


def target(src, dst):
    """Apply nerdctl's shape rules (§5.6.2 steps 8-10) to two checked specs.

    `src` is None for inline content, which behaves like a file without a name of its own.
    """
    if src is not None and src.is_dir:
        if not dst.exists or src.ends_with_sep_dot:
            return _self(dst.comps)
        return Target(dst.comps, src.basename)
    if dst.exists and dst.is_dir or dst.ends_with_sep:
        if src is None:
            raise CopyError('destination is a directory', 'with content, dest must name the file to write')
        return Target(dst.comps, src.basename)
    return _self(dst.comps)


def _self(comps):
    if not comps:
        return Target([], '')
    return Target(comps[:-1], comps[-1])
