# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The embedded API description: the hand-split descriptor set and the private pool built from it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import zlib

import pytest

from google.protobuf import descriptor_pb2

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import api
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.api_descriptor import DESCRIPTOR_SET_B64


def _raw():
    return zlib.decompress(base64.b64decode(''.join(DESCRIPTOR_SET_B64)))


def test_split_matches_protobufs_own_parse():
    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(_raw())
    assert api.split_file_set(_raw()) == [f.SerializeToString() for f in fds.file]


def test_split_refuses_other_fields():
    with pytest.raises(ValueError, match='unexpected field tag'):
        api.split_file_set(b'\x12\x00')


def test_multibyte_lengths_are_decoded():
    body = b'x' * 300  # a length that needs two varint bytes
    assert api.split_file_set(b'\x0a\xac\x02' + body + b'\x0a\x01y') == [body, b'y']


def test_pool_builds_messages_and_streaming_shapes():
    a = api.Api()
    req = a.msg('containerd.services.tasks.v1.KillRequest')(container_id='c', signal=15, all=True)
    assert req.signal == 15
    svc = a.pool.FindServiceByName('containerd.services.content.v1.Content')
    write = svc.FindMethodByName('Write')
    assert write.client_streaming and write.server_streaming
    assert a.msg('google.protobuf.Any') is a.msg('google.protobuf.Any')
