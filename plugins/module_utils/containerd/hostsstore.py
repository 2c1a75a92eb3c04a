# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nerdctl's /etc/hosts store: <data store>/etchosts/<ns>/<id>/{hosts,meta.json} and its rewrite rule.

The hosts files are shared state: every acquire or release rewrites every container's file in the
namespace (so containers on a common network find each other by name), in place because the files are
bind-mounted, under the flock on etchosts/<ns> that nerdctl takes too.

Deliberate difference: nerdctl writes extra hosts and peer lines in Go map order, which is random;
here extra hosts are sorted by host name and peer lines by address, so rewrites are reproducible.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import ipaddress
import os
import shutil

from .datastore import ensure_dir, atomic_write, read_file, store_lock, write_in_place
from .goutil import go_json, ip_string
from .schemas import load_json

HOSTS = 'hosts'
META = 'meta.json'
MARKER_BEGIN = '<nerdctl>'
MARKER_END = '</nerdctl>'
DEFAULT_NETWORK = 'bridge'
_META_FIELDS = ('ID', 'Networks', 'Hostname', 'ExtraHosts', 'Name', 'Domainname')


def user_lines(text):
    """The lines of an existing hosts file that survive a rewrite (everything outside the markers, cleaned)."""
    kept = []
    skip = False
    for raw in (text or '').splitlines():
        line = raw.strip(' \t').replace('\t', ' ')
        saw_end = False
        if line.startswith('#'):
            comment = line[1:].strip()
            if comment == MARKER_BEGIN:
                skip = True
            elif comment == MARKER_END:
                saw_end = True
        if not skip and line and line[0] not in '#;':
            pieces = line.split(' ', 1)
            if len(pieces) > 1 and pieces[0] and pieces[0] not in ('127.0.0.1', '::1'):
                names = pieces[1].split()
                if names and not any(n.startswith('#') for n in names):
                    kept.append(line)
        if saw_end:
            skip = False
    return kept


def _ips(result):
    """Non-loopback, non-unspecified addresses of a CNI result's `ips`."""
    found = []
    for cfg in (result or {}).get('ips') or ():
        try:
            ip = ipaddress.ip_interface(cfg.get('address', '')).ip
        except ValueError:
            continue
        if not ip.is_loopback and not ip.is_unspecified:
            found.append(ip)
    return found


def peer_names(network, meta, my_networks):
    """Names for a peer's address on `network` (createLine); empty unless this container is on that network."""
    if network not in my_networks:
        return []
    line = []
    hostname = meta.get('Hostname') or ''
    if meta.get('Domainname'):
        line.append('%s.%s' % (hostname, meta['Domainname']))
    bases = [hostname]
    if meta.get('Name'):
        bases.append(meta['Name'])
    for base in bases:
        line.append(base)
        if network != DEFAULT_NETWORK:
            line.append('%s.%s' % (base, network))
    return line


def render(existing, meta, metas):
    """New content of one container's hosts file given every meta of the namespace."""
    by_ip = {}
    for other in metas:
        for network, result in sorted((other.get('Networks') or {}).items()):
            for ip in _ips(result):
                by_ip[ip] = (network, other)
    out = user_lines(existing)
    out.append('# %s' % MARKER_BEGIN)
    out.append('127.0.0.1\tlocalhost localhost.localdomain')
    out.append('::1\t\tlocalhost localhost.localdomain')
    for host, ip in sorted((meta.get('ExtraHosts') or {}).items()):
        out.append('%-15s %s' % (ip, host))
    my_networks = set(meta.get('Networks') or {})
    for ip in sorted(by_ip, key=lambda a: (a.version, int(a))):
        network, other = by_ip[ip]
        names = peer_names(network, other, my_networks)
        if names:
            out.append('%-15s %s' % (ip_string(ip), ' '.join(names)))
    out.append('# %s' % MARKER_END)
    return '\n'.join(out) + '\n'


def meta_json(meta):
    """meta.json as Go marshals the Meta struct: fields in order, maps with sorted keys."""
    ordered = {}
    for field in _META_FIELDS:
        value = meta.get(field)
        if field in ('Networks', 'ExtraHosts'):
            ordered[field] = dict(sorted(value.items())) if value is not None else None
        else:
            ordered[field] = value or ''
    return go_json(ordered)


class HostsStore(object):
    """The etchosts store of one namespace."""

    def __init__(self, data_store, namespace, warn=None):
        self.root = os.path.join(data_store, 'etchosts', namespace)
        self.warn = warn
        ensure_dir(self.root)

    def hosts_path(self, cid):
        """<id>/hosts, the file bind-mounted at /etc/hosts."""
        return os.path.join(self.root, cid, HOSTS)

    def alloc_hosts_file(self, cid, content=''):
        """Create <id>/hosts with `content` (empty, or the host's /etc/hosts for host networking); return its path."""
        with store_lock(self.root):
            ensure_dir(os.path.join(self.root, cid))
            write_in_place(self.hosts_path(cid), content, 0o644)
        return self.hosts_path(cid)

    def acquire(self, meta):
        """Record a container's meta (creating an empty hosts file if missing) and rewrite every hosts file."""
        cid = meta['ID']
        with store_lock(self.root):
            ensure_dir(os.path.join(self.root, cid))
            if not os.path.exists(self.hosts_path(cid)):
                write_in_place(self.hosts_path(cid), '', 0o644)
            atomic_write(os.path.join(self.root, cid, META), meta_json(meta), 0o600)
            self._update_all()

    def release(self, cid):
        """Forget a container's meta (its hosts file stays for a restart) and rewrite the others."""
        with store_lock(self.root):
            try:
                os.unlink(os.path.join(self.root, cid, META))
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    raise
            self._update_all()

    def delete(self, cid):
        """Remove <id>/ entirely (rm)."""
        with store_lock(self.root):
            shutil.rmtree(os.path.join(self.root, cid), ignore_errors=True)

    def update_name(self, cid, new_name):
        """Rename a container in its meta and rewrite every hosts file (nerdctl rename)."""
        with store_lock(self.root):
            meta = self._meta(cid)
            if meta is None:
                return
            meta['Name'] = new_name
            atomic_write(os.path.join(self.root, cid, META), meta_json(meta), 0o600)
            self._update_all()

    def _meta(self, entry):
        text = read_file(os.path.join(self.root, entry, META))
        if text is None:
            return None
        return load_json(META, text, self.warn or (lambda msg: None))

    def _update_all(self):
        entries = sorted(e for e in os.listdir(self.root) if os.path.isdir(os.path.join(self.root, e)))
        metas = {}
        for entry in entries:
            meta = self._meta(entry)
            if meta is not None:
                metas[entry] = meta
        everyone = [metas[e] for e in entries if e in metas]
        for entry, meta in metas.items():
            path = self.hosts_path(entry)
            existing = read_file(path)
            if existing is None:
                continue
            try:
                write_in_place(path, render(existing, meta, everyone), 0o644)
            except OSError as exc:
                if self.warn is not None:
                    self.warn('failed to write hosts file for %s: %s' % (entry, exc))
