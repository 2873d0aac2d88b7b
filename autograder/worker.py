"""The sandboxed side of grading: a fork server and the per-submission child.

This file is not imported by the grading process. Its source (with that of
:mod:`autograder.plain`) is sent to a fresh interpreter started inside the
sandbox, which becomes the *zygote*: it imports NumPy, pandas and SciPy once,
then forks one child per request. A child runs the student's cells and calls
the student's functions on the inputs it is sent, answering with plain data
only. It never sees a reference solution or an expected output.

In the namespace modes every child gets, before any student code runs:

* its own PID namespace, of which it is process 1 -- when it dies, everything
  it started dies with it, and it sees no other process;
* its own mount namespace with a fresh, size-limited tmpfs on ``/tmp`` (its
  only writable place, gone with the child) and a ``/proc`` that shows only
  its own processes;
* its own network and IPC namespaces, so no two children (of one submission
  or of two) can meet, not even on an abstract Unix socket;
* an unprivileged identity: a uid of its own when the zygote runs as root,
  otherwise no capabilities in the sandbox's user namespace; and the
  no-new-privileges flag, so no setuid program can give privileges back;
* a seccomp filter that refuses the kernel keyring calls (``add_key``,
  ``request_key``, ``keyctl``): keyrings belong to a uid and outlive the
  process, so they would carry data from one student to the next.

Wire format: each message is a 4-byte big-endian length followed by UTF-8 JSON.
"""

import ctypes
import importlib
import inspect
import io
import json
import os
import resource
import shutil
import signal
import socket
import struct
import sys

import numpy  # noqa: F401 -- preloaded so that forks start warm
import pandas  # noqa: F401
import scipy.stats
import scipy.stats.mstats  # noqa: F401 -- holds KS functions of its own

plain = sys.modules["autograder_plain"]

MAX_MESSAGE = 2 * 1024 * 1024
"""Largest message a child sends; the grading process refuses larger ones too."""
SCRATCH_BYTES = 64 * 1024 * 1024

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x08000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS = 4, 24, 28, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
# The keyring calls by architecture (audit arch, add_key, request_key, keyctl).
KEYRING_CALLS = {"x86_64": (0xC000003E, 248, 249, 250), "aarch64": (0xC00000B7, 217, 218, 219)}
# noroot, no-setuid-fixup and keep-caps, each locked: uid 0 can never regain capabilities.
SECUREBITS_LOCKED_DOWN = 0x2F


class CallTimeout(BaseException):
    """Raised in the child when a cell or a call runs past its time budget."""


