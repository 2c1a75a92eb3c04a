# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The copy itself: walk the source, compare each entry with the destination, write what differs.

Every write is atomic: a file is built as an unnamed O_TMPFILE (or, where the filesystem lacks it, a
hidden temp name) in the destination directory, given its owner, mode and times, then linked/renamed
over the old name, so an interrupted run leaves the old file and nothing else.  Files that are mount
points (the bind-mounted /etc/hosts, /etc/resolv.conf, /etc/hostname) cannot be renamed over; they are
rewritten in place so the container keeps the inode it holds.

Below the top-level paths, every open is a single name relative to an already open directory with
O_NOFOLLOW, so a directory swapped for a symlink while the copy runs fails the copy instead of
redirecting it.  Symlinks followed on purpose (follow_link) resolve through the root (RESOLVE_IN_ROOT).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat

from . import fs
from .compare import DIFF_MAX, as_text, meta_equal, same_bytes, same_data
from .resolve import CopyError, ERR_FILESYSTEM, ERR_READ_ONLY

TMP_PREFIX = '.ctrd-cp-'
TMPFILE_MIN = 1 << 20
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Options(object):
    """What the user asked for, already turned into numbers."""

    def __init__(self, mode=None, uid=None, gid=None, keep_owner=True, force=True, follow_link=False,
                 check_mode=False, want_diff=False):
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.keep_owner = keep_owner   # True into a container; False out of it (files become ours)
        self.force = force
        self.follow_link = follow_link
        self.check_mode = check_mode
        self.want_diff = want_diff


class Stats(object):
    def __init__(self):
        self.files = 0
        self.dirs = 0
        self.bytes = 0
        self.changed = False
        self.before = None    # bytes of a single destination file, for the diff
        self.after = None
        self.single = False
        self.existed = False


