# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The iptables sweep nerdctl's postStop hook does after CNI DEL (nerdctl v2.1.3+).

A DEL without a network namespace (the container's process is gone when the task is deleted) cannot
tell the bridge plugin which address it masqueraded, so the bridge's per-container `CNI-<hash>` chain
and its POSTROUTING jump would stay.  Every rule whose text names the CNI container id is deleted from
the nat, filter and mangle tables, then the per-container chains are removed.  This uses the host's own
firewall tools (iptables-save / iptables), which is what the CNI plugins themselves call.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import shlex
import subprocess

TABLES = ('nat', 'filter', 'mangle')
MAX_CHAIN_LENGTH = 28


def chain_name(network_name, cni_id, prefix=''):
    """The CNI plugins' per-container chain name: `CNI-<prefix><sha512(name + id)>`, cut to 28 characters."""
    digest = hashlib.sha512((network_name + cni_id).encode('utf-8')).hexdigest()
    return ('CNI-%s%s' % (prefix, digest))[:MAX_CHAIN_LENGTH]


def container_chains(network_names, cni_id):
    """The chains the bridge (masquerade) and portmap (DNAT) plugins create for one container."""
    chains = []
    for name in network_names:
        chains.append(chain_name(name, cni_id))
        chains.append(chain_name(name, cni_id, 'DN-'))
    return chains


def rules_naming(save_output, cni_id):
    """The `-A` rules of one table's iptables-save output that name `cni_id`, as -D argument lists.

    nerdctl matches the bare id as a substring; its ids are 64 hex digits, so that is exact.  The plugins
    always write the id quoted in a comment (`id: "<ns>-<id>"`, escaped by iptables-save), and matching the
    quoted form keeps a short id from also matching a longer one that starts with it.
    """
    needles = ('\\"%s\\"' % cni_id, '"%s"' % cni_id)
    deletions = []
    for line in save_output.splitlines():
        if not line.startswith('-A ') or not any(n in line for n in needles):
            continue
        try:
            words = shlex.split(line)
        except ValueError:
            continue
        deletions.append(['-D'] + words[1:])
    return deletions


def declared_chains(save_output):
    """Chain names declared (`:NAME POLICY [..]`) in one table's iptables-save output."""
    return set(line[1:].split(' ', 1)[0] for line in save_output.splitlines() if line.startswith(':'))


def _run(argv):
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    return proc.returncode, proc.stdout.decode('utf-8', 'replace'), proc.stderr.decode('utf-8', 'replace')


def sweep(cni_id, network_names, warn, iptables='iptables', iptables_save='iptables-save'):
    """Delete every rule naming cni_id in nat/filter/mangle, then the container's own chains in nat.

    Failures become warnings (as in nerdctl): the container is being deleted either way.
    Returns the number of rules and chains removed.
    """
    removed = 0
    chains = set(container_chains(network_names, cni_id))
    for table in TABLES:
        rc, out, err = _run([iptables_save, '-t', table])
        if rc != 0:
            warn('failed to list iptables rules of table %s: %s' % (table, err.strip()))
            continue
        for rule in rules_naming(out, cni_id):
            rc, _out, err = _run([iptables, '-w', '-t', table] + rule)
            if rc == 0:
                removed += 1
            else:
                warn('failed to delete iptables rule %s: %s' % (' '.join(rule), err.strip()))
        for chain in sorted(chains & declared_chains(out)):
            _run([iptables, '-w', '-t', table, '-F', chain])
            rc, _out, err = _run([iptables, '-w', '-t', table, '-X', chain])
            if rc == 0:
                removed += 1
            else:
                warn('failed to delete iptables chain %s: %s' % (chain, err.strip()))
    return removed
