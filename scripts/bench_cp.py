#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark containerd_cp's copy engine against nerdctl's tar pipeline and the `cp -a` floor.

Cases: one 200 MB file and a tree of 5,000 small files, into a running container and out of it.
Each is timed for `tar -c | tar -x` (what nerdctl runs), `cp -a` into /proc/<pid>/root (the floor)
and the collection's engine (in process, as the module runs it, without Ansible's start-up), plus a
second, unchanged run of the engine right after each first run.  Every run starts from an absent
destination and the page cache is warm for all of them (the sources are read once before timing).
Each round runs the three ways in a rotated order (no way always runs first after the clean-up), and
the report gives the median and the minimum over the rounds, plus the load average around the run.

Usage: PYTHONPATH=/work/main/.build python3 scripts/bench_cp.py --address SOCK --namespace NS --container ID \
           [--workdir DIR] [--rounds N] [--cases file_into,tree_into,file_out,tree_out]

Put --workdir and the daemon's root on the same kind of filesystem (docs/cp.md says why a journal-less
ext4 makes file creation times meaningless).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import json
import os
import shutil
import statistics
import subprocess
import time

from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.client import Client
from ansible_collections.ctrd.containerd.plugins.module_utils.containerd.cp.run import copy

ROUNDS = 5


def make_sources(base, big_mb, files):
    os.makedirs(base, exist_ok=True)
    big = os.path.join(base, 'big.bin')
    if not os.path.exists(big) or os.path.getsize(big) != big_mb << 20:
        with open(big, 'wb') as f:
            for _mb in range(big_mb):
                f.write(os.urandom(1 << 20))
    tree = os.path.join(base, 'tree')
    if not os.path.isdir(tree) or sum(len(f) for _r, _d, f in os.walk(tree)) != files:
        shutil.rmtree(tree, ignore_errors=True)
        for i in range(files):
            d = os.path.join(tree, 'd%02d' % (i % 50))
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, 'f%05d.txt' % i), 'wb') as f:
                f.write(os.urandom(512 + (i * 37) % 3500))
    subprocess.check_call(['cat', big], stdout=subprocess.DEVNULL)
    subprocess.check_call(['tar', '-c', '-f', '/dev/null', '-C', base, 'tree'])
    return big, tree


def timed(fn):
    start = time.monotonic()
    fn()
    return time.monotonic() - start


def run_case(name, src, engine_src, dst_host, dst_cont, client, cid, from_container, rounds=ROUNDS):
    """Time the three ways for one source; dst_host is where the bytes land as a host path."""
    results = {}

    def clean():
        if os.path.isdir(dst_host) and not os.path.islink(dst_host):
            shutil.rmtree(dst_host)
        elif os.path.lexists(dst_host):
            os.unlink(dst_host)
        subprocess.check_call(['sync'])

    src_parent, src_base = os.path.split(src.rstrip('/'))

    def tar_pipeline():
        os.makedirs(dst_host)
        c = subprocess.Popen(['tar', '-c', '-f', '-', '-C', src_parent, src_base], stdout=subprocess.PIPE)
        x = subprocess.Popen(['tar', '-x', '-f', '-', '-C', dst_host] + (['--no-same-owner'] if from_container else []),
                             stdin=c.stdout)
        c.stdout.close()
        if x.wait() or c.wait():
            raise RuntimeError('tar failed')

    def cp_a():
        subprocess.check_call(['cp', '-a', src, dst_host])

    # A tree is copied as `tree/.` so the unchanged second run compares the same landing place.
    params = dict(container=cid, src=engine_src.rstrip('/') + ('/.' if os.path.isdir(src) else ''), dest=dst_cont,
                  from_container=from_container, force=True, snapshotter='overlayfs')

    def engine():
        copy(client, params)

    ways = [('tar_pipeline', tar_pipeline), ('cp_a', cp_a), ('containerd_cp', engine)]
    samples = dict((label, []) for label in ('tar_pipeline', 'cp_a', 'containerd_cp', 'containerd_cp_unchanged'))
    for rnd in range(rounds):
        order = ways[rnd % len(ways):] + ways[:rnd % len(ways)]
        for label, fn in order:
            clean()
            samples[label].append(timed(fn))
            if label == 'containerd_cp':
                samples['containerd_cp_unchanged'].append(timed(engine))
        clean()
    for label, values in samples.items():
        results[label] = statistics.median(values)
        results[label + '_min'] = min(values)
    results['vs_tar'] = results['tar_pipeline'] / results['containerd_cp']
    results['vs_cp_a'] = results['containerd_cp'] / results['cp_a']
    results['second_run_speedup'] = results['containerd_cp'] / results['containerd_cp_unchanged']
    return name, results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    ap.add_argument('--address', required=True)
    ap.add_argument('--namespace', default='default')
    ap.add_argument('--container', required=True, help='ID of a running container')
    ap.add_argument('--workdir', default='/var/tmp/ctrd-bench-cp')
    ap.add_argument('--big-mb', type=int, default=200)
    ap.add_argument('--files', type=int, default=5000)
    ap.add_argument('--rounds', type=int, default=ROUNDS)
    ap.add_argument('--cases', default='file_into,tree_into,file_out,tree_out')
    args = ap.parse_args()
    wanted = args.cases.split(',')
    client = Client(args.address, args.namespace)
    status, task = client.task_status(args.container)
    if status != 'running':
        raise SystemExit('the container must be running')
    root = '/proc/%d/root' % task.pid
    big, tree = make_sources(os.path.join(args.workdir, 'src'), args.big_mb, args.files)
    out = os.path.join(args.workdir, 'out')
    os.makedirs(out, exist_ok=True)
    # Stage copies inside the container for the "out" direction.
    inside = os.path.join(root, 'tmp/bench-src')
    if not os.path.isdir(inside):
        subprocess.check_call(['cp', '-a', os.path.dirname(big), inside])
    cases = {
        'file_into': (big, big, os.path.join(root, 'tmp/bench-big'), '/tmp/bench-big', False),
        'tree_into': (tree, tree, os.path.join(root, 'tmp/bench-tree'), '/tmp/bench-tree', False),
        'file_out': (os.path.join(inside, 'big.bin'), '/tmp/bench-src/big.bin', os.path.join(out, 'big.bin'),
                     os.path.join(out, 'big.bin'), True),
        'tree_out': (os.path.join(inside, 'tree'), '/tmp/bench-src/tree', os.path.join(out, 'tree'), os.path.join(out, 'tree'), True),
    }
    load_before = os.getloadavg()
    results = [run_case(name, cases[name][0], cases[name][1], cases[name][2], cases[name][3], client, args.container,
                        cases[name][4], args.rounds) for name in wanted]
    report = {'rounds': args.rounds, 'load_before': load_before, 'load_after': os.getloadavg(), 'uname': os.uname().release}
    for name, res in results:
        report[name] = dict((k, round(v, 3)) for k, v in res.items())
    print(json.dumps(report, indent=2))


if __name__ == '__main__':
    main()
