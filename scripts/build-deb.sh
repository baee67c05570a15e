#!/usr/bin/env bash
# build-deb.sh packs a binary that `make build` made into
# dist/pact_<version>_<debarch>.deb with nfpm (packaging/nfpm.yaml).
# `make deb` runs it; run that instead:
#
#   make deb                      -> the host's architecture (amd64 here)
#   GOARCH=arm64 make deb         -> arm64: Pi 3/4/5 with a 64-bit OS
#   GOARCH=arm GOARM=7 make deb   -> armhf: Pi 2/3/4/5 with a 32-bit OS
#   GOARCH=arm GOARM=6 make deb   -> armhf too, named ..._armhf-armv6.deb:
#                                    also Pi Zero/Zero W/1 (Raspberry Pi OS)
#
# Usage: build-deb.sh NFPM BIN GOOS GOARCH GOARM VERSION COMMIT OUTDIR
set -euo pipefail

if [ $# -ne 8 ]; then
	echo "usage: build-deb.sh NFPM BIN GOOS GOARCH GOARM VERSION COMMIT OUTDIR (run 'make deb')" >&2
	exit 2
fi
nfpm=$1 bin=$2 goos=$3 goarch=$4 goarm=$5 describe=$6 commit=$7 outdir=$8

cd "$(dirname "$0")/.."

if [ "$goos" != linux ]; then
	echo "build-deb: a .deb is for Linux, but GOOS is $goos; run 'GOOS=linux make deb' or set GOARCH" >&2
	exit 1
fi
[ -x "$nfpm" ] || { echo "build-deb: $nfpm is missing; 'make deb' installs it" >&2; exit 1; }
[ -f "$bin" ] || { echo "build-deb: $bin is missing; 'make deb' builds it" >&2; exit 1; }

# Debian's armhf is ARMv7 with VFP; Raspberry Pi OS's 32-bit armhf is
# ARMv6 with VFP, so that it also runs on a Pi Zero and a Pi 1. Both
# builds are armhf to dpkg. The ARMv7 one takes the plain name, as it
# matches Debian's definition; the ARMv6 one, which runs on every Pi,
# keeps its own name so that the two never overwrite each other.
suffix=
case "$goarch" in
amd64 | arm64 | riscv64) debarch=$goarch ;;
386) debarch=i386 ;;
arm)
	case "$goarm" in
	7) debarch=armhf ;;
	6) debarch=armhf suffix=-armv6 ;;
	*)
		echo "build-deb: GOARM=$goarm has no Debian architecture here; use GOARM=7 (Pi 2 and later) or GOARM=6 (every Pi, Raspberry Pi OS)" >&2
		exit 1
		;;
	esac
	;;
*)
	echo "build-deb: no Debian architecture for GOARCH=$goarch; use arm64, arm (GOARM=7 or 6) or amd64" >&2
	exit 1
	;;
esac

# PACT_DEB_VERSION overrides the mapping (check-deb.sh builds an upgrade).
version=${PACT_DEB_VERSION:-$(scripts/deb-version.sh "$describe")}

# File times and the changelog's date are the commit's, so that one commit
# packs the same way twice.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
maintainer=$(sed -n 's/^maintainer: //p' packaging/nfpm.yaml)
{
	echo "pact ($version) unstable; urgency=medium"
	echo
	echo "  * Built by 'make deb' from $describe (commit $commit)."
	echo
	echo " -- $maintainer  $(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")"
} >"$work/changelog"
gzip -9n "$work/changelog"

mkdir -p "$outdir"
target="$outdir/pact_${version}_${debarch}${suffix}.deb"
rm -f "$target"
PACT_VERSION=$version PACT_DEBARCH=$debarch PACT_BIN=$bin PACT_CHANGELOG=$work/changelog.gz \
	"$nfpm" package --config packaging/nfpm.yaml --packager deb --target "$target" >/dev/null
echo "built $target ($debarch, from $bin)"
