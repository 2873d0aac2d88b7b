"""The grading process's handle on the sandbox.

Student code is hostile until proven otherwise. It runs only inside a sandbox
whose guarantees are *checked* before the first submission is graded:

``bubblewrap`` (the only level used by default)
    A fork server (the *zygote*, see :mod:`autograder.worker`) runs under
    bubblewrap in its own mount, PID, network, IPC and UTS namespaces. Its
    filesystem holds the system libraries, the Python installation, the
    installed packages and ``phishlab`` -- read-only, each bound by its real
    path, so symbolic links and private home folders do not matter -- and
    nothing else: no repository, no solutions, no graders, no submissions, no
    results. Every child it forks for a submission has PID, network and IPC
    namespaces and a fresh tmpfs ``/tmp`` of its own, a ``/proc`` that shows
    only its own processes, no network, no kernel keyrings (a seccomp filter),
    no second process, and no privileges: a uid of its own when the grader
    runs as root, otherwise a user namespace without capabilities.
``weak`` (only with ``--allow-weak-isolation``)
    Resource limits and a private scratch folder, nothing more; every output
    says so.

:func:`isolation` probes the strong level once per process and raises
:class:`IsolationUnavailable` with the probe's own error and the fix when it
cannot be had; it never falls back silently.

Whatever the level, the grading process enforces the limits itself: every
reply must arrive within the stated time, every message is size-limited, and a
child that breaks the protocol is killed.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import random
import select
import shutil
import site
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder.assignments import forbidden_calls

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MAX_MESSAGE = 2 * 1024 * 1024
"""Largest message accepted from a child (answers and callbacks are far smaller)."""
REPLY_MARGIN = 0.5
"""Seconds allowed on top of a time limit for the reply to arrive."""
START_TIMEOUT = 60.0

CHILD_LIMITS = {
    "RLIMIT_CPU": 60,                  # seconds of CPU for one child
    "RLIMIT_AS": 3 * 1024**3,          # bytes of address space
    "RLIMIT_FSIZE": 16 * 1024**2,      # bytes per written file
    # No second process or thread: one address space bounds a child's memory (64 processes would not).
    "RLIMIT_NPROC": 1,
    "RLIMIT_NOFILE": 64,
    "RLIMIT_CORE": 0,
}
UNPRIVILEGED_UIDS = (1_900_000_000, 2_000_000_000)
"""Children of a root grader each run as a uid drawn from this range, used by nobody else."""

SANDBOX_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TQDM_DISABLE": "1", "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HOME": "/tmp", "TMPDIR": "/tmp",
               "MPLCONFIGDIR": "/tmp", "MPLBACKEND": "Agg"}


class SandboxError(RuntimeError):
    """The child died, hung or broke the protocol."""


class BudgetExhausted(SandboxError):
    """The submission used up its time or data budget."""


@dataclass
class Budget:
    """Wall-clock seconds and bytes of replies one submission may use, whatever it runs."""

    seconds: float
    bytes: int

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.seconds
        self.received = 0

    def exhausted(self) -> bool:
        return time.monotonic() >= self.deadline or self.received > self.bytes

    def spend(self, count: int) -> None:
        self.received += count
        if self.received > self.bytes:
            raise BudgetExhausted(f"the submission sent more than {self.bytes:,} bytes")


class IsolationUnavailable(RuntimeError):
    """The strong sandbox cannot run here: what the probe found, and how to fix it."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}. {fix}")
        self.problem, self.fix = problem, fix


@dataclass(frozen=True)
class Isolation:
    """The isolation student code runs under.

    Attributes
    ----------
    level : str
        ``"bubblewrap"`` (every guarantee) or ``"weak"`` (resource limits only).
    user_namespace : bool
        The sandbox runs in a user namespace: for a root grader, one in which
        children switch to an unprivileged uid of their own; for anyone else,
        one in which children keep the grader's uid and lose every capability.
    """

    level: str
    user_namespace: bool = False

    @property
    def strong(self) -> bool:
        return self.level == "bubblewrap"

    @property
    def note(self) -> str:
        """A one-line description for outputs and feedback."""
        if self.strong:
            who = "an unprivileged uid of its own" + (" in a user namespace" if self.user_namespace else "")
            return (f"bubblewrap: private mount, PID and network namespaces, a fresh /tmp per child, {who}; "
                    "solutions, graders and other submissions invisible")
        return ("WEAK ISOLATION (--allow-weak-isolation): resource limits only; the submission could read files "
                "and reach the network, so these results carry no guarantee")


