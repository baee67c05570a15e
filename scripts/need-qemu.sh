#!/usr/bin/env bash
# need-qemu.sh makes sure qemu-aarch64-static is on PATH, because `make test`
# runs the linux/arm64 test binaries under qemu-user. As root on a Debian-like
# system it installs qemu-user-static itself (CI runs as root on a fresh
# machine, with no stdin); otherwise it says what to install and fails.
set -euo pipefail

if command -v qemu-aarch64-static >/dev/null 2>&1; then
	exit 0
fi

if [ "$(uname -s)" != Linux ]; then
	echo "need-qemu: qemu-aarch64-static (qemu-user) needs a Linux host; run 'make test-race' for the native tests only" >&2
	exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "need-qemu: qemu-aarch64-static not found; install it with 'sudo apt-get install -y qemu-user-static' and rerun" >&2
	exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "need-qemu: qemu-aarch64-static not found and apt-get is missing; install your distribution's qemu-user-static package and rerun" >&2
	exit 1
fi

echo "need-qemu: installing qemu-user-static with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
apt-get install -y -qq --no-install-recommends qemu-user-static </dev/null >/dev/null

if ! command -v qemu-aarch64-static >/dev/null 2>&1; then
	echo "need-qemu: qemu-user-static installed but qemu-aarch64-static is still not on PATH; check the package and PATH" >&2
	exit 1
fi
