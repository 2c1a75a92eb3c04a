# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OCI hook program: CNI setup when a task is created, teardown when it is deleted (nerdctl's oci-hook).

runc runs it from the container's spec (`hooks.createRuntime`, `hooks.poststop`) with the OCI state on
stdin, whoever creates the task: a module, `ctr`, nerdctl or containerd's restart monitor.  It runs
outside Ansible (see install.py), so it uses only the standard library and sibling module_utils.

    <python> <hook.pyz> --data-root=D --address=A --cni-path=P --cni-netconfpath=N createRuntime|postStop
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os
import sys
import traceback

from .. import labels as L
from ..datastore import atomic_write, data_store, store_lock
from ..hostsstore import HostsStore
from ..ports import load_port_mappings
from . import iptables
from .cni import CNI, CNIError, cni_lock
from .netopts import container_net, parse_extra_hosts

EVENTS = ('createRuntime', 'postStop')
LIFECYCLE_FILE = 'lifecycle.json'


class HookError(Exception):
    """A failure the hook reports to runc (non-zero exit; for createRuntime the task creation fails)."""


class Logger(object):
    """logrus-style lines to stderr (runc shows them in its error) and to <stateDir>/oci-hook.<event>.log."""

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.file = None

    def open(self, path):
        self.file = open(path, 'w')  # pylint: disable=consider-using-with  # closed by close()

    def close(self):
        if self.file:
            self.file.close()
            self.file = None

    def log(self, level, msg):
        now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        line = 'time="%s" level=%s msg=%s\n' % (now, level, json.dumps(msg))
        for out in (self.stream, self.file):
            if out is not None:
                out.write(line)
                out.flush()

    def info(self, msg):
        self.log('info', msg)

    def warn(self, msg):
        self.log('warning', msg)

    def error(self, msg):
        self.log('error', msg)


def parse_argv(argv):
    """`--key=value` flags then the event; nerdctl's text when something is missing."""
    flags = {}
    event = None
    for arg in argv:
        if arg.startswith('--') and '=' in arg:
            key, value = arg[2:].split('=', 1)
            flags[key] = value
        elif event is None:
            event = arg
        else:
            raise HookError('unexpected argument %r' % arg)
    needed = ('data-root', 'address', 'cni-path', 'cni-netconfpath')
    if event is None or any(not flags.get(k) for k in needed):
        raise HookError('got insufficient args')
    return event, flags


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def read_lifecycle(state_dir):
    try:
        with open(os.path.join(state_dir, LIFECYCLE_FILE)) as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, IOError, ValueError):
        return {}


def write_lifecycle(state_dir, data):
    """lifecycle.json in nerdctl's form, written atomically under the state dir's store lock."""
    with store_lock(state_dir):
        atomic_write(os.path.join(state_dir, LIFECYCLE_FILE), json.dumps(data))


def write_pid_file(path, pid):
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    atomic_write(path, '%d' % pid, 0o644)


def netns_path(state, annotations):
    """The container's netns: the `nerdctl/network-namespace` annotation, else /proc/<pid>/ns/net."""
    path = annotations.get(L.NETWORK_NAMESPACE)
    if path is None:
        pid = state.get('pid') or 0
        if not pid:
            raise HookError('both state.Pid and the netNs annotation are unset')
        path = '/proc/%d/ns/net' % pid
    if not os.path.exists(path):
        raise HookError('stat %s: no such file or directory' % path)
    return path


