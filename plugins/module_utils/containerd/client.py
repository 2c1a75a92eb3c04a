# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One client per containerd connection: thin methods over containerd's gRPC services.

The client knows the transport (socket, namespace header, deadlines, error mapping) and the shapes of
containerd's messages.  It knows nothing of nerdctl's rules or of Ansible; those live above it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat

from .api import LEASE_HEADER, NAMESPACE_HEADER, RUNC_OPTIONS, SPEC_TYPE_URL, get_api
from .errors import ConnectError, NotFoundError, from_rpc_error

try:
    import grpc
except ImportError:  # reported by the module base through api.IMPORT_ERROR
    grpc = None

CONTAINERS = 'containerd.services.containers.v1.Containers'
TASKS = 'containerd.services.tasks.v1.Tasks'
SNAPSHOTS = 'containerd.services.snapshots.v1.Snapshots'
CONTENT = 'containerd.services.content.v1.Content'
IMAGES = 'containerd.services.images.v1.Images'
LEASES = 'containerd.services.leases.v1.Leases'
DIFF = 'containerd.services.diff.v1.Diff'
NAMESPACES = 'containerd.services.namespaces.v1.Namespaces'
VERSION = 'containerd.services.version.v1.Version'
INTROSPECTION = 'containerd.services.introspection.v1.Introspection'
EVENTS = 'containerd.services.events.v1.Events'

# containerd.v1.types.Status, as names (the proto enum values are unprefixed).
TASK_STATUS = {0: 'unknown', 1: 'created', 2: 'running', 3: 'stopped', 4: 'paused', 5: 'pausing'}

MAX_MESSAGE = 64 * 1024 * 1024


def normalize_address(address):
    """Accept `/path`, `unix:///path` and `unix:/path`; return the filesystem path of the socket."""
    if address.startswith('unix://'):
        address = address[len('unix://'):]
    elif address.startswith('unix:'):
        address = address[len('unix:'):]
    return os.path.abspath(address)


