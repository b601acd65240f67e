# -*- coding: utf-8 -*-
"""Conformance driver: plays scenarios against CPython's own httplib / http.client.

Runs under Python 2.7 (``httplib``) and Python 3 (``http.client``). One process runs a
whole batch: it reads a JSON manifest on stdin,

    {"stepTimeout": seconds, "cafile": path of the test CA (TLS scenarios),
     "scenarios": [{"name": ..., "steps": [{"op", "args", "kw", "on", "as"}, ...]}]}

(placeholders already filled in by run.ts: every scenario has its own scripted server),
plays each scenario's steps in order, and prints one JSON document on stdout:

    {"python": [major, minor, micro],
     "results": {name: {"steps": [result, ...], "debug": "text"}}}

A result is {"ok": value} or {"raises": ClassName, ...attributes}. Byte strings that are
bodies are {"$b": latin1 text}; other strings are text (a Python 2 str decoded as
latin1). Debug output (set_debuglevel) is captured by replacing sys.stdout while a
scenario runs. The value encoding is the one of test/conformance/scenario.ts; run.ts
maps Python classes onto the package's (ValueError -> TypeError, ...).

This file must not decide anything about agreement: it only reports what happened.
"""
from __future__ import print_function

import collections
import errno
import gc
import json
import os
import select
import shutil
import socket
import ssl
import sys
import tempfile
import time
import traceback

PY2 = sys.version_info[0] == 2
if PY2:
    import httplib as client  # noqa: F401
    text_type = unicode  # noqa: F821
else:
    import http.client as client
    text_type = str

RESPONSE_OPS = ('read', 'getheader', 'getheaders', 'isclosed', 'attr', 'msg', 'fileno')


class Capture(object):
    """A stand-in for sys.stdout (Python 2's print statement sets .softspace on it)."""

    def __init__(self):
        self.parts = []

    def write(self, s):
        self.parts.append(s)

    def flush(self):
        pass

    def text(self):
        out = []
        for p in self.parts:
            if isinstance(p, bytes):
                out.append(p.decode('latin-1'))
            else:
                out.append(p)
        return u''.join(out)


# --- scenario values -> Python values --------------------------------------------------

def native(s):
    """A JSON string as the native str: Python 2 bytes (latin1), Python 3 text."""
    return s.encode('latin-1') if PY2 else s


def to_bytes(s):
    return s.encode('latin-1')


class Decoder(object):
    def __init__(self, tmpdir, cafile):
        self.tmpdir = tmpdir
        self.cafile = cafile
        self.files = []
        # Values kept under a name by a 'value' step: {"$ref": name} is that very object.
        self.named = {}

    def value(self, v):
        if isinstance(v, dict):
            keys = list(v.keys())
            tag = [k for k in keys if k.startswith('$')]
            if tag:
                return self.tagged(tag[0], v)
            return collections.OrderedDict((native(k), self.value(x)) for k, x in v.items())
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, text_type):
            return native(v)
        return v

    def tagged(self, tag, v):
        if tag == '$bytes':
            return to_bytes(v[tag])
        if tag == '$unicode':
            return v[tag]
        if tag == '$float':
            return float(v[tag])
        if tag == '$repeat':
            return native(v[tag] * v['times'])
        if tag == '$concat':
            parts = [self.value(x) for x in v[tag]]
            return (b'' if PY2 else '').join(parts)
        if tag == '$file':
            path = os.path.join(self.tmpdir, 'body%d' % len(self.files))
            with open(path, 'wb') as f:
                f.write(to_bytes(v[tag]))
            fobj = open(path, 'rb')
            self.files.append(fobj)
            return fobj
        if tag == '$iter':
            items = [self.value(x) for x in v[tag]]
            return (x for x in items)
        if tag == '$ref':
            return self.named[v[tag]]
        if tag == '$context':
            kind = v[tag]
            if kind == 'unverified':
                return ssl._create_unverified_context()
            if kind == 'default':
                return ssl.create_default_context()
            context = ssl.create_default_context(cafile=self.cafile)
            if kind == 'ca-no-hostname':
                context.check_hostname = False
            return context
        raise ValueError('unknown tag %s' % tag)

    def close(self):
        for f in self.files:
            f.close()
        self.files = []


