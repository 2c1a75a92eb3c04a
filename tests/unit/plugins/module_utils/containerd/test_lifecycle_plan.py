# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd_container_state's decision table (nerdctl-behaviour.md §3.7-§3.9, §5.1-§5.5)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import UserError
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.state import check_options, plan

CID = 'abc123'


@pytest.mark.parametrize('status, verb', [
    ('running', None), ('paused', 'resume'), ('pausing', 'resume'),
    ('created', 'start'), ('stopped', 'start'), ('unknown', 'start'),
])
def test_started(status, verb):
    assert plan(status, 'started', CID) == (verb, 'running')


@pytest.mark.parametrize('status, expected', [
    ('running', ('stop', 'stopped')), ('paused', ('stop', 'stopped')), ('pausing', ('stop', 'stopped')),
    ('stopped', (None, 'stopped')), ('created', (None, 'created')),
])
def test_stopped(status, expected):
    assert plan(status, 'stopped', CID) == expected


def test_paused():
    assert plan('running', 'paused', CID) == ('pause', 'paused')
    assert plan('paused', 'paused', CID) == (None, 'paused')
    for status in ('created', 'stopped'):
        with pytest.raises(UserError, match='^container abc123 is not running$'):
            plan(status, 'paused', CID)


@pytest.mark.parametrize('status', ['running', 'paused', 'stopped', 'created'])
def test_restarted_always_changes(status):
    assert plan(status, 'restarted', CID) == ('restart', 'running')


def test_killed():
    assert plan('running', 'killed', CID, 9) == ('kill', 'stopped')
    assert plan('running', 'killed', CID, 1) == ('kill', 'running')
    assert plan('paused', 'killed', CID, 1) == ('kill', 'running')
    for status in ('created', 'stopped'):
        with pytest.raises(UserError, match='^cannot kill container abc123: container is not running$'):
            plan(status, 'killed', CID, 9)


def _params(state, **kw):
    params = dict(state=state, signal=None, stop_timeout=None, stop_signal=None)
    params.update(kw)
    return params


def test_options_that_do_not_apply_are_refused():
    check_options(_params('killed', signal='HUP'))
    check_options(_params('stopped', stop_timeout=3, stop_signal='INT'))
    check_options(_params('restarted', stop_timeout=0))
    with pytest.raises(UserError, match='signal is only used with state=killed'):
        check_options(_params('stopped', signal='HUP'))
    with pytest.raises(UserError, match='stop_timeout is only used'):
        check_options(_params('started', stop_timeout=3))
    with pytest.raises(UserError, match='stop_signal is only used'):
        check_options(_params('paused', stop_signal='INT'))
