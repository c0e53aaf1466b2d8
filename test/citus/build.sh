#!/usr/bin/env bash
# Build Citus from ../shared/vendor/ for one PostgreSQL major and install it
# into that major's directories; cached, so that a second call only unpacks.
#
#   bash test/citus/build.sh MAJOR [CACHE_DIR]      (as root)
#
#   MAJOR  15       -> Citus 13.2.2 (citus-13.2.2.tar.gz, plus
#                      citus-13.2.2-pg15.20.patch on PostgreSQL 15.20 and later)
#          16 17 18 -> Citus 14.0.1 (citus-14.0.1.tar.gz)
#   CACHE_DIR  default /var/tmp/custfocus-ci; holds citus-pgMAJOR.tar (the
#          `make install DESTDIR=...` tree), citus-pgMAJOR.key (what it was
#          built from) and citus-pgMAJOR.deps (the Debian packages of the
#          shared libraries citus.so loads, installed when missing).
#
# It builds against /usr/lib/postgresql/MAJOR/bin/pg_config.  The server of
# that major and, for a build, its headers must be there: for the majors
# Debian packages (postgresql-MAJOR, postgresql-server-dev-MAJOR) they are
# installed when missing; a major built from source (.ci/build-postgres.sh)
# must already be installed in Debian's layout.
#
# The cache key is the SHA-256 of the source archive (and patch), of this
# script and the server's exact version (pg_config --version), so a new minor
# release of PostgreSQL or a new archive rebuilds.  Contents, not mtimes:
# fresh-debian copies ../shared without keeping mtimes.
#
# A build takes about 2 minutes here (2 cores, shared with other work, make
# -j2): Citus 13.2.2 against Debian's 15, which also makes LLVM bitcode, 120 s;
# 14.0.1 against the 16 of .ci/build-postgres.sh (no LLVM), 48 s.  Add half a
# minute for the Debian packages on a fresh root.  A cached call takes a few
# seconds (plus installing the server if it is missing).
set -euo pipefail
major=${1:?usage: build.sh MAJOR [CACHE_DIR]}
cache=${2:-/var/tmp/custfocus-ci}
mkdir -p "$cache" && cache=$(cd "$cache" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
vendor=$(cd "$here/../shared/vendor" && pwd)
say() { echo "citus-build: $*" >&2; }

case $major in
15) version=13.2.2 ;;
16 | 17 | 18) version=14.0.1 ;;
*) say "no Citus for PostgreSQL $major here (15: 13.2.2; 16, 17, 18: 14.0.1)"; exit 2 ;;
esac
archive=$vendor/citus-$version.tar.gz
[ -f "$archive" ] || { say "no $archive"; exit 1; }