# -- what the sandbox sees ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """The sandbox's filesystem: host folders bound read-only, and how Python starts in it."""

    binds: tuple[tuple[Path, str], ...]
    interpreter: str
    path: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    covered: tuple[str, ...] = ()
    """Package folders in the sandbox that are not on its path, each covered by an empty read-only tmpfs:
    a second copy of SciPy there would be a copy of a forbidden function the tripwires do not hide."""


def _unused_package_folders(base: Path, used: list[Path]) -> list[str]:
    """Sandbox paths of the site- and dist-packages folders of the base installation and of /usr that the
    sandbox's Python does not use."""
    candidates = [*base.glob("lib/python3*/site-packages"), *base.glob("lib/python3*/dist-packages"),
                  *Path("/usr").glob("lib/python3*/*-packages"), *Path("/usr").glob("local/lib/python3*/*-packages")]
    unused = []
    for folder in candidates:
        if not folder.is_dir() or folder.is_symlink() or folder.resolve() in used:
            continue
        unused.append(f"/sandbox/python/{folder.relative_to(base)}" if folder.is_relative_to(base) else str(folder))
    return unused


def _site_folders() -> list[Path]:
    folders = [Path(p) for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]
    folders += [Path(p) for p in site.getsitepackages()]
    return [p.resolve() for p in dict.fromkeys(folders) if p.is_dir()]


def _phishlab_folder() -> Path | None:
    spec = importlib.util.find_spec("phishlab")
    return Path(spec.origin).resolve().parent if spec and spec.origin else None


def sandbox_layout() -> Layout:
    """Bind everything by its real path under ``/sandbox``, so links and private homes do not matter."""
    base = Path(sys.base_prefix).resolve()
    executable = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    if not executable.is_relative_to(base):
        raise IsolationUnavailable(f"the Python interpreter {executable} is not inside its installation {base}",
                                   "Grade with a standard CPython installation or a virtual environment of one")
    binds: list[tuple[Path, str]] = [(base, "/sandbox/python")]
    path = [f"/sandbox/python/{Path(p).resolve().relative_to(base)}" for p in sys.path
            if p and Path(p).exists() and Path(p).resolve().is_relative_to(base)
            and Path(p).name not in ("site-packages", "dist-packages")]
    sites = _site_folders()
    for number, folder in enumerate(sites):
        target = f"/sandbox/python/{folder.relative_to(base)}" if folder.is_relative_to(base) \
            else f"/sandbox/site-{number}"
        if not folder.is_relative_to(base):
            binds.append((folder, target))
        path.append(target)
    phishlab = _phishlab_folder()
    if phishlab is not None:
        binds.append((phishlab, "/sandbox/packages/phishlab"))
        path.append("/sandbox/packages")
    env = {**SANDBOX_ENV}
    if (base / "lib").is_dir():  # a shared libpython found through an absolute RUNPATH
        env["LD_LIBRARY_PATH"] = "/sandbox/python/lib"
    return Layout(tuple(binds), f"/sandbox/python/{executable.relative_to(base)}", tuple(dict.fromkeys(path)),
                  tuple(env.items()), tuple(_unused_package_folders(base, sites)))


def _system_binds() -> list[str]:
    """The system libraries, with merged-/usr links kept as links."""
    arguments = ["--ro-bind", "/usr", "/usr"]
    for name in ("/lib", "/lib64", "/lib32", "/bin", "/sbin"):
        path = Path(name)
        if path.is_symlink():
            arguments += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            arguments += ["--ro-bind", name, name]
    # The dynamic loader's cache; nothing else of /etc (no passwd, no shadow, no host configuration).
    for name in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime"):
        arguments += ["--ro-bind-try", name, name]
    return arguments


def bound_folders(layout: Layout) -> list[Path]:
    """Host folders the sandbox can read."""
    system = [Path("/usr")] + [Path(n) for n in ("/lib", "/lib64", "/lib32", "/bin", "/sbin")
                               if Path(n).is_dir() and not Path(n).is_symlink()]
    return [p.resolve() for p in system] + [source for source, _ in layout.binds]


