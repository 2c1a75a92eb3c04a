# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Installs the OCI hook program on the managed node and builds the spec's `hooks` section.

The hook outlives the module run: runc calls it for every task the container ever gets, including the
ones containerd's restart monitor creates.  So it is written as a self-contained zipapp holding the
module_utils sources it needs (read through the package loader, which works from inside AnsiballZ's
zip), at a content-addressed path under the data root: an upgraded collection writes a new file and the
containers created earlier keep calling the program they were created with.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import hashlib
import io
import os
import pkgutil
import sys
import tempfile
import zipfile

# Imported so that AnsiballZ ships the hook and everything it imports with any module that installs it.
from . import hook  # noqa: F401 pylint: disable=unused-import

HOOK_DIR = 'oci-hooks'
ZIP_PACKAGE = 'ctrd_hook'
# The hook's entry module, relative to the containerd module_utils package; what it imports (relatively,
# transitively) goes into the zipapp with it.
ENTRY = 'network/hook.py'
PACKAGES = ('', 'network/')
MAIN = ('import sys\n'
        'from %s.network.hook import main\n'
        'sys.exit(main())\n' % ZIP_PACKAGE)
# The hook's whole environment (runc passes only what the spec lists).  Fixed, so the spec is reproducible.
HOOK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

_PARENT = __name__.rsplit('.', 2)[0]  # ...module_utils.containerd


def _source(relpath):
    data = None
    try:
        data = pkgutil.get_data(_PARENT, relpath)
    except (OSError, IOError, ImportError):
        data = None
    if data is None:
        base = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with open(os.path.join(base, relpath), 'rb') as f:
            data = f.read()
    return data


def _resolve(relpath, node):
    """The package-relative file of a relative `from ... import ...`, or of each imported name if a module."""
    parts = relpath.split('/')[:-1]
    if node.level - 1 > len(parts):
        return []
    base = parts[:len(parts) - (node.level - 1)]
    if node.module:
        return ['/'.join(base + node.module.split('.')) + '.py']
    return ['/'.join(base + [alias.name]) + '.py' for alias in node.names]


def hook_sources():
    """{relpath: bytes} of the entry module and every sibling module it needs, found by following imports."""
    found = {}
    todo = [ENTRY]
    while todo:
        rel = todo.pop()
        if rel in found:
            continue
        try:
            data = _source(rel)
        except (OSError, IOError):
            continue  # `from . import name` where name is not a module
        found[rel] = data
        for node in ast.walk(ast.parse(data)):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                todo.extend(_resolve(rel, node))
    return found


def _add(archive, name, data):
    info = zipfile.ZipInfo(name, ZIP_DATE)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build_zipapp():
    """The hook program as zipapp bytes; identical sources give identical bytes (fixed dates and order)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as archive:
        _add(archive, '__main__.py', MAIN.encode('utf-8'))
        for pkg in PACKAGES:
            _add(archive, '%s/%s__init__.py' % (ZIP_PACKAGE, pkg), b'')
        for rel, data in sorted(hook_sources().items()):
            _add(archive, '%s/%s' % (ZIP_PACKAGE, rel), data)
    return buf.getvalue()


def hook_path(data_root, content):
    return os.path.join(data_root, HOOK_DIR, 'ctrd-oci-hook-%s.pyz' % hashlib.sha256(content).hexdigest()[:16])


def install_hook(data_root, check_mode=False, python=None):
    """Write the hook program (if not there yet) and return its argv prefix `[python, program]`.

    In check mode nothing is written; the returned argv is the one a real run would use.
    """
    content = build_zipapp()
    path = hook_path(data_root, content)
    if not check_mode and not _same_file(path, content):
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        fd, tmp = tempfile.mkstemp(prefix='.tmp-', dir=directory)
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(content)
            os.chmod(tmp, 0o644)
            os.rename(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return [python or sys.executable, path]


def _same_file(path, content):
    try:
        with open(path, 'rb') as f:
            return f.read() == content
    except (OSError, IOError):
        return False


def hook_args(hook_argv, event, data_root, address, cni_path, cni_netconf_path):
    """The hook's argv for one event, global flags first as nerdctl formats them."""
    return list(hook_argv) + ['--data-root=%s' % data_root, '--address=%s' % address, '--cni-path=%s' % cni_path,
                              '--cni-netconfpath=%s' % cni_netconf_path, event]


def spec_hooks(hook_argv, data_root, address, cni_path, cni_netconf_path):
    """The value for spec['hooks']: createRuntime does the CNI setup, poststop the teardown."""
    def entry(event):
        return {'path': hook_argv[0], 'args': hook_args(hook_argv, event, data_root, address, cni_path, cni_netconf_path),
                'env': ['PATH=%s' % HOOK_PATH]}
    return {'createRuntime': [entry('createRuntime')], 'poststop': [entry('postStop')]}
