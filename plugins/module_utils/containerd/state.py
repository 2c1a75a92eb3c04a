# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Policy of containerd_container_state: read the container's status, decide, and call the mechanism.

plan() is the whole decision (pure, unit-tested): which verb of lifecycle.py to run for a wanted state
and a current status, and which status results.  state_policy() adds what Ansible needs around it:
check mode, --diff with the status before and after, and the `container` return value.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from . import lifecycle
from .errors import UserError
from .info import container_info
from .resolve import resolve_container

STATES = ('started', 'stopped', 'paused', 'restarted', 'killed')
ACTIVE = lifecycle.ACTIVE
PAUSED = ('paused', 'pausing')


def plan(status, state, container_id, kill_signum=None):
    """(verb or None, predicted status) for `state` given the task `status` (`created` = no task).

    Raises UserError with nerdctl's text where nerdctl's verb refuses: pausing or killing a container
    that is not running.
    """
    if state == 'started':
        if status == 'running':
            return None, 'running'
        if status in PAUSED:
            return 'resume', 'running'
        return 'start', 'running'
    if state == 'stopped':
        if status in ACTIVE:
            return 'stop', 'stopped'
        return None, status
    if state == 'paused':
        if status in PAUSED:
            return None, 'paused'
        if status in ('created', 'stopped'):
            raise UserError('container %s is not running' % container_id)
        return 'pause', 'paused'
    if state == 'restarted':
        return 'restart', 'running'
    if state == 'killed':
        if status not in ACTIVE:
            raise UserError('cannot kill container %s: container is not running' % container_id)
        if kill_signum == lifecycle.SIGKILL:
            return 'kill', 'stopped'
        return 'kill', 'running'
    raise UserError('unsupported state %s' % state)


def check_options(params):
    """Options that only make sense with some states are refused with the others, not silently ignored."""
    state = params['state']
    if params.get('signal') is not None and state != 'killed':
        raise UserError('signal is only used with state=killed; use stop_signal for stopped and restarted')
    for key in ('stop_timeout', 'stop_signal'):
        if params.get(key) is not None and state not in ('stopped', 'restarted'):
            raise UserError('%s is only used with state=stopped and state=restarted' % key)


def _run(verb, client, record, ctx, params):
    """Call the mechanism; returns the exit status of a stop, else None."""
    if verb == 'start':
        lifecycle.start(client, record, ctx)
    elif verb == 'resume':
        lifecycle.resume(client, record, ctx)
    elif verb == 'pause':
        lifecycle.pause(client, record, ctx)
    elif verb == 'stop':
        return lifecycle.stop(client, record, ctx, timeout=params.get('stop_timeout'), signal=params.get('stop_signal'))
    elif verb == 'restart':
        code = lifecycle.stop(client, record, ctx, timeout=params.get('stop_timeout'),
                              signal=params.get('stop_signal'))
        lifecycle.start(client, client.get_container(record.id), ctx)
        return code
    elif verb == 'kill':
        lifecycle.kill(client, record, ctx, signal=params.get('signal'))
    return None


def state_policy(mod):
    """Bring the container named by `name` into `state`; changed, diff and container as documented."""
    params = mod.params
    client = mod.client
    check_options(params)
    record = resolve_container(client, params['name'])
    ctx = lifecycle.Context.from_params(params, mod.warn, req=params['name'])
    signum = lifecycle.kill_signal(params.get('signal')) if params['state'] == 'killed' else None
    if params['state'] in ('stopped', 'restarted'):
        # Bad timeout labels or signal names fail before anything is touched, in check mode too.
        lifecycle.stop_parameters(dict(record.labels), params.get('stop_timeout'), params.get('stop_signal'))
    before, _task = lifecycle.status_of(client, record.id)
    verb, after = plan(before, params['state'], record.id, signum)
    result = {'changed': verb is not None, 'exit_status': None}
    if verb is not None and not mod.check_mode:
        result['exit_status'] = _run(verb, client, record, ctx, params)
        record = client.get_container(record.id)
        after, _task = lifecycle.status_of(client, record.id)
    result['container'] = container_info(client, record, params, mod.warn)
    if mod.diff_mode:
        result['diff'] = {'before': {'status': before}, 'after': {'status': after}}
    return result
