#!/usr/bin/env bash
# Instructions per row of each scoring aggregate and its references, counted
# by valgrind (callgrind) in a single-user backend on a throw-away data
# directory:
#
#   bash test/bench/instructions.sh [rows]     (default 1000000)
#
# Timings on a shared machine move by 10-30 % from run to run; instruction
# counts do not, so this is the measure to compare builds with (the profile
# of a query is left in test/bench/out/callgrind.<name> for
# callgrind_annotate).  Each figure is (instructions of the query - those of
# the same scan with LIMIT 0) / rows, so it includes the scan; the ratios
# are against count() of the same column, like run.sh's.  Instructions are
# not time (a division costs more than an addition), so run.sh remains the
# benchmark; this explains it.

set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../setup.sh"
if ! command -v valgrind >/dev/null; then
	[ "$(id -u)" -eq 0 ] || { echo "instructions.sh: needs valgrind" >&2; exit 1; }
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null
fi
rows=${1:-1000000}
bindir=$("$PG_CONFIG" --bindir)
out=$CUSTFOCUS_ROOT/test/bench/out
mkdir -p "$out"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# the server refuses to run as root; run it as postgres when we are root
as_server() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$1"; else bash -c "$1"; fi; }
[ "$(id -u)" -ne 0 ] || chown postgres "$dir"
as_server "'$bindir/initdb' -D '$dir/data' -A trust --no-sync" >/dev/null
single="'$bindir/postgres' --single -D '$dir/data' -c max_parallel_workers_per_gather=0 -c jit=off postgres"
# single-user mode reads one command per line
source "$CUSTFOCUS_ROOT/test/bench/aggregates.sh"
{ echo 'CREATE EXTENSION custfocus;'; bench_scores_sql "$rows"; } | as_server "$single" >/dev/null 2>&1

# instructions of one statement run in a fresh backend
ir() {
	local name=$1 sql=$2 file=/dev/null
	[ -z "$name" ] || file=$dir/callgrind.$name
	printf '%s\n' "$sql" | as_server "valgrind --tool=callgrind --callgrind-out-file='$file' $single" 2>&1 |
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
	[ -z "$name" ] || cp "$file" "$out/"
}
base=$(ir "" "SELECT count(w) FROM (SELECT * FROM bench_scores LIMIT 0) x")
per_row() { awk -v a="$1" -v b="$base" -v n="$rows" 'BEGIN { printf "%.0f", (a - b) / n }'; }

declare -A count
printf '%-36s %8s  %s\n' "statement" "Ir/row" "ratio to count() of the same column"
row() {
	printf '%-36s %8s  %s\n' "$1" "$2" "$(awk -v a="$2" -v b="${count[$3]}" 'BEGIN { printf "%.2f", a / b }')"
}
for c in "${refs[@]}"; do
	count[$c]=$(per_row "$(ir "" "SELECT count($c) FROM bench_scores;")")
	row "count($c)" "${count[$c]}" "$c"
done
for a in "${aggs[@]}"; do
	row "$a" "$(per_row "$(ir "$a" "${ours[$a]}")")" "${refcol[$a]}"
	row "$a (plain SQL)" "$(per_row "$(ir "${a}_plain" "${plain[$a]}")")" "${refcol[$a]}"
done
row "count(nps::float8)" "$(per_row "$(ir "" "SELECT count(nps::float8) FROM bench_scores;")")" nps