def check_hidden(paths: list[Path], layout: Layout | None = None) -> None:
    """Refuse when a folder that must stay hidden lies inside something the sandbox sees."""
    layout = layout or sandbox_layout()
    for secret in paths:
        secret = Path(secret).resolve()
        for folder in bound_folders(layout):
            if secret == folder or secret.is_relative_to(folder):
                raise IsolationUnavailable(
                    f"the sandbox would see {secret}, because it lies inside {folder}, which student code "
                    "must be able to read", f"Move {secret} out of {folder}")


def _bwrap_command(layout: Layout, user_namespace: bool | int, env: dict[str, str]) -> list[str]:
    """bubblewrap's arguments; ``user_namespace`` is True (a new one) or the descriptor of one to join."""
    command = [shutil.which("bwrap") or "bwrap", "--die-with-parent", "--new-session", "--unshare-pid",
               "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if user_namespace is True:
        command += ["--unshare-user", "--uid", "0", "--gid", "0"]
    elif user_namespace is not False:
        command += ["--userns", str(user_namespace)]
    else:
        # The zygote keeps only what it needs to give each child its namespaces and its own uid.
        command += ["--cap-drop", "ALL"]
        for capability in ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_KILL"):
            command += ["--cap-add", capability]
    command += ["--clearenv"]
    for name, value in env.items():
        command += ["--setenv", name, value]
    command += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                "--perms", "0755", "--dir", "/etc", "--perms", "0755", "--dir", "/sandbox",
                "--perms", "0755", "--dir", "/sandbox/packages", *_system_binds()]
    for source, target in layout.binds:
        command += ["--ro-bind", str(source), target]
    for folder in layout.covered:
        command += ["--tmpfs", folder, "--remount-ro", folder]
    # Nothing outside a child's own /tmp is writable, not even for a child with uid 0 in a user namespace.
    command += ["--remount-ro", "/", "--remount-ro", "/dev", "--chdir", "/tmp"]
    return command


CHILD_UID_IN_NAMESPACE = 1
"""The uid children of a root grader take in its user namespace (mapped to an unprivileged uid)."""


def _root_user_namespace(uid: int) -> int:
    """A user namespace, opened as a descriptor, where 0 is root and 1 is the unprivileged ``uid``.

    A root grader's user namespace made by bubblewrap would map its one uid to
    root, whom no process limit binds; this one gives the children a uid of
    their own, as outside a namespace.
    """
    holder = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", "import ctypes, sys\n"
         "ok = ctypes.CDLL(None).unshare(0x10000000) == 0\n"  # CLONE_NEWUSER
         "sys.stdout.write('y' if ok else 'n'); sys.stdout.flush(); sys.stdin.read(1)"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        if holder.stdout.read(1) != b"y":
            raise OSError("cannot create a user namespace")
        for name in ("uid_map", "gid_map"):
            Path(f"/proc/{holder.pid}/{name}").write_text(f"0 0 1\n{CHILD_UID_IN_NAMESPACE} {uid} 1\n")
        return os.open(f"/proc/{holder.pid}/ns/user", os.O_RDONLY)
    finally:
        holder.kill()
        holder.wait()


def _bootstrap() -> str:
    sources = {"plain": (HERE / "plain.py").read_text(encoding="utf-8"),
               "worker": (HERE / "worker.py").read_text(encoding="utf-8")}
    return (
        "import json, sys, types\n"
        "config = json.loads(sys.argv[2])\n"
        "sys.path[:] = config['path']\n"
        f"sources = json.loads({json.dumps(json.dumps(sources))})\n"
        "for name, key in (('autograder_plain', 'plain'), ('autograder_worker', 'worker')):\n"
        "    module = types.ModuleType(name)\n"
        "    sys.modules[name] = module\n"
        "    exec(compile(sources[key], '<' + name + '>', 'exec'), module.__dict__)\n"
        "sys.modules['autograder_worker'].zygote_main(int(sys.argv[1]), config)\n"
    )


def _readable_by_others(path: Path) -> bool:
    """Whether any unprivileged user can reach and read ``path``."""
    for folder in (path, *path.parents):
        if folder.exists() and not folder.stat().st_mode & 0o001:
            return False
    return bool(path.stat().st_mode & 0o004)


# -- probing ------------------------------------------------------------------------------------------------


