# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy of containerd_container: which state to reach, and what to report.

present: create a missing container; keep one that matches the desired configuration; recreate one that
differs (unless recreate=never), restarting it when it ran.  absent: remove it.  Check mode predicts the same
result without changing anything; the diff names every differing option.  How a container is read, compared,
created and removed lives in desired, compare, create and remove.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from . import labels as L
from .compare import compare, read_facts
from .create import create_container, ensure_network_config
from .desired import normalize, resolve_targets
from .errors import UserError
from .image import get_image_config
from .info import container_info
from .lifecycle import ACTIVE, start
from .remove import remove_container
from .resolve import find_container
from .runenv import Env


def _container_return(env, record):
    """The `container` result: the same dict containerd_container_info returns."""
    return container_info(env.client, record, env.params, env.warn)


def present(module):
    """state=present: create, keep or recreate the container; returns the module result."""
    params = module.params
    desired = normalize(params)
    if not desired.get('image'):
        raise UserError('image is required when state is present')
    env = Env(module.client, params, module.warn)
    client = env.client
    if not module.check_mode:
        client.ensure_namespace()
    image = get_image_config(client, desired['image'], params['snapshotter'])
    targets = resolve_targets(client, desired)
    existing = find_container(client, desired['name']) if desired.get('name') else None
    if existing is not None and existing.id.startswith(desired['name']) and dict(existing.labels).get(L.NAME) != desired['name']:
        existing = None  # an ID prefix that happens to equal the name is another container
    if existing is not None:
        return _keep_or_recreate(module, env, desired, image, targets, existing)
    return _create_new(module, env, desired, image, targets)


def _keep_or_recreate(module, env, desired, image, targets, existing):
    """An existing container: keep it when nothing differs, else recreate it (and start it again if it ran)."""
    client = env.client
    recreate = module.params.get('recreate') or 'on_change'
    result = {'changed': False}
    diffs = compare(desired, read_facts(env, existing, desired, image, targets))
    if recreate == 'always':
        diffs = diffs or [{'field': 'recreate', 'before': 'existing', 'after': 'forced'}]
    if not diffs:
        result['container'] = _container_return(env, existing)
        result['diff'] = {'before': {}, 'after': {}}
        return result
    if recreate == 'never':
        raise UserError('container %s differs from the desired configuration in: %s (recreate is never)'
                        % (desired['name'], ', '.join(d['field'] for d in diffs)))
    result['changed'] = True
    result['diff'] = {'before': dict((d['field'], d['before']) for d in diffs),
                      'after': dict((d['field'], d['after']) for d in diffs)}
    result['differences'] = diffs
    result['actions'] = ['recreate']
    if module.check_mode:
        result['container'] = _container_return(env, existing)
        return result
    status, _task = client.task_status(existing.id)
    was_running = status in ACTIVE
    # The replaced container's anonymous volumes would be orphans nobody can name: they go with it.
    remove_container(env, existing, remove_volumes=True)
    record = create_container(env, desired, image, targets)
    if was_running:
        start(client, record, env.lifecycle_ctx(desired['name']))
        result['actions'].append('start')
    result['container'] = _container_return(env, client.get_container(record.id))
    return result


def _create_new(module, env, desired, image, targets):
    """No container of that name yet: create it (its networks are checked in check mode too)."""
    result = {'changed': True, 'actions': ['create']}
    after = {'exists': True, 'name': desired.get('name'), 'image': image.image.name}
    result['diff'] = {'before': {'exists': False}, 'after': after}
    # also in check mode: an unknown network fails the prediction as it would fail the real run
    ensure_network_config(env, desired, module.check_mode)
    if module.check_mode:
        result['container'] = None
        return result
    record = create_container(env, desired, image, targets)
    result['container'] = _container_return(env, env.client.get_container(record.id))
    return result


def absent(module):
    """state=absent: remove the container if it exists."""
    params = module.params
    env = Env(module.client, params, module.warn)
    record = find_container(env.client, params['name'])
    if record is None:
        return {'changed': False, 'container': None, 'diff': {'before': {'exists': False}, 'after': {'exists': False}}}
    result = {'changed': True, 'actions': ['remove'], 'container': None,
              'diff': {'before': {'exists': True, 'id': record.id, 'name': L.container_name(dict(record.labels))},
                       'after': {'exists': False}}}
    if not module.check_mode:
        remove_container(env, record, remove_volumes=bool(params.get('remove_volumes')))
    return result


def container_policy(module):
    """The containerd_container module's policy: present or absent."""
    if module.params.get('state') == 'absent':
        return absent(module)
    return present(module)
