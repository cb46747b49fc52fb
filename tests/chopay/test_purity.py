"""chopay imports no Django and nothing of the project, so that it can be
published on its own: checked in a clean interpreter, where nothing the test
runner already imported can hide an import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import chopay

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = ("config", "market", "vendors", "payments", "accounts", "tests")

# Import every module of the package, then use each once, so that an import
# made lazily inside a function is caught too.
SCRIPT = """
import importlib, json, pkgutil, sys
import chopay
names = sorted(m.name for m in pkgutil.walk_packages(chopay.__path__, "chopay."))
for name in names:
    importlib.import_module(name)
from chopay import banks, codes, identifiers, payment_text, qr_images, text, ussd
payload = payment_text.static_payload(bank_bin="970436", account_number="0011001234567", merchant_code="12345674")
qr_images.render_png(payload, size=200)
qr_images.render_svg(payload)
banks.bank_by_bin("970436")
codes.confirmation_code(bytes(32), counter=1, amount=20_000)
identifiers.normalize_vn_mobile("0912 345 678")
payment_text.merchant_code_candidates(text.fold_ascii("Chợ 4.0 12345674"))
limits = ussd.AmountLimits(min_amount=1_000, max_amount=10_000_000)
ussd.screen(ussd.walk("", find_vendor=lambda code: None, limits=limits))
print(json.dumps({"modules": names, "loaded": sorted(sys.modules)}))
"""


def test_chopay_imports_no_django_and_nothing_of_the_project() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTEST", "COV_"))}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    # A project import fails outright here (no settings): show why.
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)

    package = Path(chopay.__file__).parent
    expected = {
        ".".join(("chopay", *p.relative_to(package).with_suffix("").parts)).removesuffix(".__init__")
        for p in package.rglob("*.py")
    } - {"chopay"}
    assert set(report["modules"]) == expected  # every module was imported
    tops = {name.split(".")[0] for name in report["loaded"]}
    assert "django" not in tops
    assert "rest_framework" not in tops
    assert not tops & set(PROJECT_PACKAGES), sorted(tops & set(PROJECT_PACKAGES))
