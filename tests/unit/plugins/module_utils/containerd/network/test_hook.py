# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hook program: its packaging (self-contained, content-addressed), its argv and its non-CNI paths."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import io
import json
import os
import socket
import subprocess
import sys
import zipfile

import pytest

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.network import hook, install


@pytest.fixture
def sock(tmp_path):
    """A socket path for the data store hash (the hook resolves it like nerdctl does)."""
    path = str(tmp_path / 'containerd.sock')
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    yield path
    s.close()


def test_zipapp_is_reproducible_and_content_addressed(tmp_path):
    assert install.build_zipapp() == install.build_zipapp()
    argv = install.install_hook(str(tmp_path))
    assert argv[0] == sys.executable
    assert argv[1].startswith(str(tmp_path / 'oci-hooks' / 'ctrd-oci-hook-')) and argv[1].endswith('.pyz')
    assert install.install_hook(str(tmp_path)) == argv
    assert os.listdir(str(tmp_path / 'oci-hooks')) == [os.path.basename(argv[1])]


def test_check_mode_installs_nothing(tmp_path):
    argv = install.install_hook(str(tmp_path), check_mode=True)
    assert not os.path.exists(argv[1])


def test_zipapp_carries_what_the_hook_imports_and_no_ansible(tmp_path):
    names = zipfile.ZipFile(io.BytesIO(install.build_zipapp())).namelist()
    for needed in ('ctrd_hook/network/hook.py', 'ctrd_hook/network/cni.py', 'ctrd_hook/hostsstore.py', 'ctrd_hook/ports.py',
                   'ctrd_hook/datastore.py', 'ctrd_hook/labels.py', 'ctrd_hook/errors.py', '__main__.py'):
        assert needed in names
    assert not any('install' in n or 'module.py' in n or 'client.py' in n for n in names)


def test_zipapp_runs_without_site_packages(tmp_path):
    """-S: no ansible, grpc or pyroute2 importable; the program must still start and report its usage error."""
    argv = install.install_hook(str(tmp_path))
    proc = subprocess.run([argv[0], '-S', argv[1], 'createRuntime'], input=b'{}', stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env={'PATH': '/usr/bin:/bin'}, check=False)
    assert proc.returncode == 1
    assert messages(proc.stderr.decode()) == 'got insufficient args'


def test_spec_hooks_shape():
    hooks = install.spec_hooks(['/usr/bin/python3', '/d/h.pyz'], '/var/lib/nerdctl', '/run/containerd/containerd.sock',
                               '/usr/lib/cni', '/etc/cni/net.d')
    assert set(hooks) == {'createRuntime', 'poststop'}
    create = hooks['createRuntime'][0]
    assert create['path'] == '/usr/bin/python3'
    assert create['args'] == ['/usr/bin/python3', '/d/h.pyz', '--data-root=/var/lib/nerdctl',
                              '--address=/run/containerd/containerd.sock', '--cni-path=/usr/lib/cni',
                              '--cni-netconfpath=/etc/cni/net.d', 'createRuntime']
    assert hooks['poststop'][0]['args'][-1] == 'postStop'
    assert any(e.startswith('PATH=') and '/usr/sbin' in e and ':/sbin' in e for e in create['env'])


@pytest.mark.parametrize('argv', [[], ['createRuntime'], ['--data-root=/x', '--address=/y', '--cni-path=/z', 'createRuntime']])
def test_insufficient_args(argv):
    with pytest.raises(hook.HookError, match='got insufficient args'):
        hook.parse_argv(argv)


def run_hook(tmp_path, sock, event, annotations, pid=0):
    state = {'ociVersion': '1.0.2', 'id': 'c' * 64, 'status': 'creating', 'pid': pid, 'bundle': str(tmp_path),
             'annotations': annotations}
    err = io.StringIO()
    argv = ['--data-root=%s' % (tmp_path / 'data'), '--address=%s' % sock, '--cni-path=/nonexistent',
            '--cni-netconfpath=%s' % (tmp_path / 'net.d'), event]
    rc = hook.main(argv, io.StringIO(json.dumps(state)), err)
    return rc, messages(err.getvalue())


def messages(text):
    """The msg fields of the hook's logrus-style lines, unquoted."""
    return '\n'.join(json.loads(line.split(' msg=', 1)[1]) for line in text.splitlines() if ' msg=' in line)


def annotations_for(tmp_path, networks):
    state_dir = str(tmp_path / 'state')
    return state_dir, {'nerdctl/namespace': 'default', 'nerdctl/state-dir': state_dir, 'nerdctl/networks': json.dumps(networks),
                       'nerdctl/name': 'web', 'nerdctl/hostname': 'web', 'nerdctl/extraHosts': '[]'}


def test_host_network_writes_lifecycle_and_log_without_cni(tmp_path, sock):
    state_dir, ann = annotations_for(tmp_path, ['host'])
    rc, err = run_hook(tmp_path, sock, 'createRuntime', ann, pid=os.getpid())
    assert rc == 0, err
    with open(os.path.join(state_dir, 'lifecycle.json')) as f:
        lifecycle = json.load(f)
    assert lifecycle['create_error'] is False and lifecycle['started_at']
    assert os.path.exists(os.path.join(state_dir, 'oci-hook.createRuntime.log'))
    assert os.path.exists(str(tmp_path / 'net.d' / '.cni-concurrency.lock'))
    assert not os.path.exists(str(tmp_path / 'net.d' / 'nerdctl-bridge.conflist'))
    rc, err = run_hook(tmp_path, sock, 'postStop', ann)
    assert rc == 0, err


def test_failed_setup_is_reported_then_post_stop_only_resets_the_flag(tmp_path, sock):
    state_dir, ann = annotations_for(tmp_path, ['bridge'])
    rc, err = run_hook(tmp_path, sock, 'createRuntime', ann, pid=os.getpid())
    assert rc == 1
    assert 'failed to call cni.Setup: failed to find plugin "bridge" in path [/nonexistent]' in err
    with open(os.path.join(state_dir, 'lifecycle.json')) as f:
        assert json.load(f)['create_error'] is True
    # nerdctl's default network was created on the way, as nerdctl's hook does.
    assert os.path.exists(str(tmp_path / 'net.d' / 'nerdctl-bridge.conflist'))
    with open(os.path.join(state_dir, 'oci-hook.createRuntime.log')) as f:
        assert 'failed to call cni.Setup' in f.read()
    rc, err = run_hook(tmp_path, sock, 'postStop', ann)
    assert rc == 0, err
    with open(os.path.join(state_dir, 'lifecycle.json')) as f:
        assert json.load(f)['create_error'] is False


@pytest.mark.parametrize('ann, text', [
    ({}, 'state dir must be set'),
    ({'nerdctl/state-dir': '%s'}, 'namespace must be set'),
])
def test_required_annotations(tmp_path, sock, ann, text):
    ann = dict((k, v % str(tmp_path / 's') if '%s' in v else v) for k, v in ann.items())
    rc, err = run_hook(tmp_path, sock, 'createRuntime', ann, pid=os.getpid())
    assert rc == 1 and text in err


def test_unknown_event(tmp_path, sock):
    _state_dir, ann = annotations_for(tmp_path, ['none'])
    rc, err = run_hook(tmp_path, sock, 'prestart', ann)
    assert rc == 1 and 'unexpected event "prestart"' in err
