# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OCI runtime spec of a new container, built as nerdctl builds it on top of containerd.

containerd's Go client starts from a default Linux spec (oci.GenerateSpec for runc) and nerdctl applies its
options on top.  We have no Go client, so this module reproduces the result as plain dicts: the default spec
(checked against `ctr oci spec` of containerd 1.6.20 and 2.1.9), nerdctl's platform tweaks, the image config
(Env, Entrypoint, Cmd, WorkingDir, User) and the user's options.  Everything here is pure: the caller supplies
the image config and, for user names and supplementary groups, the text of the image's /etc/passwd and
/etc/group.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import posixpath

from .errors import UserError

DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

_DEFAULT_CAPS = [
    'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
    'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
    'CAP_AUDIT_WRITE',
]

_MASKED_PATHS = [
    '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
    '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
]
# containerd 2.x masks this one as well, before /proc/scsi (absent from 1.6.20's default spec).
_MASKED_PATHS_V2 = ['/sys/devices/virtual/powercap']

_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']

_DEFAULT_MOUNTS = [
    ('/proc', 'proc', 'proc', ['nosuid', 'noexec', 'nodev']),
    ('/dev', 'tmpfs', 'tmpfs', ['nosuid', 'strictatime', 'mode=755', 'size=65536k']),
    ('/dev/pts', 'devpts', 'devpts', ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']),
    ('/dev/shm', 'tmpfs', 'shm', ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']),
    ('/dev/mqueue', 'mqueue', 'mqueue', ['nosuid', 'noexec', 'nodev']),
    ('/sys', 'sysfs', 'sysfs', ['nosuid', 'noexec', 'nodev', 'ro']),
    ('/run', 'tmpfs', 'tmpfs', ['nosuid', 'strictatime', 'mode=755', 'size=65536k']),
]

# oci.WithDefaultUnixDevices: (major, minor) of the character devices the device cgroup allows.
_DEFAULT_DEVICES = [(1, 3), (1, 8), (1, 7), (5, 0), (1, 5), (1, 9), (5, 1), (136, None), (5, 2)]

_NAMESPACES = ['pid', 'ipc', 'uts', 'mount', 'network']


def oci_version(daemon_version):
    """The runtime-spec version string the daemon's own Go client would write."""
    major, minor = _major_minor(daemon_version)
    if major < 1 or (major == 1 and minor <= 6):
        return '1.0.2-dev'
    if major == 1:
        return '1.1.0'
    if major == 2 and minor == 0:
        return '1.2.0'
    return '1.2.1'


def _major_minor(version):
    parts = []
    for piece in (version or '').lstrip('v').split('.')[:2]:
        digits = ''
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        parts.append(int(digits) if digits else 0)
    while len(parts) < 2:
        parts.append(0)
    return parts[0], parts[1]


def default_spec(namespace, container_id, daemon_version):
    """containerd's default Linux spec for runc (populateDefaultUnixSpec) for this daemon version."""
    major = _major_minor(daemon_version)[0]
    masked = list(_MASKED_PATHS)
    if major >= 2:
        masked[-1:-1] = _MASKED_PATHS_V2
    return {
        'ociVersion': oci_version(daemon_version),
        'process': {
            'user': {'uid': 0, 'gid': 0},
            'cwd': '/',
            'capabilities': {'bounding': list(_DEFAULT_CAPS), 'effective': list(_DEFAULT_CAPS),
                             'permitted': list(_DEFAULT_CAPS)},
            'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 1024, 'soft': 1024}],
            'noNewPrivileges': True,
        },
        'root': {'path': 'rootfs'},
        'mounts': [{'destination': d, 'type': t, 'source': s, 'options': list(o)} for d, t, s, o in _DEFAULT_MOUNTS],
        'linux': {
            'resources': {'devices': [{'allow': False, 'access': 'rwm'}]},
            'cgroupsPath': posixpath.normpath(posixpath.join('/', namespace, container_id)),
            'namespaces': [{'type': t} for t in _NAMESPACES],
            'maskedPaths': masked,
            'readonlyPaths': list(_READONLY_PATHS),
        },
    }


def apply_nerdctl_platform(spec):
    """nerdctl's fixed Linux options: default devices, no /run tmpfs, a read-only cgroup mount, no rlimits.

    nerdctl resets the rlimits (as containerd's CRI does) when the user gives no --ulimit.
    """
    devices = spec['linux']['resources']['devices']
    for major, minor in _DEFAULT_DEVICES:
        dev = {'allow': True, 'type': 'c', 'major': major}
        if minor is not None:
            dev['minor'] = minor
        dev['access'] = 'rwm'
        devices.append(dev)
    remove_mounts(spec, ['/run'])
    spec['mounts'].append({'destination': '/sys/fs/cgroup', 'type': 'cgroup', 'source': 'cgroup',
                           'options': ['ro', 'nosuid', 'noexec', 'nodev']})
    spec['process'].pop('rlimits', None)
    return spec


def remove_mounts(spec, destinations):
    """oci.WithoutMounts: drop every mount whose cleaned destination is one of `destinations`."""
    keep = []
    for mount in spec.get('mounts') or []:
        if posixpath.normpath(mount['destination']) not in destinations:
            keep.append(mount)
    spec['mounts'] = keep


def replace_or_append_env(defaults, overrides):
    """containerd's env merge: an override replaces the same key or is appended; `KEY` without `=` unsets it."""
    results = list(defaults)
    index = {}
    for i, entry in enumerate(results):
        index[entry.split('=', 1)[0]] = i
    for entry in overrides:
        key = entry.split('=', 1)[0]
        if '=' not in entry:
            if key in index:
                results[index[key]] = None
            continue
        if key in index:
            results[index[key]] = entry
        else:
            index[key] = len(results)
            results.append(entry)
    return [e for e in results if e is not None]


def image_args(image_config, entrypoint=None, command=None):
    """Process args as nerdctl computes them.

    Without an entrypoint option: the image's Entrypoint plus (the command, else the image's Cmd).
    With one (even an empty list): the entrypoint option plus the command only; the image's Cmd is dropped.
    """
    cfg = image_config or {}
    if entrypoint is None:
        cmd = command if command else (cfg.get('Cmd') or [])
        return list(cfg.get('Entrypoint') or []) + list(cmd)
    args = list(entrypoint) + list(command or [])
    if not args:
        raise UserError('no command or entrypoint provided, and no CMD or ENTRYPOINT from image')
    return args


def image_env(image_config):
    """The image's Env with nerdctl's default PATH appended when the image sets no PATH."""
    env = list((image_config or {}).get('Env') or [])
    if not any(e.startswith('PATH=') for e in env):
        env = replace_or_append_env(env, [DEFAULT_PATH_ENV])
    return env


def apply_image_config(spec, image_config, args, userdb):
    """oci.WithImageConfigArgs (after nerdctl's WithDefaultPathEnv): env, args, cwd, user from the image."""
    cfg = image_config or {}
    process = spec['process']
    if not any(e.startswith('PATH=') for e in (cfg.get('Env') or [])):
        process['env'] = replace_or_append_env(process.get('env') or [], [DEFAULT_PATH_ENV])
    defaults = list(cfg.get('Env') or []) or [DEFAULT_PATH_ENV]
    process['env'] = replace_or_append_env(defaults, process.get('env') or [])
    process['args'] = list(args)
    process['cwd'] = cfg.get('WorkingDir') or '/'
    if cfg.get('User'):
        set_user(spec, cfg['User'], userdb)
        set_additional_gids(spec, str(process['user']['uid']), userdb)
    else:
        set_additional_gids(spec, 'root', userdb)
    return spec


def parse_passwd(text):
    """Entries of an /etc/passwd text as dicts (name, uid, gid); malformed lines are skipped."""
    users = []
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        parts = line.split(':')
        if len(parts) < 4:
            continue
        try:
            users.append({'name': parts[0], 'uid': int(parts[2]), 'gid': int(parts[3])})
        except ValueError:
            continue
    return users


def parse_group(text):
    """Entries of an /etc/group text as dicts (name, gid, members)."""
    groups = []
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        parts = line.split(':')
        if len(parts) < 3:
            continue
        try:
            gid = int(parts[2])
        except ValueError:
            continue
        members = [m for m in (parts[3].split(',') if len(parts) > 3 else []) if m]
        groups.append({'name': parts[0], 'gid': gid, 'members': members})
    return groups


class UserDB(object):
    """The image's /etc/passwd and /etc/group; None for a file the image does not have."""

    def __init__(self, passwd=None, group=None):
        self.passwd = None if passwd is None else parse_passwd(passwd)
        self.group = None if group is None else parse_group(group)


_MAX_ID = 2 ** 31 - 1


def _parse_id(text, what, userstr):
    try:
        value = int(text)
    except ValueError:
        return None
    if value < 0 or value > _MAX_ID:
        raise UserError('invalid USER value "%s": %s out of range' % (userstr, what))
    return value


def _ensure_primary_gid(user):
    gids = user.get('additionalGids') or []
    if user['gid'] not in gids:
        gids = [user['gid']] + gids
    user['additionalGids'] = gids


def set_user(spec, userstr, userdb):
    """oci.WithUser: `user`, `uid`, `user:group`, `uid:gid`, `uid:group`, `user:gid`, resolved in the image."""
    user = spec['process'].setdefault('user', {'uid': 0, 'gid': 0})
    user.pop('additionalGids', None)
    parts = userstr.split(':')
    if len(parts) == 1:
        uid = _parse_id(parts[0], 'uid', userstr)
        if uid is None:
            entry = _find_user(userdb, lambda u: u['name'] == parts[0], 'no users found')
            user['uid'], user['gid'] = entry['uid'], entry['gid']
        else:
            entry = _find_user(userdb, lambda u: u['uid'] == uid, None)
            user['uid'], user['gid'] = (uid, 0) if entry is None else (entry['uid'], entry['gid'])
    elif len(parts) == 2:
        uid = _parse_id(parts[0], 'uid', userstr)
        gid = _parse_id(parts[1], 'gid', userstr)
        if uid is None:
            uid = _find_user(userdb, lambda u: u['name'] == parts[0], 'no users found')['uid']
        if gid is None:
            groups = [g for g in (userdb.group or []) if g['name'] == parts[1]]
            if not groups:
                raise UserError('no groups found')
            gid = groups[0]['gid']
        user['uid'], user['gid'] = uid, gid
    else:
        raise UserError('invalid USER value %s' % userstr)
    _ensure_primary_gid(user)
    return spec


def _find_user(userdb, match, missing_error):
    entries = [u for u in ((userdb.passwd if userdb else None) or []) if match(u)]
    if entries:
        return entries[0]
    if missing_error:
        raise UserError(missing_error)
    return None


def set_additional_gids(spec, userstr, userdb):
    """oci.WithAdditionalGIDs: the primary GID, then the groups of /etc/group that list the user.

    A numeric user unknown to /etc/passwd, or a missing /etc/group, leaves only the primary GID.
    """
    user = spec['process'].setdefault('user', {'uid': 0, 'gid': 0})
    user.pop('additionalGids', None)
    username = userstr
    uid = _parse_id_quiet(userstr)
    if uid is not None:
        entry = _find_user(userdb, lambda u: u['uid'] == uid, None)
        username = entry['name'] if entry else None
    if username is not None and userdb is not None and userdb.group is not None:
        user['additionalGids'] = [g['gid'] for g in userdb.group if g['name'] != username and username in g['members']]
    _ensure_primary_gid(user)
    return spec


def _parse_id_quiet(text):
    try:
        return int(text)
    except ValueError:
        return None


def set_env(spec, env):
    """oci.WithEnv: merge `KEY=VALUE` entries into the process env."""
    if env:
        spec['process']['env'] = replace_or_append_env(spec['process'].get('env') or [], env)
    return spec


def set_namespace(spec, ns_type, path=None):
    """oci.WithLinuxNamespace: replace the namespace of that type (or add it), with an optional path."""
    entry = {'type': ns_type}
    if path:
        entry['path'] = path
    namespaces = spec['linux'].setdefault('namespaces', [])
    for i, ns in enumerate(namespaces):
        if ns['type'] == ns_type:
            namespaces[i] = entry
            return spec
    namespaces.append(entry)
    return spec


def host_namespace(spec, ns_type):
    """oci.WithHostNamespace: remove the namespace so the container shares the host's."""
    spec['linux']['namespaces'] = [ns for ns in spec['linux'].get('namespaces', []) if ns['type'] != ns_type]
    return spec


def has_namespace(spec, ns_type):
    return any(ns['type'] == ns_type for ns in (spec.get('linux') or {}).get('namespaces') or [])


def add_mounts(spec, mounts):
    spec.setdefault('mounts', []).extend(copy.deepcopy(mounts))
    return spec


def bind_mount(destination, source, options):
    return {'destination': destination, 'type': 'bind', 'source': source, 'options': list(options)}


def set_annotations(spec, annotations):
    if annotations:
        spec.setdefault('annotations', {}).update(annotations)
    return spec


def nerdctl_annotations(labels):
    """Every label whose key contains `nerdctl/`, as nerdctl copies them into the spec at create."""
    return dict((k, v) for k, v in labels.items() if 'nerdctl/' in k)