apt_updated=
apt_install() {
	[ $# -gt 0 ] || return 0
	say "installing $* (Debian packages)"
	if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
missing_of() { # the packages among "$@" that are not installed
	local p
	for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done
}

# the server of that major (and, below, its headers for a build)
pgbin=/usr/lib/postgresql/$major/bin
pg_config=$pgbin/pg_config
if [ ! -x "$pgbin/postgres" ]; then
	apt_install "postgresql-$major" || {
		say "PostgreSQL $major is not installed in /usr/lib/postgresql/$major and Debian here has no postgresql-$major"
		exit 1
	}
fi
pgversion=$("$pg_config" --version)
pgnum=$("$pg_config" --version | sed -n 's/^PostgreSQL \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
read -r pgmaj pgmin <<<"$pgnum"
[ "$pgmaj" = "$major" ] || { say "$pg_config is $pgversion, not $major"; exit 1; }
patches=()
if [ "$major" = 15 ] && [ "${pgmin:-0}" -ge 20 ] 2>/dev/null; then
	patches+=("$vendor/citus-13.2.2-pg15.20.patch")
fi

out=$cache/citus-pg$major.tar
keyfile=$cache/citus-pg$major.key
depsfile=$cache/citus-pg$major.deps
key="citus $version $(cat "$archive" "${patches[@]}" | sha256sum | cut -c1-16)"
key+=" script $(sha256sum <"${BASH_SOURCE[0]}" | cut -c1-16) $pgversion"

install_cached() {
	# shared libraries citus.so needs at run time (libcurl4 is not in a minimal root)
	# shellcheck disable=SC2046
	apt_install $(missing_of $(cat "$depsfile"))
	tar -xf "$out" -C /
	say "installed Citus $version for $pgversion from $out"
}

if [ -s "$out" ] && [ -f "$depsfile" ] && [ "$(cat "$keyfile" 2>/dev/null)" = "$key" ]; then
	install_cached
	exit 0
fi
if [ -s "$out" ]; then say "cache $out is stale (was: $(cat "$keyfile" 2>/dev/null || echo none)), rebuilding"; fi

# build dependencies: Citus's own (libcurl, lz4, zstd), and the headers of
# every library the server was built with: Citus's configure links its tests
# against `pg_config --libs`, and the server's headers include ICU's when it
# was configured with ICU (vendor/README.md lists them for Debian's 15; 17
# needs libicu-dev besides, 18 libnuma-dev)
deps=(gcc make libc6-dev patch libcurl4-openssl-dev liblz4-dev libzstd-dev)
for lib in $("$pg_config" --libs); do
	case $lib in
	-lselinux) deps+=(libselinux1-dev) ;;
	-lxslt) deps+=(libxslt1-dev) ;;
	-lxml2) deps+=(libxml2-dev) ;;
	-lpam) deps+=(libpam0g-dev) ;;
	-lssl | -lcrypto) deps+=(libssl-dev) ;;
	-lgssapi_krb5) deps+=(libkrb5-dev) ;;
	-lz) deps+=(zlib1g-dev) ;;
	-lreadline) deps+=(libreadline-dev) ;;
	-ledit) deps+=(libedit-dev) ;;
	-lnuma) deps+=(libnuma-dev) ;;
	-luring) deps+=(liburing-dev) ;;
	-lldap) deps+=(libldap-dev) ;;
	-lsystemd) deps+=(libsystemd-dev) ;;
	-licu*) deps+=(libicu-dev) ;;
	esac
done
case $("$pg_config" --configure) in *--with-icu*) deps+=(libicu-dev) ;; esac
# shellcheck disable=SC2046
apt_install $(missing_of $(printf '%s\n' "${deps[@]}" | sort -u))
if [ ! -f "$("$pg_config" --includedir-server)/postgres.h" ]; then
	case $(dpkg -S "$pg_config" 2>/dev/null) in
	postgresql-*) apt_install "postgresql-server-dev-$major" ;;
	*) say "$pg_config has no server headers"; exit 1 ;;
	esac
fi

work=$(mktemp -d /var/tmp/citus-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
start=$SECONDS
say "building Citus $version for $pgversion from $(basename "$archive")${patches:+ + $(basename "${patches[0]}")} (several minutes)"
tar -xzf "$archive" -C "$work"
cd "$work/citus-$version"
for p in "${patches[@]}"; do patch -p1 -s <"$p"; done
./configure PG_CONFIG="$pg_config" >"$work/configure.log" 2>&1 || { tail -40 "$work/configure.log" >&2; exit 1; }
make -j"$(nproc)" >"$work/make.log" 2>&1 || {
	grep -E -A6 ': (fatal )?error:' "$work/make.log" | head -n 40 >&2 || true
	grep -F '***' "$work/make.log" | head -n 5 >&2 || true
	exit 1
}
make install DESTDIR="$work/root" >>"$work/make.log" 2>&1 || { tail -60 "$work/make.log" >&2; exit 1; }
[ -f "$work/root$("$pg_config" --pkglibdir)/citus.so" ] || { say "no citus.so in the install tree"; exit 1; }
# the packages holding the libraries the modules (citus.so, citus_columnar.so,
# ...) link to, resolved here where the build found them, so that a root that
# only unpacks can install them
find "$work/root" -name '*.so' -exec ldd {} + | awk '$3 ~ /^\// {print $3}' | sort -u | while read -r lib; do
	real=$(readlink -f "$lib")
	dpkg -S "$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true
done | cut -d: -f1 | sort -u | grep -v "^postgresql" >"$depsfile.partial" || true
mv "$depsfile.partial" "$depsfile"
# top-level directories only (usr), never "." itself: unpacking that at /
# would give / the mode of the build directory
(cd "$work/root" && tar -cf "$out.partial" -- *)
mv "$out.partial" "$out"
echo "$key" >"$keyfile"
say "built in $((SECONDS - start)) s: $(tar -tf "$out" | grep -c '') files in $out"
install_cached
