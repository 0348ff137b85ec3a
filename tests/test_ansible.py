"""The fleet playbook: syntax, ansible-lint's production profile, and real converges.

The converges run the real playbook (ansible/site.yml, the example kitchen Pi's host_vars)
against localhost (connection: local) into a throwaway root under tmp_path: the release venv,
the models (downloaded by get_url from file:// URLs with their real sha256), the config
(validated by the release's own `appliance check`), the credential file, the unit file.

What is not real, and why: package, user and service management are switched off
(`appliance_manage_*: false`), because CI runs as root where systemd is not PID 1 and the host
must not change. The release is the wheel and constraints that ansible/build-release makes,
installed with `--no-deps --no-index` into a venv made from this interpreter, with the
project's already-built .venv site-packages on its path (a .pth file): compiling
llama-cpp-python again would take minutes. The vosk zip is a stand-in with the files
`appliance check` looks for. The MQTT health check is real, against a real mosquitto on
loopback, but the "online" it waits for is published (retained) by the test, since no
daemon is started. The health command is the release's own `appliance check`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.broker import Broker
from tests.conftest import HOME_YAML, ROOT

ANSIBLE = ROOT / "ansible"
BIN = Path(sys.executable).parent
HOST_VARS = ANSIBLE / "inventory" / "host_vars"


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed (tools/setup --dev installs it)")
    return str(path)


def _run(*args: str, env: dict[str, str] | None = None,
         timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=ANSIBLE, capture_output=True, text=True,
                          timeout=timeout, check=False,
                          env={**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1",
                               "PATH": f"{BIN}:{os.environ['PATH']}", **(env or {})})


# -- !unsafe: the tools' own Jinja2 action templates pass through Ansible untouched -------------


class _Unsafe(str):
    """A string Ansible must not template."""


class _Loader(yaml.SafeLoader):
    pass


class _Dumper(yaml.SafeDumper):
    pass


def _construct_unsafe(loader: yaml.SafeLoader, node: yaml.Node) -> _Unsafe:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(None, None, "!unsafe on a non-string",
                                                node.start_mark)
    return _Unsafe(loader.construct_scalar(node))


_Loader.add_constructor("!unsafe", _construct_unsafe)
_Dumper.add_representer(_Unsafe, lambda d, v: d.represent_scalar("!unsafe", str(v)))


def _host_vars(host: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load((HOST_VARS / f"{host}.yml").read_text(), Loader=_Loader)
    return data


# -- static checks ----------------------------------------------------------------------------


def test_syntax_check() -> None:
    proc = _run(_tool("ansible-playbook"), "--syntax-check", "site.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_lint_production_profile() -> None:
    proc = _run(_tool("ansible-lint"), "--offline", "--profile", "production", "--nocolor",
                env={"ANSIBLE_LINT_NODEPS": "1", "ANSIBLE_LINT_SKIP_SCHEMA_UPDATE": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Profile 'production' was required, and it passed" in proc.stdout + proc.stderr


@pytest.mark.parametrize("host", ["kitchen-pi", "garage-pi"])
def test_example_hosts_declare_valid_tools(host: str, tmp_path: Path) -> None:
    from appliance.config import load_config

    hv = _host_vars(host)
    config = tmp_path / "appliance.yaml"
    plain = json.loads(json.dumps(hv))  # as Ansible hands them over: !unsafe strings as text
    config.write_text(yaml.safe_dump({"device": {"id": plain["appliance_device_id"]},
                                      "tools": plain["appliance_tools"]}))
    loaded = load_config(config)
    assert len(loaded.tools) == len(hv["appliance_tools"])


def test_every_role_variable_is_documented_and_typed() -> None:
    role = ANSIBLE / "roles" / "appliance"
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text())
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    assert set(defaults) == set(options)
    assert all(name.startswith("appliance_") for name in defaults)
    assert all(len(o["description"]) > 0 and "type" in o for o in options.values())


# -- real converges into a throwaway root -------------------------------------------------------


def _recap(output: str, host: str = "kitchen-pi") -> dict[str, int]:
    match = re.search(rf"{host}\s*:\s*(.*)", output.rsplit("PLAY RECAP", maxsplit=1)[-1])
    assert match, output[-3000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


@dataclass
class Playbook:
    """ansible-playbook site.yml for one host, kitchen-pi on localhost, rooted under root."""

    root: Path
    variables: dict[str, Any]
    inventory: Path
    vars_file: Path
    ansible_tmp: Path

    def __call__(self, *extra: str) -> subprocess.CompletedProcess[str]:
        tmp = str(self.ansible_tmp)
        return _run(_tool("ansible-playbook"), "-i", str(self.inventory), "site.yml",
                    "-e", f"@{self.vars_file}", *extra,
                    env={"ANSIBLE_LOCAL_TEMP": tmp, "ANSIBLE_REMOTE_TEMP": tmp})


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """What the controller deploys: build-release's wheel and constraints, a stand-in vosk zip."""
    tmp = tmp_path_factory.mktemp("release")
    subprocess.run([str(ANSIBLE / "build-release"), str(tmp / "dist")], check=True,
                   capture_output=True)
    [wheel] = (tmp / "dist").glob("appliance-*.whl")
    [constraints] = (tmp / "dist").glob("appliance-*-constraints.txt")
    model = "vosk-model-small-en-us-0.15"
    zpath = tmp / f"{model}.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for name in ("am/final.mdl", "graph/HCLr.fst", "graph/Gr.fst", "conf/model.conf"):
            z.writestr(f"{model}/{name}", "stand-in")
    return {"wheel": wheel, "constraints": constraints, "vosk": zpath}


