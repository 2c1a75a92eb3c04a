#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only module: counts what a container's networking and task leave on the host, for leak tests.

Everything is counted for one containerd namespace only (CNI ids are `<namespace>-<id>`), so containers of
other tests on the same host do not disturb the numbers.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: network_leak_counters
short_description: Count CNI, iptables, link, mount, FIFO and shim leftovers of one containerd namespace
options:
  address: {type: str, required: true}
  namespace: {type: str, required: true}
  netconf_path: {type: str, required: true}
  networks: {type: list, elements: str, required: true, description: CNI networks (names) whose state is counted}
  container_ids: {type: list, elements: str, default: [], description: ids whose per-container iptables chains are looked for}
  state_dir: {type: str, description: containerd state dir, default the C(state) dir next to the socket}
  delete_links: {type: list, elements: str, default: [], description: links to delete (pyroute2) before counting}
'''

import glob
import hashlib
import json
import os
import stat
import subprocess

from ansible.module_utils.basic import AnsibleModule

try:
    from pyroute2 import IPRoute
except ImportError:
    IPRoute = None


def load_conf(netconf, name):
    for path in sorted(glob.glob(os.path.join(netconf, '*.conflist'))):
        with open(path) as f:
            conf = json.load(f)
        if conf.get('name') == name:
            return conf
    return None


def ipam_allocations(conf, prefix):
    """host-local's files: one per leased address, holding the CNI container id on its first line."""
    ipam = conf['plugins'][0].get('ipam') or {}
    directory = os.path.join(ipam.get('dataDir') or '/var/lib/cni/networks', conf['name'])
    count = 0
    for path in glob.glob(os.path.join(directory, '*')):
        name = os.path.basename(path)
        if name.startswith(('last_reserved_ip', 'lock')):
            continue
        with open(path) as f:
            if f.readline().strip().startswith(prefix):
                count += 1
    return count


def bridge_ports(bridge):
    """veth devices enslaved to the bridge (pyroute2; /sys as a fallback)."""
    if IPRoute is not None:
        with IPRoute() as ipr:
            idx = ipr.link_lookup(ifname=bridge)
            if not idx:
                return 0
            return len(ipr.get_links(master=idx[0]))
    try:
        return len(os.listdir('/sys/class/net/%s/brif' % bridge))
    except OSError:
        return 0


def chain_name(net, cni_id, prefix=''):
    return ('CNI-%s%s' % (prefix, hashlib.sha512((net + cni_id).encode()).hexdigest()))[:28]


def delete_links(names):
    changed = False
    if names and IPRoute is not None:
        with IPRoute() as ipr:
            for name in names:
                idx = ipr.link_lookup(ifname=name)
                if idx:
                    ipr.link('del', index=idx[0])
                    changed = True
    return changed


def count_fifos(roots):
    fifos = 0
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                try:
                    if stat.S_ISFIFO(os.lstat(os.path.join(dirpath, name)).st_mode):
                        fifos += 1
                except OSError:
                    pass
    return fifos


def count_shims(address, namespace):
    """runc shims serving this socket and namespace (their argv carries -namespace and -address)."""
    shims = 0
    for cmdline in glob.glob('/proc/[0-9]*/cmdline'):
        try:
            with open(cmdline, 'rb') as f:
                argv = f.read().split(b'\0')
        except OSError:
            continue
        if argv and argv[0].endswith(b'containerd-shim-runc-v2') and address.encode() in argv and namespace.encode() in argv:
            shims += 1
    return shims


def main():
    module = AnsibleModule(argument_spec=dict(
        address=dict(type='str', required=True), namespace=dict(type='str', required=True),
        netconf_path=dict(type='str', required=True), networks=dict(type='list', elements='str', required=True),
        container_ids=dict(type='list', elements='str', default=[]), state_dir=dict(type='str'),
        delete_links=dict(type='list', elements='str', default=[])), supports_check_mode=True)
    p = module.params
    changed = delete_links(p['delete_links'])
    prefix = p['namespace'] + '-'
    state_dir = p['state_dir'] or os.path.join(os.path.dirname(p['address']), 'state')
    confs = [c for c in (load_conf(p['netconf_path'], n) for n in p['networks']) if c]

    counts = {}
    counts['ipam_allocations'] = sum(ipam_allocations(c, prefix) for c in confs)
    counts['cni_result_cache'] = len([f for f in glob.glob('/var/lib/cni/results/*') if '-%s' % prefix in os.path.basename(f)])
    rules = 0
    declared = set()
    for table in ('nat', 'filter', 'mangle'):
        out = subprocess.run(['iptables-save', '-t', table], stdout=subprocess.PIPE, check=True).stdout.decode()
        rules += sum(1 for line in out.splitlines() if line.startswith('-A') and ('"%s' % prefix) in line)
        declared |= set(line[1:].split(' ', 1)[0] for line in out.splitlines() if line.startswith(':'))
    counts['iptables_rules'] = rules
    wanted = set()
    for cid in p['container_ids']:
        for c in confs:
            wanted.add(chain_name(c['name'], prefix + cid))
            wanted.add(chain_name(c['name'], prefix + cid, 'DN-'))
    counts['iptables_chains'] = len(wanted & declared)
    counts['veth_devices'] = sum(bridge_ports(c['plugins'][0]['bridge']) for c in confs)
    with open('/proc/self/mountinfo') as f:
        mounts = f.read().splitlines()
    counts['netns_mounts'] = sum(1 for m in mounts if ' nsfs ' in m and 'net:[' in m)
    task_dir = '/io.containerd.runtime.v2.task/%s/' % p['namespace']
    counts['snapshot_mounts'] = sum(1 for m in mounts if task_dir in m.split(' ')[4])
    counts['task_fifos'] = count_fifos((state_dir, '/run/containerd/fifo'))
    counts['shim_processes'] = count_shims(p['address'], p['namespace'])
    module.exit_json(changed=changed, counts=counts)


if __name__ == '__main__':
    main()
