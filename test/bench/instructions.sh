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
bindir=$(pg_config --bindir)
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
as_server "$single" >/dev/null 2>&1 <<SQL
CREATE EXTENSION custfocus
SELECT setseed(0.7)
CREATE TABLE bench_scores AS SELECT floor(random() * 11)::real AS nps, (1 + floor(random() * 5))::real AS sat, (0.5 + random())::float8 AS w FROM generate_series(1, $rows)
VACUUM ANALYZE bench_scores
SQL

# instructions of one statement run in a fresh backend
ir() {
	local name=$1 sql=$2 file=/dev/null
	[ -z "$name" ] || file=$dir/callgrind.${name//[^a-z_]/_}
	printf '%s\n' "$sql" | as_server "valgrind --tool=callgrind --callgrind-out-file='$file' $single" 2>&1 |
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
	[ -z "$name" ] || cp "$file" "$out/"
}
base=$(ir "" "SELECT count(w) FROM (SELECT * FROM bench_scores LIMIT 0) x")
per_row() { awk -v a="$1" -v b="$base" -v n="$rows" 'BEGIN { printf "%.0f", (a - b) / n }'; }

declare -A count
printf '%-36s %8s  %s\n' "statement" "Ir/row" "ratio to count() of the same column"
for c in nps sat w; do
	count[$c]=$(per_row "$(ir "" "SELECT count($c) FROM bench_scores")")
	printf '%-36s %8s  %s\n' "count($c)" "${count[$c]}" "1.00"
done
# name|reference column|statement (the plain-SQL forms are run.sh's)
while IFS='|' read -r name ref sql; do
	[ -n "$name" ] || continue
	n=$(per_row "$(ir "$name" "$sql")")
	printf '%-36s %8s  %s\n' "${name//_plain/ (plain SQL)}" "$n" "$(awk -v a="$n" -v b="${count[$ref]}" 'BEGIN { printf "%.2f", a / b }')"
done <<'LIST'
nps|nps|SELECT custfocus.nps(nps) FROM bench_scores
nps_plain|nps|SELECT 100.0 * (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6)) / count(nps) FROM bench_scores
top_box|sat|SELECT custfocus.top_box(sat, 4) FROM bench_scores
top_box_plain|sat|SELECT 100.0 * count(*) FILTER (WHERE sat >= 4) / count(sat) FROM bench_scores
csat|sat|SELECT custfocus.csat(sat) FROM bench_scores
linear_mean|sat|SELECT custfocus.linear_mean(sat, 1, 5) FROM bench_scores
linear_mean_plain|sat|SELECT avg(100 * (sat - 1) / 4) FROM bench_scores
nps_stats|nps|SELECT custfocus.nps_stats(nps) FROM bench_scores
nps_weighted|w|SELECT custfocus.nps_stats(nps, w) FROM bench_scores
nps_weighted_plain|w|SELECT 100 * (sum(w) FILTER (WHERE nps >= 9) - sum(w) FILTER (WHERE nps <= 6)) / sum(w), sum(w) ^ 2 / sum(w * w) FROM bench_scores
mean_ci|sat|SELECT custfocus.mean_ci(sat) FROM bench_scores
mean_ci_plain|sat|SELECT avg(sat), stddev_samp(sat), count(sat) FROM bench_scores
count(nps::float8)|nps|SELECT count(nps::float8) FROM bench_scores
LIST
