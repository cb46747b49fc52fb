"""Check that docker-compose.yml parses and stays in sync with config/settings.py.

No Docker engine runs in CI, so this is what keeps the compose file honest:
every variable the settings read is passed to the app containers, nothing is
passed that the settings ignore, and the app services share one image.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Read by the settings but deliberately not set in compose (local-only knobs).
LOCAL_ONLY = {"CHO_VAR_DIR", "CELERY_TASK_ALWAYS_EAGER", "DEMO_PASSWORD"}
# Used by compose itself, not by the settings.
COMPOSE_ONLY = {"PORT"}


def main() -> int:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    errors: list[str] = []
    services = compose.get("services", {})
    for name in ("postgres", "redis", "web", "worker", "beat"):
        if name not in services:
            errors.append(f"missing service {name}")
    for name in ("postgres", "redis", "web", "worker"):
        if "healthcheck" not in services.get(name, {}):
            errors.append(f"service {name} has no healthcheck")
    app = ["web", "worker", "beat", "migrate"]
    images = {services[s].get("image") for s in app if s in services}
    if len(images) != 1:
        errors.append(f"app services must share one image, got {images}")
    settings_src = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', settings_src))
    for s in app:
        env = set((services.get(s, {}).get("environment") or {}).keys())
        for missing in sorted(read - env - LOCAL_ONLY):
            errors.append(f"{s}: settings read {missing} but compose does not set it")
        for extra in sorted(env - read - COMPOSE_ONLY):
            errors.append(f"{s}: compose sets {extra} but the settings never read it")
    for error in errors:
        print("docker-compose.yml:", error)
    if not errors:
        print(f"docker-compose.yml OK: {len(services)} services, {len(read)} settings variables in sync")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
