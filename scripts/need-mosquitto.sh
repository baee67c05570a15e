#!/usr/bin/env bash
# need-mosquitto.sh makes sure the mosquitto broker and its command-line
# clients are installed, because the MQTT tests (agent/report, the end-to-end
# tests of cmd/pact) start their own mosquitto on 127.0.0.1 and check what a
# real broker does with retained messages, wills and QoS 1 bursts, and the
# README shows mosquitto_sub watching a cluster.
# As root on a Debian-like system it installs mosquitto itself (CI runs as
# root on a fresh machine, with no stdin); otherwise it says what to install
# and fails. It never starts the system's mosquitto service: each test runs
# its own broker on a free port and stops it.
set -euo pipefail

# Debian installs the broker in /usr/sbin, which a non-root PATH may lack.
if { command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; } && command -v mosquitto_sub >/dev/null 2>&1; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "need-mosquitto: mosquitto or mosquitto_sub not found; install them with 'sudo apt-get install -y mosquitto mosquitto-clients' and rerun (the MQTT tests skip without them)" >&2
	exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "need-mosquitto: mosquitto not found and apt-get is missing; install your distribution's mosquitto package and rerun" >&2
	exit 1
fi

echo "need-mosquitto: installing mosquitto and mosquitto-clients with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
# The package would start the system's mosquitto service, which then holds
# port 1883 (where `pact demo` puts its own broker). A policy-rc.d that
# refuses every start keeps it stopped during the install; it is removed
# again, and one that was already there is left alone.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get install -y -qq --no-install-recommends mosquitto mosquitto-clients </dev/null >/dev/null

if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
	echo "need-mosquitto: mosquitto installed but the binary is not in PATH or /usr/sbin; check the package" >&2
	exit 1
fi
