# -*- coding: utf-8 -*-
# Copyright (c) ctrd.containerd contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exception types of the collection and the mapping of gRPC status codes onto them.

Every failure that reaches a module is one of these, so the module base can turn it into one clear
sentence for fail_json instead of a traceback.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ContainerdError(Exception):
    """Base class: a failure talking to containerd or applying nerdctl's rules."""
    code = None


class ConnectError(ContainerdError):
    """The socket is missing, refuses us, or nothing answers on it."""
    code = 'UNAVAILABLE'


class NotFoundError(ContainerdError):
    code = 'NOT_FOUND'


class AlreadyExistsError(ContainerdError):
    code = 'ALREADY_EXISTS'


class UnimplementedError(ContainerdError):
    code = 'UNIMPLEMENTED'


class DeadlineError(ContainerdError):
    code = 'DEADLINE_EXCEEDED'


class FailedPreconditionError(ContainerdError):
    code = 'FAILED_PRECONDITION'


class InvalidArgumentError(ContainerdError):
    code = 'INVALID_ARGUMENT'


class UserError(ContainerdError):
    """Bad input or a rule of nerdctl's that the request breaks; the text is what the user sees."""


_BY_CODE = {
    'NOT_FOUND': (NotFoundError, 'not found'),
    'ALREADY_EXISTS': (AlreadyExistsError, 'already exists'),
    'UNIMPLEMENTED': (UnimplementedError, 'unimplemented'),
    'DEADLINE_EXCEEDED': (DeadlineError, 'deadline exceeded'),
    'FAILED_PRECONDITION': (FailedPreconditionError, 'failed precondition'),
    'INVALID_ARGUMENT': (InvalidArgumentError, 'invalid argument'),
}


def from_rpc_error(exc, address, what, timeout=None):
    """Turn a grpc.RpcError into one of the exceptions above, with a one-sentence message."""
    try:
        code = exc.code().name
        details = exc.details() or ''
    except Exception:  # pylint: disable=broad-except
        return ContainerdError('%s failed: %s' % (what, exc))
    if code == 'UNAVAILABLE':
        return ConnectError('cannot connect to containerd at %s: %s' % (address, _short(details)))
    if code == 'DEADLINE_EXCEEDED':
        limit = ' after %ss' % timeout if timeout is not None else ''
        return DeadlineError('deadline exceeded%s calling %s on containerd at %s' % (limit, what, address))
    cls, label = _BY_CODE.get(code, (ContainerdError, code.lower().replace('_', ' ')))
    err = cls('%s: %s: %s' % (what, label, details))
    err.code = code
    err.details = details
    return err


def _short(details):
    """grpc's connect errors repeat themselves; keep the last, most specific part."""
    text = details.strip()
    marker = 'last error:'
    if marker in text:
        text = text.split(marker, 1)[1].strip()
    if text.startswith('UNKNOWN: '):
        text = text[len('UNKNOWN: '):]
    return text
