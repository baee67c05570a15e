#!/usr/bin/env bash
# check-deb.sh checks the Debian package (`make deb-check`, and CI):
#   1. scripts/deb-version.sh maps describe strings to valid versions;
#   2. the arm64 package: its architecture, an aarch64 static binary, the
#      unit, the conffiles, the maintainer scripts (sh -n, shellcheck);
#   3. the unit passes `systemd-analyze verify`, and its
#      `systemd-analyze security` exposure stays at or below MAX_EXPOSURE;
#   4. `pact hw halt` (the unit's ExecStopPost=) exits 0 on simulated
#      hardware, so stopping a sim node never fails the unit;
#   5. install, upgrade, remove and purge of the host's package with the
#      real dpkg, in a throwaway copy of this machine's root (an overlay in
#      a private mount namespace, scripts/deb-cycle.sh): this machine's own
#      root is never touched. Needs root and overlayfs; skipped otherwise.
# As root with apt-get it installs what it lacks (systemd for
# systemd-analyze), as CI runs it; otherwise it says what to install.
set -euo pipefail

cd "$(dirname "$0")/.."
MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}
GO=${GO:-go}
NFPM=${NFPM:-bin/tools/nfpm-v2.45.2/nfpm}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "check-deb: FAIL: $*" >&2
	exit 1
}
say() { echo "check-deb: $*"; }

# --- 1. versions ------------------------------------------------------------
while read -r describe want; do
	got=$(PACT_DEB_DATE=20250102030405 scripts/deb-version.sh "$describe") || fail "deb-version.sh $describe failed"
	[ "$got" = "$want" ] || fail "deb-version.sh $describe = $got, want $want"
done <<'TABLE'
v1.2.3 1.2.3
1.2.3 1.2.3
v1.2.3-dirty 1.2.3+dirty
v1.2.3-rc.1 1.2.3~rc.1
v1.2.3-5-g9c8c556 1.2.3+git5.9c8c556
v1.2.3-5-g9c8c556-dirty 1.2.3+git5.9c8c556.dirty
9c8c556 0.0.0~git20250102030405.9c8c556
9c8c556-dirty 0.0.0~git20250102030405.9c8c556.dirty
dev 0.0.0~dev
TABLE
for bad in "" "release one" v1.2_3; do
	if scripts/deb-version.sh "$bad" >/dev/null 2>&1; then
		fail "deb-version.sh accepted '$bad'"
	fi
done
# Each line sorts below the next, as dpkg compares versions.
prev=
for v in 0.0.0~dev 0.0.0~git20250101000000.aaaaaaa 0.0.0~git20250102000000.0000000 \
	0.0.0 1.2.3~rc.1 1.2.3 1.2.3+dirty 1.2.3+git1.fffffff 1.2.3+git2.0000000 1.2.4; do
	if [ -n "$prev" ] && ! dpkg --compare-versions "$prev" lt "$v"; then
		fail "dpkg does not sort $prev below $v"
	fi
	prev=$v
done
say "versions ok"

# --- 2. the arm64 package ---------------------------------------------------
make --no-print-directory deb GOOS=linux GOARCH=arm64 DIST="$tmp/dist" >/dev/null
hostarch=$($GO env GOHOSTARCH)
if [ "$hostarch" != arm64 ]; then
	make --no-print-directory deb GOOS=linux GOARCH="$hostarch" DIST="$tmp/dist" >/dev/null
fi
arm64_deb=$(ls "$tmp"/dist/pact_*_arm64.deb)
host_deb=
for f in "$tmp"/dist/pact_*_"$(dpkg --print-architecture)".deb; do
	[ -f "$f" ] && host_deb=$f
done

[ "$(dpkg-deb -f "$arm64_deb" Package)" = pact ] || fail "$arm64_deb: Package is not pact"
[ "$(dpkg-deb -f "$arm64_deb" Architecture)" = arm64 ] || fail "$arm64_deb: Architecture is not arm64"
[ -z "$(dpkg-deb -f "$arm64_deb" Depends)" ] || fail "$arm64_deb: the static binary should need no Depends"

contents=$(dpkg-deb -c "$arm64_deb" | awk '{print $1, $2, $NF}')
for want in \
	"-rwxr-xr-x root/root ./usr/bin/pact" \
	"-rw-r--r-- root/root ./lib/systemd/system/pact.service" \
	"-rw-r--r-- root/root ./etc/pact/pact.yaml" \
	"-rw-r--r-- root/root ./etc/pact/cluster.yaml" \
	"-rw-r--r-- root/root ./usr/share/doc/pact/copyright" \
	"-rw-r--r-- root/root ./usr/share/doc/pact/changelog.gz"; do
	grep -qxF -- "$want" <<<"$contents" || fail "$arm64_deb lacks '$want'; it has:
$contents"
done

