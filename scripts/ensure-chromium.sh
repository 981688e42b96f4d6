#!/usr/bin/env bash
# Make sure the headless browser used by tests/browser is present: Debian's chromium package at
# /usr/bin/chromium. Idempotent (does nothing when it is there) and never fails the build: when it
# cannot install (not root, no apt-get, package registry unreachable) it says why, and the browser
# tests skip with that reason instead of failing.
set -u

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "ensure-chromium: $CHROMIUM present ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "ensure-chromium: $CHROMIUM missing and not running as root: install the 'chromium' package to run the browser tests"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: $CHROMIUM missing and apt-get is not available: install Chromium to run the browser tests"
    exit 0
fi

echo "ensure-chromium: installing Debian package chromium"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq; then
    echo "ensure-chromium: apt-get update failed (package registry unreachable?): browser tests will be skipped"
    exit 0
fi
if ! apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
    echo "ensure-chromium: apt-get install chromium failed: browser tests will be skipped"
    exit 0
fi
echo "ensure-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
exit 0