@pytest.fixture(scope="module")
def mqtt() -> Iterator[Broker]:
    """A real broker where the device's status topic says online (retained)."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    b = Broker()
    b.start()
    client = paho.Client(CallbackAPIVersion.VERSION2)
    client.connect(b.host, b.port)
    client.loop_start()
    client.publish("appliance/kitchen/status", "online", qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()
    yield b
    b.remove()


def _make_playbook(tmp: Path, release: dict[str, Path], mqtt: Broker) -> Playbook:
    """The example kitchen Pi's host_vars with every path under tmp/root."""
    root = tmp / "root"
    (root / "etc" / "systemd" / "system").mkdir(parents=True)  # as on any systemd host
    site = next(Path(p) for p in sys.path if p.endswith("site-packages") and
                Path(p).is_relative_to(Path(sys.prefix)))
    home = yaml.safe_load(HOME_YAML.read_text())
    variables = {
        **_host_vars("kitchen-pi"),
        "appliance_manage_packages": False,
        "appliance_manage_user": False,
        "appliance_manage_service": False,
        "appliance_root": str(root / "opt" / "appliance"),
        "appliance_config_dir": str(root / "etc" / "appliance"),
        "appliance_state_dir": str(root / "var" / "lib" / "appliance"),
        "appliance_models_dir": str(root / "var" / "lib" / "appliance" / "models"),
        "appliance_unit_dir": str(root / "etc" / "systemd" / "system"),
        "appliance_python": sys.executable,
        "appliance_package": str(release["wheel"]),
        "appliance_pip_constraints_file": str(release["constraints"]),
        "appliance_pip_extra_args": "--no-deps --no-index",
        "appliance_wheelhouse": "",  # the .pth below instead of a wheelhouse
        "appliance_venv_extra_site_packages": [str(site)],
        # copied and checked as a GGUF; trained for the demo home, so no fingerprint here
        "appliance_adapter": str(HOME_YAML.parent / home["model"]["adapter"]),
        "appliance_mqtt_host": mqtt.host,
        "appliance_mqtt_port": mqtt.port,
        "appliance_mqtt_username": "appliance",
        # in the fleet this comes from the vault; here from a plain extra-vars file
        "appliance_mqtt_password": "not-in-the-config",
        "appliance_health_mqtt": True,
        "appliance_health_timeout": 10,
        "appliance_speech_engine": "vosk",
        "appliance_vosk_model_url": release["vosk"].as_uri(),
        "appliance_vosk_model_sha256": hashlib.sha256(release["vosk"].read_bytes()).hexdigest(),
    }
    vars_file = tmp / "vars.yml"
    vars_file.write_text(yaml.dump(variables, Dumper=_Dumper))
    inventory = tmp / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"appliances": {"hosts": {
        "kitchen-pi": {"ansible_connection": "local",
                       "ansible_python_interpreter": sys.executable}}}}}}))
    return Playbook(root, variables, inventory, vars_file, tmp / "ansible-tmp")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, release: dict[str, Path],
          mqtt: Broker) -> Playbook:
    return _make_playbook(tmp_path_factory.mktemp("fleet"), release, mqtt)


def _files(root: Path) -> dict[Path, int]:
    return {p: p.lstat().st_mtime_ns for p in root.rglob("*") if p.is_file() or p.is_symlink()}


@pytest.mark.slow
def test_check_mode_on_a_fresh_host_changes_nothing(
        tmp_path: Path, release: dict[str, Path], mqtt: Broker) -> None:
    playbook = _make_playbook(tmp_path, release, mqtt)
    before = _files(tmp_path)
    dry = playbook("--check", "--diff")
    assert dry.returncode == 0, dry.stdout[-4000:] + dry.stderr[-2000:]
    assert _recap(dry.stdout)["changed"] > 0
    assert _files(tmp_path) == before
    assert not (playbook.root / "opt").exists()


