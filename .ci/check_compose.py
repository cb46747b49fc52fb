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
# Read by the settings only to refuse them with a pointer to their replacement.
RETIRED = {"NUM_PROXIES"}


def _check_proxy(services: dict) -> list[str]:
    """The proxy mounts deploy/nginx.conf, which sends each provider's webhook
    path to the webhooks service (config.asgi) and the rest to web."""
    sys.path.insert(0, str(ROOT))
    from payments.bank_credits.providers import PROVIDERS  # needs the path above; no Django set-up

    errors: list[str] = []
    mounts = " ".join(services.get("proxy", {}).get("volumes") or [])
    if "./deploy/nginx.conf:" not in mounts:
        errors.append("proxy does not mount ./deploy/nginx.conf")
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    for path in (f"/api/v1/webhooks/{source}/" for source in PROVIDERS):
        if not re.search(rf"location = {re.escape(path)} {{ proxy_pass http://cho40_webhooks; }}", conf):
            errors.append(f"deploy/nginx.conf does not send {path} to the webhooks service")
    if "server webhooks:8001" not in conf or "server web:8000" not in conf:
        errors.append("deploy/nginx.conf upstreams do not match the web and webhooks services")
    if "config.asgi:application" not in " ".join(services.get("webhooks", {}).get("command") or []):
        errors.append("webhooks does not serve config.asgi:application")
    return errors


def main() -> int:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    errors: list[str] = []
    services = compose.get("services", {})
    for name in ("postgres", "redis", "web", "webhooks", "worker", "beat", "proxy"):
        if name not in services:
            errors.append(f"missing service {name}")
    for name in ("postgres", "redis", "web", "webhooks", "worker", "proxy"):
        if "healthcheck" not in services.get(name, {}):
            errors.append(f"service {name} has no healthcheck")
    errors += _check_proxy(services)
    app = ["web", "webhooks", "worker", "beat", "migrate"]
    images = {services[s].get("image") for s in app if s in services}
    if len(images) != 1:
        errors.append(f"app services must share one image, got {images}")
    settings_src = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', settings_src))
    for s in app:
        env = set((services.get(s, {}).get("environment") or {}).keys())
        for missing in sorted(read - env - LOCAL_ONLY - RETIRED):
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
