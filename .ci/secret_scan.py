"""Fail on any secret-like string in the repository that is not in the audited
baseline `.secrets.baseline` (detect-secrets, pinned in requirements-dev.txt).

    .venv/bin/python .ci/secret_scan.py        # or: make secrets, .ci/secret_scan.sh

Scans the files git tracks with the plugins and filters the baseline records,
and compares findings by file, type and hashed value — not by line number, so
editing around a known test key does not fail the scan. Fails (exit 1) on:

- a finding not in the baseline (a new secret, or a new test value: then audit
  it, docs/security.md "No secret in the repository", and add it);
- a baseline entry not audited as "not a secret" (``is_secret`` missing or true).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from detect_secrets.core import baseline
from detect_secrets.core.scan import get_files_to_scan
from detect_secrets.core.secrets_collection import SecretsCollection

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ".secrets.baseline"


def main() -> int:
    import os

    os.chdir(ROOT)
    known = baseline.load(baseline.load_from_file(BASELINE), BASELINE)  # also applies its plugin settings
    found = SecretsCollection(root=str(ROOT))
    found.scan_files(*get_files_to_scan(".", should_scan_all_files=False, root=str(ROOT)))

    def key(name: str, secret: Any) -> tuple[str, str, str]:
        return (os.path.normpath(name), secret.type, secret.secret_hash)

    known_keys = {key(name, secret) for name, secret in known}
    new = [(name, secret) for name, secret in found if key(name, secret) not in known_keys]
    unaudited = [(name, s) for name, s in known if s.is_secret is not False]
    for name, secret in new:
        print(f"NEW {name}:{secret.line_number}: {secret.type}")
    for name, secret in unaudited:
        print(f"NOT AUDITED {name}:{secret.line_number}: {secret.type} (is_secret={secret.is_secret})")
    scanned = sum(1 for _ in found)
    if new or unaudited:
        print(
            f"secret scan: {len(new)} new finding(s), {len(unaudited)} unaudited; a real secret must go "
            "(and be rotated); a test value is audited into .secrets.baseline (docs/security.md)."
        )
        return 1
    print(f"secret scan: {scanned} findings, all in the audited baseline ({BASELINE}); nothing new.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