@pytest.mark.slow
def test_converge_twice_then_check_mode_changes_nothing(fleet: Playbook) -> None:
    first = fleet()
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert _recap(first.stdout)["changed"] > 0
    assert re.search(r"TASK \[appliance : Health check - it says online on MQTT\]\s*\*+\s*"
                     r"ok: \[kitchen-pi\]", first.stdout), first.stdout[-4000:]
    v = fleet.variables
    releases = Path(v["appliance_root"]) / "releases"
    current = Path(v["appliance_root"]) / "current"
    assert current.resolve() == releases / "0.1.0"
    assert "llama_cpp_python==0.3.36" in (releases / "0.1.0" / "constraints.txt").read_text()
    config = Path(v["appliance_config_dir"]) / "appliance.yaml"
    text = config.read_text()
    assert text.startswith("#") and "Ansible managed" in text
    data = yaml.safe_load(text)
    assert data["device"]["id"] == "kitchen" and data["speech"]["wake_word"] == "appliance"
    assert data["mqtt"]["password_credential"] == "mqtt-password"
    assert data["tools"][0]["action"]["value"] == "{{ state }}"  # not templated by Ansible
    assert "not-in-the-config" not in text
    secret = Path(v["appliance_config_dir"]) / "credentials" / "mqtt-password"
    assert secret.read_text() == "not-in-the-config" and secret.stat().st_mode & 0o077 == 0
    assert (Path(v["appliance_models_dir"]) / "vosk-model-small-en-us-0.15" / "am").is_dir()
    unit = (Path(v["appliance_unit_dir"]) / "appliance.service").read_text()
    assert f"ExecStart={v['appliance_root']}/current/venv/bin/appliance run" in unit
    assert f"LoadCredential=mqtt-password:{secret}" in unit and "Ansible managed" in unit
    assert "IPAddressDeny=any" in unit and "IPAddressAllow=127.0.0.1" in unit
    assert "ProcSubset=all" in unit  # the kitchen drives real pins: gpiozero reads /proc
    assert "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n" in unit
    # The installed release runs: its own `appliance check` accepts the templated config.
    check = subprocess.run([str(current / "venv" / "bin" / "appliance"), "check", "--config",
                            str(config)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr

    second = fleet()
    assert second.returncode == 0, second.stdout[-4000:]
    assert _recap(second.stdout)["changed"] == 0, second.stdout[-4000:]

    before = _files(fleet.root)
    dry = fleet("--check", "--diff", "-e", "appliance_device_id=renamed")
    assert dry.returncode == 0, dry.stdout[-4000:]
    assert "+  id: renamed" in dry.stdout  # the diff shows what would change...
    assert _files(fleet.root) == before  # ...and nothing changed
    assert yaml.safe_load(config.read_text())["device"]["id"] == "kitchen"


@pytest.mark.slow
@pytest.mark.parametrize(("version", "breakage", "says"), [
    # a new release whose health command fails (the release's own check, forced to fail)
    ("0.2.0", ["-e", "appliance_health_command=false", "-e", "appliance_device_name=Broken"],
     ["non-zero return code", "release 0.2.0 failed its health check on kitchen-pi (",
      "); rolled back to", "; the previous configuration is restored"]),
    # a new release whose device never says online on MQTT (nothing publishes for this id)
    ("0.3.0", ["-e", "appliance_device_id=broken", "-e", "appliance_health_timeout=2"],
     ["appliance/broken/status: not online within 2 s", "rolled back to"]),
    # the running release with a config that fails: only the config goes back
    ("0.1.0", ["-e", "appliance_health_command=false", "-e", "appliance_device_name=Broken"],
     ["it was already the running release; the previous configuration is restored"]),
])
def test_a_release_that_fails_its_health_check_is_rolled_back(
        fleet: Playbook, version: str, breakage: list[str], says: list[str]) -> None:
    v = fleet.variables
    root = Path(v["appliance_root"])
    if not (root / "current").exists():
        assert fleet().returncode == 0
    config = Path(v["appliance_config_dir"]) / "appliance.yaml"
    good = config.read_text()
    bad = fleet("-e", f"appliance_version={version}", *breakage)
    assert bad.returncode != 0
    for text in says:
        assert text in bad.stdout, bad.stdout[-4000:]
    assert _recap(bad.stdout)["failed"] == 1
    assert (root / "current").resolve() == root / "releases" / "0.1.0"
    assert config.read_text() == good  # the previous config is back
    assert (root / "releases" / version / ".installed").exists()  # kept, not running
    assert not list(config.parent.glob("appliance.yaml.*"))  # no backup left behind
    if version == "0.2.0":  # the working release deploys again with nothing to change
        again = fleet()
        assert again.returncode == 0, again.stdout[-4000:]
        assert _recap(again.stdout)["changed"] == 0, again.stdout[-4000:]
