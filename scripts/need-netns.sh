#!/usr/bin/env bash
# need-netns.sh makes sure the fault-injection suite (make test-faults) can
# build its lab: it runs as root and needs `ip` from iproute2 with network
# namespace support. As root on a Debian-like system it installs iproute2
# when `ip` is missing (CI runs as root on a fresh machine); otherwise it
# says what is missing and fails, rather than let every test skip.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "need-netns: the fault-injection suite creates network namespaces and must run as root: sudo make test-faults" >&2
	exit 1
fi
if ! command -v ip >/dev/null 2>&1; then
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "need-netns: 'ip' (iproute2) not found and apt-get is missing; install your distribution's iproute2 package and rerun" >&2
		exit 1
	fi
	echo "need-netns: installing iproute2 with apt-get" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq </dev/null
	apt-get install -y -qq --no-install-recommends iproute2 </dev/null >/dev/null
fi
probe=pact-need-netns-$$
if ! ip netns add "$probe" 2>/dev/null; then
	echo "need-netns: 'ip netns add' failed: this kernel or container does not allow network namespaces, which the fault-injection suite needs" >&2
	exit 1
fi
ip netns del "$probe"
