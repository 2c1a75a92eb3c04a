#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmarks of the collection against shelling out to `ctr`, in the same run, reported as ratios.

Run through `make bench` (which starts a private containerd); needs CONTAINERD_ADDRESS, CONTAINERD_NAMESPACE and
ANSIBLE_COLLECTIONS_PATH in the environment.  Each figure is the median of several runs; the ratio is
collection / baseline, so below 1.0 means the collection is faster.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.environ.get('ANSIBLE_COLLECTIONS_PATH', os.path.join(REPO, '.tmp')).split(':')[0]
sys.path.insert(0, COLLECTIONS)


def timed(cmd, env=None, runs=7):
    """Median wall time of a command, failing loudly if it fails."""
    times = []
    for _run in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit('benchmark command failed: %s\n%s%s' % (' '.join(cmd), proc.stdout, proc.stderr))
    return statistics.median(times)


def ansible_env():
    env = dict(os.environ)
    env.setdefault('ANSIBLE_PYTHON_INTERPRETER', sys.executable)
    env['ANSIBLE_LOCALHOST_WARNING'] = 'false'
    env['ANSIBLE_INVENTORY_UNPARSED_WARNING'] = 'false'
    return env


def plant_container(address, namespace):
    """One container record to read (a record is what `ctr container info` and the module both read)."""
    from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.client import Client
    client = Client(address, namespace, 10)
    client.ensure_namespace()
    cid = uuid.uuid4().hex + uuid.uuid4().hex
    record = client.msg('containerd.services.containers.v1.Container', id=cid, image='bench:latest',
                        labels={'nerdctl/name': 'bench-info', 'nerdctl/networks': '["bridge"]'},
                        snapshotter='overlayfs', snapshot_key=cid)
    record.runtime.name = 'io.containerd.runc.v2'
    record.spec.CopyFrom(client.spec_any({'ociVersion': '1.0.2', 'annotations': {'nerdctl/networks': '["bridge"]'}}))
    client.create_container(record)
    return client, cid


def bench_info(address, namespace, runs):
    client, cid = plant_container(address, namespace)
    env = ansible_env()
    env['CONTAINERD_ADDRESS'] = address
    env['CONTAINERD_NAMESPACE'] = namespace
    try:
        module = timed(['ansible', 'localhost', '-m', 'ctrd.containerd.containerd_container_info', '-a', 'name=bench-info'],
                       env, runs)
        ctr = timed(['ansible', 'localhost', '-m', 'ansible.builtin.command', '-a',
                     'ctr -a %s -n %s container info %s' % (address, namespace, cid)], env, runs)
    finally:
        client.delete_container(cid)
    return {'module_s': module, 'ctr_s': ctr, 'ratio': module / ctr}


