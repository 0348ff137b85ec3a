"""The fleet playbook: syntax, ansible-lint's production profile, and real converges.

The converge runs the real playbook against localhost (connection: local) into a throwaway
root under tmp_path: the release venv, the models (downloaded by get_url from file:// URLs
with their real sha256), the config (validated by the release's own `appliance check`),
the unit file. User, package and service management are switched off: on a CI machine
systemd is not PID 1 and the host must not change. The release venv gets the project's
already-built .venv on its path (a .pth file), so llama-cpp-python is not compiled again.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import HOME_YAML, ROOT

ANSIBLE = ROOT / "ansible"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed (tools/setup --dev installs it)")
    return str(path)


def _run(*args: str, env: dict[str, str] | None = None,
         timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=ANSIBLE, capture_output=True, text=True,
                          timeout=timeout, check=False,
                          env={**os.environ, "ANSIBLE_FORCE_COLOR": "0",
                               "PATH": f"{BIN}:{os.environ['PATH']}", **(env or {})})


def test_syntax_check() -> None:
    proc = _run(_tool("ansible-playbook"), "--syntax-check", "site.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_lint_production_profile() -> None:
    proc = _run(_tool("ansible-lint"), "--offline", "--profile", "production", "--nocolor",
                env={"ANSIBLE_LINT_NODEPS": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Profile 'production' was required, and it passed" in proc.stdout + proc.stderr


# -- a real converge into a throwaway root ------------------------------------------------


def _recap(output: str) -> dict[str, int]:
    match = re.search(r"testpi\s*:\s*(.*)", output.rsplit("PLAY RECAP", maxsplit=1)[-1])
    assert match, output[-3000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("fleet")
    dist = tmp / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", str(ROOT), "-w", str(dist)], check=True,
                   capture_output=True)
    [wheel] = dist.glob("appliance-*.whl")
    # A stand-in vosk model zip with the files `appliance check` looks for.
    model = "vosk-model-small-en-us-0.15"
    zpath = tmp / f"{model}.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for name in ("am/final.mdl", "graph/HCLr.fst", "graph/Gr.fst", "conf/model.conf"):
            z.writestr(f"{model}/{name}", "stand-in")
    home = yaml.safe_load(HOME_YAML.read_text())
    root = tmp / "root"
    (root / "etc" / "systemd" / "system").mkdir(parents=True)  # as on any systemd host
    site = next(Path(p) for p in sys.path if p.endswith("site-packages") and
                Path(p).is_relative_to(Path(sys.prefix)))
    variables = {
        "appliance_manage_packages": False,
        "appliance_manage_user": False,
        "appliance_manage_service": False,
        "appliance_user": os.environ.get("USER", "root"),
        "appliance_root": str(root / "opt" / "appliance"),
        "appliance_config_dir": str(root / "etc" / "appliance"),
        "appliance_state_dir": str(root / "var" / "lib" / "appliance"),
        "appliance_models_dir": str(root / "var" / "lib" / "appliance" / "models"),
        "appliance_unit_dir": str(root / "etc" / "systemd" / "system"),
        "appliance_python": sys.executable,
        "appliance_package": str(wheel),
        "appliance_pip_extra_args": "--no-deps --no-index",
        "appliance_venv_extra_site_packages": [str(site)],
        "appliance_device_id": "testpi",
        "appliance_tools": home["tools"],
        "appliance_adapter": str(HOME_YAML.parent / home["model"]["adapter"]),
        "appliance_adapter_tools": home["model"]["adapter_tools"],
        "appliance_mqtt_password": "not-in-the-config",
        "appliance_speech_engine": "vosk",
        "appliance_vosk_model_url": zpath.as_uri(),
        "appliance_vosk_model_sha256": hashlib.sha256(zpath.read_bytes()).hexdigest(),
    }
    vars_file = tmp / "vars.yml"
    vars_file.write_text(yaml.dump(_unsafe(variables), Dumper=_Dumper))
    inventory = tmp / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"appliances": {"hosts": {
        "testpi": {"ansible_connection": "local",
                   "ansible_python_interpreter": sys.executable}}}}}}))
    return {"tmp": tmp, "root": root, "vars": vars_file, "inventory": inventory,
            "variables": variables}


class _Unsafe(str):
    """A string Ansible must not template (the tools' own Jinja2 action templates)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Unsafe, lambda d, v: d.represent_scalar("!unsafe", str(v)))


def _unsafe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unsafe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsafe(v) for v in value]
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        return _Unsafe(value)
    return value


