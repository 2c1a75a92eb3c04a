# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mount labels, GetContainerVolumes and -v parsing (nerdctl-behaviour.md §2, §3.11, §10)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import stat

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import volumes as V
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.errors import UserError

ANON = 'f' * 64


def rec(t, name, src, dst, mode='', rw=True, prop='', driver=''):
    return {'Type': t, 'Name': name, 'Source': src, 'Destination': dst, 'Driver': driver, 'Mode': mode, 'RW': rw,
            'Propagation': prop}


def test_mounts_labels_compact_indexed_and_omitempty():
    records = [V.mount_record('bind', '', '/h', '/c', 'ro,rshared'), V.mount_record('volume', 'data', '/v/_data', '/d', '')]
    assert V.mounts_labels(records) == {
        'nerdctl/mounts.0': '{"Type":"bind","Source":"/h","Destination":"/c","Mode":"ro,rshared","RW":false,"Propagation":"rshared"}',
        'nerdctl/mounts.1': '{"Type":"volume","Name":"data","Source":"/v/_data","Destination":"/d","Driver":"local","Mode":"","RW":true,"Propagation":""}',
    }
    assert V.mounts_labels([]) == {}
    assert V.encode_mount(rec('', '', '/s', '/d')) == '{"Source":"/s","Destination":"/d","Mode":"","RW":true,"Propagation":""}'


@pytest.mark.parametrize('mode, rw, prop', [
    ('', True, ''), ('ro', False, ''), ('rro', False, ''), ('rw', True, ''), ('ro,rshared', False, 'rshared'),
    ('shared,rslave', True, 'rslave'), ('z,private', True, 'private'),
])
def test_mount_properties(mode, rw, prop):
    assert V.mount_properties(mode) == (rw, prop)


def vol(t='', name='', src='', dst='', mode='', rw=False, prop=''):
    return {'type': t, 'name': name, 'source': src, 'destination': dst, 'mode': mode, 'rw': rw, 'propagation': prop}


def test_container_volumes_indexed_and_anonymous_first():
    labels = V.mounts_labels([V.mount_record('volume', ANON, '/v/_data', '/data', ''),
                              V.mount_record('bind', '', '/h', '/c', 'ro')])
    labels['nerdctl/anonymous-volumes'] = json.dumps([ANON])
    warnings = []
    assert V.container_volumes(labels, warnings.append) == [
        vol(name=ANON),
        vol('volume', ANON, '/v/_data', '/data', '', True, ''),
        vol('bind', '', '/h', '/c', 'ro', False, ''),
    ]
    assert warnings == []


def test_container_volumes_legacy_label_wins_and_gap_stops():
    labels = {'nerdctl/mounts': json.dumps([rec('bind', '', '/legacy', '/l')]),
              'nerdctl/mounts.0': V.encode_mount(rec('bind', '', '/new', '/n'))}
    assert [v['source'] for v in V.container_volumes(labels, None)] == ['/legacy']
    labels = {'nerdctl/mounts': '',
              'nerdctl/mounts.0': V.encode_mount(rec('bind', '', '/a', '/a')),
              'nerdctl/mounts.2': V.encode_mount(rec('bind', '', '/c', '/c'))}
    assert [v['source'] for v in V.container_volumes(labels, None)] == ['/a']
    labels['nerdctl/mounts.1'] = ''
    assert [v['source'] for v in V.container_volumes(labels, None)] == ['/a']


def test_container_volumes_case_insensitive_keys_like_go():
    labels = {'nerdctl/mounts': '[{"type":"bind","source":"/s","destination":"/d","rw":true}]'}
    assert V.container_volumes(labels, None) == [vol('bind', '', '/s', '/d', '', True, '')]


def test_container_volumes_bad_json_is_warned_and_skipped():
    warnings = []
    labels = {'nerdctl/anonymous-volumes': '[1]', 'nerdctl/mounts.0': V.encode_mount(rec('bind', '', '/s', '/d'))}
    assert V.container_volumes(labels, warnings.append) == [vol('bind', '', '/s', '/d', '', True, '')]
    assert len(warnings) == 1 and warnings[0].startswith('nerdctl/anonymous-volumes: ')
    warnings = []
    assert V.container_volumes({'nerdctl/mounts.0': '{'}, warnings.append) == []
    assert warnings[0].startswith('nerdctl/mounts: ')
    assert V.container_volumes({}, warnings.append) == []


def test_ensure_volume_layout(tmp_path):
    store = str(tmp_path)
    path = V.ensure_volume(store, 'default', 'data')
    assert path == os.path.join(store, 'volumes', 'default', 'data', '_data')
    assert os.path.isdir(path)
    meta = os.path.join(store, 'volumes', 'default', 'data', 'volume.json')
    with open(meta) as handle:
        assert handle.read() == '{\n    "labels": null\n}'
    assert stat.S_IMODE(os.stat(meta).st_mode) == 0o600
    warnings = []
    assert V.ensure_volume(store, 'default', 'data', warn=warnings.append) == path
    assert warnings == ['volume "data" already exists and will be returned as-is']
    V.ensure_volume(store, 'default', 'lab', vol_labels={'b': '2', 'a': '1'})
    with open(os.path.join(store, 'volumes', 'default', 'lab', 'volume.json')) as handle:
        assert handle.read() == '{\n    "labels": {\n        "a": "1",\n        "b": "2"\n    }\n}'


