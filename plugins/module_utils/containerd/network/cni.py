# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small CNI runtime (the part of libcni and go-cni that nerdctl uses), written against the CNI spec.

ADD runs a conflist's plugins in order, each getting the previous result; DEL runs them in reverse with
the result cached at ADD time as prevResult (that is how the firewall and portmap plugins know which rules
to remove).  The cache lives where libcni keeps it (`/var/lib/cni/results/<net>-<id>-<ifname>`, same JSON),
so nerdctl and this collection can tear down each other's containers.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import contextlib
import fcntl
import json
import os
import subprocess

from ..errors import ContainerdError

DEFAULT_CACHE_DIR = '/var/lib/cni'
IFNAME_PREFIX = 'eth'
CACHE_KIND = 'cniCacheV1'


class CNIError(ContainerdError):
    """A CNI plugin failed, or could not be run; the text says which and why."""


LOCK_FILE = '.cni-concurrency.lock'


@contextlib.contextmanager
def cni_lock(netconf_path):
    """nerdctl's global CNI lock (v2.1.0+): flock on `<netconfpath>/.cni-concurrency.lock`.

    CNI plugins (host-local, iptables chains) are not safe to run concurrently for one host, and the
    hooks of different containers do run concurrently; nerdctl takes the same lock, so we share it.
    """
    if not os.path.isdir(netconf_path):
        os.makedirs(netconf_path, 0o700)
    fd = os.open(os.path.join(netconf_path, LOCK_FILE), os.O_RDWR | os.O_CREAT | getattr(os, 'O_CLOEXEC', 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def cni_container_id(namespace, container_id):
    """nerdctl's CNI container id: `<namespace>-<container id>`."""
    return '%s-%s' % (namespace, container_id)


def interface_name(index):
    """go-cni names interfaces eth0, eth1, ... in the order the networks were given."""
    return '%s%d' % (IFNAME_PREFIX, index)


class NetOptions(object):
    """Per-container CNI arguments and capabilities, taken from the container's annotations and state dir."""

    def __init__(self, port_mappings=None, ip=None, mac=None, ip6=None, hostname=None):
        self.port_mappings = list(port_mappings or [])
        self.ip = ip
        self.mac = mac
        self.ip6 = ip6
        self.hostname = hostname

    def args(self):
        """CNI_ARGS pairs as nerdctl passes them (IgnoreUnknown lets plugins skip the keys they do not know)."""
        pairs = [('IgnoreUnknown', '1')]
        if self.ip:
            pairs.append(('IP', self.ip))
        if self.mac:
            pairs.append(('MAC', self.mac))
        pairs.append(('NERDCTL_CNI_DHCP_HOSTNAME', self.hostname or ''))
        return pairs

    def capability_args(self):
        caps = {}
        if self.port_mappings:
            caps['portMappings'] = [portmap_capability(p) for p in self.port_mappings]
        if self.ip6:
            caps['ips'] = [self.ip6]
        return caps


def portmap_capability(mapping):
    """A go-cni PortMapping (nerdctl's `{"HostPort":..}` form, as in network-config.json) in CNI's runtimeConfig form."""
    def get(key):
        return mapping.get(key, mapping.get(key[0].lower() + key[1:]))
    return {
        'hostPort': int(get('HostPort') or 0),
        'containerPort': int(get('ContainerPort') or 0),
        'protocol': (get('Protocol') or 'tcp').lower(),
        'hostIP': get('HostIP') or '',
    }


def format_args(pairs):
    """CNI_ARGS: `K=V;K=V`."""
    return ';'.join('%s=%s' % (k, v) for k, v in pairs)


def plugin_stdin(plugin, name, cni_version, prev_result=None, capability_args=None):
    """The network configuration one plugin reads on stdin (libcni's buildOneConfig).

    The conflist's name and cniVersion are injected, then prevResult, then a `runtimeConfig` holding each
    capability the plugin declares (`"capabilities": {"portMappings": true}`) and the caller provides.
    """
    conf = dict(plugin)
    conf['name'] = name
    conf['cniVersion'] = cni_version
    if prev_result is not None:
        conf['prevResult'] = prev_result
    runtime = {}
    declared = plugin.get('capabilities') or {}
    for cap, value in sorted((capability_args or {}).items()):
        if declared.get(cap):
            runtime[cap] = value
    if runtime:
        conf['runtimeConfig'] = runtime
    return json.dumps(conf).encode('utf-8')


def plugin_env(command, container_id, netns, ifname, args, cni_path, base_env=None):
    """The CNI_* environment of a plugin call, on top of the caller's environment (plugins need PATH for iptables)."""
    env = dict(os.environ if base_env is None else base_env)
    env.update({
        'CNI_COMMAND': command,
        'CNI_CONTAINERID': container_id,
        'CNI_NETNS': netns or '',
        'CNI_IFNAME': ifname,
        'CNI_ARGS': format_args(args),
        'CNI_PATH': cni_path,
    })
    return env


def describe(plugin, name):
    return 'type="%s" name="%s"' % (plugin.get('type', ''), name)


def plugin_error(stdout, stderr):
    """The error a failed plugin reports: its JSON error object on stdout, else its stderr."""
    try:
        err = json.loads(stdout.decode('utf-8'))
    except ValueError:
        err = None
    if isinstance(err, dict) and err.get('msg'):
        text = err['msg']
        if err.get('details'):
            text = '%s; %s' % (text, err['details'])
        return text
    return 'netplugin failed: "%s"' % stderr.decode('utf-8', 'replace').strip()


class CNI(object):
    """Runs conflists against containers; one instance per plugin path and cache dir."""

    def __init__(self, cni_path, cache_dir=DEFAULT_CACHE_DIR, env=None):
        self.cni_path = cni_path
        self.cache_dir = cache_dir
        self.env = env

    def find_plugin(self, plugin_type):
        dirs = [d for d in self.cni_path.split(':') if d]
        for directory in dirs:
            path = os.path.join(directory, plugin_type)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
        raise CNIError('failed to find plugin "%s" in path [%s]' % (plugin_type, ' '.join(dirs)))

    def _exec(self, command, plugin, net, container_id, netns, ifname, args, caps, prev_result):
        path = self.find_plugin(plugin.get('type', ''))
        stdin = plugin_stdin(plugin, net.name, net.cni_version, prev_result, caps)
        env = plugin_env(command, container_id, netns, ifname, args, self.cni_path, self.env)
        try:
            proc = subprocess.run([path], input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
        except OSError as exc:
            raise CNIError('plugin %s failed (%s): %s' % (describe(plugin, net.name), command.lower(), exc))
        if proc.returncode != 0:
            raise CNIError('plugin %s failed (%s): %s' % (describe(plugin, net.name), command.lower(),
                                                          plugin_error(proc.stdout, proc.stderr)))
        if command != 'ADD':
            return None
        try:
            return json.loads(proc.stdout.decode('utf-8'))
        except ValueError as exc:
            raise CNIError('plugin %s failed (add): invalid result: %s' % (describe(plugin, net.name), exc))

    # -- result cache (libcni's layout and format) -------------------------------------------------

    def cache_path(self, net_name, container_id, ifname):
        return os.path.join(self.cache_dir, 'results', '%s-%s-%s' % (net_name, container_id, ifname))

    def cache_add(self, net, container_id, netns, ifname, args, caps, result):
        entry = {
            'kind': CACHE_KIND,
            'containerId': container_id,
            'config': base64.b64encode(net.raw).decode('ascii'),
            'ifName': ifname,
            'networkName': net.name,
            'result': result,
        }
        if netns:
            entry['netns'] = netns
        if args:
            entry['cniArgs'] = [list(p) for p in args]
        if caps:
            entry['capabilityArgs'] = caps
        path = self.cache_path(net.name, container_id, ifname)
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        tmp = '%s.tmp-%d' % (path, os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as f:
            json.dump(entry, f)
        os.rename(tmp, path)

    def cached_result(self, net_name, container_id, ifname):
        try:
            with open(self.cache_path(net_name, container_id, ifname)) as f:
                entry = json.load(f)
        except (OSError, IOError, ValueError):
            return None
        return entry.get('result') if isinstance(entry, dict) else None

    def cache_del(self, net_name, container_id, ifname):
        try:
            os.unlink(self.cache_path(net_name, container_id, ifname))
        except OSError:
            pass

    # -- conflist operations ----------------------------------------------------------------------

    def add_list(self, net, container_id, netns, ifname, args=(), caps=None):
        """ADD every plugin of the list in order, chaining results; cache and return the last result."""
        result = None
        for plugin in net.plugins:
            result = self._exec('ADD', plugin, net, container_id, netns, ifname, args, caps, result)
        self.cache_add(net, container_id, netns, ifname, args, caps, result)
        return result

    def del_list(self, net, container_id, netns, ifname, args=(), caps=None):
        """DEL every plugin in reverse order with the cached ADD result as prevResult, then drop the cache."""
        prev = self.cached_result(net.name, container_id, ifname)
        for plugin in reversed(net.plugins):
            self._exec('DEL', plugin, net, container_id, netns, ifname, args, caps, prev)
        self.cache_del(net.name, container_id, ifname)

    def setup(self, networks, container_id, netns, options=None):
        """Attach the container to each network (eth0, eth1, ...); return the results in network order."""
        options = options or NetOptions()
        return [self.add_list(net, container_id, netns, interface_name(i), options.args(), options.capability_args())
                for i, net in enumerate(networks)]

    def remove(self, networks, container_id, netns, options=None):
        """Detach from each network.  Like go-cni, a "not found" error (or a missing netns file when no
        netns is given) counts as already removed; any other error stops and is raised."""
        options = options or NetOptions()
        for i, net in enumerate(networks):
            try:
                self.del_list(net, container_id, netns, interface_name(i), options.args(), options.capability_args())
            except CNIError as exc:
                text = str(exc)
                if (not netns and 'no such file or directory' in text) or 'not found' in text:
                    self.cache_del(net.name, container_id, interface_name(i))
                    continue
                raise
