"""Write a local `.env` once: `python -m fundarb_site.devenv .env`. An existing file is never overwritten."""

import sys
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.management.utils import get_random_secret_key

TEMPLATE = """\
# Generated once by `make run` for local use. Keep it: the encryption key decrypts the stored API secrets.
DEBUG=true
SECRET_KEY={secret_key}
FIELD_ENCRYPTION_KEYS={fernet_key}
"""


def main(path: str) -> int:
    target = Path(path)
    if target.exists():
        return 0
    target.write_text(TEMPLATE.format(secret_key=get_random_secret_key(), fernet_key=Fernet.generate_key().decode()))
    target.chmod(0o600)
    print(f"wrote {target} with a new SECRET_KEY and FIELD_ENCRYPTION_KEYS", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".env"))
