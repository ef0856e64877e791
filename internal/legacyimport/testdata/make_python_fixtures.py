#!/usr/bin/env python3
"""Writes testdata/python-2.11: an older-server checkout whose credential
files are sealed by Python's own `cryptography` package, the way the Python
server (Release 2.11.0) seals them. drivemcp's tests decrypt these files to
prove its Go reader agrees with Python byte for byte.

Run only to regenerate (python3 with `cryptography` installed):
    python3 internal/legacyimport/testdata/make_python_fixtures.py
Every token in the output is a fake in the emulator's style: the files prove
the format, not access to anything.
"""
import base64
import hashlib
import hmac
import json
import os
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

OUT = Path(__file__).parent / "python-2.11"
CHECKOUT = OUT / "checkout"
CREDS = CHECKOUT / "credentials"
MCP_API_KEY = "fixture-mcp-api-key-not-secret"
SUBS = {"erin@example.com": "110000000000000000042"}


def hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return base64.urlsafe_b64encode(
        HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)
    )


def stem(email: str) -> str:
    return email.lower().strip().replace("@", "_at_").replace(".", "_")


def creds(email: str) -> dict:
    s = stem(email)
    return {
        "token": f"ya29.fake-access-{s}",
        "refresh_token": f"1//0fake-refresh-{s}",
        "token_uri": "https://oauth2.googleapis.com/token",
        "client_id": "demo-client.apps.googleusercontent.com",
        "client_secret": "demo-secret",
        "scopes": [
            "openid",
            "https://www.googleapis.com/auth/userinfo.email",
            "https://www.googleapis.com/auth/drive.file",
        ],
        "expiry": "2026-03-01T10:00:00.123456",
        "encrypted_at": "2026-03-01T09:00:00.123456",
    }


def envelope_hmac(server_secret: bytes, env: dict) -> str:
    body = json.dumps({k: v for k, v in env.items() if k != "hmac"}, sort_keys=True)
    return hmac.new(server_secret, body.encode(), hashlib.sha256).hexdigest()


def main() -> None:
    CREDS.mkdir(parents=True, exist_ok=True)
    for p in CREDS.iterdir():
        p.unlink()
    server_key = base64.urlsafe_b64encode(os.urandom(32))
    (CREDS / ".auth_encryption_key").write_bytes(server_key)
    server = Fernet(server_key)
    derived = Fernet(hkdf(MCP_API_KEY.encode(), b"mcp-google-workspace-v1", b"credential-encryption"))
    (CHECKOUT / ".env").write_text(
        f"CREDENTIAL_STORAGE_MODE=FILE_ENCRYPTED\nMCP_API_KEY={MCP_API_KEY}\n"
    )
    expected = {}

    # Before MCP_API_KEY was set: the random server key, raw base64 of Fernet.
    e = "carol@example.com"
    (CREDS / f"{stem(e)}_credentials.enc").write_text(
        base64.urlsafe_b64encode(server.encrypt(json.dumps(creds(e)).encode())).decode()
    )
    expected[f"{stem(e)}_credentials.enc"] = creds(e)

    # With MCP_API_KEY set: the key derived from it, in a MEMORY_WITH_BACKUP file.
    e = "frank@example.com"
    (CREDS / f"{stem(e)}_backup.enc").write_text(
        base64.urlsafe_b64encode(derived.encrypt(json.dumps(creds(e)).encode())).decode()
    )
    expected[f"{stem(e)}_backup.enc"] = creds(e)

    # A server envelope: a random CEK wrapped by the server's Fernet key.
    e = "dave@example.com"
    cek = Fernet.generate_key()
    env = {
        "v": 2,
        "enc": "server",
        "recipients": {"server": base64.urlsafe_b64encode(derived.encrypt(cek)).decode()},
        "data": base64.urlsafe_b64encode(Fernet(cek).encrypt(json.dumps(creds(e)).encode())).decode(),
        "token_expiry": "2026-03-01T10:00:00.123456",
    }
    env["hmac"] = envelope_hmac(server_key, env)
    (CREDS / f"{stem(e)}_credentials.enc").write_text(json.dumps(env))
    expected[f"{stem(e)}_credentials.enc"] = creds(e)

    # A per_user envelope: the user's own API key and the OAuth recipient
    # derived from the server secret and the user's Google sub.
    e = "erin@example.com"
    cek = Fernet.generate_key()
    per_user_key = "user-api-key-" + base64.urlsafe_b64encode(os.urandom(16)).decode()
    oauth_key = hashlib.sha256(
        server_key + b":oauth-identity-recipient-v2:" + SUBS[e].encode()
    ).hexdigest()
    recipients = {}
    for k in (per_user_key, oauth_key):
        wrap = Fernet(hkdf(k.encode(), server_key, b"per-user-credential-encryption-v1"))
        recipients[hashlib.sha256(k.encode()).hexdigest()] = base64.urlsafe_b64encode(wrap.encrypt(cek)).decode()
    env = {
        "v": 2,
        "enc": "per_user",
        "recipients": recipients,
        "data": base64.urlsafe_b64encode(Fernet(cek).encrypt(json.dumps(creds(e)).encode())).decode(),
        "token_expiry": None,
    }
    env["hmac"] = envelope_hmac(server_key, env)
    (CREDS / f"{stem(e)}_credentials.enc").write_text(json.dumps(env))
    expected[f"{stem(e)}_credentials.enc"] = creds(e)

    prefs = {e: {"enabled": True, "has_password": False, "google_sub": SUBS[e]}}
    linkage = Fernet(hkdf(server_key.strip(), b"oauth-linkage-prefs-salt-v1", b"oauth-linkage-prefs-encryption-v1"))
    (CREDS / ".oauth_linkage_prefs.json").write_bytes(linkage.encrypt(json.dumps(prefs, indent=2).encode()))

    (OUT / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")

    # A bare Fernet token for the Fernet reader's own test.
    (OUT / "fernet_key.txt").write_bytes(server_key)
    (OUT / "fernet_token.txt").write_bytes(server.encrypt(b"made by Python's cryptography Fernet"))


if __name__ == "__main__":
    main()
