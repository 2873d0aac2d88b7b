"""The sandboxed side of grading: a fork server and the per-submission child.

This file is not imported by the grading process. Its source (with that of
:mod:`autograder.plain`) is sent to a fresh interpreter started inside the
sandbox, which becomes the *zygote*: it imports NumPy, pandas and SciPy once,
then forks one child per submission. A child runs the student's cells and
calls the student's functions on the inputs it is sent, answering with plain
data only. It never sees a reference solution or an expected output.

Wire format: each message is a 4-byte big-endian length followed by UTF-8 JSON.
"""

import ctypes
import inspect
import io
import json
import os
import resource
import signal
import socket
import struct
import sys
import tempfile

import numpy  # noqa: F401 -- preloaded so that forks start warm
import pandas  # noqa: F401
import scipy.stats

plain = sys.modules["autograder_plain"]

MAX_MESSAGE = 64 * 1024 * 1024
NOBODY = 65534
KS_FUNCTIONS = ("ks_2samp", "kstest", "ks_1samp")


class CallTimeout(BaseException):
    """Raised in the child when a cell or a call runs past its time budget."""


def send(sock, message):
    data = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")
    sock.sendall(struct.pack(">I", len(data)) + data)


def receive(sock):
    header = _read_exactly(sock, 4)
    if header is None:
        return None
    (length,) = struct.unpack(">I", header)
    if length > MAX_MESSAGE:
        raise ValueError("message too large")
    body = _read_exactly(sock, length)
    return None if body is None else json.loads(body.decode("utf-8"))


def _read_exactly(sock, count):
    chunks, missing = [], count
    while missing:
        chunk = sock.recv(min(missing, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _on_alarm(signum, frame):
    raise CallTimeout()


def _limit(seconds):
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))


def _unlimit():
    signal.setitimer(signal.ITIMER_REAL, 0)


def _describe(error):
    message = str(error)
    if len(message) > 500:
        message = message[:500] + "..."
    types = [cls.__name__ for cls in type(error).__mro__ if cls not in (object, BaseException)]
    return {"type": type(error).__name__, "types": types, "message": message}


def _apply_limits(limits):
    for name, value in limits.items():
        which = getattr(resource, name)
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def _drop_privileges(workdir):
    if os.geteuid() != 0:
        return
    os.chown(workdir, NOBODY, NOBODY)
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _tripwire(name, violations):
    def refuse(*args, **kwargs):
        violations.append(name)
        raise RuntimeError(f"scipy.stats.{name} is not allowed here: use NumPy only")
    return refuse


