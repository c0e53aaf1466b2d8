# Sourced by the benchmarks that time statements on a throw-away cluster
# (run.sh, views.sh): the cluster's settings and the interleaved timing, so
# that their figures are taken the same way.

# pg_virtualenv options of the benchmark cluster
bench_cluster_opts=(-o shared_buffers=2GB -o work_mem=256MB -o max_parallel_workers_per_gather=2
	-o jit=off -o max_wal_size=8GB -o checkpoint_timeout=30min)

# the machine and server, for the head of a result
bench_machine() {
	echo "$(nproc) cores, $(awk '/^MemTotal:/ { printf "%d", $2 / 1048576 }' /proc/meminfo) GB RAM, PostgreSQL $(psql -At -c 'SHOW server_version')"
}

psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# interleaved ROUNDS STATEMENT...: runs every statement once per round, all
# rounds in one session, and prints each statement's best time in ms, one
# per line.  The machine's load drifts over a run (it is shared); running
# each statement once in every round spreads that drift over all of them
# instead of charging it to whichever ran when it rose, and the best of
# several rounds is the figure least disturbed by it.  A statement may be
# several commands; then "@T " marks the one that is timed, as in
# "BEGIN; @T COPY ...; ROLLBACK;".
#
# The time is psql's \timing (client side: planning, execution, and sending
# and printing the result).  With BENCH_TIMING=server it is the server's
# time instead: the timed command runs under EXPLAIN (ANALYZE, TIMING OFF,
# SUMMARY ON) and its time is Planning Time + Execution Time, every output
# column computed but no row sent (TIMING OFF: no clock read per row); each
# line then also gives, after a tab, the rows the statement returned.
interleaved() {
	local rounds=$1 i r stmt explain=
	shift
	[ "${BENCH_TIMING:-client}" != server ] || explain='EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) '
	{ [ -n "$explain" ] || echo '\timing on'
	  for ((r = 0; r < rounds; r++)); do
		i=0
		for stmt in "$@"; do
			[[ $stmt == *'@T '* ]] || stmt="@T $stmt"
			printf '%s\n' "${stmt/@T /$'\n'\\echo @$i$'\n'$explain}"
			i=$((i + 1))
		done
	  done; } |
		psql -At 2>&1 |
		awk -v n=$# '
			function best(t) { if (!(cur in m) || t < m[cur]) m[cur] = t; cur = "" }
			/^@[0-9]+$/ { cur = substr($0, 2); plan = 0; next }
			/^Time: / && cur != "" { best($2 + 0) }
			/actual rows=/ && cur != "" && !(cur in rows) { match($0, /actual rows=[0-9]+/); rows[cur] = substr($0, RSTART + 12, RLENGTH - 12) }
			/^Planning Time: / && cur != "" { plan = $3 }
			/^Execution Time: / && cur != "" { best(plan + $3) }
			END { for (k = 0; k < n; k++) if (k in rows) printf "%.3f\t%s\n", m[k], rows[k]; else printf "%.3f\n", m[k] }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# Statements that turn the roll-up triggers off for the rest of a
# transaction (the import's cost without the reporting layer).
no_rollups='ALTER TABLE custfocus.response DISABLE TRIGGER rollup_response_insert; ALTER TABLE custfocus.answer DISABLE TRIGGER rollup_answer_insert;'

# One statement that imports a file into cs_import and then fires the
# triggers deferred to commit (the roll-ups' compaction), so that a timed,
# rolled-back import costs what a committed one does; then runs $2, if
# given (what follows the commit: the publication, see views.sh).
import_stmt() {
	printf "DO \$\$ BEGIN PERFORM custfocus.import_responses_file('cs_import', '%s'); SET CONSTRAINTS ALL IMMEDIATE; %s END \$\$;" "$1" "${2:-}"
}
