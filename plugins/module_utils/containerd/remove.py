# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remove a container the way `nerdctl rm -f` does, over containerd's API.

Removal undoes everything create left behind (task, network, record, snapshot, state dir, hosts entry, name,
and with -v or auto-remove the anonymous volumes), so nerdctl and this collection never see a half-removed
container: the record and snapshot go under the container's lock, the files after it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil

from . import labels as L
from .compare import json_label
from .datastore import NameStore, container_lock, store_lock
from .errors import NotFoundError, UserError
from .info import state_dir_of
from .lifecycle import ACTIVE, stop
from .reconfig import cleanup_ipc
from .volumes import volumes_root


def remove_container(env, record, remove_volumes=False):
    """nerdctl's rm -f: stop, delete the task (poststop hook tears networking down), remove the record,
    its snapshot, state dir, hosts entry, name, and (with remove_volumes or auto-remove) anonymous volumes."""
    client = env.client
    labels = dict(record.labels)
    state_dir = state_dir_of(record, env.params)
    status, task = client.task_status(record.id)
    if task is not None:
        if status in ACTIVE:
            stop(client, record, env.lifecycle_ctx(), timeout=None)
        try:
            client.delete_task(record.id)
        except NotFoundError:
            pass
    with container_lock(state_dir):
        cleanup_ipc(record, env.lifecycle_ctx())
        try:
            client.delete_container(record.id)
        except NotFoundError:
            pass
        if record.snapshot_key and record.snapshotter:
            try:
                client.remove_snapshot(record.snapshotter, record.snapshot_key)
            except NotFoundError:
                pass
    shutil.rmtree(state_dir, ignore_errors=True)
    env.hosts_store().delete(record.id)
    name = labels.get(L.NAME)
    if name:
        try:
            NameStore(env.store, env.namespace).release(name, record.id)
        except UserError as exc:
            env.warn(str(exc))
    auto = labels.get(L.AUTO_REMOVE) == 'true'
    if remove_volumes or auto:
        anon = json_label(labels, L.ANONYMOUS_VOLUMES, []) or []
        if anon:
            remove_anonymous_volumes(env, anon)


def remove_anonymous_volumes(env, names):
    """Delete the container's anonymous volumes (nerdctl rm -v), under the volume store flock."""
    root = volumes_root(env.store, env.namespace)
    with store_lock(root):
        for name in names:
            if not name or '/' in name or name in ('.', '..'):
                continue
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