def _fix_for(stderr: str) -> str:
    if "No permissions" in stderr or "Operation not permitted" in stderr or "uid map" in stderr \
            or "setting up uid map" in stderr:
        return ("Allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
                "user.max_user_namespaces > 0; in a container, allow them in its seccomp/AppArmor profile), "
                "or run the grader as root")
    return "Check that bubblewrap works here: bwrap --ro-bind / / true"


def _verify(report: dict, expected_uid_zero: bool) -> None:
    """Raise unless the probe child saw exactly what a sandboxed child should."""
    problems = []
    if report.get("imports") != "ok" and _phishlab_folder() is not None:
        problems.append(f"phishlab does not import inside the sandbox ({report.get('imports')})")
    if report.get("processes") != [1]:
        problems.append(f"the child sees other processes ({report.get('processes')})")
    if not set(report.get("interfaces", ["?"])) <= {"lo"}:
        problems.append(f"the child has network interfaces {report.get('interfaces')}")
    if report.get("writable"):
        problems.append(f"the child can write to {report['writable']}")
    if report.get("visible"):
        problems.append(f"the child can see {report['visible']}")
    if (report.get("uid") == 0) != expected_uid_zero:
        problems.append(f"the child runs as uid {report.get('uid')}")
    if report.get("capabilities") != 0:
        problems.append(f"the child keeps capabilities ({report.get('capabilities')!r})")
    if report.get("cwd") != "/tmp":
        problems.append(f"the child starts in {report.get('cwd')}")
    if report.get("seccomp") != 2 or report.get("keyring") is not True:
        problems.append(f"the child can use the kernel keyrings (no seccomp filter for {os.uname().machine})")
    if report.get("fork") is not True:
        problems.append("the child can start processes")
    if problems:
        raise IsolationUnavailable("the bubblewrap sandbox does not isolate as required: " + "; ".join(problems),
                                   "Report this with the output of `bwrap --version` and `uname -r`")


def _probe(user_namespace: bool) -> Isolation:
    if shutil.which("bwrap") is None:
        raise IsolationUnavailable(
            "bubblewrap (bwrap) is not installed, and student code is never run without a sandbox",
            "Install it (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap; "
            "python3 tasks.py setup does this as root on Debian)")
    layout = sandbox_layout()
    check_hidden([ROOT / "solutions", HERE], layout)
    if os.geteuid() == 0:
        # Children of a root grader never run as root, so they read the Python installation as others do.
        # Bound by themselves, so only the folders' own permissions count, not their parents'.
        unreadable = [source for source, _ in layout.binds if source.stat().st_mode & 0o005 != 0o005]
        if unreadable:
            raise IsolationUnavailable(
                f"children run as an unprivileged user, who cannot read {unreadable[0]}",
                f"Make it readable (chmod -R o+rX {unreadable[0]}) or run the grader as a non-root user")
    isolation = Isolation("bubblewrap", user_namespace)
    with tempfile.TemporaryFile(mode="w+") as errors:
        sandbox = Sandbox(isolation, stderr=errors)
        try:
            child = sandbox.fork()
            secrets = [str(ROOT), str(ROOT / "solutions"), str(HERE)]
            report = child.request({"op": "probe", "paths": secrets}, timeout=30)
        except (SandboxError, OSError, TimeoutError) as error:
            sandbox.close()
            errors.seek(0)
            output = " ".join(errors.read().split())[:300] or str(error)
            raise IsolationUnavailable(f"the bubblewrap sandbox did not start ({output})", _fix_for(output)) \
                from None
        finally:
            sandbox.close()
    _verify(report, expected_uid_zero=os.geteuid() != 0)
    return isolation


@functools.lru_cache(maxsize=4)
def _strong(user_namespace: bool) -> Isolation:
    return _probe(user_namespace)


def isolation(allow_weak: bool = False) -> Isolation:
    """The isolation to grade with: bubblewrap, checked; or, only if allowed, weak.

    A grader running as root gives each child a uid of its own; otherwise (or
    where root may not create namespaces, as in many containers) children lose
    their capabilities in a user namespace. Both carry every guarantee.
    ``AUTOGRADER_USER_NAMESPACE=1`` forces the latter, and
    ``AUTOGRADER_ISOLATION=weak`` (with ``allow_weak``) the weak level: the
    tests use them to check each level on one machine.

    Raises
    ------
    IsolationUnavailable
        When bubblewrap cannot isolate here and ``allow_weak`` is false.
    """
    if os.environ.get("AUTOGRADER_ISOLATION") == "weak" and allow_weak:
        return Isolation("weak")
    modes = [True] if os.geteuid() != 0 or os.environ.get("AUTOGRADER_USER_NAMESPACE") == "1" else [False, True]
    first = None
    for user_namespace in modes:
        try:
            return _strong(user_namespace)
        except IsolationUnavailable as error:
            first = first or error
    if allow_weak:
        return Isolation("weak")
    raise first


