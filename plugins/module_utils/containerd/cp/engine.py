# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The copy itself: walk the source, compare each entry with the destination, write what differs.

Every write is atomic.  A file replacing or joining an existing directory is built as an unnamed
O_TMPFILE (files of 1 MiB and more) or a hidden temp name in that directory, given its owner, mode and
times, then linked/renamed over the old name, so an interrupted run leaves the old file.  A directory
that does not exist yet is built whole under a hidden temp name (mode 0700 until finished) and renamed
into place with RENAME_NOREPLACE at the end: the files inside it are created directly under their own
names, because nothing can see them before the directory is published, and a failure removes the temp
directory, so a new tree lands whole or not at all.  Files that are mount points (the bind-mounted
/etc/hosts, /etc/resolv.conf, /etc/hostname) cannot be renamed over; they are rewritten in place so the
container keeps the inode it holds.

Below the top-level paths, every open is a single name relative to an already open directory with
O_NOFOLLOW (and O_EXCL for creations), so a directory swapped for a symlink while the copy runs fails the
copy instead of redirecting it.  Symlinks followed on purpose (follow_link) resolve through the root
(RESOLVE_IN_ROOT).  Nothing is fsync'ed: like cp and tar, the copy protects against interruption of
itself, not against a power cut.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat

from . import fs, parallel
from .compare import DIFF_MAX, Comparer, meta_equal, same_data
from .resolve import CopyError, ERR_FILESYSTEM, ERR_READ_ONLY

