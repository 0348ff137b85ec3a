"""Real Debian 12 hosts booted with systemd, for the fleet test (tools/test-fleet).

A host is a copy of one cached debootstrap image, booted by ``systemd-nspawn --boot`` with
systemd as PID 1. It shares the host's loopback (no ``--private-network``), so its sshd
listens on its own port on 127.0.0.1 and it reaches the test's broker and HTTP server there.
The machine running this has no systemd and no D-Bus: ``--register=no --keep-unit``, and a
container is stopped by signalling the PID of its nspawn process, never by name.

Why the flags:
- ``SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1``: this machine mounts cgroups v1 (hybrid); the
  container gets the pure cgroup v2 tree a Raspberry Pi OS bookworm has, where systemd
  attaches its BPF programs (``IPAddressDeny=``, ``DevicePolicy=``).
- ``--system-call-filter=bpf``: nspawn's own seccomp filter refuses ``bpf()``, and systemd
  in the container then silently runs ``IPAddressDeny=`` units without the firewall.
- ``--resolv-conf=off`` and the mirror in ``/etc/hosts``: apt reaches the Debian mirror the
  machine itself uses, and nothing in a container ever asks a DNS server.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SUITE = "bookworm"
# What a fresh Raspberry Pi OS Lite has that Ansible relies on: systemd, sshd, sudo, python3
# with python3-apt (the apt module). Everything else is installed by the role.
INCLUDE = ("systemd", "systemd-sysv", "dbus", "python3", "python3-apt", "openssh-server",
           "sudo", "ca-certificates")
USER = "pi"  # the login Ansible uses, with sudo, as on Raspberry Pi OS
MIRROR = os.environ.get("FLEET_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# Recipe version: bump when the image's customization below changes.
RECIPE = f"2 {SUITE} {MIRROR} {','.join(INCLUDE)} user={USER}"

Log = Callable[[str], None]


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "appliance" / "fleet"


def _run(cmd: Sequence[str | Path], timeout: float = 600, **kw: object) -> str:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          timeout=timeout, check=False, **kw)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n"
                           f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    out: str = proc.stdout
    return out


def base_image(log: Log = print) -> Path:
    """The debootstrapped Debian 12 image, built once and kept under the cache directory."""
    key = hashlib.sha256(RECIPE.encode()).hexdigest()[:12]
    image = cache_root() / f"{SUITE}-{key}"
    if (image / ".complete").exists():
        return image
    for tool in ("debootstrap", "systemd-nspawn"):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} is not installed (tools/setup --dev installs it)")
    tmp = image.with_name(image.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    log(f"fleet: debootstrap {SUITE} into {image} (once; about a minute)")
    t0 = time.monotonic()
    _run(["debootstrap", "--variant=minbase", f"--include={','.join(INCLUDE)}", SUITE,
          tmp, MIRROR], timeout=1200)
    _run(["chroot", tmp, "useradd", "--create-home", "--shell", "/bin/bash",
          "--groups", "sudo", USER])
    sudoers = tmp / "etc" / "sudoers.d" / "010_pi-nopasswd"
    sudoers.write_text(f"{USER} ALL=(ALL) NOPASSWD: ALL\n")
    sudoers.chmod(0o440)
    # Host keys are made per host when it is created; none is shared through the image.
    for key_file in (tmp / "etc" / "ssh").glob("ssh_host_*"):
        key_file.unlink()
    (tmp / "etc" / "machine-id").write_text("")
    _run(["chroot", tmp, "apt-get", "clean"])
    (tmp / ".complete").write_text(f"{RECIPE}\n{time.monotonic() - t0:.0f} s\n")
    tmp.rename(image)
    log(f"fleet: base image ready in {time.monotonic() - t0:.0f} s")
    return image


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _mirror_hosts_line() -> str:
    """The mirror's address as this machine resolves it, for the container's /etc/hosts."""
    host = MIRROR.split("//", 1)[-1].split("/", 1)[0].split(":")[0]
    try:
        addr = socket.getaddrinfo(host, 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    except OSError:
        return ""
    return f"{addr} {host}\n"


@dataclass
class Host:
    """One container: a Debian 12 root under ``root``, sshd on 127.0.0.1:``ssh_port``."""

    name: str
    root: Path
    ssh_port: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    extra_args: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, name: str, image: Path, workdir: Path, public_key: str) -> Host:
        root = workdir / name
        workdir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)
        _run(["cp", "-a", "--reflink=auto", image, root])
        (root / ".complete").unlink(missing_ok=True)
        port = free_port()
        (root / "etc" / "hostname").write_text(f"{name}\n")
        (root / "etc" / "hosts").write_text(
            f"127.0.0.1 localhost\n127.0.1.1 {name}\n::1 localhost\n{_mirror_hosts_line()}")
        (root / "etc" / "ssh" / "sshd_config.d" / "fleet.conf").write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nUseDNS no\n")
        _run(["chroot", root, "ssh-keygen", "-A"])
        ssh_dir = root / "home" / USER / ".ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        (ssh_dir / "authorized_keys").write_text(public_key)
        uid_gid = _run(["chroot", root, "id", "-u", USER]).strip(), \
            _run(["chroot", root, "id", "-g", USER]).strip()
        for p in (ssh_dir, ssh_dir / "authorized_keys"):
            os.chown(p, int(uid_gid[0]), int(uid_gid[1]))
        return cls(name, root, port, workdir / f"{name}.console.log")

    def start(self, timeout: float = 90) -> None:
        """Boot it and wait until sshd answers."""
        env = {**os.environ, "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1"}
        with self.log_path.open("ab") as console:
            self.proc = subprocess.Popen(
                ["systemd-nspawn", "--quiet", "--directory", str(self.root), "--boot",
                 "--register=no", "--keep-unit", f"--machine={self.name}",
                 "--system-call-filter=bpf", "--resolv-conf=off", "--console=passive",
                 *self.extra_args],
                stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: systemd-nspawn exited {self.proc.returncode}"
                                   f" (see {self.log_path})")
            with contextlib.suppress(OSError), \
                    socket.create_connection(("127.0.0.1", self.ssh_port), timeout=1) as s:
                s.settimeout(2)
                if s.recv(64).startswith(b"SSH-"):
                    return
            time.sleep(0.5)
        raise RuntimeError(f"{self.name}: sshd did not answer on port {self.ssh_port} "
                           f"within {timeout:g} s")

    def leader(self) -> int:
        """The container's PID 1 (systemd), as a PID on this machine."""
        assert self.proc is not None, f"{self.name} is not running"
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return int(children.split()[0])

    def sh(self, command: str, timeout: float = 60, check: bool = False) -> str:
        """Run a shell command inside the container (as its root), whatever sshd is doing."""
        proc = subprocess.run(["nsenter", "--target", str(self.leader()), "--all",
                               "/bin/sh", "-c", command], capture_output=True, text=True,
                              timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{self.name}: {command!r} exited {proc.returncode}: "
                               f"{proc.stderr.strip()}")
        return proc.stdout.strip()

    def stop(self, timeout: float = 30) -> None:
        """Power it off (SIGTERM to nspawn halts the container), SIGKILL if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None
