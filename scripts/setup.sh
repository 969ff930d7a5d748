#!/usr/bin/env bash
# Installs whatever is missing on a Debian/Ubuntu machine and builds nanscope. Idempotent:
# a second run only checks. Used by both README commands and by .ci/run.
#   system: libtorch (PyTorch's C++ library), OpenBLAS, the official Fashion-MNIST files,
#           a C++ toolchain; for tests: Debian's python3-torch (the reference oracle),
#           torchvision/PIL (resize oracle), Chromium (dashboard tests, PNG export), a CJK font
#           (fonts-noto-cjk: without it Chinese explanations render as boxes in PNGs); redis-server
#           for sweeps queued across machines (nanscope sweep --queue / nanscope worker) and their tests
#   node:   Node.js >= 20 and npm, the npm dependencies, the native addon, the TypeScript
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

PKGS=(libtorch-dev libopenblas0-openmp dataset-fashion-mnist build-essential python3 make g++
      python3-torch python3-torchvision python3-pil python3-numpy chromium ca-certificates redis-server
      fonts-noto-cjk)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' || echo 0; }
if [ "$(node_major)" -lt 20 ]; then
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian's libblas alternative defaults to the reference BLAS; OpenBLAS makes the Linear
# layers 1.5-2x faster. Select it where the alternative exists.
alt=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
if [ -e "$alt" ] && command -v update-alternatives >/dev/null; then
  $SUDO update-alternatives --set libblas.so.3-x86_64-linux-gnu "$alt" >/dev/null 2>&1 || true
fi

# Node >= 20: Debian 12 and Ubuntu 24.04 ship 18, so take Node 20 from the npm registry.
if [ "$(node_major)" -lt 20 ]; then
  echo "setup: Node $(node -v 2>/dev/null || echo none) is too old; installing Node 20 from the npm registry into .cache/node"
  npm install --prefix .cache/node --no-save node@20 >/dev/null
  export PATH="$PWD/.cache/node/node_modules/node/bin:$PATH"
fi

# Native modules build against the running Node's own headers, never downloaded ones.
nodedir="$(dirname "$(dirname "$(command -v node)")")"
[ -e "$nodedir/include/node/node_api.h" ] || nodedir=/usr
export npm_config_nodedir="$nodedir"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm install, not npm ci: ci refuses a lock that lists an optional, Windows-only package
  # this registry does not serve (vite's napi-windows-process-start-time); install skips it.
  echo "setup: npm install"
  npm install --no-audit --no-fund
fi
npm run --silent build
echo "setup: ready ($(node -v), $(node -p "require('./native/build/Release/nanscope_native.node').version()" 2>/dev/null) libtorch)"
