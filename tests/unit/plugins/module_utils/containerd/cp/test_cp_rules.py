# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nerdctl cp's path rules, shape rules and error order, on an in-memory filesystem (pure logic)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.cp import resolve as r
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.cp.compare import as_text, same_data
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.cp.owners import parse_db
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.cp.run import parse_mode
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import UserError


class _St(object):
    def __init__(self, mode):
        self.st_mode = mode


class FakeRoot(object):
    """A container root: paths map to 'dir', 'file' or ('link', target)."""

    container = True

    def __init__(self, tree):
        self.tree = tree

    def _get(self, comps):
        path = '/' + '/'.join(comps)
        for i in range(1, len(comps)):
            parent = '/' + '/'.join(comps[:i])
            kind = self.tree.get(parent)
            if kind == 'file':
                raise OSError(errno.ENOTDIR, 'not a dir')
            if kind is None or isinstance(kind, tuple):
                raise OSError(errno.ENOENT, 'missing')   # callers only pass resolved parents
        if path == '/':
            return 'dir'
        if path not in self.tree:
            raise OSError(errno.ENOENT, 'missing')
        return self.tree[path]

    def lstat(self, comps):
        kind = self._get(comps)
        if isinstance(kind, tuple):
            return _St(stat.S_IFLNK | 0o777), kind[1]
        return _St((stat.S_IFDIR if kind == 'dir' else stat.S_IFREG) | 0o644), None

    def stat(self, comps):
        return self._get(r.walk(self, '/' + '/'.join(comps)))


TREE = {
    '/etc': 'dir', '/etc/passwd': 'file', '/tmp': 'dir', '/tmp/d': 'dir', '/tmp/d/f': 'file',
    '/abs': ('link', '/'), '/rel': ('link', '../../../etc'), '/loop': ('link', '/loop'),
    '/tmp/lnk': ('link', 'd/f'), '/dangling': ('link', '/nowhere/x'),
}


def spec(path, tree=None):
    root = FakeRoot(tree or TREE)
    root.stat = lambda comps: _St(stat.S_IFDIR if (tree or TREE).get('/' + '/'.join(comps), 'dir') == 'dir' else stat.S_IFREG)
    return r.resolve(root, path)


@pytest.mark.parametrize('path, comps', [
    ('/etc/passwd', ['etc', 'passwd']),
    ('etc/passwd', ['etc', 'passwd']),                # relative to / (the working dir is ignored)
    ('/../../etc/./passwd', ['etc', 'passwd']),       # .. never above /
    ('/abs/abs/etc/passwd', ['etc', 'passwd']),       # absolute links restart at the container root
    ('/rel/passwd', ['etc', 'passwd']),               # relative links cannot climb out either
    ('/tmp/lnk', ['tmp', 'd', 'f']),                  # the last element is resolved too
])
def test_walk_stays_inside(path, comps):
    assert r.walk(FakeRoot(TREE), path) == comps


def test_walk_loop_is_a_filesystem_error():
    with pytest.raises(r.CopyError) as exc:
        r.walk(FakeRoot(TREE), '/loop')
    assert 'filesystem error' in str(exc.value) and 'too many links' in str(exc.value)


def test_missing_path_uses_resolved_parent():
    s = spec('/abs/tmp/new/')
    assert not s.exists and s.error is None and s.comps == ['tmp', 'new'] and s.ends_with_sep


def test_dangling_symlink_names_itself():
    s = spec('/dangling')
    assert s.error is None and not s.exists and s.comps == ['dangling']


@pytest.mark.parametrize('path, error', [
    ('/nope/nope', 'notexist'), ('/etc/passwd/x', 'notdir'), ('/etc/passwd/', 'notdir'), ('/etc/passwd/.', 'notdir'),
])
def test_resolution_errors(path, error):
    assert spec(path).error == error


