#!/usr/bin/env bash
# Build one PostgreSQL major from ../shared/vendor/ (for the majors Debian does
# not package here: 16 and 19) into a tarball that CI layers onto a fresh
# Debian root.  Cached: a second call with the same source archive does nothing.
#
#   .ci/build-postgres.sh MAJOR CACHE_DIR      ->  CACHE_DIR/postgresql-MAJOR.tar
#
# Installed in Debian's layout (binaries under /usr/lib/postgresql/MAJOR, data
# under /usr/share/postgresql/MAJOR), so that Debian's cluster tools
# (pg_virtualenv, pg_createcluster) drive it exactly as they drive a packaged
# major.  Built without ICU and readline so the result runs on a minimal Debian
# root: the tests need neither (the regression suite runs in the C/UTF-8
# locales, psql is not interactive there).
set -euo pipefail
major=$1
cache=$2
here=$(cd "$(dirname "$0")/.." && pwd)
src=$(cd "$here/../shared/vendor" && pwd)/postgresql-REL_${major}_STABLE.tar.xz
[ -f "$src" ] || { echo "build-postgres: no $src" >&2; exit 1; }
out=$cache/postgresql-$major.tar
stamp=$cache/postgresql-$major.source
# keyed by content, not by size and time: CI copies ../shared beside each
# fresh clone, and a copy must not rebuild what it already built
want="$(sha256sum <"$src" | cut -c1-16) $(sha256sum <"$0" | cut -c1-16)"
if [ -s "$out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
	echo "build-postgres: PostgreSQL $major cached in $out" >&2
	exit 0
fi
need=()
for p in bison flex gcc make libc6-dev zlib1g-dev xz-utils; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "build-postgres: installing ${need[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
work=$(mktemp -d /var/tmp/build-postgres.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "build-postgres: building PostgreSQL $major from $(basename "$src") (several minutes)" >&2
tar -xJf "$src" -C "$work"
cd "$work"/postgresql-REL_${major}_STABLE
./configure -q --prefix=/usr/lib/postgresql/$major --datadir=/usr/share/postgresql/$major \
	--without-icu --without-readline >"$work/configure.log" 2>&1 ||
	{ tail -40 "$work/configure.log" >&2; exit 1; }
make -s -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -60 "$work/make.log" >&2; exit 1; }
make -s install DESTDIR="$work/root" >>"$work/make.log" 2>&1 || { tail -60 "$work/make.log" >&2; exit 1; }
mkdir -p "$cache"
tar -cf "$out.partial" -C "$work/root" usr
mv "$out.partial" "$out"
echo "$want" >"$stamp"
echo "build-postgres: $("$work/root/usr/lib/postgresql/$major/bin/postgres" --version) in $out" >&2
