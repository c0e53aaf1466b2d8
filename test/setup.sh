# Sourced by test/check.sh, test/demo.sh and test/bench.sh: install what the
# build and a throw-away cluster need (Debian packages), then build and
# install the extension.  Safe to run again: it installs only what is missing.

set -euo pipefail

CUSTFOCUS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$CUSTFOCUS_ROOT"

custfocus_need_packages() {
	local missing=()
	command -v make >/dev/null || missing+=(make)
	command -v gcc >/dev/null || missing+=(gcc libc6-dev)
	command -v pg_virtualenv >/dev/null || missing+=(postgresql-common)
	# pg_config answers with the path of pgxs.mk even when the server headers
	# that provide it are not installed, so look for the file itself
	if ! command -v pg_config >/dev/null || [ ! -f "$(pg_config --pgxs 2>/dev/null)" ]; then
		missing+=(postgresql postgresql-server-dev-all)
	fi
	[ -f /usr/include/csv.h ] || missing+=(libcsv-dev)
	command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
	if [ ${#missing[@]} -gt 0 ]; then
		local sudo=""
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		echo "setup: installing ${missing[*]}" >&2
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
			"${missing[@]}" >/dev/null
	fi
}

custfocus_build_install() {
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	# CI sets CUSTFOCUS_CFLAGS to turn warnings into errors; see .ci/run.
	make -s PG_CFLAGS="${CUSTFOCUS_CFLAGS:-}" >/dev/null
	$sudo make -s install >/dev/null
}

custfocus_need_packages
custfocus_build_install
