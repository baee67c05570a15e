#!/usr/bin/env bash
# deb-version.sh DESCRIBE prints the Debian package version for a
# `git describe --tags --always --dirty` string (the Makefile's VERSION).
# A Debian version must start with a digit and, with no Debian revision,
# may hold only letters, digits and . + ~, so:
#
#   v1.2.3                  -> 1.2.3
#   v1.2.3-rc.1             -> 1.2.3~rc.1          (~ sorts before 1.2.3)
#   v1.2.3-5-g9c8c556       -> 1.2.3+git5.9c8c556  (5 commits after v1.2.3)
#   9c8c556                 -> 0.0.0~git20250101120000.9c8c556
#                              (no tag: the commit's UTC date, so that later
#                              commits sort later, and any tag sorts above)
#   anything + -dirty       -> the same + .dirty, or +dirty after a bare tag
#   dev (no git at all)     -> 0.0.0~dev
#
# The date of a bare hash comes from git (run it in the repository), or
# from PACT_DEB_DATE (YYYYMMDDhhmmss), which the tests set.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: deb-version.sh DESCRIBE   (e.g. v1.2.3-5-g9c8c556-dirty)" >&2
	exit 2
fi

v=$1
dirty=
if [[ $v == *-dirty ]]; then
	dirty=1
	v=${v%-dirty}
fi

if [[ $v =~ ^[0-9a-f]{7,40}$ ]]; then
	# No tag reachable: describe --always printed an abbreviated hash.
	date=${PACT_DEB_DATE:-}
	if [ -z "$date" ]; then
		date=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S "$v" 2>/dev/null) || {
			echo "deb-version.sh: cannot find the date of commit $v: run it in the repository, or set PACT_DEB_DATE=YYYYMMDDhhmmss" >&2
			exit 1
		}
	fi
	out="0.0.0~git$date.$v"
	[ -n "$dirty" ] && out+=.dirty
elif [ "$v" = dev ]; then
	out=0.0.0~dev
	[ -n "$dirty" ] && out+=.dirty
elif [[ $v =~ ^v?([0-9].*)$ ]]; then
	v=${BASH_REMATCH[1]}
	base=$v after=
	if [[ $v =~ ^(.*)-([0-9]+)-g([0-9a-f]+)$ ]]; then
		base=${BASH_REMATCH[1]}
		after="+git${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
	fi
	# A pre-release (1.2.3-rc.1) sorts before its release; other hyphens,
	# which Debian reserves for the revision, become dots.
	if [[ $base == *-* ]]; then
		base="${base%%-*}~${base#*-}"
		base=${base//-/.}
	fi
	out=$base$after
	if [ -n "$dirty" ]; then
		if [ -n "$after" ]; then out+=.dirty; else out+=+dirty; fi
	fi
else
	echo "deb-version.sh: cannot make a Debian version of '$1': expected a tag like v1.2.3, a commit hash or dev" >&2
	exit 1
fi

if ! [[ $out =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
	echo "deb-version.sh: '$1' gives '$out', which is not a valid Debian version (letters, digits, . + ~, starting with a digit)" >&2
	exit 1
fi
echo "$out"
