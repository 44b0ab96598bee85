#!/usr/bin/env bash
# One setup for a fresh Debian machine, used by the README's commands and by .ci/run:
# the Debian packages Menwei and its tests need, then the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

# socat: pseudo-terminal pairs for serial tests and the demo's SAM reader.
# mosquitto: the upstream broker in tests and benchmarks.
# libusb-1.0-0: node-hid needs it even to list devices. udev: SerialPort.list().
# chromium: the console's browser tests (playwright-core drives it); fonts-noto-cjk so
# its screenshots show Chinese text rather than empty boxes.
APT_PACKAGES=(socat mosquitto mosquitto-clients libusb-1.0-0 udev chromium fonts-noto-cjk)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# better-sqlite3 compiles from source on Node 20 (about 2 minutes the first time).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
