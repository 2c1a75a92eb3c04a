# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Forked workers that share a tree copy across the machine's CPUs.

Copying or comparing thousands of small files is kernel time per file (create, open, read, close on
overlayfs), and one process only ever uses one CPU of it; threads do not help because every system call
of the walk goes through the interpreter lock.  `fork()` does: the worker starts with every file
descriptor the walk holds (the directories it works relative to, so the same O_NOFOLLOW, single-name
opens keep it inside the container) and in the same mount namespace (the private one a stopped
container's view is built in), and it only ever touches entries below a directory the parent opened.

A worker runs one function and reports a small dict of counts, or the error it met, through a pipe.  It
always ends with `os._exit`, so none of the parent's clean-up (unmounts, setns back, temp directories)
runs twice, and it dies with the parent (PR_SET_PDEATHSIG) rather than writing on after an interrupted
module.  The parent always reaps every worker before it publishes or removes anything they wrote into.

A stopped container's view lives in a private mount namespace of the calling thread, and that thread
must not fork: gRPC's fork handlers (grpcio wheels and Debian's python3-grpcio alike) restart gRPC's
threads from the forking thread, those threads share its filesystem context, and setns() back to the host
namespace then fails with EINVAL.  api.py turns gRPC's fork support off, which newer grpcio honours, but
Debian 12's 1.51 restarts its threads regardless.  So the view calls `prepare()` before it unshares: a
spawner thread, started while the thread is still in the host namespace, does the forking from then on.
Its workers live in the host namespace, which costs nothing: every operation of the walk is relative to
a directory fd the parent opened (or to the root fd, with RESOLVE_IN_ROOT), and fds reach into a mount
whatever namespace their user is in.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ctypes
import json
import os
import queue
import signal
import threading

from . import fs
from .resolve import CopyError, ERR_FILESYSTEM

MAX_WORKERS = 4
PR_SET_PDEATHSIG = 1


def worker_count():
    """How many processes a copy may use: the CPUs this process may run on, at most MAX_WORKERS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


class Worker(object):
    """A forked child running one share of the walk; `finish()` reaps it."""

    def __init__(self, pid, read_fd):
        self.pid = pid
        self.read_fd = read_fd

    def finish(self):
        """Wait for the worker; return (result, None) or (None, exception).  Never raises."""
        chunks = []
        try:
            while True:
                chunk = os.read(self.read_fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError as exc:
            chunks = []
            read_error = exc
        else:
            read_error = None
        finally:
            os.close(self.read_fd)
        status = _reap(self.pid)
        try:
            report = json.loads(b''.join(chunks).decode('utf-8'))
        except ValueError:
            why = read_error or ('exit status %s' % status)
            return None, CopyError(ERR_FILESYSTEM, 'a copy worker ended without a report (%s)' % why)
        return _decode(report)


class _Spawner(object):
    """A thread that forks workers on behalf of threads that must not fork themselves."""

    def __init__(self):
        self.requests = queue.Queue()
        self.thread = threading.Thread(target=self._serve, name='ctrd-cp-spawner')
        self.thread.daemon = True
        self.thread.start()

    def _serve(self):
        while True:
            work, reply = self.requests.get()
            try:
                reply.put((_fork(work), None))
            except BaseException as exc:  # pylint: disable=broad-except
                reply.put((None, exc))

    def start(self, work):
        reply = queue.Queue(1)
        self.requests.put((work, reply))
        worker, error = reply.get()
        if error is not None:
            raise error
        return worker


_SPAWNER = []


def prepare():
    """Start the spawner thread; call it before the calling thread enters a private mount namespace."""
    if not _SPAWNER:
        _SPAWNER.append(_Spawner())


def can_fork(private_ns):
    """Whether a walk may start workers: always in the host namespace, in a private one once prepared."""
    return not private_ns or bool(_SPAWNER)


def start(work):
    """Fork a worker that runs `work()` (returning a JSON-able dict) and reports it."""
    if _SPAWNER:
        return _SPAWNER[0].start(work)
    return _fork(work)


def _fork(work):
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        raise
    if pid:
        os.close(write_fd)
        return Worker(pid, read_fd)
    # The child: whatever happens, it leaves through os._exit below.
    status = 1
    try:
        os.close(read_fd)
        _die_with_parent(parent)
        try:
            report = {'ok': work()}
        except BaseException as exc:  # pylint: disable=broad-except
            report = _encode(exc)
        fs.write_all(write_fd, json.dumps(report).encode('utf-8'))
        status = 0
    finally:
        os._exit(status)


def _die_with_parent(parent):
    """If the module is killed, its workers stop too instead of writing into a copy nobody finishes."""
    fs.libc().prctl(ctypes.c_int(PR_SET_PDEATHSIG), ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0),
                    ctypes.c_ulong(0), ctypes.c_ulong(0))
    if os.getppid() != parent:   # it died before the line above took effect
        os._exit(1)


def _reap(pid):
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue
        except ChildProcessError:
            return None


def _encode(exc):
    """The error a worker met, as data the parent turns back into the same exception."""
    if isinstance(exc, CopyError):
        return {'copy': [exc.text, exc.cause]}
    if isinstance(exc, OSError) and exc.errno is not None:
        return {'os': [exc.errno, exc.strerror, exc.filename if isinstance(exc.filename, str) else None]}
    return {'other': '%s: %s' % (type(exc).__name__, exc)}


def _decode(report):
    if 'ok' in report:
        return report['ok'], None
    if 'copy' in report:
        text, cause = report['copy']
        return None, CopyError(text, cause)
    if 'os' in report:
        code, text, filename = report['os']
        return None, OSError(code, text) if filename is None else OSError(code, text, filename)
    return None, CopyError(ERR_FILESYSTEM, 'a copy worker failed: %s' % report.get('other'))
