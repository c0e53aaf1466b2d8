#!/usr/bin/env bash
# The benchmark: speed and scale as ratios, measured in one run on one
# temporary cluster, so that the machine's speed cancels out.
#
#   bash test/bench/run.sh [responses] [score_rows]
#
# responses:  size of the generated agency (default 200000, about 1.8
#             million answers; 1000000 gives about 9 million);
# score_rows: rows of the table the aggregates are timed on (default 5000000).
# Prints a table and writes it to test/bench/out/results.md.  Timings are the
# best of interleaved rounds (see interleaved below): 7 for the aggregates,
# 3 for the import against COPY and for the views.
# Not part of test/check.sh: timings are not tests.

if [ "${1:-}" != --in-cluster ]; then
	source "$(dirname "${BASH_SOURCE[0]}")/../setup.sh"
	export BENCH_RESPONSES="${1:-200000}" BENCH_ROWS="${2:-5000000}"
	source "$CUSTFOCUS_ROOT/test/bench/lib.sh"
	exec pg_virtualenv -t -v "$CUSTFOCUS_PG_MAJOR" "${bench_cluster_opts[@]}" \
		"$CUSTFOCUS_ROOT/test/bench/run.sh" --in-cluster
fi
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=test/bench/out
mkdir -p "$out"
work=$(mktemp -d)
chmod 777 "$work"   # the server (user postgres) writes and reads the files
trap 'rm -rf "$work"' EXIT
export PGOPTIONS="-c client_min_messages=warning"
source test/bench/lib.sh   # psql, interleaved, ratio
source test/bench/aggregates.sh
rows=()
row() { rows+=("$(printf '| %s | %s | %s |' "$1" "$2" "$3")"); printf '%-58s %12s  %s\n' "$1" "$2" "$3"; }

echo "machine: $(bench_machine)"
psql -c 'CREATE EXTENSION custfocus'

# --- aggregates, on a flat table of scores -----------------------------
echo "== aggregates over $BENCH_ROWS rows (serial, then 2 workers) =="
bench_scores_sql "$BENCH_ROWS" | psql
AGG_ROUNDS=7
serial='SET max_parallel_workers_per_gather = 0;'
parallel='SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET min_parallel_table_scan_size = 0;'
# Every statement, serial and parallel, in the same interleaved rounds.
stmts=()
for c in "${refs[@]}"; do stmts+=("$serial @T SELECT count($c) FROM bench_scores;"); done
for a in "${aggs[@]}"; do stmts+=("$serial @T ${ours[$a]}" "$serial @T ${plain[$a]}"); done
par=(count nps csat)
stmts+=("$parallel @T SELECT count(nps) FROM bench_scores;" "$parallel @T ${ours[nps]}" "$parallel @T ${ours[csat]}")
mapfile -t times < <(interleaved "$AGG_ROUNDS" "${stmts[@]}")
declare -A count serial_ms
k=0
for c in "${refs[@]}"; do
	count[$c]=${times[$k]}
	row "count($c), serial" "${times[$k]} ms" "1.00 (reference)"
	k=$((k + 1))
done
serial_ms[count]=${count[nps]}
for a in "${aggs[@]}"; do
	t_ours=${times[$k]}
	t_plain=${times[$((k + 1))]}
	t_count=${count[${refcol[$a]}]}
	serial_ms[$a]=$t_ours
	k=$((k + 2))
	row "$a vs count(${refcol[$a]}) (target <= 1.3)" "$t_ours ms" "$(ratio "$t_ours" "$t_count")"
	row "$a vs plain SQL ($t_plain ms; target < 1)" "$t_ours ms" "$(ratio "$t_ours" "$t_plain")"
done
for p in "${par[@]}"; do
	row "$p, 2 workers: speed-up over serial" "${times[$k]} ms" "$(ratio "${serial_ms[$p]}" "${times[$k]}")x"
	k=$((k + 1))
done

# --- the agency: generation, import against COPY, views -----------------
echo "== agency of $BENCH_RESPONSES responses =="
t0=$(date +%s.%N)
psql -v responses="$BENCH_RESPONSES" -f test/bench/generate.sql
t1=$(date +%s.%N)
answers=$(psql -At -c 'SELECT count(*) FROM custfocus.answer')
row "generate.sql: $answers answers" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f s", b - a }')" ""

# A wide export of the cs survey, as a survey tool writes it, and the same
# answers in long form for COPY.
nimport=$(( BENCH_RESPONSES / 5 ))
psql -v nimport="$nimport" -v wide="$work/wide.csv" -f test/bench/import_data.sql
psql <<SQL
-- a copy of the survey for COPY's answers, and their responses
INSERT INTO custfocus.survey (code, name) VALUES ('cs_copy', 'COPY target');
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric, requirement_id, is_overall, position)
SELECT t.survey_id, i.code, i.text, i.scale_id, i.metric, i.requirement_id, i.is_overall, i.position
  FROM custfocus.item i JOIN custfocus.survey s ON s.survey_id = i.survey_id AND s.code = 'cs'
 CROSS JOIN custfocus.survey t WHERE t.code = 'cs_copy' AND i.metric <> 'text';