# -- one child -----------------------------------------------------------------------------------------------


class Child:
    """One forked child running one submission, seen from the grading process."""

    def __init__(self, sock: socket.socket, pid: int, zygote: Sandbox) -> None:
        self.sock, self.pid, self.zygote = sock, pid, zygote
        self.dead = False
        self.budget: Budget | None = None

    def _receive(self, deadline: float) -> dict:
        budget_bound = self.budget is not None and self.budget.deadline <= deadline
        try:
            header = self._read(4, deadline)
            (length,) = struct.unpack(">I", header)
            if length > MAX_MESSAGE:
                raise SandboxError(f"the submission sent a message of {length:,} bytes")
            if self.budget is not None:
                self.budget.spend(length)
            body = self._read(length, deadline)
        except TimeoutError:
            if budget_bound:
                raise BudgetExhausted("the submission used up its time budget") from None
            raise
        try:
            message = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
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

    def _send(self, message: dict, deadline: float) -> None:
        data = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")
        data = struct.pack(">I", len(data)) + data
        # A child that stops reading must not block the grading process.
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            _, ready, _ = select.select([], [self.sock], [], remaining)
            if not ready:
                raise TimeoutError
            sent = self.sock.send(data[:1 << 20])
            data = data[sent:]

    def kill(self) -> None:
        if not self.dead:
            self.dead = True
            self.sock.close()
            self.zygote.kill(self.pid)

    def request(self, message: dict, timeout: float) -> dict:
        """Send one request and wait at most ``timeout`` seconds for its single reply."""
        deadline = time.monotonic() + timeout
        try:
            self._send(message, deadline)
            return self._receive(deadline)
        except (TimeoutError, SandboxError, OSError):
            self.kill()
            raise

    def load(self, cells: list[dict], timeout: float, deadline: float) -> Iterator[dict]:
        """Run the cells in order; yield one status per cell within ``timeout`` seconds each."""
        try:
            self._send({"op": "load", "cells": cells, "timeout": timeout}, min(deadline, time.monotonic() + 30))
            while True:
                message = self._receive(min(deadline, time.monotonic() + timeout + REPLY_MARGIN))
                if message.get("loaded") is True:
                    return
                yield message
        except (TimeoutError, SandboxError, OSError):
            self.kill()
            raise

    def call(self, function: str, cases: list[dict], timeout: float, deadline: float,
             oracles: Callable[[int, str, list, dict], object] | None = None,
             oracle_names: tuple[str, ...] = ()) -> Iterator[dict]:
        """Yield one reply per case, each within ``timeout`` seconds of the previous one.

        A callback from the child is answered with ``oracles(case, name, args, kwargs)``,
        which returns the plain-encoded answer or raises ``LookupError`` to refuse.
        """
        try:
            self._send({"op": "call", "function": function, "cases": cases, "timeout": timeout,
                        "oracles": list(oracle_names)}, min(deadline, time.monotonic() + 30))
            case = 0
            case_deadline = min(deadline, time.monotonic() + timeout + REPLY_MARGIN)
            while True:
                message = self._receive(case_deadline)
                if "callback" in message:
                    self._answer(case, message, oracles, case_deadline)
                    continue
                if message.get("done") is True:
                    return
                case += 1
                case_deadline = min(deadline, time.monotonic() + timeout + REPLY_MARGIN)
                yield message
        except (TimeoutError, SandboxError, OSError):
            self.kill()
            raise

    def _answer(self, case: int, message: dict, oracles, deadline: float) -> None:
        name = message.get("callback")
        try:
            if oracles is None or not isinstance(name, str):
                raise LookupError("no trusted function of that name")
            reply = {"result": oracles(case, name, message.get("args"), message.get("kwargs"))}
        except LookupError as refusal:
            reply = {"refused": str(refusal)[:500]}
        self._send(reply, deadline)


# -- the fork server --------------------------------------------------------------------------------------------


