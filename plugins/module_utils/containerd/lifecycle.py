# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mechanism of nerdctl's lifecycle verbs: start, stop, pause, resume, kill, restart.

Each function does one verb to one container record, the way nerdctl does it over containerd's API, and
knows nothing of Ansible (no check mode, no diff): the policy in state.py decides WHETHER to call them,
and containerd_container calls stop()/start() when it recreates a container.

Decisions that differ from nerdctl, on purpose (also documented in containerd_container_state):
* stop() removes the `containerd.io/restart.status` label before signalling, and start() writes it back
  as `running`.  containerd's restart monitor only looks at containers that carry that label, so an
  `always`/`on-failure` container stays stopped on every containerd version (nerdctl's stop leaves the
  label and containerd 1.6-2.1 revive the container within the monitor interval).
* kill() with a signal other than SIGKILL neither marks the container explicitly stopped nor removes its
  CNI networking: it is the "send a reload signal to a running container" tool, and the process is
  expected to keep running.  With SIGKILL it is nerdctl's kill.
* stop() leaves the stopped task in place, as nerdctl does (its exit status stays readable); the OCI
  poststop hook that releases the rest of the networking runs when the task is deleted by the next
  start or by removal.  The CNI allocation itself is released before the signal by the explicit network
  cleanup, as nerdctl's stop does.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from . import labels as L
from . import reconfig
from .containerutil import parse_signal, stop_timeout as resolve_stop_timeout
from .errors import ContainerdError, NotFoundError, UserError
from .network.cleanup import cleanup_network

SIGKILL = 9
DEFAULT_KILL_SIGNAL = 'SIGKILL'

STATUS_CREATED = 'created'
ACTIVE = ('running', 'paused', 'pausing')


class Context(object):
    """What the verbs need besides the client and the record: where nerdctl's files live and how to warn.

    `req` is the container argument as the user gave it; nerdctl puts it in some error texts.
    """

    def __init__(self, data_root, address, namespace, cni_path=None, cni_netconf_path=None, warn=None, req=None):
        self.data_root = data_root
        self.address = address
        self.namespace = namespace
        self.cni_path = cni_path
        self.cni_netconf_path = cni_netconf_path
        self.warn = warn or (lambda msg: None)
        self.req = req

    @classmethod
    def from_params(cls, params, warn, req=None):
        return cls(params['data_root'], params['address'], params['namespace'], params.get('cni_path'),
                   params.get('cni_netconf_path'), warn, req)

    def arg(self, container):
        return self.req or container.id


# ---- small helpers ------------------------------------------------------------------------------------

def status_of(client, container_id):
    """(status, task): `created` with task None when the container has no task (never started)."""
    status, task = client.task_status(container_id)
    if status is None:
        return STATUS_CREATED, None
    return status, task


def record_error(client, container_id, exc):
    """nerdctl's UpdateErrorLabel: remember the failure in `nerdctl/error`; a failing write is ignored."""
    text = str(exc)
    if not L.label_fits(L.ERROR, text):
        return
    try:
        client.update_labels(container_id, {L.ERROR: text})
    except ContainerdError:
        pass


def _recording_errors(fn):
    """Decorator: any ContainerdError raised by a verb is recorded on the container, then re-raised."""
    def wrapper(client, container, *args, **kwargs):
        try:
            return fn(client, container, *args, **kwargs)
        except ContainerdError as exc:
            record_error(client, container.id, exc)
            raise
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def task_io(labels, warn):
    """The stdout/stderr URI for a new task: the container's log URI when it is usable, else null IO.

    nerdctl logs through `nerdctl/log-uri` (a `binary://` logging driver, or `file://`).  A binary that is
    not installed on this node would make task creation fail, so it is skipped with a warning.  Null IO
    means the shim creates no FIFOs that could be left behind.
    """
    uri = labels.get(L.LOG_URI, '')
    if not uri or uri == 'none':
        return ''
    if uri.startswith('binary://'):
        path = uri[len('binary://'):].split('?', 1)[0]
        if not os.path.exists(path):
            warn('logging binary %s of %s is not installed; the task runs without logging' % (path, L.LOG_URI))
            return ''
        return uri
    if uri.startswith('file://'):
        return uri
    warn('unsupported %s %r; the task runs without logging' % (L.LOG_URI, uri))
    return ''


