# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nerdctl's Reconfig{Net,PID,IPC}Container: re-point shared namespaces before every start.

A container created with `--net/--pid/--ipc=container:X` stores `/proc/<X's pid>/ns/...` in its OCI spec.
X gets a new pid whenever it restarts, so before each start the stored spec is rewritten from the labels
(which hold X's full ID), with nerdctl's error texts when X is not running.  The shareable-IPC tmpfs
that such sharing relies on is mounted here and unmounted by stop (cleanup_ipc).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import ctypes
import errno
import json
import os
import re

from . import labels as L
from .errors import ContainerdError, UserError

MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
HOST_BIND_OPTIONS = ['rbind', 'nosuid', 'noexec', 'nodev']

_RAM_RE = re.compile(r'^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$')
_RAM_UNITS = {'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3, 't': 1024 ** 4, 'p': 1024 ** 5}


# ---- pure spec edits ------------------------------------------------------------------------------------

def ram_in_bytes(text):
    """docker/go-units RAMInBytes: `64m`, `1.5g`, `512k`, `1024` (binary multipliers)."""
    match = _RAM_RE.match(text or '')
    if not match:
        raise UserError("invalid size: '%s'" % text)
    value = float(match.group(1))
    unit = (match.group(2) or '').lower()
    return int(value * _RAM_UNITS.get(unit, 1))


def set_namespace(spec, ns_type, path=None):
    """containerd's WithLinuxNamespace: replace the entry of this type (or add it), with or without a path."""
    entry = {'type': ns_type}
    if path:
        entry['path'] = path
    namespaces = spec.setdefault('linux', {}).setdefault('namespaces', [])
    for index, ns in enumerate(namespaces):
        if ns.get('type') == ns_type:
            namespaces[index] = entry
            return
    namespaces.append(entry)


def remove_namespace(spec, ns_type):
    """containerd's WithHostNamespace: no entry of this type means the host's namespace."""
    linux = spec.setdefault('linux', {})
    linux['namespaces'] = [ns for ns in linux.get('namespaces') or [] if ns.get('type') != ns_type]


def has_namespace(spec, ns_type):
    return any(ns.get('type') == ns_type for ns in (spec.get('linux') or {}).get('namespaces') or [])


def set_mount(spec, mount):
    """Put `mount` at its destination: replace the mount already there in place, else append."""
    mounts = spec.setdefault('mounts', [])
    dest = os.path.normpath(mount['destination'])
    for index, old in enumerate(mounts):
        if os.path.normpath(old.get('destination', '')) == dest:
            mounts[index] = mount
            return
    mounts.append(mount)


def set_shm_size(spec, kib):
    """containerd's WithDevShmSize: the size option of the /dev/shm tmpfs, in KiB."""
    for mount in spec.get('mounts') or []:
        if os.path.normpath(mount.get('destination', '')) == '/dev/shm' and mount.get('type') == 'tmpfs':
            options = [o for o in mount.get('options') or [] if not o.startswith('size=')]
            options.append('size=%dk' % kib)
            mount['options'] = options
            return
    raise UserError('shm mount not found')


def _host_ipc(spec):
    remove_namespace(spec, 'ipc')
    for path in ('/dev/shm', '/dev/mqueue'):
        set_mount(spec, {'destination': path, 'type': 'bind', 'source': path, 'options': list(HOST_BIND_OPTIONS)})


def _bind_shm(spec, host_path):
    set_mount(spec, {'destination': '/dev/shm', 'type': 'bind', 'source': host_path,
                     'options': list(HOST_BIND_OPTIONS)})


def decode_ipc(labels):
    """The `nerdctl/ipc` label as a dict; empty or missing means private."""
    raw = labels.get(L.IPC) or ''
    if not raw:
        return {'mode': 'private'}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise UserError('failed to unmarshal %s: %s' % (L.IPC, exc)) from exc
    if not isinstance(value, dict):
        raise UserError('failed to unmarshal %s: not an object' % L.IPC)
    return value


# ---- reading other containers ---------------------------------------------------------------------------

def _running_pid(client, container_id):
    """The pid of the container's task when it is running, else None (no task counts as not running)."""
    status, task = client.task_status(container_id)
    if status == 'running':
        return task.pid
    return None


def reconfig_net(client, labels, spec):
    """ReconfigNetContainer: `container:<id>` networking joins the target's current netns."""
    raw = labels.get(L.NETWORKS)
    if not raw:
        return
    try:
        networks = json.loads(raw)
    except ValueError as exc:
        raise UserError('failed to unmarshal %s: %s' % (L.NETWORKS, exc)) from exc
    if not networks or not isinstance(networks, list) or networks[0].split(':', 1)[0] != 'container':
        return
    parts = networks[0].split(':')
    if len(parts) != 2:
        raise UserError('invalid network: %s, should be "container:<id|name>"' % networks[0])
    target = client.get_container(parts[1])
    pid = _running_pid(client, target.id)
    if pid is None:
        raise UserError('invalid target container: %s, should be running' % target.id)
    set_namespace(spec, 'network', '/proc/%d/ns/net' % pid)


def reconfig_pid(client, labels, spec):
    """ReconfigPIDContainer: `--pid=container:<id>` joins the target's pid namespace (or the host's)."""
    target_id = labels.get(L.PID_CONTAINER)
    if not target_id:
        return
    target = client.get_container(target_id)
    pid = _running_pid(client, target.id)
    if pid is None:
        raise UserError('shared container is not running')
    if has_namespace(client.read_spec(target), 'pid'):
        set_namespace(spec, 'pid', '/proc/%d/ns/pid' % pid)
    else:
        remove_namespace(spec, 'pid')


def reconfig_ipc(client, labels, spec, mount_shm=None):
    """ReconfigIPCContainer: re-apply the IPC mode; shareable mounts its tmpfs, container joins the victim."""
    ipc = decode_ipc(labels)
    mode = ipc.get('mode') or 'private'
    if mode == 'private':
        set_namespace(spec, 'ipc')
        if ipc.get('shmSize'):
            set_shm_size(spec, ram_in_bytes(ipc['shmSize']) // 1024)
    elif mode == 'host':
        _host_ipc(spec)
    elif mode == 'shareable':
        path = ipc.get('hostShmPath')
        if not path:
            raise UserError('ipc mode is shareable, but host shm path is nil')
        (mount_shm or mount_shareable_shm)(path, ipc.get('shmSize'))
        set_namespace(spec, 'ipc')
        _bind_shm(spec, path)
    elif mode == 'container':
        _reconfig_ipc_victim(client, ipc, spec)
    else:
        raise UserError('unknown ipc mode %s' % mode)


def _reconfig_ipc_victim(client, ipc, spec):
    victim_id = ipc.get('victimContainerId')
    if not victim_id:
        raise UserError('ipc mode is container, but victim container id is nil')
    victim = client.get_container(victim_id)
    pid = _running_pid(client, victim.id)
    if pid is None:
        raise UserError('shared container is not running')
    victim_ipc = decode_ipc(dict(victim.labels))
    if victim_ipc.get('mode') == 'host':
        _host_ipc(spec)
        return
    if victim_ipc.get('mode') != 'shareable':
        raise UserError("victim container's ipc mode is not shareable")
    if not victim_ipc.get('hostShmPath'):
        raise UserError("victim container's host shm path is nil")
    _bind_shm(spec, victim_ipc['hostShmPath'])
    set_namespace(spec, 'ipc', '/proc/%d/ns/ipc' % pid)


def reconfigure(client, container, ctx):  # pylint: disable=unused-argument
    """Net, then PID, then IPC (nerdctl's order); store the spec only when it changed.  Returns the spec."""
    labels = dict(container.labels)
    spec = client.read_spec(container)
    new = copy.deepcopy(spec)
    reconfig_net(client, labels, new)
    reconfig_pid(client, labels, new)
    reconfig_ipc(client, labels, new)
    if new != spec:
        client.update_spec(container.id, new)
    return new


# ---- the shareable tmpfs ---------------------------------------------------------------------------------

def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _unescape_mountinfo(text):
    return re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), text)


def is_mountpoint(path):
    """Whether something is mounted exactly at `path` (per /proc/self/mountinfo)."""
    real = os.path.realpath(path)
    try:
        with open('/proc/self/mountinfo', encoding='utf-8') as handle:
            for line in handle:
                fields = line.split(' ')
                if len(fields) > 4 and _unescape_mountinfo(fields[4]) == real:
                    return True
    except IOError:
        return False
    return False


def mount_shareable_shm(path, shm_size=None):
    """mkdir -p (0700) and mount the tmpfs that `--ipc=shareable` exports as the container's /dev/shm.

    nerdctl mounts it again on every start, stacking mounts; mounting only when nothing is mounted there
    gives the same /dev/shm with one mount to undo.
    """
    if not os.path.isdir(path):
        os.makedirs(path, 0o700)
    if is_mountpoint(path):
        return
    data = 'mode=1777'
    if shm_size:
        data += ',size=%d' % ram_in_bytes(shm_size)
    if _libc().mount(b'/dev/shm', path.encode(), b'tmpfs', MS_NOEXEC | MS_NOSUID | MS_NODEV, data.encode()) != 0:
        err = ctypes.get_errno()
        raise ContainerdError('failed to mount %s: %s' % (path, os.strerror(err)))


def unmount_shareable_shm(path):
    """Unmount every tmpfs stacked on `path` (nerdctl's starts stack them) and remove the directory."""
    libc = _libc()
    while is_mountpoint(path):
        if libc.umount2(path.encode(), 0) != 0:
            err = ctypes.get_errno()
            raise ContainerdError('failed to unmount %s: %s' % (path, os.strerror(err)))
    try:
        os.rmdir(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise ContainerdError('failed to remove %s: %s' % (path, exc.strerror)) from exc


def cleanup_ipc(container, ctx):
    """Stop's deferred IPC cleanup: a shareable container's tmpfs goes; failures are only warnings."""
    try:
        ipc = decode_ipc(dict(container.labels))
    except UserError:
        return
    if ipc.get('mode') != 'shareable' or not ipc.get('hostShmPath'):
        return
    try:
        unmount_shareable_shm(ipc['hostShmPath'])
    except ContainerdError as exc:
        ctx.warn('failed to clean up IPC container %s: %s' % (container.id, exc))
