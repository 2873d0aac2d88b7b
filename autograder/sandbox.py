"""The grading process's handle on the sandbox.

A :class:`Sandbox` starts one fork server (the *zygote*, see
:mod:`autograder.worker`) inside the strongest isolation this machine offers:

``bubblewrap``
    mount, PID, network, IPC and UTS namespaces: the child sees the Python
    installation and the ``phishlab`` package, but not the repository (no
    solutions, no graders, no other submissions), has no network, and cannot
    signal processes outside its namespace;
``unshare``
    PID and network namespaces (files stay visible);
``rlimits``
    resource limits only -- on machines without namespaces. Documented in the
    README: grade there under a dedicated account.

Every submission gets a fresh child forked from the zygote, with CPU, memory,
file-size, process and open-file limits, privileges dropped when running as
root, and a wall-clock budget per call enforced from here.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from autograder import plain

HERE = Path(__file__).resolve().parent
MAX_MESSAGE = 64 * 1024 * 1024

CHILD_LIMITS = {
    "RLIMIT_CPU": 120,                 # seconds of CPU for the whole submission
    "RLIMIT_AS": 3 * 1024**3,          # bytes of address space
    "RLIMIT_FSIZE": 16 * 1024**2,      # bytes per written file
    "RLIMIT_NPROC": 64,                # processes of the (dropped) user
    "RLIMIT_NOFILE": 64,
    "RLIMIT_CORE": 0,
}

ISOLATION_NOTES = {
    "bubblewrap": "bubblewrap: separate mount, PID and network namespaces; repository hidden",
    "unshare": "unshare: separate PID and network namespaces; files visible",
    "rlimits": "resource limits only (no namespaces available on this machine)",
}


class SandboxError(RuntimeError):
    """The child died, hung or broke the protocol."""


def _send(sock: socket.socket, message: dict) -> None:
    data = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")
    sock.sendall(struct.pack(">I", len(data)) + data)


def _bootstrap() -> str:
    sources = {"plain": (HERE / "plain.py").read_text(encoding="utf-8"),
               "worker": (HERE / "worker.py").read_text(encoding="utf-8")}
    return (
        "import json, sys, types\n"
        f"sources = json.loads({json.dumps(json.dumps(sources))})\n"
        "for name, key in (('autograder_plain', 'plain'), ('autograder_worker', 'worker')):\n"
        "    module = types.ModuleType(name)\n"
        "    sys.modules[name] = module\n"
        "    exec(compile(sources[key], '<' + name + '>', 'exec'), module.__dict__)\n"
        "sys.modules['autograder_worker'].zygote_main(int(sys.argv[1]), sys.argv[2] == 'namespace')\n"
    )


def _bind_paths() -> list[Path]:
    """What the sandbox must see: the system, the interpreter, the installed packages."""
    paths = [Path(p) for p in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc")]
    paths += [Path(sys.base_prefix), Path(sys.prefix)]
    spec = importlib.util.find_spec("phishlab")
    if spec and spec.origin:
        paths.append(Path(spec.origin).resolve().parent)
    return [p for p in dict.fromkeys(paths) if p.exists()]


def _bwrap_prefix() -> list[str]:
    command = ["bwrap", "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
               "--unshare-ipc", "--unshare-uts", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    binds = _bind_paths()
    # Folders bwrap creates on the way to a bind are private by default; the
    # child runs as an unprivileged user and must be able to walk them.
    ancestors = sorted({a for p in binds for a in p.parents if a != Path("/")}, key=lambda a: len(a.parts))
    for ancestor in ancestors:
        if not any(ancestor == p or ancestor.is_relative_to(p) for p in binds):
            command += ["--perms", "0755", "--dir", str(ancestor)]
    for path in binds:
        if path.is_symlink():
            command += ["--symlink", os.readlink(path), str(path)]
        else:
            command += ["--ro-bind", str(path), str(path)]
    return [*command, "--chdir", "/tmp"]


def _unshare_prefix() -> list[str]:
    return ["unshare", "--pid", "--net", "--fork", "--kill-child"]


def _readable_by_others(path: Path) -> bool:
    """Whether an unprivileged user can reach and read ``path``."""
    for folder in (path, *path.parents):
        if folder.exists() and not folder.stat().st_mode & 0o001:
            return False
    return bool(path.stat().st_mode & 0o004)


@functools.lru_cache(maxsize=1)
def can_drop_privileges(level: str) -> bool:
    """Children of a root grader run as ``nobody`` when that user can still import Python.

    Inside bubblewrap the folders on the way to the interpreter are made
    readable; elsewhere (a Python under /root, say) the child keeps the grader's
    user, and the isolation note says so.
    """
    if os.geteuid() != 0:
        return False
    if level == "bubblewrap":
        return True
    return all(_readable_by_others(Path(p)) for p in {sys.base_prefix, sys.prefix})


@functools.lru_cache(maxsize=1)
def isolation_level() -> str:
    """The strongest isolation that works here: bubblewrap, unshare or rlimits."""
    forced = os.environ.get("AUTOGRADER_ISOLATION")
    if forced in ISOLATION_NOTES:
        return forced
    probes = (("bubblewrap", "bwrap", _bwrap_prefix), ("unshare", "unshare", _unshare_prefix))
    for level, program, prefix in probes:
        if shutil.which(program) is None:
            continue
        try:
            probe = subprocess.run([*prefix(), sys.executable, "-I", "-c", "print('ok')"],
                                   capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0 and probe.stdout.strip() == "ok":
            return level
    return "rlimits"


class Child:
    """One forked child running one submission."""

    def __init__(self, sock: socket.socket, pid: int, zygote: Sandbox) -> None:
        self.sock, self.pid, self.zygote = sock, pid, zygote
        self.dead = False

    def _receive(self, deadline: float) -> dict:
        header = self._read(4, deadline)
        (length,) = struct.unpack(">I", header)
        if length > MAX_MESSAGE:
            raise SandboxError(f"the submission sent a message of {length:,} bytes")
        body = self._read(length, deadline)
        try:
            message = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise SandboxError("the submission broke the grading protocol") from error
        if not isinstance(message, dict):
            raise SandboxError("the submission broke the grading protocol")
        return message

    def _read(self, count: int, deadline: float) -> bytes:
        chunks, missing = [], count
        while missing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.sock], [], [], remaining)
            if not ready:
                raise TimeoutError
            chunk = self.sock.recv(min(missing, 1 << 20))
            if not chunk:
                raise SandboxError("the process running the submission exited")
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        if not self.dead:
            self.dead = True
            self.sock.close()
            self.zygote.kill(self.pid)

    def request(self, message: dict, timeout: float) -> dict:
        """Send one request and wait for its single reply."""
        try:
            _send(self.sock, message)
            return self._receive(time.monotonic() + timeout)
        except (TimeoutError, SandboxError, OSError):
            self.kill()
            raise

    def call(self, function: str, cases: list[dict], timeout: float,
             oracles: dict[str, Callable] | None = None) -> Iterator[dict]:
        """Yield one reply per case; answer the child's callbacks to ``oracles``."""
        oracles = oracles or {}
        try:
            _send(self.sock, {"op": "call", "function": function, "cases": cases, "timeout": timeout,
                              "oracles": sorted(oracles)})
            # Each case may use its own budget plus the protocol's overhead.
            deadline = time.monotonic() + timeout + 5
            while True:
                message = self._receive(deadline)
                if "callback" in message:
                    self._answer(message, oracles)
                    continue
                if message.get("done"):
                    return
                deadline = time.monotonic() + timeout + 5
                yield message
        except (TimeoutError, SandboxError, OSError):
            self.kill()
            raise

    def _answer(self, message: dict, oracles: dict[str, Callable]) -> None:
        name = message.get("callback")
        if name not in oracles:
            _send(self.sock, {"error": f"no trusted function {name!r}"})
            return
        try:
            result = oracles[name](*plain.decode(message["args"]), **plain.decode(message["kwargs"]))
            _send(self.sock, {"result": plain.encode(result)})
        except Exception as error:
            _send(self.sock, {"error": f"{type(error).__name__}: {error}"[:500]})