def _task_options(client, container):
    """runc options for Tasks.Create: the container's own runtime options, else empty ones.

    Always with the bare type URL `containerd.runc.v1.Options` (containerd 1.6 rejects the
    type.googleapis.com/ form).
    """
    opts = container.runtime.options
    if opts.value:
        type_url = opts.type_url.rsplit('/', 1)[-1]
        return client.msg('google.protobuf.Any', type_url=type_url, value=opts.value)
    return client.runc_options_any()


def _terminal(client, container):
    spec = client.read_spec(container)
    return bool(spec.get('process', {}).get('terminal'))


# ---- start ----------------------------------------------------------------------------------------------

@_recording_errors
def start(client, container, ctx):
    """nerdctl's Start (detached): re-point shared namespaces, replace the task, start it, label it.

    Returns True when a new task was started, False when the container was already running (nerdctl
    warns `container <id> is already running` and succeeds).  A paused container is resumed instead:
    its task cannot be deleted, and "started" means running.
    """
    labels = dict(container.labels)
    if L.CRI_KIND in labels:
        ctx.warn('nerdctl does not support starting container %s created by Kubernetes' % container.id)
    reconfig.reconfigure(client, container, ctx)
    status, task = status_of(client, container.id)
    if status == 'running':
        ctx.warn('container %s is already running' % container.id)
        return False
    if status in ('paused', 'pausing'):
        client.resume_task(container.id)
        return True
    if task is not None:
        try:
            client.delete_task(container.id)  # runs the poststop hook: networking of the old task goes
        except ContainerdError:
            pass  # nerdctl only logs this; creating the new task reports any real problem
    rootfs = client.snapshot_mounts(container.snapshotter, container.snapshot_key)
    out = task_io(labels, ctx.warn)
    client.create_task(container.id, rootfs, stdout=out, stderr=out, terminal=_terminal(client, container),
                       options=_task_options(client, container))
    waiter = client.wait_task_future(container.id)
    try:
        client.start_task(container.id)
    except ContainerdError:
        waiter.cancel()
        _discard_task(client, container.id)
        raise
    waiter.cancel()
    mark_started(client, container)
    return True


def mark_started(client, container):
    """After a successful task start: restart.status=running when a policy exists, explicitly-stopped=false."""
    update = {L.RESTART_EXPLICITLY_STOPPED: 'false'}
    if L.RESTART_POLICY in container.labels:
        update[L.RESTART_STATUS] = 'running'
    client.update_labels(container.id, update)


def _discard_task(client, container_id):
    """Remove a task that failed to start, so no shim or network setup is left behind."""
    try:
        client.kill_task(container_id, SIGKILL)
    except ContainerdError:
        pass
    try:
        client.delete_task(container_id)
    except ContainerdError:
        pass


# ---- stop -----------------------------------------------------------------------------------------------

def mark_stopped(client, container):
    """Stop's first step: explicitly-stopped=true, and take the container away from the restart monitor.

    Deleting `containerd.io/restart.status` (an empty value deletes a label) is what keeps an `always` or
    `on-failure` container down; start() writes `running` again.
    """
    client.update_labels(container.id, {L.RESTART_EXPLICITLY_STOPPED: 'true', L.RESTART_STATUS: ''})


def _network_cleanup(client, container, ctx, text):
    try:
        cleanup_network(client, container, ctx)
    except ContainerdError as exc:
        raise UserError(text % {'req': ctx.arg(container), 'err': exc}) from exc


def stop_parameters(labels, timeout=None, signal=None):
    """(seconds, signal number or None): None means SIGKILL at once (timeout <= 0).

    Timeout: the argument, else `nerdctl/stop-timeout`, else 10.  Signal: the argument, else
    `io.containerd.image.config.stop-signal`, else SIGTERM.  Parsed the way nerdctl's stop parses them.
    """
    seconds = resolve_stop_timeout(labels, timeout)
    if seconds <= 0:
        return seconds, None
    name = signal or labels.get(L.STOP_SIGNAL) or 'SIGTERM'
    return seconds, parse_signal(name)


