#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for filtro, then the workspace's packages and build.
#   system: chromium (headless WebGPU tests; its SwiftShader also serves Dawn in Node) and libvulkan1
#   node:   pnpm 10, then the locked packages
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || [ -n "${CHROME_PATH:-}" ] || missing+=(chromium)
ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' || missing+=(libvulkan1)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: ${missing[*]} missing; install them (apt-get install ${missing[*]}) for WebGPU in Node and the browser tests" >&2
  fi
fi

command -v pnpm >/dev/null 2>&1 || npm install -g pnpm@10
pnpm install --frozen-lockfile
pnpm build