def isolation_note(level: str) -> str:
    """A one-line description of the isolation, for outputs and feedback."""
    note = ISOLATION_NOTES[level]
    if os.geteuid() == 0 and not can_drop_privileges(level):
        note += "; children keep the grader's user (the Python installation is not readable by others)"
    return note


class Sandbox:
    """A fork server inside the strongest available isolation."""

    def __init__(self, level: str | None = None, hash_seed: int = 0) -> None:
        self.level = level or isolation_level()
        # A fixed seed per sandbox keeps re-runs identical; two sandboxes with
        # different seeds show whether a submission depends on hash().
        self.hash_seed = hash_seed
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None

    def start(self) -> None:
        ours, theirs = socket.socketpair()
        prefix = {"bubblewrap": _bwrap_prefix, "unshare": _unshare_prefix}.get(self.level, list)()
        env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": str(self.hash_seed), "TQDM_DISABLE": "1", "LANG": "C.UTF-8"}
        mode = "namespace" if self.level != "rlimits" else "plain"
        self.process = subprocess.Popen(
            [*prefix, sys.executable, "-I", "-c", _bootstrap(), str(theirs.fileno()), mode],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=env, cwd="/tmp" if self.level == "rlimits" else None,
        )
        theirs.close()
        self.control = ours

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def fork(self, numpy_only: bool = False, limits: dict | None = None) -> Child:
        """A fresh child process for one submission."""
        if not self.alive():
            self.close()
            self.start()
        ours, theirs = socket.socketpair()
        request = {"op": "fork", "numpy_only": numpy_only, "limits": limits or CHILD_LIMITS,
                   "drop_privileges": can_drop_privileges(self.level)}
        try:
            socket.send_fds(self.control, [json.dumps(request).encode("utf-8")], [theirs.fileno()])
            self.control.settimeout(60)
            reply = json.loads(self.control.recv(4096).decode("utf-8"))
        except (OSError, ValueError) as error:
            self.close()
            raise SandboxError("the grading sandbox did not start") from error
        finally:
            theirs.close()
        return Child(ours, int(reply["pid"]), self)

    def _control(self, request: dict) -> None:
        try:
            self.control.sendall(json.dumps(request).encode("utf-8"))
            self.control.settimeout(10)
            self.control.recv(4096)
        except (OSError, AttributeError):
            self.close()

    def kill(self, pid: int) -> None:
        """Kill one child and its process group."""
        self._control({"op": "kill", "pid": pid})

    def reset(self) -> None:
        """Kill every child and anything they left running (call between submissions)."""
        if self.alive():
            self._control({"op": "reset"})

    def close(self) -> None:
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
