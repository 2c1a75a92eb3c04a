# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module base shared by every module of the collection.

It merges the shared connection options (documented once in doc_fragments/containerd.py) with the
module's own, reports a missing grpcio/protobuf with missing_required_lib, opens the client, and turns
every exception from the layers below into one clear fail_json that still carries the results a module
must return on failure (for example can_talk_to_containerd).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from . import api
from .errors import ContainerdError

DEFAULT_ADDRESS = '/run/containerd/containerd.sock'
DEFAULT_DATA_ROOT = '/var/lib/nerdctl'
# nerdctl's default is /opt/cni/bin; Debian's containernetworking-plugins installs into /usr/lib/cni.
CNI_PATH_CANDIDATES = ('/opt/cni/bin', '/usr/lib/cni')

COMMON_ARGS = dict(
    address=dict(type='str', default=DEFAULT_ADDRESS, fallback=(env_fallback, ['CONTAINERD_ADDRESS'])),
    namespace=dict(type='str', default='default', fallback=(env_fallback, ['CONTAINERD_NAMESPACE'])),
    timeout=dict(type='float', default=30.0, fallback=(env_fallback, ['CONTAINERD_TIMEOUT'])),
    data_root=dict(type='path', default=DEFAULT_DATA_ROOT, fallback=(env_fallback, ['NERDCTL_DATA_ROOT'])),
    cni_path=dict(type='path', fallback=(env_fallback, ['CNI_PATH'])),
    cni_netconf_path=dict(type='path', default='/etc/cni/net.d', fallback=(env_fallback, ['NETCONFPATH'])),
    snapshotter=dict(type='str', default='overlayfs', fallback=(env_fallback, ['CONTAINERD_SNAPSHOTTER'])),
)


def default_cni_path():
    """The first candidate directory that holds a bridge plugin, else nerdctl's default."""
    for path in CNI_PATH_CANDIDATES:
        if os.path.exists(os.path.join(path, 'bridge')):
            return path
    return CNI_PATH_CANDIDATES[0]


class ContainerdModule(object):
    """AnsibleModule plus a lazily opened containerd client and failure handling."""

    def __init__(self, argument_spec, supports_check_mode=True, fail_results=None, **kwargs):
        spec = dict(COMMON_ARGS)
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self.fail_results = dict(fail_results or {})
        self._client = None
        if api.IMPORT_ERROR is not None:
            self.fail(missing_required_lib(api.MISSING_LIBRARY), exception=api.IMPORT_TRACEBACK)
        self._validate_common()

    def _validate_common(self):
        p = self.module.params
        if p['timeout'] <= 0:
            self.fail('timeout must be a positive number of seconds, got %s' % p['timeout'])
        if not p['namespace']:
            self.fail('namespace must not be empty')
        if not p['cni_path']:
            p['cni_path'] = default_cni_path()

    @property
    def params(self):
        return self.module.params

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def diff_mode(self):
        return self.module._diff

    @property
    def client(self):
        """The containerd client, connected on first use."""
        if self._client is None:
            from .client import Client
            p = self.module.params
            self._client = Client(p['address'], p['namespace'], p['timeout'])
        return self._client

    def warn(self, msg):
        self.module.warn(msg)

    def fail(self, msg, **kwargs):
        result = dict(self.fail_results)
        result.update(kwargs)
        self.module.fail_json(msg=msg, **result)

    def exit(self, **result):
        self.module.exit_json(**result)

    def run(self, policy):
        """Call policy(self) -> result dict; map every failure to fail_json with one sentence."""
        try:
            result = policy(self)
        except ContainerdError as exc:
            self.fail(str(exc))
        except Exception as exc:  # pylint: disable=broad-except
            self.fail('unexpected error: %s: %s' % (type(exc).__name__, exc), exception=traceback.format_exc())
        self.exit(**result)