def _check(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")


def _prctl(option, value=0):
    return _libc.prctl(option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


# -- the wire -----------------------------------------------------------------------------------------


def send(sock, message):
    data = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")
    sock.sendall(struct.pack(">I", len(data)) + data)


def receive(sock):
    header = _read_exactly(sock, 4)
    if header is None:
        return None
    (length,) = struct.unpack(">I", header)
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
    return {"type": type(error).__name__, "types": types[:8], "message": message}


# -- the NumPy-only rule ---------------------------------------------------------------------------------


class Tripwires:
    """Functions an assignment forbids (``[forbidden_calls]``), found once in the zygote, disarmed in a child.

    ``forbidden`` holds dotted names such as ``"scipy.stats.ks_2samp"``: every
    function of that name defined in that top-level package is found, however
    many modules re-export it.

    Disarming replaces them in every loaded SciPy module and also rewrites the
    code of the original function objects (and of the implementations they
    wrap), so a reference kept anywhere -- found through ``gc``, a closure or
    ``__wrapped__`` -- raises too. The source files that define them are hidden
    in the child, so reloading a module cannot bring them back.
    """

    def __init__(self, forbidden=()):
        self.packages = {name.split(".")[0] for name in forbidden}
        self.names = {name.rsplit(".", 1)[-1] for name in forbidden}
        for package in self.packages:
            for name in forbidden:
                if name.startswith(package + "."):
                    try:
                        importlib.import_module(name.rsplit(".", 1)[0])  # preloaded, so found here
                    except ImportError:
                        pass
        self.originals = {}
        for module_name, module in list(sys.modules.items()):
            if module_name.split(".")[0] not in self.packages or module is None:
                continue
            for value in list(vars(module).values()):
                if callable(value) and getattr(value, "__name__", None) in self.names \
                        and str(getattr(value, "__module__", "")).split(".")[0] in self.packages:
                    self.originals[id(value)] = value
        for function in list(self.originals.values()):
            for inner in self._wrapped(function, self.names):
                self.originals[id(inner)] = inner

    def files(self, names):
        """Source files of the forbidden functions named ``names`` (hidden in a child that forbids them)."""
        files = set()
        for function in self.originals.values():
            if function.__name__ not in names:
                continue
            try:
                source = inspect.getsourcefile(function)
            except TypeError:
                continue
            if source:
                files.add(os.path.realpath(source))
                cached = getattr(sys.modules.get(function.__module__), "__cached__", None)
                if cached and os.path.exists(cached):
                    files.add(os.path.realpath(cached))
        return sorted(files)

    @staticmethod
    def _wrapped(function, names):
        found, pending = [], [function]
        while pending:
            current = pending.pop()
            inner = getattr(current, "__wrapped__", None)
            cells = [cell for cell in (getattr(current, "__closure__", None) or ())]
            candidates = [inner] if inner is not None else []
            for cell in cells:
                try:
                    candidates.append(cell.cell_contents)
                except ValueError:
                    continue
            for candidate in candidates:
                if inspect.isfunction(candidate) and candidate.__name__ in names \
                        and candidate not in found:
                    found.append(candidate)
                    pending.append(candidate)
        return found

    def disarm(self, names, violations):
        """Make every forbidden function named in ``names`` raise, and record each call in ``violations``."""
        by_id = {key: value for key, value in self.originals.items() if value.__name__ in names}
        for module_name, module in list(sys.modules.items()):
            if module_name.split(".")[0] not in self.packages or module is None:
                continue
            for attribute, value in list(vars(module).items()):
                if id(value) in by_id:
                    setattr(module, attribute, _tripwire(value.__name__, violations))
        for function in by_id.values():
            function.__code__ = _raising_code(function.__name__, function.__code__.co_freevars)
            function.__globals__["_autograder_violations"] = violations


def _tripwire(name, violations):
    def refuse(*args, **kwargs):
        violations.append(name)
        raise RuntimeError(f"{name} is forbidden in this function by the assignment")
    refuse.__name__ = name
    return refuse


def _raising_code(name, freevars):
    """A code object that records a violation and raises, with the same free variables."""
    touch = "".join(f"        {var}\n" for var in freevars)
    source = (f"def outer():\n    {' = '.join(freevars) + ' = None' if freevars else 'pass'}\n"
              f"    def {name}(*args, **kwargs):\n{touch}"
              f"        _autograder_violations.append({name!r})\n"
              f"        raise RuntimeError('{name} is forbidden in this function by the assignment')\n"
              f"    return {name}\n")
    namespace = {}
    exec(compile(source, f"<tripwire {name}>", "exec"), namespace)
    return namespace["outer"]().__code__


# -- one child --------------------------------------------------------------------------------------------


class Child:
    """Runs one submission: its cells, then calls to its functions."""

    def __init__(self, sock, forbid, tripwires):
        self.sock = sock
        self.namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        self.violations = []
        if forbid:
            tripwires.disarm(forbid, self.violations)

    def load(self, cells, timeout):
        for index, cell in enumerate(cells):
            try:
                code = compile(cell["source"], f"<cell {cell['id']}>", "exec")
            except (SyntaxError, ValueError) as error:
                send(self.sock, {"cell": index, "status": "syntax_error",
                                 "error": f"line {getattr(error, 'lineno', '?')}: {getattr(error, 'msg', error)}"})
                continue
            try:
                _limit(timeout)
                exec(code, self.namespace)
                _unlimit()
                reply = {"cell": index, "status": "ok"}
            except CallTimeout:
                reply = {"cell": index, "status": "timeout"}
            except BaseException as error:
                _unlimit()
                reply = {"cell": index, "status": "exception", "error": _describe(error)}
            send(self.sock, reply)
        send(self.sock, {"loaded": True})

    def signatures(self, names):
        found = {}
        for name in names:
            value = self.namespace.get(name)
            if not callable(value):
                found[name] = None
                continue
            try:
                parameters = inspect.signature(value).parameters.values()
                found[name] = [[str(p.name), p.kind.name, p.default is not inspect.Parameter.empty]
                               for p in parameters][:64]
            except (TypeError, ValueError):
                found[name] = []
        send(self.sock, {"signatures": found})

    def _oracle(self, name, own):
        """The reference's answer where the reference asked the same; the student's own function elsewhere."""
        def call_trusted(*args, **kwargs):
            send(self.sock, {"callback": name, "args": plain.encode(list(args)),
                             "kwargs": plain.encode(kwargs)})
            reply = receive(self.sock)
            if reply is None:
                raise SystemExit(1)
            if "refused" in reply and callable(own):
                return own(*args, **kwargs)
            if "refused" in reply:
                raise RuntimeError(reply["refused"])
            return plain.decode(reply["result"])
        call_trusted.__name__ = name
        return call_trusted

    def call(self, function, cases, timeout, oracles):
        saved = {name: self.namespace.get(name) for name in oracles}
        for name in oracles:
            self.namespace[name] = self._oracle(name, saved[name])
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
                    message["violation"] = str(self.violations[before])[:40]
                try:
                    data = json.dumps(message, allow_nan=False, separators=(",", ":"))
                    if len(data) > MAX_MESSAGE - 1024:
                        raise ValueError(f"the answer is {len(data) / 1e6:.1f} MB of data; answers are "
                                         f"limited to {MAX_MESSAGE / 1e6:.0f} MB")
                    send(self.sock, message)
                except (TypeError, ValueError) as error:
                    send(self.sock, {"case": index, "error": {"type": "UnsendableResult",
                                                              "message": str(error)[:300]}})
        finally:
            for name, value in saved.items():
                self.namespace[name] = value
        send(self.sock, {"done": True})

    def probe(self, paths):
        """What this child can see and do: the grading process checks it before trusting the sandbox."""
        writable = []
        for folder in ("/", "/usr", "/sandbox", "/etc", "/dev", *paths):
            try:
                with open(os.path.join(folder, ".autograder-probe"), "w"):
                    pass
                writable.append(folder)
            except OSError:
                continue
        try:
            import phishlab  # noqa: F401
            imports = "ok"
        except Exception as error:  # reported, not raised: the grading process decides
            imports = f"{type(error).__name__}: {error}"
        processes = sorted(int(p) for p in os.listdir("/proc") if p.isdigit()) if os.path.isdir("/proc") else []
        try:
            status = open("/proc/self/status").read()
            capabilities = int(status.split("CapEff:")[1].split()[0], 16)
            seccomp = int(status.split("Seccomp:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            capabilities = seccomp = None
        send(self.sock, {"uid": os.getuid(), "euid": os.geteuid(), "processes": processes[:50],
                         "interfaces": sorted(name for _, name in socket.if_nameindex()),
                         "writable": writable, "visible": [p for p in paths if os.path.lexists(p)],
                         "imports": imports, "cwd": os.getcwd(), "capabilities": capabilities,
                         "seccomp": seccomp, "keyring": _keyring_refused(), "fork": _fork_refused()})

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
            elif operation == "probe":
                self.probe(request["paths"])
            else:
                return


def _keyring_refused():
    """Whether adding a key to the session keyring fails with EPERM, as the seccomp filter makes it."""
    calls = KEYRING_CALLS.get(os.uname().machine)
    if calls is None:
        return False
    result = _libc.syscall(ctypes.c_long(calls[1]), b"user", b"autograder-probe", b"x", ctypes.c_size_t(1),
                           ctypes.c_int(-3))  # KEY_SPEC_SESSION_KEYRING
    return result == -1 and ctypes.get_errno() == 1


def _fork_refused():
    """Whether the process limit leaves this child no room for another process (or thread)."""
    try:
        pid = os.fork()
    except OSError:
        return True
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return False


def _close_other_fds(keep):
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd != keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _private_mounts(uid, hidden_files):
    """Mount, IPC and network namespaces of our own: fresh /tmp and /proc, the hidden files covered."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET), "unshare")
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    owner = f",uid={uid},gid={uid}" if uid is not None else ""
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={SCRATCH_BYTES},nr_inodes=4096,mode=0700{owner}")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "subset=pid,hidepid=invisible")
    for path in hidden_files:
        _mount("/dev/null", path, None, MS_BIND)


def _drop_privileges(uid):
    """Become ``uid`` (zygote running as real root) or lose every capability (user namespace)."""
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    elif os.geteuid() == 0:
        for capability in range(64):
            _prctl(PR_CAPBSET_DROP, capability)
        _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
        _check(_prctl(PR_SET_SECUREBITS, SECUREBITS_LOCKED_DOWN), "securebits")
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
        data = (ctypes.c_uint32 * 6)()
        _check(_libc.capset(header, data), "capset")
    _check(_prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")


def _seccomp_filter(machine):
    """A classic BPF program that fails the keyring calls with EPERM and allows everything else.

    A call made through another ABI (i386 or x32 numbers on x86_64) fails too,
    so the numbers cannot be dodged.
    """
    arch, *calls = KEYRING_CALLS[machine]
    load, equal, at_least, ret = 0x20, 0x15, 0x35, 0x06
    allow, refuse = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
    program = [(load, 0, 0, 4),                       # A = seccomp_data.arch
               (equal, 1, 0, arch), (ret, 0, 0, refuse),
               (load, 0, 0, 0),                       # A = seccomp_data.nr
               (at_least, len(calls) + 1, 0, 0x40000000)]  # the x32 ABI's numbers
    program += [(equal, len(calls) - i, 0, call) for i, call in enumerate(calls)]
    program += [(ret, 0, 0, allow), (ret, 0, 0, refuse)]
    return b"".join(struct.pack("HBBI", *instruction) for instruction in program)


def _refuse_keyrings():
    """Install :func:`_seccomp_filter` (after no-new-privileges, which allows an unprivileged filter)."""
    machine = os.uname().machine
    if machine not in KEYRING_CALLS:
        return  # the probe sees no filter and the grading process refuses this machine
    program = _seccomp_filter(machine)
    buffer = ctypes.create_string_buffer(program, len(program))

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = Program(len(program) // 8, ctypes.addressof(buffer))
    _check(_libc.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(fprog),
                       ctypes.c_ulong(0), ctypes.c_ulong(0)), "seccomp")


def _apply_limits(limits):
    for name, value in limits.items():
        which = getattr(resource, name)
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def _forbidden_names(request):
    forbid = request.get("forbid")
    return {str(name).rsplit(".", 1)[-1] for name in forbid} if isinstance(forbid, list) else set()


def child_main(fd, request, config, tripwires):
    os.setsid()
    _close_other_fds(fd)
    uid = request.get("uid")
    if config["namespaces"]:
        _private_mounts(uid, tripwires.files(_forbidden_names(request)))
        workdir = "/tmp"
    else:
        workdir = request["workdir"]
        os.makedirs(workdir, mode=0o700)
        if uid is not None:
            os.chown(workdir, uid, uid)
    _drop_privileges(uid)
    if config["namespaces"]:
        _refuse_keyrings()
    _apply_limits({name: int(value) for name, value in request["limits"].items()})
    os.chdir(workdir)
    os.environ.update({"HOME": workdir, "TMPDIR": workdir, "MPLCONFIGDIR": workdir})
    devnull = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(devnull, target)
    sys.stdin = io.StringIO("")  # input() meets end-of-file instead of waiting
    sys.stdout = sys.stderr = open(os.devnull, "w")
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    sock = socket.socket(fileno=fd)
    try:
        Child(sock, _forbidden_names(request), tripwires).serve()
    finally:
        os._exit(0)


# -- the fork server ---------------------------------------------------------------------------------------


def zygote_main(fd, config):
    """Serve fork and kill requests from the grading process on ``fd``.

    ``config["namespaces"]``: give each child its own PID and mount namespaces
    (inside bubblewrap); otherwise children get a scratch folder under
    ``config["scratch"]``, removed when they are killed.
    """
    _prctl(PR_SET_DUMPABLE, 0)  # no ptrace and no /proc/<pid>/mem of the fork server
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    tripwires = Tripwires(config.get("forbidden", ()))
    own_pid_namespace = os.open("/proc/self/ns/pid", os.O_RDONLY) if config["namespaces"] else None
    control = socket.socket(fileno=fd)
    children = {}
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)
        except OSError:
            return
        if not data:
            return
        request = json.loads(data.decode("utf-8"))
        if request["op"] == "fork":
            if config["namespaces"]:
                _check(_libc.unshare(CLONE_NEWPID), "unshare pid")
            pid = os.fork()
            if pid == 0:
                control.close()
                child_main(fds[0], request, config, tripwires)
            if config["namespaces"]:
                _check(_libc.setns(own_pid_namespace, CLONE_NEWPID), "setns")
            for extra in fds:
                os.close(extra)
            children[pid] = (request.get("workdir"), request.get("uid"))
            control.sendall(json.dumps({"pid": pid}).encode("utf-8"))
        elif request["op"] == "kill":
            pids = [int(request["pid"])] if request["pid"] in children else []
            _kill(pids, children)
            control.sendall(b'{"killed": true}')
        elif request["op"] == "reset":
            _kill(list(children), children)
            control.sendall(b'{"reset": true}')


def _kill(pids, children):
    """Kill children with everything they started, and remove their scratch folders."""
    for pid in pids:
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        workdir, uid = children.pop(pid, (None, None))
        if workdir:
            if uid is not None:  # without namespaces: every process of the child's own uid
                _kill_user(uid)
            shutil.rmtree(workdir, ignore_errors=True)


def _kill_user(uid):
    """Kill every process of ``uid`` from a helper that takes that uid (kill(-1) spares nobody else)."""
    done, signal_done = os.pipe()
    if os.fork() == 0:
        try:
            os.close(done)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.close(signal_done)
    os.read(done, 1)  # end of file once the helper has finished (SIGCHLD is ignored: no waitpid)
    os.close(done)
