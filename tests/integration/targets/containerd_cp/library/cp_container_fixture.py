#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only module: make real, runnable containers for the containerd_cp tests.

It builds a tiny busybox root filesystem straight into a committed snapshot (no image, no registry),
then creates containers on it with the mounts and read-only root a test needs and drives their task
into the state the test wants (running, paused, stopped with a dead task, created without a task).
It stands in for containerd_container / containerd_container_state until the tests switch to them.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: cp_container_fixture
short_description: Test fixture, creates runnable busybox containers
description: Test fixture, creates runnable busybox containers.
options:
  id:
    description: Container ID.
    type: str
    required: true
  state:
    description: Wanted state.
    type: str
    default: running
    choices: [running, paused, stopped, created, absent]
  mounts:
    description: Extra OCI mounts (destination, source, type, options).
    type: list
    elements: dict
    default: []
  read_only:
    description: Read-only root filesystem.
    type: bool
    default: false
  address:
    description: containerd socket.
    type: str
    required: true
  namespace:
    description: containerd namespace.
    type: str
    required: true
  snapshotter:
    description: Snapshotter.
    type: str
    default: overlayfs
author: ctrd.containerd contributors
'''

import os
import shutil
import signal
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.client import Client
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import NotFoundError

BASE = 'ctrd-cp-test-busybox'
BUSYBOX = '/bin/busybox'
APPLETS = ('sh', 'sleep', 'cat', 'ls', 'echo', 'true', 'stat', 'id')
PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n'
GROUP = 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\nstaff:x:50:\n'
CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
        'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE']


def ensure_base(client, snapshotter):
    """A committed snapshot holding busybox, passwd/group and the usual mount points."""
    if client.stat_snapshot(snapshotter, BASE) is not None:
        return
    key = BASE + '-prep-%d' % os.getpid()
    mounts = client.prepare_snapshot(snapshotter, key)
    root = mounts[0].source   # no parent: a plain bind of the snapshot's directory
    for d in ('bin', 'etc', 'tmp', 'dev', 'proc', 'sys', 'run', 'var', 'home/app', 'root'):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.chmod(os.path.join(root, 'tmp'), 0o1777)
    shutil.copy2(BUSYBOX, os.path.join(root, 'bin/busybox'))
    for applet in APPLETS:
        os.symlink('busybox', os.path.join(root, 'bin', applet))
    for name, text in (('passwd', PASSWD), ('group', GROUP), ('hosts', '127.0.0.1 localhost\n'),
                       ('resolv.conf', ''), ('hostname', 'fixture\n')):
        with open(os.path.join(root, 'etc', name), 'w') as f:
            f.write(text)
    client.commit_snapshot(snapshotter, BASE, key)


def spec_for(cid, mounts, read_only):
    std = [
        dict(destination='/proc', type='proc', source='proc', options=['nosuid', 'noexec', 'nodev']),
        dict(destination='/dev', type='tmpfs', source='tmpfs', options=['nosuid', 'strictatime', 'mode=755', 'size=65536k']),
        dict(destination='/dev/pts', type='devpts', source='devpts',
             options=['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']),
        dict(destination='/dev/shm', type='tmpfs', source='shm', options=['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']),
        dict(destination='/sys', type='sysfs', source='sysfs', options=['nosuid', 'noexec', 'nodev', 'ro']),
        dict(destination='/run', type='tmpfs', source='tmpfs', options=['nosuid', 'strictatime', 'mode=755', 'size=65536k']),
    ]
    return {
        'ociVersion': '1.0.2-dev',
        'process': {'user': {'uid': 0, 'gid': 0}, 'cwd': '/tmp', 'args': ['/bin/sleep', '100000'],
                    'env': ['PATH=/bin'], 'noNewPrivileges': True,
                    'capabilities': {k: CAPS for k in ('bounding', 'effective', 'permitted')}},
        'root': {'path': 'rootfs', 'readonly': bool(read_only)},
        'hostname': 'fixture',
        'mounts': std + [dict(m) for m in mounts],
        'linux': {'resources': {'devices': [{'allow': False, 'access': 'rwm'}]}, 'cgroupsPath': '/ctrd-cp-test/' + cid,
                  'namespaces': [{'type': t} for t in ('pid', 'ipc', 'uts', 'mount', 'network')],
                  'maskedPaths': ['/proc/kcore', '/proc/keys'], 'readonlyPaths': ['/proc/sys', '/proc/sysrq-trigger']},
    }


def stop_task(client, cid, delete):
    status, _task = client.task_status(cid)
    if status is None:
        return
    if status in ('paused', 'pausing'):
        client.resume_task(cid)
    if status != 'stopped' and status != 'created':
        fut = client.wait_task_future(cid, timeout=30)
        client.kill_task(cid, signal.SIGKILL, all_processes=True)
        client.wait_result(fut, cid)
    elif status == 'created':
        client.kill_task(cid, signal.SIGKILL)
        time.sleep(0.2)
    if delete:
        client.delete_task(cid)


def main():
    module = AnsibleModule(argument_spec=dict(
        id=dict(type='str', required=True),
        state=dict(type='str', default='running', choices=['running', 'paused', 'stopped', 'created', 'absent']),
        mounts=dict(type='list', elements='dict', default=[]), read_only=dict(type='bool', default=False),
        address=dict(type='str', required=True), namespace=dict(type='str', required=True),
        snapshotter=dict(type='str', default='overlayfs')))
    p = module.params
    cid, sn = p['id'], p['snapshotter']
    client = Client(p['address'], p['namespace'], 30)
    try:
        client.ensure_namespace()
    except Exception:  # pylint: disable=broad-except
        if p['namespace'] not in client.list_namespaces():  # 1.6 creates it, then fails to publish the event
            raise
    try:
        record = client.get_container(cid)
    except NotFoundError:
        record = None
    if p['state'] == 'absent':
        if record is not None:
            stop_task(client, cid, True)
            client.delete_container(cid)
        if client.stat_snapshot(sn, cid) is not None:
            client.remove_snapshot(sn, cid)
        module.exit_json(changed=record is not None)
    if record is None:
        ensure_base(client, sn)
        if client.stat_snapshot(sn, cid) is None:
            client.prepare_snapshot(sn, cid, parent=BASE)
        runtime = client.msg('containerd.services.containers.v1.Container.Runtime', name='io.containerd.runc.v2')
        record = client.msg('containerd.services.containers.v1.Container', id=cid, runtime=runtime,
                            snapshotter=sn, snapshot_key=cid, labels={'nerdctl/name': cid})
        record.spec.CopyFrom(client.spec_any(spec_for(cid, p['mounts'], p['read_only'])))
        client.create_container(record)
    want = p['state']
    status, _task = client.task_status(cid)
    if want == 'created':
        stop_task(client, cid, True)
    elif want == 'stopped':
        if status is None:
            client.create_task(cid, client.snapshot_mounts(sn, cid))
            client.start_task(cid)
        stop_task(client, cid, False)
    else:
        if status in ('stopped', 'created'):
            client.delete_task(cid)
            status = None
        if status is None:
            client.create_task(cid, client.snapshot_mounts(sn, cid))
            client.start_task(cid)
        elif status == 'paused' and want == 'running':
            client.resume_task(cid)
        if want == 'paused' and client.task_status(cid)[0] != 'paused':
            client.pause_task(cid)
    status, task = client.task_status(cid)
    module.exit_json(changed=True, status=status or 'created', pid=task.pid if task is not None else 0)


if __name__ == '__main__':
    main()