TMP_PREFIX = '.ctrd-cp-'
TMPFILE_MIN = 1 << 20
SPLIT_MIN_ENTRIES = 256   # a flat directory this big is shared among workers too
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_SRC_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC   # never blocks on a FIFO swapped in
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


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

    def __init__(self, src_root, dst_root, opts, workers=None):
        self.src_root = src_root
        self.dst_root = dst_root
        self.opts = opts
        self.stats = Stats()
        self.euid = os.geteuid()
        self.egid = os.getegid()
        self.mover = fs.DataMover()
        self.cmp = Comparer()
        if workers is None:
            workers = parallel.worker_count() if parallel.can_fork(src_root.private_ns or dst_root.private_ns) else 1
        self.workers = workers
        umask = os.umask(0o22)
        os.umask(umask)
        self.umask_or_special = umask | 0o7000   # mode bits open(2) would not set as asked

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
                    self._file(src_fd, st, parent, target.name, self._lstat(parent, target.name), False)
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
                self._dir_body(src_fd, st, src_comps, dst_fd, os.fstat(dst_fd), False, False)
            finally:
                os.close(dst_fd)
            return
        self._dir(src_fd, st, src_comps, parent, name, self._lstat(parent, name), False)

    def _dir(self, src_fd, st, src_logical, parent, name, dst_st, fresh):
        """Make `name` in `parent` a copy of the open source directory.

        `fresh`: `parent` was created by this copy and is not published yet, so `name` is new and may be
        built in place.  Otherwise a missing directory is built under a temp name and published whole.
        """
        replace_file = False
        if dst_st is not None and not stat.S_ISDIR(dst_st.st_mode):
            if not self.opts.force:
                return
            self._changed()
            replace_file = True
            dst_st = None
        if dst_st is not None:
            dst_fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
            try:
                self._dir_body(src_fd, st, src_logical, dst_fd, dst_st, False, False)
            finally:
                os.close(dst_fd)
            return
        self._changed()
        self.stats.dirs += 1
        if self.opts.check_mode or parent is None:
            self._dir_body(src_fd, st, src_logical, None, None, True, True)
            return
        if fresh:
            os.mkdir(name, 0o700, dir_fd=parent)
            dst_fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
            try:
                self._dir_body(src_fd, st, src_logical, dst_fd, None, True, True)
            finally:
                os.close(dst_fd)
            return
        tmp = _temp_name(name)
        os.mkdir(tmp, 0o700, dir_fd=parent)
        try:
            dst_fd = os.open(tmp, _DIR_FLAGS, dir_fd=parent)
            try:
                self._dir_body(src_fd, st, src_logical, dst_fd, None, True, True)
            finally:
                os.close(dst_fd)
            if replace_file:
                os.unlink(name, dir_fd=parent)
            fs.rename_noreplace(parent, tmp, name)
        except BaseException:
            _remove_tree(parent, tmp)
            raise

    def _dir_body(self, src_fd, st, src_logical, dst_fd, dst_st, created, fresh):
        """Sync the children, then the directory's own owner, mode and (if anything changed) times."""
        before = self.stats.changed
        self.stats.changed = False
        dst_dev = os.fstat(dst_fd).st_dev if dst_fd is not None else None
        self._children(src_fd, src_logical, dst_fd, fresh, (st.st_dev, dst_dev))
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
                if (uid, gid) != ((dst_st.st_uid, dst_st.st_gid) if dst_st is not None else (self.euid, self.egid)):
                    os.fchown(dst_fd, uid, gid)
                os.fchmod(dst_fd, mode)
        if (created or inner) and not self.opts.check_mode:
            os.utime(dst_fd, ns=(st.st_atime_ns, st.st_mtime_ns))

    def _children(self, src_fd, src_logical, dst_fd, fresh, devs):
        """Copy a directory's entries, sharing them with forked workers the first time a directory is
        big enough to be worth it (see parallel.py); the parent takes the first share itself."""
        entries = list(os.scandir(src_fd))
        shares = self._shares(entries)
        if shares is None:
            for entry in entries:
                self._entry(src_fd, src_logical, entry, dst_fd, fresh, devs)
            return
        workers = []
        mine = list(shares[0])
        try:
            for share in shares[1:]:
                try:
                    workers.append(parallel.start(lambda share=share: self._worker(src_fd, src_logical, share, dst_fd, fresh, devs)))
                except OSError:   # no process to spare (EAGAIN, ENOMEM): this share is walked here
                    mine.extend(share)
            for entry in mine:
                self._entry(src_fd, src_logical, entry, dst_fd, fresh, devs)
        finally:
            outcomes = [worker.finish() for worker in workers]
        for result, error in outcomes:
            if error is not None:
                raise error
            self._merge(result)

    def _shares(self, entries):
        """Split `entries` round-robin over the spare workers, or None to walk them here.

        Split once per copy, at the first directory with at least two subdirectories or
        SPLIT_MIN_ENTRIES entries: below it every worker walks its subtrees alone.
        """
        if self.workers < 2:
            return None
        subdirs = sum(1 for entry in entries if entry.is_dir(follow_symlinks=False))
        if subdirs < 2 and len(entries) < SPLIT_MIN_ENTRIES:
            return None
        count = min(self.workers, len(entries))
        self.workers = 1
        return [entries[i::count] for i in range(count)]

    def _worker(self, src_fd, src_logical, entries, dst_fd, fresh, devs):
        """In a forked worker: copy one share and report what it did."""
        self.stats = Stats()
        for entry in entries:
            self._entry(src_fd, src_logical, entry, dst_fd, fresh, devs)
        s = self.stats
        return {'files': s.files, 'dirs': s.dirs, 'bytes': s.bytes, 'changed': s.changed, 'existed': s.existed}

    def _merge(self, result):
        s = self.stats
        s.files += result['files']
        s.dirs += result['dirs']
        s.bytes += result['bytes']
        s.changed = s.changed or result['changed']
        s.existed = s.existed or result['existed']

    def _entry(self, src_dir, src_logical, entry, dst_dir, fresh, devs):
        """One directory entry.  Its type comes from readdir (no stat) to pick how to open it; the
        authoritative stat is the fstat of what was actually opened (O_NOFOLLOW, O_NONBLOCK)."""
        name = entry.name
        dst_st = None if fresh else self._lstat(dst_dir, name)
        if entry.is_file(follow_symlinks=False):   # the common case first, with as little Python as possible
            fd = os.open(name, _SRC_FLAGS, dir_fd=src_dir)
            try:
                st = os.fstat(fd)
                if stat.S_ISREG(st.st_mode):
                    self._file(fd, st, dst_dir, name, dst_st, fresh, devs)
                else:
                    self._open_entry(fd, st, src_logical + [name], dst_dir, name, dst_st, fresh, devs)
            finally:
                os.close(fd)
            return
        if entry.is_symlink():
            if self.opts.follow_link:
                fd = self.src_root.open(src_logical + [name], os.O_RDONLY | os.O_NONBLOCK)   # resolved inside the source root
                try:
                    self._open_entry(fd, os.fstat(fd), src_logical + [name], dst_dir, name, dst_st, fresh, devs)
                finally:
                    os.close(fd)
                return
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                self._symlink(os.readlink(name, dir_fd=src_dir), st, dst_dir, name, dst_st, fresh)
                return
        elif not entry.is_dir(follow_symlinks=False):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISSOCK(st.st_mode):
                return   # tar skips sockets too
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
                self._special(st, dst_dir, name, dst_st, fresh)
                return
        fd = os.open(name, _SRC_FLAGS, dir_fd=src_dir)
        try:
            self._open_entry(fd, os.fstat(fd), src_logical + [name], dst_dir, name, dst_st, fresh, devs)
        finally:
            os.close(fd)

    def _open_entry(self, fd, st, logical, dst_dir, name, dst_st, fresh, devs):
        if stat.S_ISDIR(st.st_mode):
            self._dir(fd, st, logical, dst_dir, name, dst_st, fresh)
        elif stat.S_ISREG(st.st_mode):
            self._file(fd, st, dst_dir, name, dst_st, fresh, devs)
        elif not stat.S_ISSOCK(st.st_mode):   # swapped for a special file after readdir
            self._special(st, dst_dir, name, dst_st, fresh)

    # ---- files ----------------------------------------------------------------------------------

    def _changed(self):
        self.stats.changed = True

    def _file(self, src_fd, st, parent, name, dst_st, fresh, devs=None):
        opts = self.opts
        uid = opts.uid if opts.uid is not None else (st.st_uid if opts.keep_owner else self.euid)
        gid = opts.gid if opts.gid is not None else (st.st_gid if opts.keep_owner else self.egid)
        mode = opts.mode if opts.mode is not None else stat.S_IMODE(st.st_mode)
        want_diff = opts.want_diff and self.stats.single
        if want_diff and st.st_size <= DIFF_MAX:
            self.stats.after = os.pread(src_fd, DIFF_MAX + 1, 0)
        if dst_st is not None and self._keep_existing(parent, name, dst_st, st.st_size, mode, uid, gid, want_diff,
                                                      lambda old: self.cmp.same(src_fd, old, st.st_size)):
            return
        self._changed()
        self.stats.files += 1
        self.stats.bytes += st.st_size
        if self.opts.check_mode or parent is None:
            return
        times = (st.st_atime_ns, st.st_mtime_ns)
        if fresh:
            # Nothing can see an unpublished directory, so the file may be born with its final mode and
            # skip an fchmod when the umask leaves that mode alone and no chown will clear set-id bits.
            born = mode if mode & self.umask_or_special == 0 and (uid, gid) == (self.euid, self.egid) else None
            fd = os.open(name, _NEW_FLAGS, 0o600 if born is None else born, dir_fd=parent)
            try:
                self.mover.copy(src_fd, fd, st.st_size, devs)
                self._finish(fd, uid, gid, None if born is not None else mode, times)
            finally:
                os.close(fd)
            return
        self._write(parent, name, dst_st, uid, gid, mode, times,
                    lambda fd: self.mover.copy(src_fd, fd, st.st_size, devs), st.st_size)

    def _finish(self, fd, uid, gid, mode, times):
        """Owner, then mode (chown clears setuid/setgid; None: the file was created with it), then times,
        on a file just written."""
        if (uid, gid) != (self.euid, self.egid):
            os.fchown(fd, uid, gid)
        if mode is not None:
            os.fchmod(fd, mode)
        if times is not None:
            os.utime(fd, ns=times)

    def _content(self, data, parent, name, uid, gid):
        mode = self.opts.mode if self.opts.mode is not None else 0o644
        if self.opts.want_diff:
            self.stats.after = data[:DIFF_MAX + 1]
        dst_st = self._lstat(parent, name)
        if dst_st is not None and self._keep_existing(parent, name, dst_st, len(data), mode, uid, gid, self.opts.want_diff,
                                                      lambda old: same_data(old, data)):
            return
        self._changed()
        self.stats.files += 1
        self.stats.bytes += len(data)
        if self.opts.check_mode:
            return
        self._write(parent, name, dst_st, uid, gid, mode, None, lambda fd: fs.write_all(fd, data), len(data))

    def _keep_existing(self, parent, name, dst_st, size, mode, uid, gid, want_diff, same):
        """Whether an existing destination file stays: force is off, or it already holds the same bytes.

        Equal bytes with another owner or mode are fixed in place; a directory is never replaced by a file.
        `same(fd)` compares the open destination with the source.
        """
        self.stats.existed = True
        if not self.opts.force:
            return True
        if stat.S_ISDIR(dst_st.st_mode):
            raise CopyError(ERR_FILESYSTEM, 'cannot overwrite directory %s with a file' % name)
        if not stat.S_ISREG(dst_st.st_mode):
            return False
        old = os.open(name, _SRC_FLAGS, dir_fd=parent)
        try:
            if want_diff and dst_st.st_size <= DIFF_MAX:
                self.stats.before = os.pread(old, DIFF_MAX + 1, 0)
            if dst_st.st_size == size and same(old):
                if not meta_equal(dst_st, mode, uid, gid):
                    self._fix_meta(old, dst_st, mode, uid, gid)
                return True
        finally:
            os.close(old)
        return False

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
            self._finish(tmp_fd, uid, gid, mode, times)
            _publish(tmp_fd, tmp_name, parent, name, dst_st is None)
            tmp_name = None
        except BaseException:
            if tmp_name is not None:
                _unlink_quiet(parent, tmp_name)
            os.close(tmp_fd)
            raise
        os.close(tmp_fd)

    def _symlink(self, target, st, parent, name, dst_st, fresh=False):
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
        tmp = name if fresh else _temp_name(name)
        os.symlink(target, tmp, dir_fd=parent)
        try:
            if (uid, gid) != (self.euid, self.egid):
                os.chown(tmp, uid, gid, dir_fd=parent, follow_symlinks=False)
            if not fresh:
                os.rename(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            if not fresh:
                _unlink_quiet(parent, tmp)
            raise

    def _special(self, st, parent, name, dst_st, fresh=False):
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
        tmp = name if fresh else _temp_name(name)
        os.mknod(tmp, stat.S_IFMT(st.st_mode) | 0o600, st.st_rdev, dir_fd=parent)
        try:
            os.chown(tmp, uid, gid, dir_fd=parent, follow_symlinks=False)
            os.chmod(tmp, stat.S_IMODE(st.st_mode), dir_fd=parent)
            if not fresh:
                os.rename(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            if not fresh:
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
    """Put the finished temp file at `name`; on failure the caller removes `tmp_name` (None for O_TMPFILE)."""
    if not is_new and _is_mount_point(parent, name):
        _in_place(tmp_fd, parent, name)   # keep the inode the container holds
        if tmp_name is not None:
            _unlink_quiet(parent, tmp_name)
        return
    linked = None   # a name given here to an O_TMPFILE, ours to remove if the rename fails
    if tmp_name is None:
        if is_new:
            try:
                os.link(fs.proc_fd(tmp_fd), name, dst_dir_fd=parent, follow_symlinks=True)
                return
            except OSError as exc:
                if exc.errno != errno.EEXIST:
                    raise
        tmp_name = linked = _temp_name(name)
        os.link(fs.proc_fd(tmp_fd), tmp_name, dst_dir_fd=parent, follow_symlinks=True)
    try:
        os.rename(tmp_name, name, src_dir_fd=parent, dst_dir_fd=parent)
    except OSError as exc:
        if exc.errno != errno.EBUSY:
            if linked is not None:
                _unlink_quiet(parent, linked)
            raise
        _in_place(tmp_fd, parent, name)   # `name` is a mount point: keep its inode
        _unlink_quiet(parent, tmp_name)


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


def _remove_tree(parent, name):
    """Remove an unpublished temp directory, fd-relative and without following links (best effort)."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError:
        _unlink_quiet(parent, name)
        return
    try:
        for entry in os.scandir(fd):
            if entry.is_dir(follow_symlinks=False):
                _remove_tree(fd, entry.name)
            else:
                _unlink_quiet(fd, entry.name)
    finally:
        os.close(fd)
    try:
        os.rmdir(name, dir_fd=parent)
    except OSError:
        pass


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
