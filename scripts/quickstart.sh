#!/usr/bin/env bash
# The quick start on a fresh Debian 12 machine with Node.js 20: the Debian packages the native addons need, the npm
# packages (npm ci builds the addons and the project), then the main job on the bundled defaults (scripts/demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/debian-packages.sh
npm ci --no-audit --no-fund
bash scripts/demo.sh
