"""The server's master key and the box that encrypts stored secrets with it."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from lakeworks.core.errors import InternalError

__all__ = ["SecretBox", "write_private_file"]


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class SecretBox:
    """Encrypts and decrypts short secrets with a Fernet master key.

    Args:
        key: A Fernet key (urlsafe base64 of 32 bytes).
    """

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_home(cls, home: Path, configured: str | None) -> SecretBox:
        """Use the configured key, else ``<home>/master.key``, generating it once (0600)."""
        if configured:
            return cls(configured.encode())
        path = home / "master.key"
        if not path.exists():
            write_private_file(path, Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def encrypt(self, plaintext: str) -> str:
        """Encrypt ``plaintext``; the result is ASCII."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """Decrypt what :meth:`encrypt` produced.

        Raises:
            InternalError: The master key changed since the secret was stored.
        """
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise InternalError(
                "A stored secret cannot be decrypted: the master key differs from the one it "
                "was stored with (set auth.master_key to the original key)"
            ) from exc
