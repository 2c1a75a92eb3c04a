# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nerdctl's on-disk data store: where it lives, how it is locked and how its files are written.

Sharing a host with real nerdctl only works if both agree on the directory (the address hash), take
the same flock targets (the store *directories*) and never leave half-written files behind, so these
rules live in one module that every state-touching helper uses.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import tempfile
import threading

from .errors import UserError
from .goutil import go_quote

ADDRESS_HASH_LEN = 8
DIR_MODE = 0o700
FILE_MODE = 0o600

# Locks this process holds: path -> [fd, depth].  flock is per open file description, so a second
# open+flock of the same directory from this process would deadlock; nested users share the first one.
_HELD = {}
_HELD_GUARD = threading.Lock()

_NAME_RE = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9_.-]+$')
NAME_PATTERN = '[a-zA-Z0-9][a-zA-Z0-9_.-]'


def address_hash(address):
    """First 8 hex chars of sha256(socket path), after dropping unix:// and resolving symlinks."""
    path = address[len('unix://'):] if address.startswith('unix://') else address
    try:
        resolved = os.path.realpath(path, strict=True)
    except OSError as exc:
        raise UserError('lstat %s: %s' % (exc.filename or path, os.strerror(exc.errno).lower()))
    if not os.path.isabs(path):
        resolved = os.path.relpath(resolved)
    return path_hash(resolved)


def path_hash(resolved_path):
    """The hash part alone, for an already resolved socket path."""
    return hashlib.sha256(resolved_path.encode('utf-8')).hexdigest()[:ADDRESS_HASH_LEN]


def ensure_dir(path, mode=DIR_MODE):
    """mkdir -p with nerdctl's store mode (subject to the umask, as in Go); an existing directory is fine."""
    try:
        os.makedirs(path, mode)
    except OSError as exc:
        if exc.errno != errno.EEXIST or not os.path.isdir(path):
            raise


def data_store(data_root, address, create=True):
    """<data_root>/<address hash>; like nerdctl, both directories are created (0700) when missing."""
    if create:
        ensure_dir(data_root)
    path = os.path.join(data_root, address_hash(address))
    if create:
        ensure_dir(path)
    return path


def container_state_dir(store, namespace, cid):
    """<data store>/containers/<namespace>/<id> (a plain join; create makes it 0700)."""
    return os.path.join(store, 'containers', namespace, cid)


def validate_identifier(name):
    """nerdctl's Docker-compatible identifier rule for names (container and volume)."""
    if not name:
        raise UserError('identifier must not be empty invalid argument')
    if not _NAME_RE.match(name):
        raise UserError('identifier %s must match pattern %s: invalid argument' % (go_quote(name), go_quote(NAME_PATTERN)))


@contextlib.contextmanager
def store_lock(path, mode=DIR_MODE):
    """Exclusive flock on a store directory (created if missing), opened read-only as nerdctl does.

    Re-entrant within this process; blocking, so a concurrent nerdctl simply waits for us and we for it.
    """
    ensure_dir(path, mode)
    key = os.path.realpath(path)
    with _HELD_GUARD:
        held = _HELD.get(key)
        if held is not None:
            held[1] += 1
    if held is None:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | getattr(os, 'O_CLOEXEC', 0))
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    break
                except InterruptedError:
                    continue
        except OSError as exc:
            os.close(fd)
            raise UserError('failed to acquire lock: %s: %s' % (path, exc.strerror))
        with _HELD_GUARD:
            _HELD[key] = held = [fd, 1]
    try:
        yield path
    finally:
        with _HELD_GUARD:
            held[1] -= 1
            release = held[1] == 0
            if release:
                del _HELD[key]
        if release:
            try:
                fcntl.flock(held[0], fcntl.LOCK_UN)
            finally:
                os.close(held[0])


def container_lock(state_dir):
    """nerdctl's containerutil.Lock: flock on <state dir>/oplock (mkdir 0700), taken by rm and commit."""
    return store_lock(os.path.join(state_dir, 'oplock'))


def _umasked(mode):
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def atomic_write(path, data, mode=FILE_MODE):
    """Write via `.tmp-<basename><random>` in the same directory, fsync, rename (nerdctl's WriteFileWithRename)."""
    if isinstance(data, str):
        data = data.encode('utf-8')
    directory = os.path.dirname(path) or '.'
    fd, tmp = tempfile.mkstemp(prefix='.tmp-' + os.path.basename(path), dir=directory)
    try:
        try:
            os.fchmod(fd, _umasked(mode))
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_in_place(path, data, mode=0o644):
    """Rewrite a file keeping its inode (files bind-mounted into containers), restoring the old bytes on failure.

    nerdctl keeps a backup file and a marker on disk for this; we keep the backup in memory, which
    covers every failure except our own process dying mid-write.
    """
    if isinstance(data, str):
        data = data.encode('utf-8')
    old = None
    try:
        with open(path, 'rb') as handle:
            old = handle.read()
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, 'O_CLOEXEC', 0), mode)
    try:
        try:
            os.ftruncate(fd, 0)
            view = memoryview(data)
            while view:
                view = view[os.pwrite(fd, view, len(data) - len(view)):]
            os.fsync(fd)
        except OSError:
            if old is None:
                os.close(fd)
                fd = None
                os.unlink(path)
            else:
                os.ftruncate(fd, 0)
                os.pwrite(fd, old, 0)
            raise
        os.fchmod(fd, mode)
    finally:
        if fd is not None:
            os.close(fd)


def read_file(path):
    """File content as text, or None when it does not exist."""
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('utf-8', 'replace')
    except FileNotFoundError:
        return None


class NameStore(object):
    """<data store>/names/<ns>/<name> files holding the owning container ID, under the flock on names/<ns>."""

    def __init__(self, store, namespace):
        if not namespace:
            raise UserError('name-store error: namespace must not be empty')
        self.root = os.path.join(store, 'names', namespace)
        ensure_dir(self.root)

    def _path(self, name):
        return os.path.join(self.root, name)

    def acquire(self, name, cid):
        """Record `name` for `cid`; re-acquiring one's own name is fine, someone else's is an error."""
        validate_identifier(name)
        with store_lock(self.root):
            previous = read_file(self._path(name))
            if previous and previous != cid:
                raise UserError('name %s is already used by ID %s' % (go_quote(name), go_quote(previous)))
            atomic_write(self._path(name), cid, FILE_MODE)

    def release(self, name, cid):
        """Drop `name` if `cid` owns it; an empty name is a no-op, a missing one is ignored."""
        if not name:
            return
        validate_identifier(name)
        with store_lock(self.root):
            owner = read_file(self._path(name))
            if owner is None:
                return
            if owner != cid:
                raise UserError('cannot release name %s (used by ID %s, not by %s)' % (go_quote(name), go_quote(owner), go_quote(cid)))
            os.unlink(self._path(name))

    def lookup(self, name):
        """The ID owning `name`, or None."""
        if not name or '/' in name or name in ('.', '..'):
            return None
        with store_lock(self.root):
            return read_file(self._path(name))