def module_costs():
    """Import time of the module's Python dependencies and the AnsiballZ payload size."""
    code = ('import time; t=time.perf_counter(); '
            'from ansible_collections.ctrd.containerd.plugins.module_utils.containerd import client, info_modules; '
            'client.get_api(); print(time.perf_counter()-t)')
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    imports = statistics.median(float(subprocess.run([sys.executable, '-c', code], env=env, check=True,
                                                     stdout=subprocess.PIPE, text=True).stdout) for _run in range(5))
    from ansible.executor.module_common import modify_module  # noqa: F401  (only to check ansible is importable)
    keep = os.path.join(REPO, '.tmp', 'bench-keep')
    subprocess.run(['rm', '-rf', keep], check=True)
    env = ansible_env()
    env.update(ANSIBLE_KEEP_REMOTE_FILES='1', ANSIBLE_REMOTE_TMP=keep, ANSIBLE_PIPELINING='false')
    subprocess.run(['ansible', 'localhost', '-m', 'ctrd.containerd.containerd_container_info', '-a',
                    'name=x address=/nonexistent'], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    sizes = [os.path.getsize(os.path.join(d, f)) for d, _dirs, files in os.walk(keep) for f in files
             if f.startswith('AnsiballZ_')]
    subprocess.run(['rm', '-rf', keep], check=True)
    return {'import_s': imports, 'payload_bytes': max(sizes) if sizes else None}


def playbook(name, env, extra):
    cmd = ['ansible-playbook', '-i', 'localhost,', os.path.join(REPO, 'scripts', 'bench_playbooks', name)]
    for key, value in extra.items():
        cmd += ['-e', '%s=%s' % (key, value)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit('benchmark playbook %s failed:\n%s' % (name, proc.stdout[-4000:]))
    return elapsed


def bench_lifecycle(address, namespace, count, rounds):
    """Start and stop `count` containers: the collection's state module vs ansible.builtin.command + ctr."""
    env = ansible_env()
    env['CONTAINERD_ADDRESS'] = address
    env['CONTAINERD_NAMESPACE'] = namespace
    workdir = os.path.join(REPO, '.tmp', 'bench-lifecycle')
    os.makedirs(workdir, exist_ok=True)
    extra = {'count': count, 'workdir': workdir}
    playbook('setup.yml', env, extra)
    ids = json.load(open(os.path.join(workdir, 'ids.json')))
    ctr = ['ctr', '-a', address, '-n', namespace]
    module_times, ctr_times = [], []
    try:
        for _round in range(rounds):
            ctr_times.append(playbook('lifecycle_ctr.yml', env, extra))
            module_times.append(playbook('lifecycle_module.yml', env, extra))
            for cid in ids:  # the state module keeps stopped tasks (as nerdctl does); ctr start needs none
                subprocess.run(ctr + ['task', 'delete', cid], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    finally:
        playbook('teardown.yml', env, extra)
    module, ctr_s = statistics.median(module_times), statistics.median(ctr_times)
    return {'containers': count, 'rounds': rounds, 'module_s': module, 'ctr_s': ctr_s, 'ratio': module / ctr_s}


def bench_cp(address, namespace, rounds):
    """containerd_cp's engine against the tar pipeline and the cp -a floor (scripts/bench_cp.py), same run."""
    env = ansible_env()
    env['CONTAINERD_ADDRESS'] = address
    env['CONTAINERD_NAMESPACE'] = namespace
    workdir = os.path.join(REPO, '.tmp', 'bench-cp')
    os.makedirs(workdir, exist_ok=True)
    extra = {'workdir': workdir}
    playbook('cp_setup.yml', env, extra)
    try:
        with open(os.path.join(workdir, 'cp-container-id')) as f:
            cid = f.read().strip()
        cmd = [sys.executable, os.path.join(REPO, 'scripts', 'bench_cp.py'), '--address', address, '--namespace',
               namespace, '--container', cid, '--workdir', os.path.join(workdir, 'data'), '--rounds', str(rounds)]
        penv = dict(os.environ, PYTHONPATH=COLLECTIONS)
        out = subprocess.run(cmd, env=penv, check=True, stdout=subprocess.PIPE, text=True).stdout
        print(out)
        return json.loads(out[out.index('\n{') + 1:] if not out.startswith('{') else out)
    finally:
        playbook('cp_teardown.yml', env, extra)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('what', nargs='*', default=['info', 'lifecycle', 'cp'], help='info, lifecycle, cp (default: all)')
    parser.add_argument('--containers', type=int, default=50)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--runs', type=int, default=7)
    parser.add_argument('--json', help='also write the figures to this file')
    args = parser.parse_args()
    address = os.environ['CONTAINERD_ADDRESS']
    namespace = os.environ.get('CONTAINERD_NAMESPACE', 'bench')
    results = {}
    if 'info' in args.what:
        results['info'] = bench_info(address, namespace, args.runs)
        results['info'].update(module_costs())
        r = results['info']
        print('containerd_container_info: %.3f s, ctr container info via command: %.3f s, ratio %.2f '
              '(import %.1f ms, AnsiballZ payload %s bytes)' % (
                  r['module_s'], r['ctr_s'], r['ratio'], r['import_s'] * 1000, r['payload_bytes']))
    if 'lifecycle' in args.what:
        r = results['lifecycle'] = bench_lifecycle(address, namespace, args.containers, args.rounds)
        print('start+stop %d containers: containerd_container_state %.1f s, command + ctr %.1f s, ratio %.2f' % (
            r['containers'], r['module_s'], r['ctr_s'], r['ratio']))
    if 'cp' in args.what:
        results['cp'] = bench_cp(address, namespace, min(args.rounds, 5))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
