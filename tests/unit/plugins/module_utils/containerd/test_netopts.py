# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nettype.Detect and NetworkOptionsFromSpec (nerdctl-behaviour.md §3.18, §7.1)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import netopts
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import UserError


@pytest.mark.parametrize('networks, kind', [
    ([], 'cni'), (None, 'cni'), (['bridge'], 'cni'), (['net1', 'net2'], 'cni'), (['host'], 'host'), (['none'], 'none'),
    (['container:' + 'a' * 64], 'container'), (['ns:/var/run/netns/x'], 'ns'), (['hostile'], 'cni'),
])
def test_network_type(networks, kind):
    assert netopts.network_type(networks) == kind


@pytest.mark.parametrize('networks, message', [
    (['bridge', 'host'], 'mixed network types: cni and host'),
    (['none', 'bridge'], 'mixed network types: none and cni'),
    (['container:x', 'ns:/p'], 'mixed network types: container and ns'),
])
def test_network_type_mixed(networks, message):
    with pytest.raises(UserError) as exc:
        netopts.network_type(networks)
    assert str(exc.value) == message


def test_network_options_from_spec_reads_annotations():
    spec = {'hostname': 'web', 'annotations': {
        'nerdctl/networks': '["net1","net2"]', 'nerdctl/mac-address': '02:42:ac:11:00:02', 'nerdctl/ip': '10.4.0.9',
        'nerdctl/ip6': 'fd00::9'}}
    assert netopts.network_options_from_spec(spec) == {
        'hostname': 'web', 'mac_address': '02:42:ac:11:00:02', 'ip_address': '10.4.0.9', 'networks': ['net1', 'net2']}
    assert netopts.network_options_from_spec({'annotations': {'nerdctl/networks': 'null'}})['networks'] == []


@pytest.mark.parametrize('spec, message', [
    (None, 'cannot determine networking options from nil spec'),
    ({'hostname': 'x'}, 'cannot determine networking options from nil spec.Annotations'),
    ({'annotations': {}}, 'unexpected end of JSON input'),
    ({'annotations': {'nerdctl/networks': '["bridge"'}}, 'unexpected end of JSON input'),
    ({'annotations': {'nerdctl/networks': 'x'}}, "invalid character 'x' looking for beginning of value"),
    ({'annotations': {'nerdctl/networks': '"bridge"'}}, 'json: cannot unmarshal string into Go value of type []string'),
    ({'annotations': {'nerdctl/networks': '[1]'}}, 'json: cannot unmarshal number into Go value of type string'),
])
def test_network_options_from_spec_errors(spec, message):
    with pytest.raises(UserError) as exc:
        netopts.network_options_from_spec(spec)
    assert str(exc.value) == message
