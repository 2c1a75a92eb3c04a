# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the cp engine tests: the host and container roots, closed after each test."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.ctrd.containerd.tests.unit.plugins.module_utils.containerd.cp.cp_tree import make_roots


@pytest.fixture
def roots(tmp_path):
    """(host, ctr): `host` and `ctr` under tmp_path, opened as the engine's roots."""
    host, ctr = make_roots(tmp_path)
    yield host, ctr
    host.close()
    ctr.close()
