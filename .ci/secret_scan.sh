#!/bin/sh
# CI step: no secret in the repository (detect-secrets against the audited .secrets.baseline).
# Needs only the venv (detect-secrets is in requirements-dev.txt); .ci/secret_scan.py says more.
set -eu
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" .ci/secret_scan.py