class Child:
    """Runs one submission: its cells, then calls to its functions."""

    def __init__(self, sock, numpy_only):
        self.sock = sock
        self.namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        self.violations = []
        if numpy_only:
            # Installed before the student's code runs, in every SciPy module that
            # holds the functions, so no import path reaches the originals.
            originals = {id(getattr(scipy.stats, name)): name for name in KS_FUNCTIONS}
            for module_name, module in list(sys.modules.items()):
                if not module_name.startswith("scipy") or module is None:
                    continue
                for attribute, value in list(vars(module).items()):
                    if id(value) in originals:
                        setattr(module, attribute, _tripwire(originals[id(value)], self.violations))

    def load(self, cells, timeout):
        results = []
        for cell in cells:
            try:
                code = compile(cell["source"], f"<cell {cell['id']}>", "exec")
            except SyntaxError as error:
                results.append({"id": cell["id"], "status": "syntax_error",
                                "error": f"line {error.lineno}: {error.msg}"})
                continue
            try:
                _limit(timeout)
                exec(code, self.namespace)
                _unlimit()
                results.append({"id": cell["id"], "status": "ok"})
            except CallTimeout:
                results.append({"id": cell["id"], "status": "timeout",
                                "error": f"ran longer than {timeout} s"})
            except BaseException as error:
                _unlimit()
                results.append({"id": cell["id"], "status": "exception", "error": _describe(error)})
        send(self.sock, {"cells": results})

    def signatures(self, names):
        found = {}
        for name in names:
            value = self.namespace.get(name)
            if not callable(value):
                found[name] = None
                continue
            try:
                parameters = inspect.signature(value).parameters.values()
                found[name] = [[p.name, p.kind.name, p.default is not inspect.Parameter.empty]
                               for p in parameters]
            except (TypeError, ValueError):
                found[name] = []
        send(self.sock, {"signatures": found})

    def _oracle(self, name):
        def call_trusted(*args, **kwargs):
            send(self.sock, {"callback": name, "args": plain.encode(list(args)),
                             "kwargs": plain.encode(kwargs)})
            reply = receive(self.sock)
            if reply is None:
                raise SystemExit(1)
            if "error" in reply:
                raise RuntimeError(reply["error"])
            return plain.decode(reply["result"])
        call_trusted.__name__ = name
        return call_trusted

    def call(self, function, cases, timeout, oracles):
        saved = {name: self.namespace.get(name) for name in oracles}
        for name in oracles:
            self.namespace[name] = self._oracle(name)
        try:
            for index, case in enumerate(cases):
                target = self.namespace.get(function)
                before = len(self.violations)
                try:
                    args = plain.decode(case["args"])
                    kwargs = plain.decode(case["kwargs"])
                    _limit(timeout)
                    value = target(*args, **kwargs)
                    _unlimit()
                    message = {"case": index, "value": plain.encode(value)}
                except CallTimeout:
                    message = {"case": index, "timeout": timeout}
                except BaseException as error:
                    _unlimit()
                    message = {"case": index, "error": _describe(error)}
                if len(self.violations) > before:
                    message["violation"] = self.violations[before]
                try:
                    send(self.sock, message)
                except (TypeError, ValueError) as error:
                    send(self.sock, {"case": index, "error": {"type": "UnsendableResult",
                                                              "message": str(error)[:300]}})
        finally:
            for name, value in saved.items():
                self.namespace[name] = value
        send(self.sock, {"done": True})

    def serve(self):
        while True:
            request = receive(self.sock)
            if request is None:
                return
            operation = request.get("op")
            if operation == "load":
                self.load(request["cells"], request["timeout"])
            elif operation == "signatures":
                self.signatures(request["names"])
            elif operation == "call":
                self.call(request["function"], request["cases"], request["timeout"],
                          request.get("oracles", []))
            else:
                return


def child_main(fd, request):
    os.setsid()
    workdir = tempfile.mkdtemp(prefix="submission-")
    if request.get("drop_privileges"):
        _drop_privileges(workdir)
    _apply_limits({name: int(value) for name, value in request["limits"].items()})
    os.chdir(workdir)
    devnull = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(devnull, target)
    sys.stdin = io.StringIO("")  # input() meets end-of-file instead of waiting
    sys.stdout = sys.stderr = open(os.devnull, "w")
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    sock = socket.socket(fileno=fd)
    try:
        Child(sock, request.get("numpy_only", False)).serve()
    finally:
        os._exit(0)


def zygote_main(fd, in_namespace):
    try:  # No ptrace or core dumps of the fork server by its children.
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    control = socket.socket(fileno=fd)
    children = []
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)
        except OSError:
            return
        if not data:
            return
        request = json.loads(data.decode("utf-8"))
        if request["op"] == "fork":
            pid = os.fork()
            if pid == 0:
                control.close()
                child_main(fds[0], request)
            for extra in fds:
                os.close(extra)
            children.append(pid)
            control.sendall(json.dumps({"pid": pid}).encode("utf-8"))
        elif request["op"] == "kill":
            _kill_all([int(request["pid"])], in_namespace=False)
            control.sendall(b'{"killed": true}')
        elif request["op"] == "reset":
            # Between submissions: whatever the last one left running goes.
            _kill_all(children, in_namespace)
            children = []
            control.sendall(b'{"reset": true}')


def _kill_all(children, in_namespace):
    """Kill previous children, their process groups and, in a namespace, every leftover."""
    for pid in children:
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    if in_namespace:
        try:  # everything in the namespace but this process and its init
            os.kill(-1, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