# --- Python values -> results ----------------------------------------------------------

def text(v):
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.decode('latin-1') if PY2 else {'$b': v.decode('latin-1')}
    if isinstance(v, text_type):
        return v
    return v


def body(v):
    if isinstance(v, bytes):
        return {'$b': v.decode('latin-1')}
    return text(v)


def plain(v):
    """Any other returned value: lists, tuples, numbers, booleans, strings."""
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (bytes, text_type)):
        return text(v)
    if isinstance(v, int) or (PY2 and isinstance(v, long)):  # noqa: F821
        return int(v)
    if isinstance(v, float):
        return v
    return '<%s>' % type(v).__name__


def raw_lines(msg):
    if msg is None:
        return None
    if hasattr(msg, 'headers') and isinstance(msg.headers, list):
        return [text(line) for line in msg.headers]
    return '<%s>' % type(msg).__name__


def summary(r):
    return {
        'status': r.status,
        'reason': text(r.reason),
        'version': r.version,
        'will_close': bool(r.will_close),
        'chunked': bool(r.chunked),
        'length': r.length,
    }


def exception(e):
    out = {'raises': type(e).__name__}
    if isinstance(e, client.IncompleteRead):
        out['partial'] = body(e.partial)
        out['expected'] = e.expected
    elif isinstance(e, client.BadStatusLine):
        out['line'] = text(e.line)
        if not PY2 and isinstance(e, client.RemoteDisconnected):
            out['message'] = str(e)
    elif isinstance(e, client.UnknownProtocol):
        out['version'] = text(e.version)
    elif isinstance(e, client.HTTPException):
        out['message'] = text(str(e)) if PY2 else str(e)
    elif isinstance(e, socket.timeout):
        pass
    elif isinstance(e, ssl.SSLError):
        out['reason'] = e.reason
    elif type(e).__name__ == 'CertificateError':
        out['message'] = str(e)
    elif isinstance(e, socket.gaierror):
        # getaddrinfo's failures by Node's names: a name that does not resolve is ENOTFOUND.
        notfound = (socket.EAI_NONAME, getattr(socket, 'EAI_NODATA', socket.EAI_NONAME))
        out['errno'] = 'ENOTFOUND' if e.errno in notfound else 'EAI_%d' % -e.errno
    elif isinstance(e, EnvironmentError) and e.errno:
        out['errno'] = errno.errorcode.get(e.errno, str(e.errno))
    else:
        try:
            out['message'] = text(str(e))
        except Exception:  # noqa: BLE001 (a unicode message that str() cannot encode)
            out['message'] = repr(e)
    return out


# --- playing a scenario -----------------------------------------------------------------

def construct(op, args, kw):
    if isinstance(kw.get('source_address'), list):
        kw['source_address'] = tuple(kw['source_address'])
    if op == 'HTTPConnection':
        if not PY2:
            kw.pop('strict', None)
        return client.HTTPConnection(*args, **kw)
    if op == 'HTTPSConnection':
        return client.HTTPSConnection(*args, **kw)
    if op == 'HTTP':
        return client.HTTP(*args, **kw)
    if op == 'HTTPS':
        return client.HTTPS(*args, **kw)
    raise ValueError('unknown constructor %s' % op)


