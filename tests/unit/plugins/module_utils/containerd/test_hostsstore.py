# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The /etc/hosts store and its rewrite rule (nerdctl-behaviour.md §8, §13.15)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import hostsstore as H

A, B, C = 'a' * 64, 'b' * 64, 'c' * 64


def result(*addresses):
    return {'cniVersion': '1.0.0', 'ips': [{'address': a} for a in addresses]}


META_A = {'ID': A, 'Networks': {'bridge': result('10.4.0.2/24'), 'n1': result('10.4.1.2/24', '127.0.0.5/8')},
          'Hostname': 'foo', 'ExtraHosts': {'zeta': '1.2.3.4', 'alpha': '[::1]'}, 'Name': 'web', 'Domainname': ''}
META_B = {'ID': B, 'Networks': {'n1': result('10.4.1.3/24', 'fd00::3/64')}, 'Hostname': 'bar', 'ExtraHosts': {},
          'Name': 'db', 'Domainname': 'example.com'}
META_C = {'ID': C, 'Networks': {'n2': result('10.4.2.2/24')}, 'Hostname': 'baz', 'ExtraHosts': None, 'Name': '',
          'Domainname': ''}


def test_user_lines():
    text = ('  10.0.0.1\tmyhost  \n'
            '# comment\n; other\n\n'
            '127.0.0.1 localhost\n::1 localhost\n'
            '10.0.0.2 bad #trailing\n'
            '10.0.0.3\n'
            '# <nerdctl>\n10.9.9.9 inside\n# </nerdctl>\n'
            '10.0.0.4 after\n')
    assert H.user_lines(text) == ['10.0.0.1 myhost', '10.0.0.4 after']


def test_peer_names():
    assert H.peer_names('n1', META_B, {'n1'}) == ['bar.example.com', 'bar', 'bar.n1', 'db', 'db.n1']
    assert H.peer_names('bridge', META_A, {'bridge'}) == ['foo', 'web']  # .bridge omitted
    assert H.peer_names('n2', META_C, {'bridge', 'n1'}) == []
    assert H.peer_names('n2', META_C, {'n2'}) == ['baz', 'baz.n2']


def test_render_for_container_on_bridge_and_n1():
    out = H.render('10.0.0.1 myhost\n', META_A, [META_A, META_B, META_C])
    assert out == ('10.0.0.1 myhost\n'
                   '# <nerdctl>\n'
                   '127.0.0.1\tlocalhost localhost.localdomain\n'
                   '::1\t\tlocalhost localhost.localdomain\n'
                   '[::1]           alpha\n'
                   '1.2.3.4         zeta\n'
                   '10.4.0.2        foo web\n'
                   '10.4.1.2        foo foo.n1 web web.n1\n'
                   '10.4.1.3        bar.example.com bar bar.n1 db db.n1\n'
                   'fd00::3         bar.example.com bar bar.n1 db db.n1\n'
                   '# </nerdctl>\n')


def test_store_lifecycle(tmp_path):
    store = H.HostsStore(str(tmp_path), 'default')
    root = os.path.join(str(tmp_path), 'etchosts', 'default')
    path_a = store.alloc_hosts_file(A, '10.0.0.1 myhost\n')
    assert path_a == os.path.join(root, A, 'hosts') == store.hosts_path(A)
    assert stat.S_IMODE(os.stat(path_a).st_mode) == 0o644
    inode = os.stat(path_a).st_ino
    store.acquire(META_A)
    store.acquire(META_B)  # no alloc for B: acquire creates an empty hosts file
    with open(path_a) as handle:
        text_a = handle.read()
    assert text_a.startswith('10.0.0.1 myhost\n# <nerdctl>\n')
    assert '10.4.1.3        bar.example.com bar bar.n1 db db.n1\n' in text_a  # A rewritten when B arrived
    assert os.stat(path_a).st_ino == inode  # in place: the bind mount keeps seeing it
    with open(store.hosts_path(B)) as handle:
        text_b = handle.read()
    assert '10.4.1.2        foo foo.n1 web web.n1\n' in text_b
    assert '10.4.0.2' not in text_b  # B is not on bridge
    meta_path = os.path.join(root, A, 'meta.json')
    assert stat.S_IMODE(os.stat(meta_path).st_mode) == 0o600
    with open(meta_path) as handle:
        raw = handle.read()
    assert raw.startswith('{"ID":"%s","Networks":{"bridge":' % A)
    assert json.loads(raw)['ExtraHosts'] == {'alpha': '[::1]', 'zeta': '1.2.3.4'}

    store.release(B)
    assert not os.path.exists(os.path.join(root, B, 'meta.json'))
    assert os.path.exists(store.hosts_path(B))  # kept for a restart
    with open(path_a) as handle:
        assert 'bar' not in handle.read()
    assert os.stat(path_a).st_ino == inode
    store.release(B)  # twice is harmless

    store.update_name(A, 'frontend')
    with open(path_a) as handle:
        assert '10.4.1.2        foo foo.n1 frontend frontend.n1\n' in handle.read()

    store.delete(B)
    assert not os.path.exists(os.path.join(root, B))


def test_rewrite_is_idempotent(tmp_path):
    store = H.HostsStore(str(tmp_path), 'default')
    store.alloc_hosts_file(A, '')
    store.acquire(META_A)
    with open(store.hosts_path(A)) as handle:
        first = handle.read()
    store.acquire(META_A)
    with open(store.hosts_path(A)) as handle:
        assert handle.read() == first
    assert first.count('# <nerdctl>') == 1


def test_broken_meta_is_warned_and_skipped(tmp_path):
    warnings = []
    store = H.HostsStore(str(tmp_path), 'default', warn=warnings.append)
    store.alloc_hosts_file(A, '')
    store.acquire(META_A)
    broken = os.path.join(str(tmp_path), 'etchosts', 'default', C)
    os.makedirs(broken)
    with open(os.path.join(broken, 'meta.json'), 'w') as handle:
        handle.write('{')
    store.acquire(META_A)
    assert warnings and warnings[0].startswith('meta.json: ')