class Copier(object):
    """One copy from a source root to a destination root."""

    def __init__(self, src_root, dst_root, opts):
        self.src_root = src_root
        self.dst_root = dst_root
        self.opts = opts
        self.stats = Stats()
        self.euid = os.geteuid()
        self.egid = os.getegid()

    # ---- ownership and mode ---------------------------------------------------------------------

    def owner(self, st):
        uid = self.opts.uid
        gid = self.opts.gid
        if uid is None:
            uid = st.st_uid if self.opts.keep_owner else self.euid
        if gid is None:
            gid = st.st_gid if self.opts.keep_owner else self.egid
        return uid, gid

    def file_mode(self, st):
        return self.opts.mode if self.opts.mode is not None else stat.S_IMODE(st.st_mode)

    # ---- entry points ---------------------------------------------------------------------------

    def copy_path(self, src_comps, target):
        """Copy the resolved source path to `target` (resolve.Target) and return the stats."""
        try:
            src_fd = self.src_root.open(src_comps, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise _wrap(exc)
        try:
            st = os.fstat(src_fd)
            parent = self._open_dst_dir(target.parent)
            try:
                if stat.S_ISDIR(st.st_mode):
                    self._top_dir(src_fd, st, src_comps, parent, target.name)
                elif stat.S_ISREG(st.st_mode):
                    self.stats.single = True
                    self._file(src_fd, st, parent, target.name, self._lstat(parent, target.name))
                else:
                    raise CopyError(ERR_FILESYSTEM, '%s is neither a file nor a directory' % '/'.join(src_comps))
            finally:
                if parent is not None:
                    os.close(parent)
        except OSError as exc:
            raise _wrap(exc)
        finally:
            os.close(src_fd)
        return self.stats

    def copy_content(self, data, target, uid, gid):
        """Write inline content to `target`; it behaves like a file owned by uid:gid."""
        self.stats.single = True
        try:
            parent = self._open_dst_dir(target.parent)
            try:
                self._content(data, parent, target.name, uid, gid)
            finally:
                if parent is not None:
                    os.close(parent)
        except OSError as exc:
            raise _wrap(exc)
        return self.stats

    # ---- directories ----------------------------------------------------------------------------

    def _open_dst_dir(self, comps):
        return self.dst_root.open(comps, os.O_RDONLY | os.O_DIRECTORY)

    @staticmethod
    def _lstat(dir_fd, name):
        if dir_fd is None:
            return None
        try:
            return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise

    def _top_dir(self, src_fd, st, src_comps, parent, name):
        if not name:   # the destination is the root of the view itself: merge into it
            dst_fd = self._open_dst_dir([])
            try:
                self._dir_body(src_fd, st, src_comps, dst_fd, os.fstat(dst_fd), False)
            finally:
                os.close(dst_fd)
            return
        self._dir(src_fd, st, src_comps, parent, name, self._lstat(parent, name))

    def _dir(self, src_fd, st, src_logical, parent, name, dst_st):
        """Make `name` in `parent` a copy of the open source directory."""
        created = False
        if dst_st is not None and not stat.S_ISDIR(dst_st.st_mode):
            if not self.opts.force:
                return
            self._changed()
            if not self.opts.check_mode:
                os.unlink(name, dir_fd=parent)
            dst_st = None
        if dst_st is None:
            self._changed()
            self.stats.dirs += 1
            created = True
            if self.opts.check_mode or parent is None:
                self._dir_body(src_fd, st, src_logical, None, None, True)
                return
            os.mkdir(name, 0o700, dir_fd=parent)
        dst_fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        try:
            self._dir_body(src_fd, st, src_logical, dst_fd, None if created else dst_st, created)
        finally:
            os.close(dst_fd)

    def _dir_body(self, src_fd, st, src_logical, dst_fd, dst_st, created):
        """Sync the children, then the directory's own owner, mode and (if anything changed) times."""
        before = self.stats.changed
        self.stats.changed = False
        for entry in os.scandir(src_fd):
            self._entry(src_fd, src_logical, entry, dst_fd)
        inner = self.stats.changed
        self.stats.changed = before or inner
        uid, gid = self.owner(st)
        mode = stat.S_IMODE(st.st_mode)
        if dst_fd is None:
            return
        if dst_st is None or not meta_equal(dst_st, mode, uid, gid):
            if dst_st is not None:
                self._changed()
            if not self.opts.check_mode:
                if dst_st is None or (dst_st.st_uid, dst_st.st_gid) != (uid, gid):
                    os.fchown(dst_fd, uid, gid)
                os.fchmod(dst_fd, mode)
        if (created or inner) and not self.opts.check_mode:
            os.utime(dst_fd, ns=(st.st_atime_ns, st.st_mtime_ns))

    def _entry(self, src_dir, src_logical, entry, dst_dir):
        name = entry.name
        st = entry.stat(follow_symlinks=False)
        logical = src_logical + [name]
        dst_st = self._lstat(dst_dir, name)
        if stat.S_ISLNK(st.st_mode) and self.opts.follow_link:
            fd = self.src_root.open(logical, os.O_RDONLY)   # resolved inside the source root
            try:
                st = os.fstat(fd)
                self._open_entry(fd, st, logical, dst_dir, name, dst_st)
            finally:
                os.close(fd)
            return
        if stat.S_ISLNK(st.st_mode):
            self._symlink(os.readlink(name, dir_fd=src_dir), st, dst_dir, name, dst_st)
            return
        if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
            flags = (os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC) | (os.O_DIRECTORY if stat.S_ISDIR(st.st_mode) else 0)
            fd = os.open(name, flags, dir_fd=src_dir)
            try:
                self._open_entry(fd, os.fstat(fd), logical, dst_dir, name, dst_st)
            finally:
                os.close(fd)
            return
        if stat.S_ISSOCK(st.st_mode):
            return   # tar skips sockets too
        self._special(st, dst_dir, name, dst_st)

    def _open_entry(self, fd, st, logical, dst_dir, name, dst_st):
        if stat.S_ISDIR(st.st_mode):
            self._dir(fd, st, logical, dst_dir, name, dst_st)
        elif stat.S_ISREG(st.st_mode):
            self._file(fd, st, dst_dir, name, dst_st)

    # ---- files ----------------------------------------------------------------------------------

    def _changed(self):
        self.stats.changed = True

    def _file(self, src_fd, st, parent, name, dst_st):
        uid, gid = self.owner(st)
        mode = self.file_mode(st)
        want_diff = self.opts.want_diff and self.stats.single
        if want_diff and st.st_size <= DIFF_MAX:
            self.stats.after = os.pread(src_fd, DIFF_MAX + 1, 0)
        if dst_st is not None:
            self.stats.existed = True
            if not self.opts.force:
                return
            if stat.S_ISDIR(dst_st.st_mode):
                raise CopyError(ERR_FILESYSTEM, 'cannot overwrite directory %s with a file' % name)
            if stat.S_ISREG(dst_st.st_mode):
                old = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
                try:
                    if want_diff and dst_st.st_size <= DIFF_MAX:
                        self.stats.before = os.pread(old, DIFF_MAX + 1, 0)
                    if dst_st.st_size == st.st_size and same_bytes(src_fd, old, st.st_size):
                        if not meta_equal(dst_st, mode, uid, gid):
                            self._fix_meta(old, dst_st, mode, uid, gid)
                        return
                finally:
                    os.close(old)
                os.lseek(src_fd, 0, os.SEEK_SET)
        self._changed()
        self.stats.files += 1
        self.stats.bytes += st.st_size
        if self.opts.check_mode or parent is None:
            return
        self._write(parent, name, dst_st, uid, gid, mode, (st.st_atime_ns, st.st_mtime_ns),
                    lambda fd: fs.copy_data(src_fd, fd, st.st_size), st.st_size)

    def _content(self, data, parent, name, uid, gid):
        mode = self.opts.mode if self.opts.mode is not None else 0o644
        if self.opts.want_diff:
            self.stats.after = data[:DIFF_MAX + 1]
        dst_st = self._lstat(parent, name)
        if dst_st is not None:
            self.stats.existed = True
            if not self.opts.force:
                return
            if stat.S_ISDIR(dst_st.st_mode):
                raise CopyError(ERR_FILESYSTEM, 'cannot overwrite directory %s with a file' % name)
            if stat.S_ISREG(dst_st.st_mode):
                old = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
                try:
                    if self.opts.want_diff and dst_st.st_size <= DIFF_MAX:
                        self.stats.before = os.pread(old, DIFF_MAX + 1, 0)
                    if dst_st.st_size == len(data) and same_data(old, data):
                        if not meta_equal(dst_st, mode, uid, gid):
                            self._fix_meta(old, dst_st, mode, uid, gid)
                        return
                finally:
                    os.close(old)
        self._changed()
        self.stats.files += 1
        self.stats.bytes += len(data)
        if self.opts.check_mode:
            return
        self._write(parent, name, dst_st, uid, gid, mode, None, lambda fd: fs.write_all(fd, data), len(data))

    def _fix_meta(self, fd, st, mode, uid, gid):
        """Same bytes, other owner or mode: fix them in place rather than rewriting the file."""
        self._changed()
        self.stats.files += 1
        if self.opts.check_mode:
            return
        if (st.st_uid, st.st_gid) != (uid, gid):
            os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)

    def _write(self, parent, name, dst_st, uid, gid, mode, times, fill, size):
        """Build the new file beside the old one and swap it in atomically."""
        tmp_fd, tmp_name = _temp_file(parent, name, size)
        try:
            fill(tmp_fd)
            if (uid, gid) != (self.euid, self.egid):
                os.fchown(tmp_fd, uid, gid)
            os.fchmod(tmp_fd, mode)   # after chown, which clears setuid/setgid
            if times is not None:
                os.utime(tmp_fd, ns=times)
            tmp_name = _publish(tmp_fd, tmp_name, parent, name, dst_st is None)
        except BaseException:
            if tmp_name is not None:
                _unlink_quiet(parent, tmp_name)
            os.close(tmp_fd)
            raise
        os.close(tmp_fd)

    def _symlink(self, target, st, parent, name, dst_st):
        uid, gid = self.owner(st)
        if dst_st is not None:
            if not self.opts.force:
                return
            if stat.S_ISLNK(dst_st.st_mode) and os.readlink(name, dir_fd=parent) == target \
                    and (dst_st.st_uid, dst_st.st_gid) == (uid, gid):
                return
            if stat.S_ISDIR(dst_st.st_mode):
                raise CopyError(ERR_FILESYSTEM, 'cannot overwrite directory %s with a symlink' % name)
        self._changed()
        self.stats.files += 1
        if self.opts.check_mode or parent is None:
            return
        tmp = _temp_name(name)
        os.symlink(target, tmp, dir_fd=parent)
        try:
            os.chown(tmp, uid, gid, dir_fd=parent, follow_symlinks=False)
            os.rename(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            _unlink_quiet(parent, tmp)
            raise

    def _special(self, st, parent, name, dst_st):
        """FIFOs and device nodes, recreated like tar does as root."""
        uid, gid = self.owner(st)
        if dst_st is not None:
            if not self.opts.force:
                return
            if stat.S_IFMT(dst_st.st_mode) == stat.S_IFMT(st.st_mode) and dst_st.st_rdev == st.st_rdev \
                    and meta_equal(dst_st, stat.S_IMODE(st.st_mode), uid, gid):
                return
            if stat.S_ISDIR(dst_st.st_mode):
                raise CopyError(ERR_FILESYSTEM, 'cannot overwrite directory %s with a special file' % name)
        self._changed()
        self.stats.files += 1
        if self.opts.check_mode or parent is None:
            return
        tmp = _temp_name(name)
        os.mknod(tmp, stat.S_IFMT(st.st_mode) | 0o600, st.st_rdev, dir_fd=parent)
        try:
            os.chown(tmp, uid, gid, dir_fd=parent, follow_symlinks=False)
            os.chmod(tmp, stat.S_IMODE(st.st_mode), dir_fd=parent)
            os.rename(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            _unlink_quiet(parent, tmp)
            raise


def _temp_name(name):
    return '%s%s.%s' % (TMP_PREFIX, os.urandom(6).hex(), name[:64])


def _temp_file(parent, name, size):
    """An unnamed O_TMPFILE in `parent` for large files (nothing is left if we are killed mid-copy),
    else a hidden named temp file.

    O_TMPFILE costs about 2 ms per file on overlayfs, which would dominate a tree of small files, and a
    small file's write window is too short to matter; large files are where interruptions happen.
    """
    if size >= TMPFILE_MIN:
        try:
            return os.open('.', fs.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600, dir_fd=parent), None
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
                raise
    tmp = _temp_name(name)
    return os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=parent), tmp


def _is_mount_point(parent, name):
    """True when `name` is the root of a mount (a file bind mount such as /etc/hosts).

    rename(2) only refuses to replace mount points of the caller's own mount namespace; through
    /proc/<pid>/root it would silently swap the file under the container's bind mount, so ask the kernel
    which mount each side belongs to instead.
    """
    try:
        fd = os.open(name, fs.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    except OSError:
        return False
    try:
        return fs.mount_id(fd) != fs.mount_id(parent)
    finally:
        os.close(fd)


def _publish(tmp_fd, tmp_name, parent, name, is_new):
    """Put the finished temp file at `name`; returns the temp name still to clean up (None if none)."""
    if not is_new and _is_mount_point(parent, name):
        _in_place(tmp_fd, parent, name)   # keep the inode the container holds
        if tmp_name is not None:
            _unlink_quiet(parent, tmp_name)
        return None
    if tmp_name is None:
        if is_new:
            try:
                os.link(fs.proc_fd(tmp_fd), name, dst_dir_fd=parent, follow_symlinks=True)
                return None
            except OSError as exc:
                if exc.errno != errno.EEXIST:
                    raise
        tmp_name = _temp_name(name)
        os.link(fs.proc_fd(tmp_fd), tmp_name, dst_dir_fd=parent, follow_symlinks=True)
    try:
        os.rename(tmp_name, name, src_dir_fd=parent, dst_dir_fd=parent)
    except OSError as exc:
        if exc.errno != errno.EBUSY:
            raise
        _in_place(tmp_fd, parent, name)   # `name` is a mount point: keep its inode
        _unlink_quiet(parent, tmp_name)
    return None


def _in_place(tmp_fd, parent, name):
    """Rewrite a bind-mounted file through its own inode (what the container holds open)."""
    st = os.fstat(tmp_fd)
    fd = os.open(name, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    try:
        os.lseek(tmp_fd, 0, os.SEEK_SET)
        fs.copy_data(tmp_fd, fd, st.st_size)
        os.ftruncate(fd, st.st_size)
        try:
            os.fchown(fd, st.st_uid, st.st_gid)
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
        except OSError:
            pass   # the content is what matters for these files
    finally:
        os.close(fd)


def _unlink_quiet(parent, name):
    try:
        os.unlink(name, dir_fd=parent)
    except OSError:
        pass


def _wrap(exc):
    """Map an OSError from the walk/write onto nerdctl's error table."""
    if isinstance(exc, CopyError):
        return exc
    if exc.errno == errno.EROFS:
        return CopyError(ERR_READ_ONLY, exc)
    return CopyError(ERR_FILESYSTEM, exc)