class Hook(object):
    """One run of the hook for one container and event."""

    def __init__(self, event, flags, state, log):
        self.event = event
        self.flags = flags
        self.state = state
        self.log = log
        self.annotations = state.get('annotations') or {}
        self.state_dir = self.annotations.get(L.STATE_DIR, '')
        self.store = None
        self.net = None
        self.cni = CNI(flags['cni-path'])

    def prepare(self):
        """Everything both events need: data store, ports, networks (under the CNI lock, taken by run())."""
        self.store = data_store(self.flags['data-root'], self.flags['address'])
        cid = self.state.get('id', '')
        name = self.annotations.get(L.NAME, '')
        ports = load_port_mappings(self.state_dir, self.annotations, self.log.warn, name, cid)
        self.net = container_net(self.annotations, cid, self.flags['cni-netconfpath'], ports, cni_path=self.flags['cni-path'])
        pid_file = self.annotations.get(L.PID_FILE)
        if pid_file and self.state.get('pid'):
            write_pid_file(pid_file, self.state['pid'])

    def hosts(self):
        return HostsStore(self.store, self.net.namespace, warn=self.log.warn)

    def create_runtime(self):
        error = None
        if self.net.is_cni:
            try:
                self.setup_cni()
            except (CNIError, HookError) as exc:
                error = exc
        write_lifecycle(self.state_dir, {'started_at': _now(), 'create_error': error is not None})
        if error is not None:
            raise error

    def setup_cni(self):
        net = self.net
        path = netns_path(self.state, self.annotations)
        try:
            # A container revived after a containerd restart may still hold its addresses: drop them first.
            self.cni.remove(net.confs, net.cni_id, '', net.options)
        except CNIError as exc:
            self.log.info('ignored CNI remove before setup: %s' % exc)
        try:
            results = self.cni.setup(net.confs, net.cni_id, path, net.options)
        except CNIError as exc:
            try:
                self.cni.remove(net.confs, net.cni_id, '', net.options)
            except CNIError as exc2:
                self.log.warn('failed to undo a failed cni.Setup: %s' % exc2)
            raise HookError('failed to call cni.Setup: %s' % exc)
        meta = {
            'ID': self.state.get('id', ''),
            'Networks': dict(zip(net.networks, results)),
            'Hostname': self.annotations.get(L.HOSTNAME, ''),
            'ExtraHosts': parse_extra_hosts(self.annotations),
            'Name': self.annotations.get(L.NAME, ''),
            'Domainname': self.annotations.get(L.DOMAINNAME, ''),
        }
        self.hosts().acquire(meta)

    def post_stop(self):
        lifecycle = read_lifecycle(self.state_dir)
        if lifecycle.get('create_error'):
            # The task never got its network; the container itself is not being deleted.
            lifecycle['create_error'] = False
            write_lifecycle(self.state_dir, lifecycle)
            return
        if not self.net.is_cni:
            return
        error = None
        net = self.net
        try:
            self.cni.remove(net.confs, net.cni_id, '', net.options)
        except CNIError as exc:
            self.log.error('failed to call cni.Remove: %s' % exc)
            error = exc
        iptables.sweep(net.cni_id, [c.name for c in net.confs], self.log.warn)
        self.hosts().release(self.state.get('id', ''))
        if error is not None:
            raise error

    def run(self):
        if not self.state_dir:
            raise HookError('state dir must be set')
        if not os.path.isdir(self.state_dir):
            os.makedirs(self.state_dir, 0o700)
        self.log.open(os.path.join(self.state_dir, 'oci-hook.%s.log' % self.event))
        with cni_lock(self.flags['cni-netconfpath']):
            self.prepare()
            if self.event == 'createRuntime':
                self.create_runtime()
            elif self.event == 'postStop':
                self.post_stop()
            else:
                raise HookError('unexpected event "%s"' % self.event)


def main(argv=None, stdin=None, stderr=None):
    """Entry point of the hook program; returns the exit status runc sees."""
    log = Logger(stderr)
    try:
        event, flags = parse_argv(sys.argv[1:] if argv is None else argv)
        state = json.load(stdin if stdin is not None else sys.stdin)
        Hook(event, flags, state, log).run()
        return 0
    except Exception as exc:  # pylint: disable=broad-except
        log.error(str(exc) or exc.__class__.__name__)
        if os.environ.get('CTRD_HOOK_DEBUG'):
            (stderr or sys.stderr).write(traceback.format_exc())
        return 1
    finally:
        log.close()