@pytest.mark.parametrize('path, sep, dot', [
    ('/a', False, False), ('/a/', True, False), ('/a/.', False, True), ('/a/./', True, True), ('.', False, True),
])
def test_shape_flags(path, sep, dot):
    s = r.PathSpec(None, path)
    assert (s.ends_with_sep, s.ends_with_sep_dot) == (sep, dot)


def _spec(exists, is_dir, path='/x', error=None, ro=False):
    s = r.PathSpec(None, path)
    s.exists, s.is_dir, s.error, s.read_only = exists, is_dir, error, ro
    s.comps = [c for c in path.split('/') if c not in ('', '.')]
    return s


@pytest.mark.parametrize('src, dst, text', [
    (_spec(False, False, error='notexist'), _spec(False, False, error='notexist'), r.ERR_DST_PARENT),  # dest first
    (_spec(True, False), _spec(False, False, error='notdir'), r.ERR_DST_NOT_DIR),
    (_spec(False, False, error='notdir'), _spec(True, True), r.ERR_SRC_NOT_DIR),
    (_spec(False, False), _spec(True, True, ro=True), r.ERR_SRC_MISSING),        # exists before read-only
    (_spec(True, True), _spec(True, False, ro=True), r.ERR_READ_ONLY),           # read-only before dir-onto-file
    (_spec(True, True), _spec(True, False), r.ERR_DIR_TO_FILE),
    (_spec(True, False), _spec(False, False, path='/new/'), r.ERR_DST_DIR_MUST_EXIST),
    (_spec(True, False), _spec(False, False, path='/new/.'), r.ERR_DST_DIR_MUST_EXIST),
])
def test_check_order(src, dst, text):
    with pytest.raises(r.CopyError) as exc:
        r.check(src, dst)
    assert str(exc.value) == 'unable to copy: ' + text


@pytest.mark.parametrize('src, dst, landing', [
    (_spec(True, True, '/src/dir'), _spec(False, False, '/new'), ['new']),              # contents into a new dir
    (_spec(True, True, '/src/dir'), _spec(True, True, '/existing'), ['existing', 'dir']),  # itself into a dir
    (_spec(True, True, '/src/dir/.'), _spec(True, True, '/existing'), ['existing']),    # dir/. copies contents
    (_spec(True, False, '/src/f'), _spec(True, True, '/existing'), ['existing', 'f']),
    (_spec(True, False, '/src/f'), _spec(False, False, '/renamed'), ['renamed']),       # file renamed
    (_spec(True, False, '/src/f'), _spec(True, False, '/other'), ['other']),            # file replaces file
])
def test_target_shapes(src, dst, landing):
    assert r.target(src, dst).comps == landing


def test_content_needs_a_file_name():
    with pytest.raises(r.CopyError):
        r.target(None, _spec(True, True, '/etc'))


@pytest.mark.parametrize('value, mode', [('0644', 0o644), ('644', 0o644), ('1777', 0o1777), (420, 0o644), (None, None)])
def test_parse_mode_is_octal(value, mode):
    assert parse_mode(value) == mode


@pytest.mark.parametrize('value', ['u+rwx', '0999', '77777'])
def test_parse_mode_rejects(value):
    with pytest.raises(UserError):
        parse_mode(value)


def test_parse_db():
    db = parse_db('root:x:0:0::/:/bin/sh\n#c:x:1:1\nbad\napp:x:1000:1000::/:/bin/sh\nx:x:notnum:1\napp:x:5:5\n')
    assert db == {'root': 0, 'app': 1000}


def test_as_text():
    assert as_text(b'hello\n') == 'hello\n'
    assert as_text(b'\x00\x01') is None
    assert as_text(b'\xff\xfe') is None
    assert as_text(b'a' * (64 * 1024 + 1)) is None


def test_same_data(tmp_path):
    p = tmp_path / 'f'
    p.write_bytes(b'abc')
    for data, same in ((b'abc', True), (b'abd', False), (b'ab', False), (b'abcd', False)):
        fd = os.open(str(p), os.O_RDONLY)
        try:
            assert same_data(fd, data) is same
        finally:
            os.close(fd)
