# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nerdctl's network type detection."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import UserError
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.network import nettype


@pytest.mark.parametrize('networks, expected', [
    ([], 'cni'), (['bridge'], 'cni'), (['a', 'b'], 'cni'), (['host'], 'host'), (['none'], 'none'),
    (['container:abc'], 'container'), (['ns:/proc/1/ns/net'], 'ns'), (['hostile'], 'cni'),
])
def test_detect(networks, expected):
    assert nettype.detect(networks) == expected


def test_mixed_types_are_refused_with_nerdctls_text():
    with pytest.raises(UserError, match='^mixed network types: cni and host$'):
        nettype.detect(['bridge', 'host'])
