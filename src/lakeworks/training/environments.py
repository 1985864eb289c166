"""Cached Python environments for script-mode jobs that bring a ``requirements.txt``.

SageMaker's framework containers ``pip install -r requirements.txt`` from the source directory
before running the script. Lakeworks does the same once per distinct requirements file: the
environment lives in ``<home>/training/environments/<key>/`` where ``key`` hashes the file's
content and the Python version, and every later job with the same file reuses it.

Each environment is a ``venv`` that also sees the server's own packages (numpy, scikit-learn,
XGBoost … are not installed again): a ``.pth`` file adds the server's site-packages *after* the
environment's own, so a pinned version installed here wins over the server's. Installs use pip
with the machine's pip configuration (``/etc/pip.conf``, ``PIP_*`` variables of the server
process), so an offline machine installs from its wheelhouse or index mirror; a requirement that
cannot be had fails the job with pip's own explanation.

Built by the server while the job is Downloading (never by the job itself), under a file lock so
concurrent jobs with the same requirements build it once. Builds happen in a temporary
directory that is renamed into place when complete: a half-built environment is never used.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import site
import subprocess
import sys
import venv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from lakeworks.core.errors import ValidationError

__all__ = ["Environment", "EnvironmentCache", "environment_key"]

#: Variables of the server process passed to pip (its configuration, proxies, CA bundles).
_PASSED = ("PATH", "HOME", "LANG", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
_PASSED_PREFIXES = ("PIP_",)
_PROXIES = ("http_proxy", "https_proxy", "no_proxy")
_MAX_LOG = 16 * 1024


def environment_key(requirements: str) -> str:
    """The cache key of a requirements file: its content and the Python it is built for."""
    text = "\n".join(line.rstrip() for line in requirements.strip().splitlines())
    version = f"{sys.implementation.name}-{sys.version_info.major}.{sys.version_info.minor}"
    return hashlib.sha256(f"{version}\n{text}".encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Environment:
    """A ready environment: its interpreter and how it came to be."""

    key: str
    python: Path
    created: bool
    log: str


def _pip_environment(source: Mapping[str, str]) -> dict[str, str]:
    env = {name: source[name] for name in _PASSED if name in source}
    for name, value in source.items():
        if name.startswith(_PASSED_PREFIXES) or name.lower() in _PROXIES:
            env[name] = value
    env.setdefault("PATH", os.defpath)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def _tail(text: str, lines: int = 15) -> str:
    kept = [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join(kept)


class EnvironmentCache:
    """Builds and reuses requirements environments under ``root``.

    Args:
        root: Directory of the cached environments.
        server_environ: The server process's environment; only pip's configuration, proxies
            and ``PATH``/``HOME`` are passed on to pip.
        timeout_seconds: Longest a pip install may take.
    """

    def __init__(
        self, root: Path, server_environ: Mapping[str, str], *, timeout_seconds: float = 900
    ) -> None:
        self.root = root
        self.pip_env = _pip_environment(server_environ)
        self.timeout = timeout_seconds

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / f".{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def ensure(self, requirements: Path, cwd: Path) -> Environment:
        """The environment for ``requirements``, built now unless cached.

        Args:
            requirements: The job's ``requirements.txt``.
            cwd: Where pip runs (relative paths in the file are relative to the sources).

        Raises:
            ValidationError: pip could not install the requirements; the message ends with
                pip's last lines.
        """
        key = environment_key(requirements.read_text(errors="replace"))
        target = self.root / key
        with self._locked(key):
            if (target / ".complete").is_file():
                log = (target / "install.log").read_text(errors="replace")[-_MAX_LOG:]
                return Environment(key, _python_of(target), False, log)
            building = self.root / f".{key}.building"
            shutil.rmtree(building, ignore_errors=True)
            shutil.rmtree(target, ignore_errors=True)
            # Without pip of its own: the server's pip installs into it (``pip --python``).
            venv.EnvBuilder(with_pip=False, symlinks=True, clear=True).create(building)
            _see_server_packages(building)
            log = self._install(building, requirements, cwd)
            (building / "install.log").write_text(log)
            (building / ".complete").write_text(key)
            building.rename(target)
            # The venv's scripts name its directory; pip has finished with them, and the
            # interpreter link does not depend on it.
            return Environment(key, _python_of(target), True, log[-_MAX_LOG:])

    def _install(self, env_dir: Path, requirements: Path, cwd: Path) -> str:
        command = [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(_python_of(env_dir)),
            "install",
            "--no-warn-script-location",
            "--progress-bar",
            "off",
            "-r",
            str(requirements),
        ]
        try:
            done = subprocess.run(
                command,
                cwd=cwd,
                env=self.pip_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            shutil.rmtree(env_dir, ignore_errors=True)
            raise ValidationError(
                f"Installing requirements.txt took longer than {self.timeout:.0f} s; "
                "nothing was installed"
            ) from None
        output = done.stdout.decode("utf-8", "replace")
        if done.returncode != 0:
            shutil.rmtree(env_dir, ignore_errors=True)
            raise ValidationError(
                f"Installing requirements.txt failed (pip exit code {done.returncode}); "
                f"pip said:\n{_tail(output)}"
            )
        return output


def _python_of(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def _see_server_packages(env_dir: Path) -> None:
    """Let the environment import the server's packages, after its own."""
    lib = next((env_dir / "lib").glob("python*/site-packages"))
    dirs = [d for d in site.getsitepackages() if Path(d).is_dir()]
    user = site.getusersitepackages()
    if site.ENABLE_USER_SITE and Path(user).is_dir():
        dirs.append(user)
    # ``import`` lines of a .pth file run at start-up; addsitedir also reads the .pth files
    # there (editable installs of the server's own packages live in them).
    lines = [f"import site; site.addsitedir({d!r})" for d in dirs]
    (lib / "_lakeworks_server_packages.pth").write_text("\n".join(lines) + "\n")
