# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Spec building: containerd's default spec, nerdctl's platform options, image config, users and groups."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import spec as S
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import UserError

PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n'
GROUP = 'root:x:0:\nwheel:x:10:root,app\napp:x:1000:\nstaff:x:50:app\n'


def test_default_spec_matches_ctr_oci_spec_of_1_6():
    spec = S.default_spec('default', '', '1.6.20~ds1')
    assert spec['ociVersion'] == '1.0.2-dev'
    assert spec['linux']['cgroupsPath'] == '/default'
    assert '/sys/devices/virtual/powercap' not in spec['linux']['maskedPaths']
    assert [m['destination'] for m in spec['mounts']] == ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/run']
    assert spec['process']['capabilities']['bounding'][-1] == 'CAP_AUDIT_WRITE'
    assert spec['process']['rlimits'] == [{'type': 'RLIMIT_NOFILE', 'hard': 1024, 'soft': 1024}]


def test_default_spec_of_2_x_masks_powercap_and_uses_newer_oci_version():
    spec = S.default_spec('ns', 'abc', '2.1.9+unknown')
    assert spec['ociVersion'] == '1.2.1'
    assert spec['linux']['maskedPaths'][-2:] == ['/sys/devices/virtual/powercap', '/proc/scsi']
    assert spec['linux']['cgroupsPath'] == '/ns/abc'


def test_nerdctl_platform_drops_run_adds_cgroup_and_devices():
    spec = S.apply_nerdctl_platform(S.default_spec('ns', 'abc', '1.6.20'))
    dests = [m['destination'] for m in spec['mounts']]
    assert '/run' not in dests and dests[-1] == '/sys/fs/cgroup'
    assert 'rlimits' not in spec['process']
    devices = spec['linux']['resources']['devices']
    assert devices[0] == {'allow': False, 'access': 'rwm'}
    assert {'allow': True, 'type': 'c', 'major': 136, 'access': 'rwm'} in devices
    assert len(devices) == 10


def test_env_merge_replaces_appends_and_unsets():
    assert S.replace_or_append_env(['A=1', 'B=2'], ['B=3', 'C=4', 'A']) == ['B=3', 'C=4']


@pytest.mark.parametrize('entrypoint,command,expected', [
    (None, None, ['/entry', 'cmd']),
    (None, ['x'], ['/entry', 'x']),
    (['/other'], None, ['/other']),
    (['/other'], ['y'], ['/other', 'y']),
])
def test_image_args(entrypoint, command, expected):
    cfg = {'Entrypoint': ['/entry'], 'Cmd': ['cmd']}
    assert S.image_args(cfg, entrypoint, command) == expected


def test_empty_entrypoint_without_command_is_nerdctls_error():
    with pytest.raises(UserError, match='no command or entrypoint provided'):
        S.image_args({'Cmd': ['sh']}, [], None)


def test_image_config_without_path_gets_default_path_and_root_groups():
    spec = S.apply_nerdctl_platform(S.default_spec('ns', 'id', '1.6.20'))
    S.apply_image_config(spec, {'Env': ['FOO=bar'], 'Cmd': ['sh'], 'WorkingDir': '/w'}, ['sh'], S.UserDB(PASSWD, GROUP))
    assert spec['process']['env'] == ['FOO=bar', S.DEFAULT_PATH_ENV]
    assert spec['process']['cwd'] == '/w'
    assert spec['process']['user'] == {'uid': 0, 'gid': 0, 'additionalGids': [0, 10]}


def test_image_user_by_name_gets_supplementary_groups():
    spec = S.default_spec('ns', 'id', '1.6.20')
    S.apply_image_config(spec, {'User': 'app', 'Cmd': ['sh']}, ['sh'], S.UserDB(PASSWD, GROUP))
    assert spec['process']['user'] == {'uid': 1000, 'gid': 1000, 'additionalGids': [1000, 10, 50]}


@pytest.mark.parametrize('userstr,expected', [
    ('1000', (1000, 1000)),
    ('4242', (4242, 0)),
    ('app:wheel', (1000, 10)),
    ('5:7', (5, 7)),
])
def test_set_user_forms(userstr, expected):
    spec = S.default_spec('ns', 'id', '1.6.20')
    S.set_user(spec, userstr, S.UserDB(PASSWD, GROUP))
    assert (spec['process']['user']['uid'], spec['process']['user']['gid']) == expected
    assert spec['process']['user']['additionalGids'][0] == expected[1]


def test_unknown_user_name_fails():
    with pytest.raises(UserError):
        S.set_user(S.default_spec('ns', 'id', '1.6.20'), 'nobody', S.UserDB(PASSWD, GROUP))


def test_uid_out_of_range_fails():
    with pytest.raises(UserError, match='uid out of range'):
        S.set_user(S.default_spec('ns', 'id', '1.6.20'), '4294967296', S.UserDB(PASSWD, GROUP))


