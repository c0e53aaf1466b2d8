# Sourced by test/check.sh, test/demo.sh and the benchmarks: make sure the
# machine has what the build and a throw-away cluster need (Debian packages),
# then build and install the extension.  Safe to run again: it installs only
# what is missing, and says what it installs.
#
# Which PostgreSQL: $PG_CONFIG if set (e.g. PG_CONFIG=/usr/lib/postgresql/17/bin/pg_config
# on a machine with several majors); else the newest major whose server is
# installed; else Debian's default major, installed here.  The server headers
# of that very major are what the build needs: a pg_config (and pgxs.mk) can
# be present without them, since Debian ships both with the client package.
# Exports PG_CONFIG, CUSTFOCUS_PG_MAJOR and puts that major's bindir first on
# PATH, so psql, pg_dump and pg_regress all match the server under test.
# CUSTFOCUS_INSTALLED=1 tests the custfocus already installed (a package).

set -euo pipefail

CUSTFOCUS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$CUSTFOCUS_ROOT"

custfocus_sudo() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

custfocus_apt_updated=
custfocus_apt_install() {
	[ $# -gt 0 ] || return 0
	echo "setup: installing $* (Debian packages)" >&2
	if [ -z "$custfocus_apt_updated" ]; then
		custfocus_sudo apt-get update -qq
		custfocus_apt_updated=1
	fi
	custfocus_sudo env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# newest major with a server binary in Debian's layout, or nothing
custfocus_newest_server() {
	ls -v /usr/lib/postgresql/*/bin/postgres 2>/dev/null | tail -n 1 |
		sed -n 's,^/usr/lib/postgresql/\([0-9]*\)/bin/postgres$,\1,p'
}

custfocus_need_packages() {
	local missing=() major
	command -v make >/dev/null || missing+=(make)
	command -v gcc >/dev/null || missing+=(gcc libc6-dev)
	[ -f /usr/include/csv.h ] || missing+=(libcsv-dev)
	command -v pg_virtualenv >/dev/null || missing+=(postgresql-common)
	# no PostgreSQL at all: Debian's default major, server and headers
	if [ -z "${PG_CONFIG:-}" ] && [ -z "$(custfocus_newest_server)" ]; then
		missing+=(postgresql postgresql-server-dev-all)
	fi
	custfocus_apt_install "${missing[@]}"

	if [ -n "${PG_CONFIG:-}" ]; then
		[ -x "$PG_CONFIG" ] || { echo "setup: PG_CONFIG=$PG_CONFIG is not an executable" >&2; return 1; }
		major=$("$PG_CONFIG" --version | sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p')
	else
		major=$(custfocus_newest_server)
		PG_CONFIG=/usr/lib/postgresql/$major/bin/pg_config
	fi
	if [ -z "$major" ] || [ "$major" -lt 15 ]; then
		echo "setup: custfocus needs PostgreSQL 15 or later; found ${major:-no major} (set PG_CONFIG to choose another)" >&2
		return 1
	fi
	# the server headers and the server of that major
	missing=()
	if [ ! -x "$PG_CONFIG" ] || [ ! -f "$("$PG_CONFIG" --includedir-server)/postgres.h" ]; then
		missing+=("postgresql-server-dev-$major")
	fi
	[ -x "/usr/lib/postgresql/$major/bin/postgres" ] || missing+=("postgresql-$major")
	if [ ${#missing[@]} -gt 0 ]; then
		case $PG_CONFIG in
		/usr/lib/postgresql/*) custfocus_apt_install "${missing[@]}" ;;
		*)
			echo "setup: $PG_CONFIG has no server headers or no server in Debian's layout;" \
				"build PostgreSQL with --prefix=/usr/lib/postgresql/$major (see README, Installation)" >&2
			return 1 ;;
		esac
	fi
	export PG_CONFIG CUSTFOCUS_PG_MAJOR=$major
	PATH=$("$PG_CONFIG" --bindir):$PATH
	export PATH
	echo "setup: using $("$PG_CONFIG" --version) ($PG_CONFIG)" >&2
}

custfocus_build_install() {
	# CI sets CUSTFOCUS_CFLAGS to turn warnings into errors; see .ci/run.
	make -s PG_CONFIG="$PG_CONFIG" PG_CFLAGS="${CUSTFOCUS_CFLAGS:-}" >/dev/null
	custfocus_sudo make -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

custfocus_need_packages
if [ -n "${CUSTFOCUS_INSTALLED:-}" ]; then
	# test what is installed (e.g. the Debian package), build nothing
	if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/custfocus.control" ]; then
		echo "setup: CUSTFOCUS_INSTALLED is set but custfocus is not installed for $("$PG_CONFIG" --version)" >&2
		return 1
	fi
	echo "setup: testing the installed custfocus ($("$PG_CONFIG" --pkglibdir)/custfocus.so)" >&2
else
	custfocus_build_install
fi
