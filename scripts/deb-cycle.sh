#!/usr/bin/env bash
# deb-cycle.sh FIRST.deb UPGRADE.deb WORKDIR installs, upgrades, removes and
# purges the pact package with the real dpkg and maintainer scripts, in a
# throwaway copy of this machine's root: an overlay whose writes go to a
# tmpfs, entered with chroot. check-deb.sh runs it inside
# `unshare --mount`, so every mount here disappears with the namespace and
# this machine's own root, users and dpkg database are never touched.
#
# systemctl and deb-systemd-invoke are stubs that record their arguments
# (there is no systemd to talk to in the copy); deb-systemd-helper is the
# real one, recorded on its way through, so masks and enablement links
# really change. A directory /run/systemd/system tells the scripts that
# systemd runs; the last round removes it, as in a chroot or image build.
set -euo pipefail

if [ $# -ne 3 ]; then
	echo "usage: deb-cycle.sh FIRST.deb UPGRADE.deb WORKDIR (run by check-deb.sh)" >&2
	exit 2
fi
first=$1 upgrade=$2 work=$3
say() { echo "deb-cycle: $*"; }
fail() {
	echo "deb-cycle: FAIL: $*" >&2
	exit 1
}

# Refuse to run outside a private mount namespace: the mounts below would
# otherwise outlive this script.
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ]; then
	fail "run me inside 'unshare --mount --propagation private'"
fi

mkdir -p "$work"
mount -t tmpfs tmpfs "$work"
mkdir -p "$work/upper" "$work/w" "$work/root"
if ! mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/w" "$work/root" 2>"$work/err"; then
	say "SKIP: no overlayfs here ($(cat "$work/err")); the install cycle did not run"
	exit 0
fi
R=$work/root
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount -t tmpfs tmpfs "$R/run"
mount -t tmpfs tmpfs "$R/tmp"
cp "$first" "$R/tmp/first.deb"
cp "$upgrade" "$R/tmp/upgrade.deb"

in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"; }

if in_root getent passwd pact >/dev/null || in_root dpkg -s pact >/dev/null 2>&1; then
	fail "this machine already has a pact user or package; the cycle assumes neither"
fi
in_root sh -c 'getent group gpio >/dev/null' && had_gpio=1 || had_gpio=
have_dsh=
[ -x "$R/usr/bin/deb-systemd-helper" ] && have_dsh=1

log=/tmp/calls.log
mkdir -p "$R/usr/local/sbin"
for cmd in systemctl deb-systemd-invoke; do
	printf '#!/bin/sh\necho "%s $*" >>%s\nexit 0\n' "$cmd" "$log" >"$R/usr/local/sbin/$cmd"
done
if [ -n "$have_dsh" ]; then
	printf '#!/bin/sh\necho "deb-systemd-helper $*" >>%s\nexec /usr/bin/deb-systemd-helper "$@"\n' "$log" >"$R/usr/local/sbin/deb-systemd-helper"
