# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nerdctl's explicit network cleanup in `stop` and `kill` (cleanupNetwork, nerdctl v2.0.0+).

It runs before the stop signal, so published ports stop forwarding while the process shuts down, and
it runs even when the task is already stopped (a self-exited container keeps its CNI state until then).
Like the hook it reads the create-time spec ANNOTATIONS, never the (possibly updated) labels.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

from .. import labels as L
from ..errors import ContainerdError, UserError
from ..ports import load_port_mappings
from .cni import CNI, CNIError, cni_lock
from .conflist import DEFAULT_NETWORK_NAME
from .netopts import container_net


def _get(ctx, key):
    if isinstance(ctx, dict):
        return ctx.get(key)
    return getattr(ctx, key, None)


def _warn(ctx):
    warn = _get(ctx, 'warn')
    return warn if callable(warn) else (lambda msg: None)


def cleanup_network_spec(spec, container_id, state_dir, ctx, labels=None):
    """CNI Remove with an empty netns and the port mappings, for a container given by its spec.

    `ctx` holds `cni_path`, `cni_netconf_path` and optionally `warn` (attributes or dict keys).
    Returns True when CNI was called.  A missing or invalid `nerdctl/networks` annotation is not an
    error (nerdctl only logs it); a CNI failure raises ContainerdError('failed to call cni.Remove: ...').
    """
    annotations = (spec or {}).get('annotations') or {}
    warn = _warn(ctx)
    try:
        ports = load_port_mappings(state_dir, labels if labels is not None else annotations, warn,
                                   annotations.get(L.NAME, ''), container_id)
    except ContainerdError as exc:
        raise UserError('no oci spec: "%s"' % exc)
    text = annotations.get(L.NETWORKS)
    try:
        networks = json.loads(text) if text else None
    except ValueError:
        networks = None
    if not isinstance(networks, list):
        return False
    netconf = _get(ctx, 'cni_netconf_path')
    with cni_lock(netconf):
        net = container_net(annotations, container_id, netconf, ports, cni_path=_get(ctx, 'cni_path'),
                            create_default=DEFAULT_NETWORK_NAME in networks)
        if not net.is_cni:
            return False
        try:
            CNI(_get(ctx, 'cni_path')).remove(net.confs, net.cni_id, '', net.options)
        except CNIError as exc:
            warn('failed to call cni.Remove: %s' % exc)
            raise ContainerdError('failed to call cni.Remove: %s' % exc)
    return True


def cleanup_network(client, container, ctx):
    """cleanupNetwork for a containerd container record (what lifecycle's stop and kill call)."""
    spec = client.read_spec(container)
    labels = dict(container.labels)
    state_dir = labels.get(L.STATE_DIR) or (spec.get('annotations') or {}).get(L.STATE_DIR)
    if not state_dir:
        return False
    if not os.path.isdir(state_dir):
        os.makedirs(state_dir, 0o700)
    return cleanup_network_spec(spec, container.id, state_dir, ctx, labels=labels)