def play(scenario, decoder):
    objects = {}
    responses = []
    results = []
    for step in scenario['steps']:
        op = step['op']
        args = decoder.value(step.get('args') or [])
        kw = dict((str(k), decoder.value(v)) for k, v in (step.get('kw') or {}).items())
        try:
            if op == 'sleep':
                time.sleep(args[0] / 1000.0)
                results.append({'ok': None})
                continue
            if op == 'waitclosed':
                # Until the server's FIN or reset reached the socket (it reads as ready);
                # nothing is read: httplib sees the socket as it would have after a sleep.
                sock = getattr(objects.get('conn'), 'sock', None)
                if sock is not None:
                    select.select([sock], [], [], args[0] / 1000.0)
                results.append({'ok': None})
                continue
            if op == 'value':
                # Kept under its name, for later steps to pass ({"$ref": name}) or change.
                decoder.named[step['as']] = args[0]
                results.append({'ok': None})
                continue
            if op == 'setitem':
                # The caller changing a value it passed before (a dict of headers).
                decoder.named[step['on']][args[0]] = args[1]
                results.append({'ok': None})
                continue
            if op in ('HTTPConnection', 'HTTPSConnection', 'HTTP', 'HTTPS'):
                objects['conn'] = construct(op, args, kw)
                results.append({'ok': None})
                continue
            target_name = step.get('on') or ('resp' if op in RESPONSE_OPS else 'conn')
            if target_name not in objects:
                results.append({'raises': 'NoTarget', 'message': target_name})
                continue
            target = objects[target_name]
            if op == 'getresponse':
                r = target.getresponse(*args, **kw)
                responses.append(r)
                objects['resp'] = r
                if step.get('as'):
                    objects[step['as']] = r
                results.append({'ok': summary(r)})
            elif op == 'getreply':
                status, reason, msg = target.getreply(*args, **kw)
                results.append({'ok': [status, text(reason), raw_lines(msg)]})
            elif op == 'getfile':
                f = target.getfile()
                if f is not None:
                    objects[step.get('as') or 'file'] = f
                results.append({'ok': None if f is None else '<file>'})
            elif op == 'read':
                results.append({'ok': body(target.read(*args, **kw))})
            elif op == 'fileno':
                # A descriptor's number is the process's own: only whether there is one counts.
                fd = target.fileno(*args)
                results.append({'ok': '<fd>' if isinstance(fd, int) and fd >= 0 else plain(fd)})
            elif op == 'getheaders':
                results.append({'ok': [[text(n), text(v)] for n, v in target.getheaders()]})
            elif op == 'setattr':
                setattr(target, str(args[0]), args[1])
                results.append({'ok': None})
            elif op == 'attr':
                value = target
                for part in str(args[0]).split('.'):
                    value = getattr(value, part)
                if args[0] in ('will_close', 'chunked', 'strict'):
                    value = bool(value)
                results.append({'ok': plain(value)})
            elif op == 'msg':
                msg = target.msg
                name = str(args[0])
                if name == 'headers':
                    results.append({'ok': raw_lines(msg)})
                else:
                    results.append({'ok': plain(getattr(msg, name)(*args[1:]))})
            else:
                results.append({'ok': plain(getattr(target, op)(*args, **kw))})
        except Exception as e:  # noqa: BLE001 (every exception is a result)
            results.append(exception(e))
    for r in responses:
        try:
            r.close()
        except Exception:  # noqa: BLE001
            pass
    for obj in objects.values():
        try:
            obj.close()
        except Exception:  # noqa: BLE001
            pass
    return results


def main():
    manifest = json.loads(sys.stdin.read(), object_pairs_hook=collections.OrderedDict)
    socket.setdefaulttimeout(manifest.get('stepTimeout', 5))
    real_stdout = sys.stdout
    tmpdir = tempfile.mkdtemp(prefix='httplib-conformance-')
    results = collections.OrderedDict()
    try:
        for scenario in manifest['scenarios']:
            decoder = Decoder(tmpdir, manifest.get('cafile'))
            capture = Capture()
            sys.stdout = capture
            try:
                steps = play(scenario, decoder)
            except Exception:  # noqa: BLE001 (a driver bug: report it, go on)
                steps = [{'raises': 'DriverError', 'message': traceback.format_exc()}]
            finally:
                sys.stdout = real_stdout
                decoder.close()
            results[scenario['name']] = {'steps': steps, 'debug': capture.text()}
            gc.collect()
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    out = json.dumps({'python': list(sys.version_info[:3]), 'results': results})
    real_stdout.write(out)
    real_stdout.write('\n')
    real_stdout.flush()


if __name__ == '__main__':
    main()