def test_parse_volume_bind_plain(tmp_path):
    host = tmp_path / 'host'
    res = V.parse_volume('%s:/ctr/' % host, str(tmp_path / 'store'), 'default')
    assert os.path.isdir(str(host))  # created like nerdctl create does
    assert res['mount'] == rec('bind', '', str(host), '/ctr')
    assert res['oci_mount'] == {'type': 'none', 'source': str(host), 'destination': '/ctr', 'options': ['rbind']}
    assert res['anonymous_volume'] == ''
    assert res['rootfs_propagation'] is None


def test_parse_volume_bind_options(tmp_path):
    res = V.parse_volume('%s:/c:ro' % tmp_path, str(tmp_path), 'default')
    assert res['mount'] == rec('bind', '', str(tmp_path), '/c', 'ro', False)
    assert res['oci_mount']['options'] == ['ro', 'rprivate', 'rbind']
    res = V.parse_volume('%s:/c:ro' % tmp_path, str(tmp_path), 'default', rro_supported=True)
    assert res['oci_mount']['options'] == ['rro', 'rprivate', 'rbind']
    res = V.parse_volume('%s:/c:bind,private' % tmp_path, str(tmp_path), 'default')
    assert res['oci_mount'] == {'type': 'bind', 'source': str(tmp_path), 'destination': '/c', 'options': ['bind', 'private']}
    assert res['mount']['Propagation'] == 'private'


def test_parse_volume_shared_propagation_checks_mountinfo(tmp_path):
    info = tmp_path / 'mountinfo'
    info.write_text('22 1 8:1 / / rw,relatime master:3 - ext4 /dev/sda1 rw\n'
                    '30 22 0:5 / %s rw shared:7 - tmpfs tmpfs rw\n' % tmp_path)
    res = V.parse_volume('%s:/c:rshared' % tmp_path, str(tmp_path), 'default', mountinfo=str(info))
    assert res['rootfs_propagation'] == 'shared'
    assert res['oci_mount']['options'] == ['rshared', 'rbind']
    info.write_text('22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n'
                    '30 22 0:5 / %s rw master:3 - tmpfs tmpfs rw\n' % tmp_path)
    with pytest.raises(UserError) as exc:
        V.parse_volume('%s:/c:rshared' % tmp_path, str(tmp_path), 'default', mountinfo=str(info))
    assert str(exc.value) == ('failed to parse volume options ("bind", "%s", "rshared"): mountpoint "%s" doesn\'t have '
                              'optional field neither of [shared:]' % (tmp_path, tmp_path))


def test_parse_volume_slave_propagation(tmp_path):
    info = tmp_path / 'mountinfo'
    info.write_text('30 22 0:5 / %s rw master:3 - tmpfs tmpfs rw\n' % tmp_path)
    res = V.parse_volume('%s:/c:ro,rslave' % tmp_path, str(tmp_path), 'default', mountinfo=str(info))
    assert res['rootfs_propagation'] == 'rslave'
    assert res['oci_mount']['options'] == ['ro', 'rslave', 'rbind']
    assert res['mount']['Propagation'] == 'rslave'


def test_parse_volume_named(tmp_path):
    store = str(tmp_path)
    res = V.parse_volume('data:/var/lib/data', store, 'ns1')
    src = os.path.join(store, 'volumes', 'ns1', 'data', '_data')
    assert res['mount'] == rec('volume', 'data', src, '/var/lib/data', driver='local')
    assert res['oci_mount'] == {'type': 'none', 'source': src, 'destination': '/var/lib/data', 'options': ['rbind']}
    assert os.path.isdir(src)


def test_parse_volume_anonymous(tmp_path):
    store = str(tmp_path)
    res = V.parse_volume('/data', store, 'default')
    name = res['anonymous_volume']
    assert re.match('^[0-9a-f]{64}$', name)
    src = os.path.join(store, 'volumes', 'default', name, '_data')
    assert os.path.isdir(src)
    assert res['mount'] == rec('volume', name, src, '/data', driver='local')
    assert V.parse_volume('/data', store, 'default')['anonymous_volume'] != name


@pytest.mark.parametrize('spec, message', [
    ('/h:/', "invalid specification: destination can't be '/'"),
    ('/h:/x/..', "invalid specification: destination can't be '/'"),
    ('/h:rel', 'expected an absolute path, got "rel"'),
    ('/h:/c:ro:x', 'failed to parse "/h:/c:ro:x"'),
    ('/h:/c:ro,rw', 'failed to parse volume options ("bind", "/h", "ro,rw"): duplicated read/write volume option: [ro rw]'),
    ('/h:/c:bind,rbind', 'failed to parse volume options ("bind", "/h", "bind,rbind"): duplicated bind/rbind option: [bind rbind]'),
    ('/h:/c:private,rprivate',
     'failed to parse volume options ("bind", "/h", "private,rprivate"): duplicated volume propagation option: [private rprivate]'),
    ('vol:/c:bind', 'failed to parse volume options ("volume", "{store}/volumes/default/vol/_data", "bind"): '
                    'volume bind/rbind option is only supported for bind mount: [bind]'),
    ('vol:/c:rshared', 'failed to parse volume options ("volume", "{store}/volumes/default/vol/_data", "rshared"): '
                       'volume propagation option is only supported for bind mount: [rshared]'),
])
def test_parse_volume_errors(tmp_path, spec, message):
    with pytest.raises(UserError) as exc:
        V.parse_volume(spec, str(tmp_path), 'default', create_dir=False)
    assert str(exc.value) == message.replace('{store}', str(tmp_path))


def test_parse_volume_warns_unknown_option(tmp_path):
    warnings = []
    V.parse_volume('%s:/c:foo' % tmp_path, str(tmp_path), 'default', warn=warnings.append)
    assert warnings == ['unsupported volume option "foo"']