class Sandbox:
    """A fork server inside the given isolation; one per grader process and hash seed."""

    def __init__(self, isolation: Isolation, hash_seed: int = 0, stderr=subprocess.DEVNULL) -> None:
        self.isolation = isolation
        # A fixed seed per sandbox keeps re-runs identical; two sandboxes with
        # different seeds show whether a submission depends on hash().
        self.hash_seed = hash_seed
        self.stderr = stderr
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.scratch: Path | None = None
        self.forked = 0

    def start(self) -> None:
        ours, theirs = socket.socketpair()
        namespace_fds = []
        if self.isolation.strong:
            layout = sandbox_layout()
            env = {**dict(layout.env), "PYTHONHASHSEED": str(self.hash_seed)}
            user_namespace = self.isolation.user_namespace
            if user_namespace and os.geteuid() == 0:
                user_namespace = _root_user_namespace(random.randrange(*UNPRIVILEGED_UIDS))
                namespace_fds.append(user_namespace)
            prefix = _bwrap_command(layout, user_namespace, env)
            interpreter, cwd = layout.interpreter, None
            config = {"namespaces": True, "path": list(layout.path), "forbidden": list(forbidden_calls())}
        else:
            # Weak: the grader's own interpreter and paths, a private scratch folder per child.
            self.scratch = Path(tempfile.mkdtemp(prefix="autograder-scratch-"))
            os.chmod(self.scratch, 0o711)
            prefix, interpreter, cwd = [], sys.executable, str(self.scratch)
            env = {**SANDBOX_ENV, "HOME": cwd, "TMPDIR": cwd, "MPLCONFIGDIR": cwd,
                   "PYTHONHASHSEED": str(self.hash_seed)}
            config = {"namespaces": False, "path": [p for p in sys.path if p and Path(p).resolve() != ROOT],
                      "forbidden": list(forbidden_calls())}
        try:
            self.process = subprocess.Popen(
                [*prefix, interpreter, "-I", "-S", "-c", _bootstrap(), str(theirs.fileno()), json.dumps(config)],
                pass_fds=[theirs.fileno(), *namespace_fds], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self.stderr, env=env, cwd=cwd, start_new_session=True,
            )
        finally:
            theirs.close()
            for fd in namespace_fds:
                os.close(fd)
        self.control = ours

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _child_uid(self) -> int | None:
        """The uid a child takes; None keeps the zygote's (and drops every capability)."""
        if os.geteuid() != 0:
            return None
        if self.isolation.user_namespace:
            return CHILD_UID_IN_NAMESPACE
        if not self.isolation.strong and not all(_readable_by_others(Path(p).resolve())
                                                 for p in (sys.base_prefix, sys.prefix)):
            return None
        return random.randrange(*UNPRIVILEGED_UIDS)

    def fork(self, forbid: tuple[str, ...] = (), limits: dict | None = None) -> Child:
        """A fresh child process for one submission, in which the calls ``forbid`` raise."""
        if not self.alive():
            self.close()
            self.start()
        ours, theirs = socket.socketpair()
        self.forked += 1
        request = {"op": "fork", "forbid": list(forbid), "limits": limits or CHILD_LIMITS,
                   "uid": self._child_uid()}
        if self.scratch is not None:
            request["workdir"] = str(self.scratch / f"child-{self.forked}")
        try:
            socket.send_fds(self.control, [json.dumps(request).encode("utf-8")], [theirs.fileno()])
            self.control.settimeout(START_TIMEOUT)
            reply = json.loads(self.control.recv(4096).decode("utf-8"))
            pid = int(reply["pid"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            self.close()
            raise SandboxError("the grading sandbox did not start") from error
        finally:
            theirs.close()
        return Child(ours, pid, self)

    def _control(self, request: dict) -> None:
        try:
            self.control.sendall(json.dumps(request).encode("utf-8"))
            self.control.settimeout(10)
            self.control.recv(4096)
        except (OSError, AttributeError):
            self.close()

    def kill(self, pid: int) -> None:
        """Kill one child with everything it started."""
        self._control({"op": "kill", "pid": pid})

    def reset(self) -> None:
        """Kill every child (call between submissions)."""
        if self.alive():
            self._control({"op": "reset"})

    def close(self) -> None:
        if self.scratch is not None and self.alive():
            self.reset()  # weak isolation: children left their process group; the zygote knows them
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is not None:
            try:
                os.killpg(self.process.pid, 9)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
            self.process.wait()
            self.process = None
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
