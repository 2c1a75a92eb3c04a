# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Label keys and the label rules of nerdctl-behaviour.md §2, §3.12, §3.13."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import labels as L
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import UserError


def test_keys_are_nerdctls_spelling():
    assert L.NAME == 'nerdctl/name'
    assert L.EXTRA_HOSTS == 'nerdctl/extraHosts'
    assert L.MOUNTS == 'nerdctl/mounts'
    assert L.MOUNTS_PREFIX == 'nerdctl/mounts.'
    assert L.mounts_key(3) == 'nerdctl/mounts.3'
    assert L.STATE_DIR == 'nerdctl/state-dir'
    assert L.MAC_ADDRESS == 'nerdctl/mac-address'
    assert L.ANONYMOUS_VOLUMES == 'nerdctl/anonymous-volumes'
    assert L.STOP_TIMEOUT == 'nerdctl/stop-timeout'
    assert L.PID_CONTAINER == 'nerdctl/pid-container'
    assert L.AUTO_REMOVE == 'nerdctl/auto-remove'
    assert L.HOST_CONFIG == 'nerdctl/host-config'
    assert L.STOP_SIGNAL == 'io.containerd.image.config.stop-signal'
    assert L.RESTART_POLICY == 'containerd.io/restart.policy'
    assert L.RESTART_STATUS == 'containerd.io/restart.status'
    assert L.RESTART_EXPLICITLY_STOPPED == 'containerd.io/restart.explicitly-stopped'
    assert L.RESTART_COUNT == 'containerd.io/restart.count'
    assert L.RESTART_LOGURI == 'containerd.io/restart.loguri'
    assert L.CRI_KIND == 'io.cri-containerd.kind'


@pytest.mark.parametrize('labels, expected', [
    ({L.NAME: 'web'}, 'web'),
    ({L.NAME: '', L.K8S_POD_NAMESPACE: 'ns', L.K8S_POD_NAME: 'p'}, ''),  # key present, even empty, wins
    ({L.K8S_POD_NAMESPACE: 'ns', L.K8S_POD_NAME: 'p', L.K8S_CONTAINER_NAME: 'c'}, 'k8s://ns/p/c'),
    ({L.K8S_POD_NAMESPACE: 'ns', L.K8S_POD_NAME: 'p'}, 'k8s://ns/p'),
    ({L.K8S_POD_NAMESPACE: 'ns', L.K8S_CONTAINER_NAME: 'c'}, ''),
    ({}, ''),
])
def test_container_name(labels, expected):
    assert L.container_name(labels) == expected


def test_rm_opt_roundtrip():
    assert L.encode_rm_opt(True) == 'true'
    assert L.encode_rm_opt(False) == 'false'
    for word in ('1', 't', 'T', 'TRUE', 'true', 'True'):
        assert L.decode_rm_opt(word) is True
    for word in ('0', 'f', 'F', 'FALSE', 'false', 'False'):
        assert L.decode_rm_opt(word) is False


@pytest.mark.parametrize('word', ['', 'yes', 'tRUE', ' true', 'on'])
def test_rm_opt_invalid(word):
    with pytest.raises(UserError) as exc:
        L.decode_rm_opt(word)
    assert str(exc.value) == 'strconv.ParseBool: parsing "%s": invalid syntax' % word


def test_user_labels_reject_internal_prefix():
    L.validate_user_labels({'app': 'x', 'com.example/nerdctl/x': 'y'})
    with pytest.raises(UserError) as exc:
        L.validate_user_labels({'app': 'x', 'nerdctl/name': 'y'})
    assert str(exc.value) == 'internal label "nerdctl/name" must not be specified manually'


def test_annotations_copy_every_key_containing_prefix():
    labels = {L.NAME: 'a', 'x.nerdctl/y': '1', 'app': '2', L.RESTART_POLICY: 'always'}
    assert L.annotations_from_labels(labels) == {L.NAME: 'a', 'x.nerdctl/y': '1'}


def test_label_size_limit():
    assert L.label_fits('k', 'v' * 4095)
    assert not L.label_fits('k', 'v' * 4096)