@_recording_errors
def stop(client, container, ctx, timeout=None, signal=None):
    """nerdctl's stop verb + Stop: returns the exit status, or None when nothing was running.

    The wait for the exit is not bounded by the client's per-call timeout: it lasts the grace period,
    then SIGKILL and an unbounded wait, as nerdctl does.
    """
    mark_stopped(client, container)
    labels = dict(container.labels)
    try:
        seconds, signum = stop_parameters(labels, timeout, signal)
        status, task = status_of(client, container.id)
        if task is not None:
            _network_cleanup(client, container, ctx, 'unable to cleanup network for container: %(req)s')
        if status not in ACTIVE:
            return None
        return _stop_task(client, container.id, status, seconds, signum)
    finally:
        reconfig.cleanup_ipc(container, ctx)


def _stop_task(client, container_id, status, seconds, signum):
    waiter = client.wait_task_future(container_id)
    try:
        if status in ('paused', 'pausing'):
            client.resume_task(container_id)
        if signum is not None:
            _signal(client, container_id, signum)
            code = client.wait_exit(waiter, container_id, timeout=seconds)
            if code is not None:
                return code
        _signal(client, container_id, SIGKILL)
        return client.wait_exit(waiter, container_id)
    finally:
        waiter.cancel()


def _signal(client, container_id, signum):
    """Kill, where a process that exited meanwhile is not an error (the Wait reports its exit)."""
    try:
        client.kill_task(container_id, signum)
    except NotFoundError:
        pass


# ---- pause / resume -------------------------------------------------------------------------------------

def pause(client, container, ctx):  # pylint: disable=unused-argument
    """nerdctl's Pause.  Returns False when already paused (nerdctl errors there; a state is idempotent)."""
    status, _task = status_of(client, container.id)
    if status == 'paused':
        return False
    if status in (STATUS_CREATED, 'stopped'):
        raise UserError('container %s is not running' % container.id)
    client.pause_task(container.id)
    return True


def resume(client, container, ctx):  # pylint: disable=unused-argument
    """nerdctl's Unpause (without healthcheck timers, which this collection does not install)."""
    status, _task = status_of(client, container.id)
    if status != 'paused':
        raise UserError('container %s is not paused' % container.id)
    client.resume_task(container.id)
    return True


# ---- kill -----------------------------------------------------------------------------------------------

def kill_signal(text):
    """nerdctl kill's signal parsing: `SIG` is prepended unless the text starts with upper-case SIG."""
    text = text or DEFAULT_KILL_SIGNAL
    return parse_signal(text, kill_style=True)


@_recording_errors
def kill(client, container, ctx, signal=DEFAULT_KILL_SIGNAL):
    """Send one signal to the task without waiting (nerdctl kill).  Returns the signal number sent.

    SIGKILL is nerdctl's kill (network cleanup, explicitly-stopped=true).  Any other signal is delivered
    to a container that is expected to keep running, so its networking and labels are left alone.
    """
    signum = kill_signal(signal)
    status, _task = status_of(client, container.id)
    if status not in ACTIVE:
        raise UserError('cannot kill container %s: container is not running' % container.id)
    if signum == SIGKILL:
        _network_cleanup(client, container, ctx, 'unable to cleanup network for container: %(req)s, "%(err)s"')
        client.update_labels(container.id, {L.RESTART_EXPLICITLY_STOPPED: 'true'})
    client.kill_task(container.id, signum)
    if status in ('paused', 'pausing'):
        try:
            client.resume_task(container.id)
        except ContainerdError as exc:
            ctx.warn('cannot resume container %s after signalling it: %s' % (container.id, exc))
    return signum


# ---- restart --------------------------------------------------------------------------------------------

def restart(client, container, ctx, timeout=None, signal=None):
    """nerdctl's restart: Stop, then Start (which re-reads the record the stop relabelled)."""
    stop(client, container, ctx, timeout=timeout, signal=signal)
    return start(client, client.get_container(container.id), ctx)