INSERT INTO custfocus.response (survey_id, service_id, segment_id, submitted_at, external_id)
SELECT (SELECT survey_id FROM custfocus.survey WHERE code = 'cs_copy'), s.service_id, g.segment_id,
	   w.submitted_at::timestamptz, w.respondent_id
  FROM bench_wide w JOIN custfocus.service s ON s.code = w.service JOIN custfocus.segment g ON g.code = w.segment;
CREATE TABLE bench_long AS
SELECT r.response_id, i.item_id, v.value
  FROM bench_wide w
  JOIN custfocus.response r ON r.external_id = w.respondent_id
	   AND r.survey_id = (SELECT survey_id FROM custfocus.survey WHERE code = 'cs_copy')
 CROSS JOIN LATERAL (VALUES ('Q1', w."Q1"), ('Q2', w."Q2"), ('Q3', w."Q3"), ('Q4', w."Q4"), ('Q5', w."Q5"),
							('Q7', w."Q7"), ('Q8', w."Q8"), ('Q9', w."Q9"), ('Q10', w."Q10"), ('Q11', w."Q11"),
							('Q12', w."Q12")) AS v (code, value)
  JOIN custfocus.item i ON i.code = v.code AND i.survey_id = r.survey_id
 WHERE v.value IS NOT NULL;
COPY bench_long TO '$work/long.csv' WITH (FORMAT csv);
-- The responses are inserted again, in the transaction that copies their
-- answers, as a load does (responses, then answers): a COPY of answers into
-- responses of earlier transactions makes the roll-up recompute the
-- months it touches from the raw data (src/sql/rollup.sql), which is not
-- the load this reference stands for.
CREATE TABLE bench_copy_responses AS
SELECT * FROM custfocus.response WHERE survey_id = (SELECT survey_id FROM custfocus.survey WHERE code = 'cs_copy');
DELETE FROM custfocus.response WHERE survey_id = (SELECT survey_id FROM custfocus.survey WHERE code = 'cs_copy');
SQL
long_rows=$(psql -At -c 'SELECT count(*) FROM bench_long')
mapfile -t times < <(interleaved 3 \
	"BEGIN; INSERT INTO custfocus.response SELECT * FROM bench_copy_responses; @T COPY custfocus.answer (response_id, item_id, value) FROM '$work/long.csv' WITH (FORMAT csv); ROLLBACK;" \
	"BEGIN; @T $(import_stmt "$work/wide.csv") ROLLBACK;" \
	"BEGIN; $no_rollups @T $(import_stmt "$work/wide.csv") ROLLBACK;" \
	"BEGIN; @T $(import_stmt "$work/wide.csv" 'PERFORM custfocus.report_publish_pending();') ROLLBACK;")
t_copy=${times[0]}
t_import=${times[1]}
t_bare=${times[2]}
t_published=${times[3]}
row "COPY of $long_rows answers (long form) into answer" "$t_copy ms" "$(awk -v n="$long_rows" -v t="$t_copy" 'BEGIN { printf "%.0f answers/s", n / t * 1000 }')"
row "import_responses_file of the same $nimport rows (wide CSV)" "$t_import ms" "$(awk -v n="$long_rows" -v t="$t_import" 'BEGIN { printf "%.0f answers/s", n / t * 1000 }')"
row "import rate / COPY rate (target >= 0.5)" "" "$(ratio "$t_copy" "$t_import")"
row "the same import with the roll-up triggers off" "$t_bare ms" ""
row "import time with roll-ups / without (target <= 1.10)" "" "$(ratio "$t_import" "$t_bare")"
# (the commit leaves the publication to a background worker: its time, not
# part of the import's, measured in the transaction; see views.sh)
row "then the publication by the background worker" "$(awk -v a="$t_published" -v b="$t_import" 'BEGIN { printf "%.0f ms", a - b }')" ""

for v in scorecard satisfaction_trend key_drivers improvement_opportunities data_coverage voc_themes measure_status; do
	n=$(psql -At -c "SELECT count(*) FROM custfocus.$v")
	t=$(interleaved 3 "SELECT count(*) FROM custfocus.$v;")
	row "view $v ($n rows)" "$t ms" ""
done

{
	echo "Benchmark of $(date -u +%Y-%m-%d): $(bench_machine); $BENCH_ROWS score rows, $BENCH_RESPONSES responses ($answers answers). Best of $AGG_ROUNDS interleaved rounds for the aggregates, of 3 for the import and the views."
	echo
	echo '| measure | time | ratio |'
	echo '|---|---|---|'
	printf '%s\n' "${rows[@]}"
} > "$out/results.md"
echo "written to $out/results.md"