def _playbook(fleet: dict[str, Any], *extra: str) -> subprocess.CompletedProcess[str]:
    return _run(_tool("ansible-playbook"), "-i", str(fleet["inventory"]), "site.yml",
                "-e", f"@{fleet['vars']}", *extra,
                env={"ANSIBLE_LOCAL_TEMP": str(fleet["tmp"] / "ansible-tmp"),
                     "ANSIBLE_REMOTE_TEMP": str(fleet["tmp"] / "ansible-tmp")})


@pytest.mark.slow
def test_converge_twice_then_check_mode_changes_nothing(fleet: dict[str, Any]) -> None:
    first = _playbook(fleet)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert _recap(first.stdout)["changed"] > 0
    v = fleet["variables"]
    current = Path(v["appliance_root"]) / "current"
    assert current.resolve() == Path(v["appliance_root"]) / "releases" / "0.1.0"
    config = Path(v["appliance_config_dir"]) / "appliance.yaml"
    text = config.read_text()
    assert text.startswith("#") and "Ansible managed" in text
    data = yaml.safe_load(text)
    assert data["device"]["id"] == "testpi" and data["mqtt"]["password_credential"]
    assert "not-in-the-config" not in text
    secret = Path(v["appliance_config_dir"]) / "credentials" / "mqtt_password"
    assert secret.read_text() == "not-in-the-config" and secret.stat().st_mode & 0o077 == 0
    assert (Path(v["appliance_models_dir"]) / "vosk-model-small-en-us-0.15" / "am").is_dir()
    unit = (Path(v["appliance_unit_dir"]) / "appliance.service").read_text()
    assert f"ExecStart={v['appliance_root']}/current/venv/bin/appliance run" in unit
    # The installed release runs: its own `appliance check` accepts the templated config.
    check = subprocess.run([str(current / "venv" / "bin" / "appliance"), "check", "--config",
                            str(config)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr

    second = _playbook(fleet)
    assert second.returncode == 0, second.stdout[-4000:]
    assert _recap(second.stdout)["changed"] == 0, second.stdout[-4000:]

    before = {p: p.stat().st_mtime_ns for p in fleet["root"].rglob("*") if p.is_file()}
    dry = _playbook(fleet, "--check", "--diff", "-e", "appliance_device_id=renamed")
    assert dry.returncode == 0, dry.stdout[-4000:]
    assert "renamed" in dry.stdout  # the diff shows what would change...
    after = {p: p.stat().st_mtime_ns for p in fleet["root"].rglob("*") if p.is_file()}
    assert after == before  # ...and nothing changed
    assert yaml.safe_load(config.read_text())["device"]["id"] == "testpi"


@pytest.mark.slow
def test_a_release_that_fails_its_health_check_is_rolled_back(fleet: dict[str, Any]) -> None:
    if not (Path(fleet["variables"]["appliance_root"]) / "current").exists():
        assert _playbook(fleet).returncode == 0
    bad = _playbook(fleet, "-e", "appliance_version=0.2.0", "-e", "appliance_health_command=false")
    assert bad.returncode != 0
    assert "rolled back to" in bad.stdout, bad.stdout[-4000:]
    root = Path(fleet["variables"]["appliance_root"])
    assert (root / "current").resolve() == root / "releases" / "0.1.0"
    assert (root / "releases" / "0.2.0" / ".installed").exists()  # kept, not running
    shutil.rmtree(root / "releases" / "0.2.0")