class Client(object):
    """A connection to one containerd socket, working in one namespace."""

    def __init__(self, address, namespace='default', timeout=30.0):
        self.address = normalize_address(address)
        self.namespace = namespace
        self.timeout = float(timeout)
        self.api = get_api()
        self._check_socket()
        self.channel = grpc.insecure_channel(
            'unix://' + self.address,
            options=[('grpc.max_receive_message_length', MAX_MESSAGE),
                     ('grpc.max_send_message_length', MAX_MESSAGE)])

    def _check_socket(self):
        """Fail early with a clear sentence instead of waiting for grpc's connect error."""
        try:
            st = os.stat(self.address)
        except OSError as exc:
            raise ConnectError('cannot connect to containerd at %s: %s' % (self.address, exc.strerror))
        if not stat.S_ISSOCK(st.st_mode):
            raise ConnectError('cannot connect to containerd at %s: not a socket' % self.address)
        if not os.access(self.address, os.R_OK | os.W_OK):
            raise ConnectError('cannot connect to containerd at %s: permission denied' % self.address)

    def close(self):
        self.channel.close()

    # ---- transport -------------------------------------------------------------------------------

    def msg(self, full_name, **fields):
        return self.api.msg(full_name)(**fields)

    def metadata(self, namespaced=True, lease=None, namespace=None):
        md = []
        if namespaced:
            md.append((NAMESPACE_HEADER, namespace or self.namespace))
        if lease:
            md.append((LEASE_HEADER, lease))
        return md

    def call(self, service, method, request, timeout=None, namespaced=True, lease=None, namespace=None):
        """Unary call with the namespace header and a deadline; errors mapped to ContainerdError."""
        fn = self.api.method(self.channel, service, method)
        deadline = self.timeout if timeout is None else timeout
        try:
            return fn(request, timeout=deadline, metadata=self.metadata(namespaced, lease, namespace))
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, self.address, '%s.%s' % (service.rsplit('.', 1)[-1], method), deadline)

    def stream(self, service, method, request, timeout=None, namespaced=True, lease=None):
        """Server-streaming (or bidi, when request is an iterator) call, yielding responses."""
        fn = self.api.method(self.channel, service, method)
        deadline = self.timeout if timeout is None else timeout
        try:
            yield from fn(request, timeout=deadline, metadata=self.metadata(namespaced, lease))
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, self.address, '%s.%s' % (service.rsplit('.', 1)[-1], method), deadline)

    def _req(self, service, method, **fields):
        desc = self.api.pool.FindServiceByName(service).FindMethodByName(method)
        return self.api.msg(desc.input_type.full_name)(**fields)

    # ---- version, namespaces, introspection -------------------------------------------------------

    def version(self):
        resp = self.call(VERSION, 'Version', self.msg('google.protobuf.Empty'), namespaced=False)
        return {'version': resp.version, 'revision': resp.revision}

    def list_namespaces(self):
        resp = self.call(NAMESPACES, 'List', self._req(NAMESPACES, 'List'), namespaced=False)
        return [n.name for n in resp.namespaces]

    def ensure_namespace(self, name=None):
        name = name or self.namespace
        if name in self.list_namespaces():
            return False
        ns = self.msg('containerd.services.namespaces.v1.Namespace', name=name)
        try:
            # the header names the new namespace: containerd publishes the create event in it
            self.call(NAMESPACES, 'Create', self._req(NAMESPACES, 'Create', namespace=ns), namespace=name)
        except Exception as exc:  # a concurrent create is fine
            if getattr(exc, 'code', None) != 'ALREADY_EXISTS':
                raise
        return True

    def plugins(self, filters=None):
        resp = self.call(INTROSPECTION, 'Plugins', self._req(INTROSPECTION, 'Plugins', filters=filters or []),
                         namespaced=False)
        return list(resp.plugins)

    # ---- containers --------------------------------------------------------------------------------

    def list_containers(self, filters=None):
        resp = self.call(CONTAINERS, 'List', self._req(CONTAINERS, 'List', filters=filters or []))
        return list(resp.containers)

    def get_container(self, container_id):
        return self.call(CONTAINERS, 'Get', self._req(CONTAINERS, 'Get', id=container_id)).container

    def create_container(self, container):
        return self.call(CONTAINERS, 'Create', self._req(CONTAINERS, 'Create', container=container)).container

    def delete_container(self, container_id):
        self.call(CONTAINERS, 'Delete', self._req(CONTAINERS, 'Delete', id=container_id))

    def update_labels(self, container_id, labels):
        """Set (or, with an empty value, delete) the given labels and nothing else.

        The field mask names one `labels.<key>` path per key, so concurrent updates of other labels by
        nerdctl or containerd's restart monitor are never overwritten (unlike a whole-record rewrite).
        """
        if not labels:
            return None
        record = self.msg('containerd.services.containers.v1.Container', id=container_id)
        for key, value in labels.items():
            record.labels[key] = value
        mask = self.msg('google.protobuf.FieldMask', paths=['labels.' + k for k in labels])
        req = self._req(CONTAINERS, 'Update', container=record, update_mask=mask)
        return self.call(CONTAINERS, 'Update', req).container

    def update_spec(self, container_id, spec):
        record = self.msg('containerd.services.containers.v1.Container', id=container_id)
        record.spec.CopyFrom(self.spec_any(spec))
        mask = self.msg('google.protobuf.FieldMask', paths=['spec'])
        req = self._req(CONTAINERS, 'Update', container=record, update_mask=mask)
        return self.call(CONTAINERS, 'Update', req).container

    @staticmethod
    def read_spec(container):
        """The OCI runtime spec of a container record, as a dict (containerd stores it as JSON)."""
        if not container.spec.value:
            return {}
        return json.loads(container.spec.value.decode('utf-8'))

    def spec_any(self, spec):
        return self.msg('google.protobuf.Any', type_url=SPEC_TYPE_URL,
                        value=json.dumps(spec, separators=(',', ':')).encode('utf-8'))

    def runc_options_any(self, **fields):
        """runc options as an Any with the bare type URL that containerd 1.6 requires."""
        opts = self.msg(RUNC_OPTIONS, **fields)
        return self.msg('google.protobuf.Any', type_url=RUNC_OPTIONS, value=opts.SerializeToString())

    # ---- tasks -------------------------------------------------------------------------------------

    def get_task(self, container_id):
        """The task's process record, or None when the container has no task."""
        try:
            return self.call(TASKS, 'Get', self._req(TASKS, 'Get', container_id=container_id)).process
        except NotFoundError:
            return None

    def task_status(self, container_id):
        """`created` (no task, as nerdctl's inspect reports it) or the task status name."""
        task = self.get_task(container_id)
        if task is None:
            return None, None
        return TASK_STATUS.get(task.status, 'unknown'), task

    def create_task(self, container_id, rootfs, stdin='', stdout='', stderr='', terminal=False, options=None,
                    timeout=None):
        req = self._req(TASKS, 'Create', container_id=container_id, rootfs=rootfs, stdin=stdin, stdout=stdout,
                        stderr=stderr, terminal=terminal)
        if options is not None:
            req.options.CopyFrom(options)
        return self.call(TASKS, 'Create', req, timeout=timeout)

    def start_task(self, container_id, timeout=None):
        return self.call(TASKS, 'Start', self._req(TASKS, 'Start', container_id=container_id), timeout=timeout)

    def kill_task(self, container_id, signal, all_processes=False):
        self.call(TASKS, 'Kill', self._req(TASKS, 'Kill', container_id=container_id, signal=signal,
                                           all=all_processes))

    def delete_task(self, container_id, timeout=None):
        return self.call(TASKS, 'Delete', self._req(TASKS, 'Delete', container_id=container_id), timeout=timeout)

    def pause_task(self, container_id):
        self.call(TASKS, 'Pause', self._req(TASKS, 'Pause', container_id=container_id))

    def resume_task(self, container_id):
        self.call(TASKS, 'Resume', self._req(TASKS, 'Resume', container_id=container_id))

    def wait_task_future(self, container_id, timeout=None):
        """Start a Tasks.Wait without blocking; `.result()` gives the exit status (as nerdctl waits before it signals)."""
        fn = self.api.method(self.channel, TASKS, 'Wait')
        return fn.future(self._req(TASKS, 'Wait', container_id=container_id), timeout=timeout,
                         metadata=self.metadata())

    def wait_result(self, future, container_id):
        try:
            return future.result()
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, self.address, 'Tasks.Wait(%s)' % container_id)

    def list_pids(self, container_id):
        return list(self.call(TASKS, 'ListPids', self._req(TASKS, 'ListPids', container_id=container_id)).processes)

    def list_tasks(self):
        return list(self.call(TASKS, 'List', self._req(TASKS, 'List')).tasks)

    # ---- snapshots ---------------------------------------------------------------------------------

    def snapshot_mounts(self, snapshotter, key):
        req = self._req(SNAPSHOTS, 'Mounts', snapshotter=snapshotter, key=key)
        return list(self.call(SNAPSHOTS, 'Mounts', req).mounts)

    def prepare_snapshot(self, snapshotter, key, parent='', labels=None, lease=None):
        req = self._req(SNAPSHOTS, 'Prepare', snapshotter=snapshotter, key=key, parent=parent, labels=labels or {})
        return list(self.call(SNAPSHOTS, 'Prepare', req, lease=lease).mounts)

    def view_snapshot(self, snapshotter, key, parent, lease=None):
        req = self._req(SNAPSHOTS, 'View', snapshotter=snapshotter, key=key, parent=parent)
        return list(self.call(SNAPSHOTS, 'View', req, lease=lease).mounts)

    def commit_snapshot(self, snapshotter, name, key, labels=None, lease=None):
        req = self._req(SNAPSHOTS, 'Commit', snapshotter=snapshotter, name=name, key=key, labels=labels or {})
        self.call(SNAPSHOTS, 'Commit', req, lease=lease)

    def stat_snapshot(self, snapshotter, key):
        try:
            return self.call(SNAPSHOTS, 'Stat', self._req(SNAPSHOTS, 'Stat', snapshotter=snapshotter, key=key)).info
        except NotFoundError:
            return None

    def remove_snapshot(self, snapshotter, key):
        self.call(SNAPSHOTS, 'Remove', self._req(SNAPSHOTS, 'Remove', snapshotter=snapshotter, key=key))

    # ---- content, images, leases, diff ------------------------------------------------------------

    def content_info(self, digest):
        try:
            return self.call(CONTENT, 'Info', self._req(CONTENT, 'Info', digest=digest)).info
        except NotFoundError:
            return None

    def content_update_labels(self, digest, labels):
        info = self.msg('containerd.services.content.v1.Info', digest=digest, labels=labels)
        mask = self.msg('google.protobuf.FieldMask', paths=['labels.' + k for k in labels])
        self.call(CONTENT, 'Update', self._req(CONTENT, 'Update', info=info, update_mask=mask))

    def content_read(self, digest, timeout=None):
        data = []
        for chunk in self.stream(CONTENT, 'Read', self._req(CONTENT, 'Read', digest=digest), timeout=timeout):
            data.append(chunk.data)
        return b''.join(data)

    def content_write(self, ref, chunks, total, digest, labels=None, lease=None, timeout=None):
        """Write one blob through the bidi Write stream and commit it under its expected digest.

        `chunks` yields bytes.  An already present blob makes containerd answer ALREADY_EXISTS, which the
        caller treats as success.
        """
        api = self.api
        wreq = api.msg('containerd.services.content.v1.WriteContentRequest')
        action = api.pool.FindEnumTypeByName('containerd.services.content.v1.WriteAction').values_by_name

        def requests():
            yield wreq(action=action['STAT'].number, ref=ref)
            offset = 0
            for chunk in chunks:
                yield wreq(action=action['WRITE'].number, ref=ref, offset=offset, data=chunk)
                offset += len(chunk)
            yield wreq(action=action['COMMIT'].number, ref=ref, offset=offset, total=total, expected=digest,
                       labels=labels or {})
        for _resp in self.stream(CONTENT, 'Write', requests(), timeout=timeout, lease=lease):
            pass

    def get_image(self, name):
        try:
            return self.call(IMAGES, 'Get', self._req(IMAGES, 'Get', name=name)).image
        except NotFoundError:
            return None

    def list_images(self, filters=None):
        return list(self.call(IMAGES, 'List', self._req(IMAGES, 'List', filters=filters or [])).images)

    def create_image(self, image, lease=None):
        return self.call(IMAGES, 'Create', self._req(IMAGES, 'Create', image=image), lease=lease).image

    def update_image(self, image, paths, lease=None):
        mask = self.msg('google.protobuf.FieldMask', paths=paths)
        return self.call(IMAGES, 'Update', self._req(IMAGES, 'Update', image=image, update_mask=mask),
                         lease=lease).image

    def delete_image(self, name, sync=False):
        self.call(IMAGES, 'Delete', self._req(IMAGES, 'Delete', name=name, sync=sync))

    def create_lease(self, labels=None):
        return self.call(LEASES, 'Create', self._req(LEASES, 'Create', labels=labels or {})).lease.id

    def delete_lease(self, lease_id, sync=False):
        self.call(LEASES, 'Delete', self._req(LEASES, 'Delete', id=lease_id, sync=sync))

    def list_leases(self, filters=None):
        return list(self.call(LEASES, 'List', self._req(LEASES, 'List', filters=filters or [])).leases)

    def apply_diff(self, descriptor, mounts, lease=None, timeout=None):
        req = self._req(DIFF, 'Apply', diff=descriptor, mounts=mounts)
        return self.call(DIFF, 'Apply', req, lease=lease, timeout=timeout).applied

    # ---- appended by the lifecycle engineer ---------------------------------------------------------

    def wait_exit(self, future, container_id, timeout=None):
        """The exit status of a Wait future, or None when `timeout` seconds pass first (the Wait goes on).

        With timeout None it waits as long as the task runs: a stop's grace period is not bounded by the
        per-call deadline of the connection.
        """
        try:
            return future.result(timeout=timeout).exit_status
        except grpc.FutureTimeoutError:
            return None
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, self.address, 'Tasks.Wait(%s)' % container_id)