def test_namespaces_host_and_path():
    spec = S.default_spec('ns', 'id', '1.6.20')
    S.host_namespace(spec, 'network')
    assert not S.has_namespace(spec, 'network')
    S.set_namespace(spec, 'pid', '/proc/1/ns/pid')
    assert {'type': 'pid', 'path': '/proc/1/ns/pid'} in spec['linux']['namespaces']


def test_annotations_copy_only_nerdctl_labels():
    assert S.nerdctl_annotations({'nerdctl/name': 'x', 'a': 'b'}) == {'nerdctl/name': 'x'}


# `ctr oci spec` output (containerd's oci.GenerateSpec with namespace "default" and an empty ID), captured from
# containerd 1.6.20 and 2.1.9.
CTR_OCI_SPEC_16 = {'linux': {'cgroupsPath': '/default',
                             'maskedPaths': ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
                                             '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware',
                                             '/proc/scsi'],
                             'namespaces': [{'type': 'pid'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'},
                                            {'type': 'network'}],
                             'readonlyPaths': ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
                             'resources': {'devices': [{'access': 'rwm', 'allow': False}]}},
                   'mounts': [{'destination': '/proc',
                               'options': ['nosuid', 'noexec', 'nodev'],
                               'source': 'proc',
                               'type': 'proc'},
                              {'destination': '/dev',
                               'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
                               'source': 'tmpfs',
                               'type': 'tmpfs'},
                              {'destination': '/dev/pts',
                               'options': ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
                               'source': 'devpts',
                               'type': 'devpts'},
                              {'destination': '/dev/shm',
                               'options': ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
                               'source': 'shm',
                               'type': 'tmpfs'},
                              {'destination': '/dev/mqueue',
                               'options': ['nosuid', 'noexec', 'nodev'],
                               'source': 'mqueue',
                               'type': 'mqueue'},
                              {'destination': '/sys',
                               'options': ['nosuid', 'noexec', 'nodev', 'ro'],
                               'source': 'sysfs',
                               'type': 'sysfs'},
                              {'destination': '/run',
                               'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
                               'source': 'tmpfs',
                               'type': 'tmpfs'}],
                   'ociVersion': '1.0.2-dev',
                   'process': {'capabilities': {'bounding': ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER',
                                                             'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
                                                             'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
                                                             'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'],
                                                'effective': ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER',
                                                              'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
                                                              'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
                                                              'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'],
                                                'permitted': ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER',
                                                              'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
                                                              'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
                                                              'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE']},
                               'cwd': '/',
                               'noNewPrivileges': True,
                               'rlimits': [{'hard': 1024, 'soft': 1024, 'type': 'RLIMIT_NOFILE'}],
                               'user': {'gid': 0, 'uid': 0}},
                   'root': {'path': 'rootfs'}}
CTR_OCI_SPEC_21 = {'linux': {'cgroupsPath': '/default',
                             'maskedPaths': ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
                                             '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware',
                                             '/sys/devices/virtual/powercap', '/proc/scsi'],
                             'namespaces': [{'type': 'pid'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'},
                                            {'type': 'network'}],
                             'readonlyPaths': ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
                             'resources': {'devices': [{'access': 'rwm', 'allow': False}]}},
                   'mounts': [{'destination': '/proc',
                               'options': ['nosuid', 'noexec', 'nodev'],
                               'source': 'proc',
                               'type': 'proc'},
                              {'destination': '/dev',
                               'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
                               'source': 'tmpfs',
                               'type': 'tmpfs'},
                              {'destination': '/dev/pts',
                               'options': ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
                               'source': 'devpts',
                               'type': 'devpts'},
                              {'destination': '/dev/shm',
                               'options': ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
                               'source': 'shm',
                               'type': 'tmpfs'},
                              {'destination': '/dev/mqueue',
                               'options': ['nosuid', 'noexec', 'nodev'],
                               'source': 'mqueue',
                               'type': 'mqueue'},
                              {'destination': '/sys',
                               'options': ['nosuid', 'noexec', 'nodev', 'ro'],
                               'source': 'sysfs',
                               'type': 'sysfs'},
                              {'destination': '/run',
                               'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
                               'source': 'tmpfs',
                               'type': 'tmpfs'}],
                   'ociVersion': '1.2.1',
                   'process': {'capabilities': {'bounding': ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER',
                                                             'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
                                                             'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
                                                             'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'],
                                                'effective': ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER',
                                                              'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
                                                              'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
                                                              'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'],
                                                'permitted': ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER',
                                                              'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
                                                              'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
                                                              'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE']},
                               'cwd': '/',
                               'noNewPrivileges': True,
                               'rlimits': [{'hard': 1024, 'soft': 1024, 'type': 'RLIMIT_NOFILE'}],
                               'user': {'gid': 0, 'uid': 0}},
                   'root': {'path': 'rootfs'}}


@pytest.mark.parametrize('version,expected', [('1.6.20~ds1', CTR_OCI_SPEC_16), ('2.1.9+unknown', CTR_OCI_SPEC_21)])
def test_default_spec_equals_ctr_oci_spec(version, expected):
    assert S.default_spec('default', '', version) == expected
