# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection reports about one container: the `container` return value of every module.

Everything is read, nothing is written: unlike nerdctl's `port`, reading ports does not create the
state directory, so an info task in check mode or on a read-only node has no side effect.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from . import labels as L
from .datastore import container_state_dir, data_store
from .netopts import network_options_from_spec
from .ports import load_port_mappings
from .schemas import load_json
from .volumes import container_volumes
from .errors import ContainerdError


def _timestamp(ts):
    """A protobuf Timestamp as RFC 3339 UTC text, or None when unset."""
    if not ts.seconds and not ts.nanos:
        return None
    return ts.ToJsonString()


def state_dir_of(record, params):
    """The state dir recorded in the labels, else where nerdctl would put it for this data store."""
    recorded = record.labels.get(L.STATE_DIR)
    if recorded:
        return recorded
    store = data_store(params['data_root'], params['address'], create=False)
    return container_state_dir(store, params['namespace'], record.id)


def ports_of(record, params, warn):
    """Published ports in stored order, as go-cni PortMapping dicts (network-config.json, then the label)."""
    lbl = dict(record.labels)
    return load_port_mappings(state_dir_of(record, params), lbl, warn, L.container_name(lbl), record.id)


def port_dicts(mappings):
    return [{'container_port': m['ContainerPort'], 'protocol': m.get('Protocol') or 'tcp',
             'host_ip': m.get('HostIP') or '', 'host_port': m['HostPort']} for m in mappings]


def _ports_or_warn(record, params, warn):
    """Malformed port data fails `nerdctl port`, but must not hide the rest of the container: warn instead."""
    try:
        return ports_of(record, params, warn)
    except ContainerdError as exc:
        warn(str(exc).replace('\n', ': '))
        return []


def _network_options(spec, warn):
    try:
        opts = network_options_from_spec(spec)
    except ContainerdError as exc:
        warn('cannot determine networking options: %s' % exc)
        return None
    return opts


def _auto_remove(lbl, warn):
    raw = lbl.get(L.AUTO_REMOVE)
    if raw is None:
        return False
    try:
        return L.decode_rm_opt(raw)
    except ContainerdError as exc:
        warn('%s: %s' % (L.AUTO_REMOVE, exc))
        return False


def restart_of(lbl):
    count = lbl.get(L.RESTART_COUNT)
    try:
        count = int(count) if count not in (None, '') else 0
    except ValueError:
        count = 0
    stopped = lbl.get(L.RESTART_EXPLICITLY_STOPPED)
    return {
        'policy': lbl.get(L.RESTART_POLICY) or 'no',
        'status': lbl.get(L.RESTART_STATUS),
        'explicitly_stopped': stopped == 'true',
        'count': count,
    }


def container_info(client, record, params, warn, task=None):
    """The `container` dict for a containerd Container record (see the modules' RETURN docs)."""
    lbl = dict(record.labels)
    if task is None:
        status, task = client.task_status(record.id)
    else:
        from .client import TASK_STATUS
        status = TASK_STATUS.get(task.status, 'unknown')
    if status is None:
        status = 'created'
    spec = client.read_spec(record)
    pid = task.pid if task is not None and status in ('running', 'paused', 'pausing') else None
    extra = load_json(L.EXTRA_HOSTS, lbl[L.EXTRA_HOSTS], warn) if lbl.get(L.EXTRA_HOSTS) else None
    return {
        'id': record.id,
        'name': L.container_name(lbl),
        'image': record.image,
        'labels': lbl,
        'status': status,
        'pid': pid,
        'netns_path': '/proc/%d/ns/net' % pid if pid and status == 'running' else None,
        'state_dir': state_dir_of(record, params),
        'volumes': container_volumes(lbl, warn),
        'network_options': _network_options(spec, warn),
        'extra_hosts': extra or [],
        'ports': port_dicts(_ports_or_warn(record, params, warn)),
        'restart': restart_of(lbl),
        'error': lbl.get(L.ERROR),
        'auto_remove': _auto_remove(lbl, warn),
        'created_at': _timestamp(record.created_at),
        'updated_at': _timestamp(record.updated_at),
        'snapshotter': record.snapshotter,
        'snapshot_key': record.snapshot_key,
        'runtime': record.runtime.name,
    }