fi
chmod 0755 "$R"/usr/local/sbin/*
mkdir -p "$R/run/systemd/system"

# The calls since the last look. deb-systemd-helper mask runs a bare
# `systemctl daemon-reload` of its own; the scripts always say --system,
# so that line is the helper's and left out.
calls() {
	grep -vx 'systemctl daemon-reload' "$R$log" 2>/dev/null || true
	: >"$R$log"
}
expect_calls() { # what, want (one call a line)
	local got
	got=$(calls)
	[ "$got" = "$2" ] || fail "$1: maintainer scripts called
$got
want
$2"
}
st() { in_root stat -c '%U:%G %a' "$1"; }
enabled_link=/etc/systemd/system/multi-user.target.wants/pact.service

# --- first install ----------------------------------------------------------
out=$(in_root dpkg -i /tmp/first.deb 2>&1) || fail "dpkg -i failed:
$out"
grep -q 'systemctl enable --now pact' <<<"$out" || fail "first install does not tell how to start pact:
$out"
in_root /usr/bin/pact version >/dev/null || fail "/usr/bin/pact version failed"
in_root getent passwd pact >/dev/null || fail "no pact user"
groups=" $(in_root id -nG pact) "
for g in pact gpio i2c; do
	[[ $groups == *" $g "* ]] || fail "pact is not in group $g (groups:$groups)"
done
[ "$(st /var/lib/pact)" = "pact:pact 700" ] || fail "/var/lib/pact is $(st /var/lib/pact), want pact:pact 700"
for f in /etc/pact/pact.yaml /etc/pact/cluster.yaml; do
	[ "$(st "$f")" = "root:pact 640" ] || fail "$f is $(st "$f"), want root:pact 640"
done
[ -f "$R/lib/systemd/system/pact.service" ] || fail "unit not installed"
[ ! -e "$R$enabled_link" ] || fail "first install enabled pact; it must wait for the administrator"
want="systemctl --system daemon-reload"
[ -n "$have_dsh" ] && want="deb-systemd-helper unmask pact.service
deb-systemd-helper update-state pact.service
$want"
expect_calls "first install" "$want"
say "install ok: user, groups, /var/lib/pact, config permissions; not enabled, not started"

# --- the administrator edits and enables it ---------------------------------
echo "# edited by the administrator" >>"$R/etc/pact/pact.yaml"
in_root /bin/systemctl --root=/ enable pact.service >/dev/null 2>&1 || fail "systemctl --root=/ enable pact failed"
[ -L "$R$enabled_link" ] || fail "systemctl enable made no $enabled_link"
calls >/dev/null

# --- upgrade ----------------------------------------------------------------
out=$(in_root dpkg -i --force-confold /tmp/upgrade.deb 2>&1) || fail "upgrade failed:
$out"
! grep -q 'systemctl enable --now pact' <<<"$out" || fail "an upgrade repeats the first-install message"
tail -n1 "$R/etc/pact/pact.yaml" | grep -q 'edited by the administrator' || fail "the upgrade lost the edit to /etc/pact/pact.yaml"
[ -L "$R$enabled_link" ] || fail "the upgrade disabled pact"
[ "$(st /etc/pact/pact.yaml)" = "root:pact 640" ] || fail "after the upgrade /etc/pact/pact.yaml is $(st /etc/pact/pact.yaml)"
want="systemctl --system daemon-reload
deb-systemd-invoke try-restart pact.service"
[ -n "$have_dsh" ] && want="deb-systemd-helper unmask pact.service
deb-systemd-helper update-state pact.service
$want"
expect_calls "upgrade" "$want"
say "upgrade ok: edits kept, still enabled, restarted only if running (try-restart)"

# --- remove -----------------------------------------------------------------
out=$(in_root dpkg -r pact 2>&1) || fail "dpkg -r failed:
$out"
[ ! -e "$R/lib/systemd/system/pact.service" ] || fail "remove left the unit"
[ ! -e "$R/usr/bin/pact" ] || fail "remove left /usr/bin/pact"
[ -f "$R/etc/pact/pact.yaml" ] || fail "remove deleted the conffiles (only purge may)"
[ -d "$R/var/lib/pact" ] || fail "remove deleted /var/lib/pact (only purge may)"
in_root getent passwd pact >/dev/null || fail "remove deleted the pact user (only purge may)"
want="deb-systemd-invoke stop pact.service
systemctl --system daemon-reload"
if [ -n "$have_dsh" ]; then
	want="$want
deb-systemd-helper mask pact.service"
	[ "$(readlink "$R/etc/systemd/system/pact.service")" = /dev/null ] || fail "remove did not mask pact.service"
fi
expect_calls "remove" "$want"
say "remove ok: stopped, unit and binary gone, configuration, state and user kept"

# --- purge ------------------------------------------------------------------
echo "secret" >"$R/var/lib/pact/identity.key"
out=$(in_root dpkg -P pact 2>&1) || fail "dpkg -P failed:
$out"
[ ! -e "$R/var/lib/pact" ] || fail "purge left /var/lib/pact"
[ ! -e "$R/etc/pact" ] || fail "purge left /etc/pact: $(ls -A "$R/etc/pact")"
! in_root getent passwd pact >/dev/null || fail "purge left the pact user"
! in_root getent group pact >/dev/null || fail "purge left the pact group"
in_root getent group gpio >/dev/null || fail "purge deleted the gpio group, which other software may use"
if [ -e "$R$enabled_link" ] || [ -L "$R$enabled_link" ]; then
	fail "purge left $enabled_link"
fi
[ ! -L "$R/etc/systemd/system/pact.service" ] || fail "purge left pact.service masked"
if [ -n "$have_dsh" ]; then
	expect_calls "purge" "deb-systemd-helper purge pact.service
deb-systemd-helper unmask pact.service"
else
	expect_calls "purge" ""
fi
say "purge ok: state, configuration, user, group and links gone${had_gpio:+ (gpio group pre-existed)}"

# --- without a running systemd (chroot, image build) ------------------------
rm -rf "$R/run/systemd/system"
out=$(in_root dpkg -i /tmp/first.deb 2>&1) || fail "install without systemd failed:
$out"
out=$(in_root dpkg -i --force-confold /tmp/upgrade.deb 2>&1) || fail "upgrade without systemd failed:
$out"
out=$(in_root dpkg -P pact 2>&1) || fail "purge without systemd failed:
$out"
if grep -Ev '^deb-systemd-helper ' <<<"$(calls)" | grep -q .; then
	fail "without a running systemd the scripts still called systemctl or deb-systemd-invoke"
fi
say "no-systemd ok: install, upgrade and purge call neither systemctl nor deb-systemd-invoke"
