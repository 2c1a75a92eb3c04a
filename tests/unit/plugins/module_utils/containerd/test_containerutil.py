# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Status, netns path, stop timeout and signal rules (nerdctl-behaviour.md §3.2, §3.3, §3.8, §5.5, §13.6-7)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import containerutil as cu
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import NotFoundError, UserError


class FakeTask(object):
    def __init__(self, pid):
        self.pid = pid


class FakeClient(object):
    """Answers task_status() like client.Client: (status, task) or (None, None) without a task."""

    def __init__(self, tasks):
        self.tasks = tasks

    def task_status(self, cid):
        if cid not in self.tasks:
            return None, None
        status, pid = self.tasks[cid]
        return status, FakeTask(pid)


CLIENT = FakeClient({'run': ('running', 4242), 'stopped': ('stopped', 0), 'paused': ('paused', 77)})


def test_container_status():
    assert cu.container_status(CLIENT, 'run') == 'running'
    assert cu.container_status(CLIENT, 'paused') == 'paused'
    assert cu.container_status(CLIENT, 'never-started') is None


def test_netns_path():
    assert cu.netns_path(CLIENT, 'run') == '/proc/4242/ns/net'
    for cid in ('stopped', 'paused'):
        with pytest.raises(UserError) as exc:
            cu.netns_path(CLIENT, cid)
        assert str(exc.value) == 'invalid target container: %s, should be running' % cid
    with pytest.raises(NotFoundError):
        cu.netns_path(CLIENT, 'never-started')


def test_stop_timeout_precedence():
    labels = {'nerdctl/stop-timeout': '30'}
    assert cu.stop_timeout(labels, 5) == 5
    assert cu.stop_timeout(labels, 0) == 0  # -t 0 given: immediate SIGKILL
    assert cu.stop_timeout(labels) == 30
    assert cu.stop_timeout({}) == 10
    assert cu.stop_timeout({'nerdctl/stop-timeout': '-1'}) == -1
    assert cu.stop_timeout({'nerdctl/stop-timeout': '1.5'}) == 1.5


def test_stop_timeout_bad_label():
    with pytest.raises(UserError) as exc:
        cu.stop_timeout({'nerdctl/stop-timeout': 'abc'})
    assert str(exc.value) == 'time: invalid duration "abcs"'
    with pytest.raises(UserError) as exc:
        cu.stop_timeout({'nerdctl/stop-timeout': ''})
    assert str(exc.value) == 'time: invalid duration "s"'


@pytest.mark.parametrize('text, number', [
    ('SIGTERM', 15), ('TERM', 15), ('term', 15), ('sigterm', 15), ('9', 9), ('KILL', 9), ('SIGUSR1', 10),
    ('SIGRTMIN+3', 37), ('RTMIN', 34), ('SIGRTMAX-1', 63), ('SIGRTMAX', 64), ('SIGCLD', 17), ('sigstkflt', 16),
    ('+2', 2),
])
def test_parse_signal_stop_style(text, number):
    assert cu.parse_signal(text) == number


@pytest.mark.parametrize('text', ['0', 'SIGSIGTERM', 'FOO', '', 'SIGRTMIN+16', 'RTMAX-15'])
def test_parse_signal_stop_style_invalid(text):
    with pytest.raises(UserError) as exc:
        cu.parse_signal(text)
    assert str(exc.value) == 'invalid signal: %s' % text


@pytest.mark.parametrize('text, number', [('KILL', 9), ('SIGKILL', 9), ('term', 15), ('SIGRTMIN+3', 37), ('HUP', 1)])
def test_parse_signal_kill_style(text, number):
    assert cu.parse_signal(text, kill_style=True) == number


@pytest.mark.parametrize('text, message', [
    ('9', 'invalid signal: SIG9'),
    ('sigterm', 'invalid signal: SIGsigterm'),
    ('0', 'invalid signal: SIG0'),
])
def test_parse_signal_kill_style_invalid(text, message):
    with pytest.raises(UserError) as exc:
        cu.parse_signal(text, kill_style=True)
    assert str(exc.value) == message


def test_stop_signal_precedence():
    labels = {'io.containerd.image.config.stop-signal': 'SIGQUIT'}
    assert cu.stop_signal('SIGUSR1', labels) == 10
    assert cu.stop_signal('', labels) == 3
    assert cu.stop_signal(None, {}) == 15
    with pytest.raises(UserError) as exc:
        cu.stop_signal('', {'io.containerd.image.config.stop-signal': 'BOGUS'})
    assert str(exc.value) == 'invalid signal: BOGUS'
