#!/usr/bin/env bash
# The Debian package, as a packager and then a DBA would meet it, run by .ci/run
# in a fresh Debian root: build postgresql-NN-custfocus for every installed
# major with pg_buildext (dpkg-buildpackage, which also runs the regression
# suite against the staged files), install the .deb with apt, and run the
# whole test suite against the installed package (CUSTFOCUS_INSTALLED=1: no
# build, no make install).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive PG_SUPPORTED_VERSIONS=installed
echo "package-test: installing the build dependencies (apt-get build-dep)" >&2
apt-get update -qq
apt-get install -y -qq --no-install-recommends dpkg-dev postgresql >/dev/null
apt-get build-dep -y -qq ./ >/dev/null
# debian/control is generated for Debian's default major; update it for the
# majors installed here, as pg_buildext does for the PostgreSQL apt repository
pg_buildext updatecontrol
log=$(mktemp)
if ! dpkg-buildpackage -us -uc -b >"$log" 2>&1; then
	tail -n 100 "$log"
	echo "package-test: dpkg-buildpackage failed" >&2
	exit 1
fi
grep -E '^(### |# All|dpkg-deb: building)' "$log"
echo "package-test: installing $(cd .. && ls postgresql-*-custfocus_*.deb | tr '\n' ' ')" >&2
apt-get install -y -qq --no-install-recommends ../postgresql-*-custfocus_*.deb >/dev/null
dpkg -L "$(dpkg-deb -f ../postgresql-*-custfocus_*.deb Package | head -n 1)" | grep -E '\.(so|control)$'
git clean -qfdx   # nothing built here is used from now on
CUSTFOCUS_INSTALLED=1 bash test/check.sh
