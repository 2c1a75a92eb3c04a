# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small decisions of nerdctl's pkg/containerutil: task status, netns path, stop timeout and signal parsing.

The lifecycle verbs depend on these exact rules (e.g. `kill -s 9` must fail while `stop -s 9` works),
so they are kept apart from the code that talks to containerd and tested on their own.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from . import labels as L
from .errors import NotFoundError, UserError
from .goutil import parse_duration

DEFAULT_STOP_TIMEOUT = 10.0

SIGRTMIN = 34
SIGRTMAX = 64

# moby/sys/signal's Linux table (identical on x86_64 and aarch64), names without the SIG prefix.
SIGNALS = {
    'ABRT': 6, 'ALRM': 14, 'BUS': 7, 'CHLD': 17, 'CLD': 17, 'CONT': 18, 'FPE': 8, 'HUP': 1, 'ILL': 4,
    'INT': 2, 'IO': 29, 'IOT': 6, 'KILL': 9, 'PIPE': 13, 'POLL': 29, 'PROF': 27, 'PWR': 30, 'QUIT': 3,
    'SEGV': 11, 'STKFLT': 16, 'STOP': 19, 'SYS': 31, 'TERM': 15, 'TRAP': 5, 'TSTP': 20, 'TTIN': 21,
    'TTOU': 22, 'URG': 23, 'USR1': 10, 'USR2': 12, 'VTALRM': 26, 'WINCH': 28, 'XCPU': 24, 'XFSZ': 25,
    'RTMIN': SIGRTMIN, 'RTMAX': SIGRTMAX,
}
SIGNALS.update(('RTMIN+%d' % i, SIGRTMIN + i) for i in range(1, 16))
SIGNALS.update(('RTMAX-%d' % i, SIGRTMAX - i) for i in range(1, 15))

_ATOI_RE = re.compile(r'^[+-]?[0-9]+$')


def container_status(client, cid):
    """The task status name (running, created, stopped, paused, pausing, unknown), or None without a task."""
    status, _task = client.task_status(cid)
    return status


def netns_path(client, cid):
    """ContainerNetNSPath: /proc/<pid>/ns/net of a running task; the target of --net=container:."""
    status, task = client.task_status(cid)
    if task is None:
        raise NotFoundError('no running task found: task %s not found: not found' % cid)
    if status != 'running':
        raise UserError('invalid target container: %s, should be running' % cid)
    return '/proc/%d/ns/net' % task.pid


def stop_timeout(container_labels, override=None):
    """Seconds to wait before SIGKILL: the -t value if given, else nerdctl/stop-timeout, else 10.

    The label is parsed as Go parses `<value>s` (so `1m` means 1ms and a bad value is Go's duration
    error).  A result <= 0 means SIGKILL at once.
    """
    if override is not None:
        return float(override)
    value = (container_labels or {}).get(L.STOP_TIMEOUT)
    if value is None:
        return DEFAULT_STOP_TIMEOUT
    return parse_duration(value + 's')


def parse_signal(text, kill_style=False):
    """A signal name or number -> its number on Linux, with nerdctl's two flavours.

    Stop (default): a decimal number is taken as is (0 is invalid); otherwise upper-case, strip one
    leading SIG, look the name up.  Kill: `SIG` is prepended unless the text already starts with an
    upper-case `SIG`, so `kill -s 9` fails (`invalid signal: SIG9`) while `-s term` works.
    """
    raw = text
    if kill_style and not raw.startswith('SIG'):
        raw = 'SIG' + raw
    if _ATOI_RE.match(raw):
        number = int(raw)
        if -2 ** 63 <= number < 2 ** 63:
            if number == 0:
                raise UserError('invalid signal: %s' % raw)
            return number
    name = raw.upper()
    if name.startswith('SIG'):
        name = name[3:]
    if name not in SIGNALS:
        raise UserError('invalid signal: %s' % raw)
    return SIGNALS[name]


def stop_signal(signal_value, container_labels):
    """The signal stop sends first: --signal, else the image/--stop-signal label, else SIGTERM."""
    if signal_value:
        return parse_signal(signal_value)
    container_labels = container_labels or {}
    if L.STOP_SIGNAL in container_labels:
        return parse_signal(container_labels[L.STOP_SIGNAL])
    return parse_signal('SIGTERM')
