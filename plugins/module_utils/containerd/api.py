# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd's gRPC API, built at run time from the embedded descriptor set.

Why not generated stubs: they pin the protobuf runtime (gencode/runtime checks) and need sanity ignores.
Message classes live in a private DescriptorPool, so they never clash with another package's copies of
the same protos, and methods are called through grpc's generic channel callables.

Importing this module never fails: a missing grpcio or protobuf is recorded in IMPORT_ERROR and
reported by the module base with missing_required_lib.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import os
import traceback
import zlib

from .api_descriptor import DESCRIPTOR_SET_B64

# gRPC's fork support (on by default in grpcio wheels) stops and restarts its threads around every fork().
# containerd_cp forks copy workers (cp/parallel.py) that never call gRPC and leave through os._exit, so
# the support is only a cost there.  It is read once, when grpc is first imported.  (Debian's grpcio 1.51
# ignores the variable; cp/parallel.py's spawner thread keeps those restarted threads harmless.)
os.environ['GRPC_ENABLE_FORK_SUPPORT'] = '0'

IMPORT_ERROR = None
IMPORT_TRACEBACK = None
MISSING_LIBRARY = None
try:
    import grpc  # noqa: F401  pylint: disable=unused-import
except ImportError as exc:
    IMPORT_ERROR = exc
    IMPORT_TRACEBACK = traceback.format_exc()
    MISSING_LIBRARY = 'grpcio'
try:
    from google.protobuf import descriptor_pool
    from google.protobuf import message_factory
except ImportError as exc:
    if IMPORT_ERROR is None:
        IMPORT_ERROR = exc
        IMPORT_TRACEBACK = traceback.format_exc()
        MISSING_LIBRARY = 'protobuf'

NAMESPACE_HEADER = 'containerd-namespace'
LEASE_HEADER = 'containerd-lease'
SPEC_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Spec'
RUNC_OPTIONS = 'containerd.runc.v1.Options'


def _varint(data, pos):
    """Decode a protobuf varint at pos; return (value, next position)."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def split_file_set(raw):
    """The serialized FileDescriptorProtos of a FileDescriptorSet, in order (dependencies first).

    A FileDescriptorSet is only `repeated FileDescriptorProto file = 1`, so its wire format is a run of
    (tag 0x0A, length, bytes).  Splitting it by hand lets the pool take each file with AddSerializedFile
    and spares importing descriptor_pb2, about 12 ms of every module's start-up.
    """
    pos = 0
    files = []
    while pos < len(raw):
        tag, pos = _varint(raw, pos)
        if tag != 0x0A:
            raise ValueError('unexpected field tag %d in the embedded descriptor set' % tag)
        length, pos = _varint(raw, pos)
        files.append(raw[pos:pos + length])
        pos += length
    return files


class Api(object):
    """Message classes and method callables, looked up by full name."""

    def __init__(self):
        if IMPORT_ERROR is not None:
            raise IMPORT_ERROR
        raw = zlib.decompress(base64.b64decode(''.join(DESCRIPTOR_SET_B64)))
        self.pool = descriptor_pool.DescriptorPool()
        for serialized in split_file_set(raw):
            self.pool.AddSerializedFile(serialized)
        self._classes = {}
        self._methods = {}
        self._factory = None

    def msg(self, full_name):
        """Return the message class for a full name such as containerd.services.tasks.v1.GetRequest."""
        cls = self._classes.get(full_name)
        if cls is None:
            desc = self.pool.FindMessageTypeByName(full_name)
            get_class = getattr(message_factory, 'GetMessageClass', None)
            if get_class is not None:
                cls = get_class(desc)
            else:  # protobuf < 4.22
                if self._factory is None:
                    self._factory = message_factory.MessageFactory(self.pool)
                cls = self._factory.GetPrototype(desc)
            self._classes[full_name] = cls
        return cls

    def method(self, channel, service, name):
        """Return the grpc callable for /<service>/<name>, picking the streaming shape from the descriptor."""
        key = (id(channel), service, name)
        call = self._methods.get(key)
        if call is None:
            desc = self.pool.FindServiceByName(service).FindMethodByName(name)
            request = self.msg(desc.input_type.full_name)
            response = self.msg(desc.output_type.full_name)
            if desc.client_streaming:
                kind = channel.stream_stream if desc.server_streaming else channel.stream_unary
            else:
                kind = channel.unary_stream if desc.server_streaming else channel.unary_unary
            call = kind('/%s/%s' % (service, name), request_serializer=request.SerializeToString,
                        response_deserializer=response.FromString)
            self._methods[key] = call
        return call


_API = []


def get_api():
    """One Api per process: building the pool costs about a millisecond, message classes are cached."""
    if not _API:
        _API.append(Api())
    return _API[0]