ctrl=$tmp/control root=$tmp/root
dpkg-deb -e "$arm64_deb" "$ctrl"
dpkg-deb -x "$arm64_deb" "$root"
printf '/etc/pact/cluster.yaml\n/etc/pact/pact.yaml\n' >"$tmp/want-conffiles"
sort "$ctrl/conffiles" | diff -u "$tmp/want-conffiles" - || fail "conffiles differ from the two example files"
for s in postinst prerm postrm; do
	[ -x "$ctrl/$s" ] || fail "maintainer script $s missing or not executable"
	cmp -s "$ctrl/$s" "packaging/scripts/$s" || fail "packaged $s differs from packaging/scripts/$s"
	sh -n "$ctrl/$s" || fail "$s: sh -n failed"
done
if command -v shellcheck >/dev/null 2>&1; then
	shellcheck packaging/scripts/* scripts/*.sh || fail "shellcheck"
else
	say "shellcheck not installed: skipping it (apt-get install shellcheck)"
fi
cmp -s "$root/lib/systemd/system/pact.service" systemd/pact.service || fail "packaged unit differs from systemd/pact.service"
diff -u configs/pact.yaml "$root/etc/pact/pact.yaml" >/dev/null || fail "packaged pact.yaml differs from configs/pact.yaml"

# ELF header: class 2 (64-bit), machine 0xb7 (aarch64); a static Go binary
# names no dynamic loader.
bin=$root/usr/bin/pact
read -r magic class <<<"$(od -An -tx1 -N5 "$bin" | awk '{print $1$2$3$4, $5}')"
machine=$(od -An -tx1 -j18 -N2 "$bin" | tr -d ' \n')
[ "$magic $class $machine" = "7f454c46 02 b700" ] ||
	fail "/usr/bin/pact in $arm64_deb is not a 64-bit aarch64 ELF (magic $magic class $class machine $machine)"
if grep -qa 'ld-linux' "$bin"; then
	fail "/usr/bin/pact in $arm64_deb names a dynamic loader: not static"
fi
say "arm64 package ok: $(basename "$arm64_deb")"

# --- 3. the unit ------------------------------------------------------------
if ! command -v systemd-analyze >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "installing systemd for systemd-analyze (it is not started)"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq </dev/null
		apt-get install -y -qq --no-install-recommends systemd </dev/null >/dev/null
	else
		fail "systemd-analyze not found: install systemd (sudo apt-get install systemd) and rerun"
	fi
fi
# verify wants ExecStart='s binary to exist: check a copy of the unit that
# points at the binary this machine can run.
$GO build -o "$tmp/pact" ./cmd/pact
sed "s#/usr/bin/pact#$tmp/pact#g" systemd/pact.service >"$tmp/pact.service"
out=$(systemd-analyze verify --man=no "$tmp/pact.service" 2>&1) || fail "systemd-analyze verify:
$out"
[ -z "$out" ] || fail "systemd-analyze verify warns:
$out"
if sec=$(systemd-analyze security --offline=true --no-pager "$tmp/pact.service" 2>&1); then
	exposure=$(sed -n 's/.*Overall exposure level for pact.service: \([0-9.]*\).*/\1/p' <<<"$sec")
	[ -n "$exposure" ] || fail "no exposure level in systemd-analyze security's output:
$sec"
	awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }' ||
		fail "systemd-analyze security: exposure $exposure is above $MAX_EXPOSURE; see which option was loosened:
$sec"
	say "unit ok: verify clean, exposure $exposure (at most $MAX_EXPOSURE)"
else
	say "unit ok: verify clean; this systemd-analyze has no 'security --offline' (systemd < 252), exposure not checked"
fi

# --- 4. pact hw halt on simulated hardware ----------------------------------
"$tmp/pact" testnet --nodes 1 --out "$tmp/tn" >/dev/null
grep -q 'driver: sim' "$tmp/tn/node-1/pact.yaml" || fail "pact testnet no longer writes sim hardware"
out=$("$tmp/pact" hw halt --config "$tmp/tn/node-1/pact.yaml" 2>&1) || fail "pact hw halt on sim hardware failed, which would fail the unit at every stop:
$out"
say "ExecStopPost ok: pact hw halt exits 0 on sim hardware"

# --- 5. install, upgrade, remove, purge in a throwaway root -----------------
if [ -z "$host_deb" ]; then
	say "SKIP install cycle: no package for this machine's architecture ($(dpkg --print-architecture))"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	say "SKIP install cycle: needs root (for a private mount namespace and an overlay)"
	exit 0
fi
# The upgrade: the same binary as a newer version.
v1=$(dpkg-deb -f "$host_deb" Version)
v2=$v1+check1
dpkg-deb -x "$host_deb" "$tmp/hostroot"
PACT_DEB_VERSION=$v2 scripts/build-deb.sh "$NFPM" "$tmp/hostroot/usr/bin/pact" linux "$hostarch" "$($GO env GOARM)" "$v2" check "$tmp/dist2" >/dev/null
upgrade_deb=$(ls "$tmp"/dist2/pact_*.deb)
if ! unshare --mount --propagation private true 2>/dev/null; then
	say "SKIP install cycle: cannot make a private mount namespace here (unshare --mount)"
	exit 0
fi
unshare --mount --propagation private scripts/deb-cycle.sh "$host_deb" "$upgrade_deb" "$tmp/cycle"
