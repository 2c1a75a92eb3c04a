# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one containerd_container run shares between reading, creating and removing a container.

The client, the module's connection parameters and its warning sink, plus the nerdctl data store derived from
them once (its path hashes the address), so every step writes to the same store the user's nerdctl reads.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from .datastore import container_state_dir, data_store
from .hostsstore import HostsStore
from .lifecycle import Context


class Env(object):
    """Client, connection parameters and warning sink shared by create and remove."""

    def __init__(self, client, params, warn):
        self.client = client
        self.params = params
        self.warn = warn
        self.namespace = params['namespace']
        self._store = None

    @property
    def store(self):
        """nerdctl's data store for this address (created on first use, as nerdctl does)."""
        if self._store is None:
            self._store = data_store(self.params['data_root'], self.params['address'])
        return self._store

    def state_dir(self, cid):
        """Where a new container's state dir goes; an existing one's is in its labels (info.state_dir_of)."""
        return container_state_dir(self.store, self.namespace, cid)

    def hosts_store(self):
        """The hosts store that owns every container's /etc/hosts."""
        return HostsStore(self.store, self.namespace)

    def lifecycle_ctx(self, req=None):
        """What lifecycle verbs (start, stop) need from this run; `req` is the name the user asked for."""
        return Context.from_params(self.params, self.warn, req)
