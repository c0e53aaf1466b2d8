#!/usr/bin/env bash
# Eight imports at once of shuffled, overlapping versions of one export (the
# same respondents in different row orders, as when an export is loaded
# twice, or overlapping daily exports are loaded side by side): every import
# must succeed (no deadlock), each respondent must be stored once, and the
# batches' counts must add up: the union is inserted once, every other row
# is counted as a duplicate.  The sessions are held at a barrier (an advisory
# lock of this script) until all eight wait there, so that they really run
# side by side.  Runs in test/check.sh's throw-away cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

sessions=8
rows=${IMPORT_CONCURRENT_ROWS:-3000}
step=$((rows / 6))
barrier=731001
source test/lib.sh
test_scratch import_concurrent
holder=
test_cleanup_hook() { [ -n "$holder" ] && kill "$holder" 2>/dev/null || true; }

# File k holds respondents k*step .. k*step+rows-1, in an order of its own
# (odd files reversed, even ones shuffled with their own seed), so that any
# two files overlap and meet their common respondents in different orders.
for k in $(seq 0 $((sessions - 1))); do
	{
		echo 'respondent_id,submitted_at,service,Q1,Q2,Q5'
		awk -v k="$k" -v n="$rows" -v step="$step" 'BEGIN {
			srand(k + 1);
			split("WIC-CLINIC VITAL-RECORDS FOOD-LICENSE IMMUNIZATION", svc, " ");
			for (i = k * step; i < k * step + n; i++) {
				key = (k % 2) ? -i : rand();
				printf "%.9f\tC%06d,2026-%02d-%02d,%s,%d,%d,%d\n", key, i, i % 12 + 1, i % 28 + 1,
					svc[i % 4 + 1], i % 5 + 1, (i + 2) % 5 + 1, i % 11;
			}
		}' | sort -g | cut -f 2
	} > "$work/part$k.csv"
done
chmod 644 "$work"/*.csv
union=$(tail -q -n +2 "$work"/part*.csv | cut -d, -f1 | sort -u | wc -l)
total=$((sessions * rows))

createdb "$db"
psql() { command psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
psql -c 'CREATE EXTENSION custfocus' -f test/data/fixture_survey.sql

# the barrier: a session of this script holds an advisory lock that every
# import session waits for (shared) before it starts importing
mkfifo "$work/holder"
command psql -X -q -d "$db" < "$work/holder" > /dev/null &
holder=$!
exec 3> "$work/holder"
echo "SELECT pg_advisory_lock($barrier);" >&3
until [ "$(psql -At -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $barrier AND granted")" = 1 ]; do
	sleep 0.1
done

pids=()
for k in $(seq 0 $((sessions - 1))); do
	command psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" > "$work/out$k" 2> "$work/err$k" <<SQL &
BEGIN;
SELECT pg_advisory_xact_lock_shared($barrier);
SELECT responses_inserted, duplicates, rows_skipped
  FROM custfocus.import_responses_file('cs2026', '$work/part$k.csv', '{"batch_size": 1000}');
COMMIT;
SQL
	pids+=($!)
done
until [ "$(psql -At -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $barrier AND NOT granted")" = "$sessions" ]; do
	sleep 0.1
done
# release the barrier: all eight start importing at once
echo "SELECT pg_advisory_unlock($barrier);" >&3
exec 3>&-
wait "$holder" || true
holder=

failed=0
for k in $(seq 0 $((sessions - 1))); do
	if ! wait "${pids[$k]}"; then
		echo "import_concurrent: import $k failed: $(cat "$work/err$k")" >&2
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ] || fail "$failed of $sessions concurrent imports failed"

inserted=0
duplicates=0
for k in $(seq 0 $((sessions - 1))); do
	IFS='|' read -r ins dup skip < <(grep '|' "$work/out$k")
	[ "$skip" = 0 ] || fail "import $k skipped $skip rows"
	inserted=$((inserted + ins))
	duplicates=$((duplicates + dup))
done
[ "$inserted" -eq "$union" ] ||
	fail "the imports inserted $inserted responses in all, the files hold $union respondents"
[ $((inserted + duplicates)) -eq "$total" ] ||
	fail "inserted $inserted + duplicates $duplicates is not the $total rows read"
read -r n distinct answers < <(psql -At -F ' ' -c "SELECT count(*), count(DISTINCT external_id),
	(SELECT count(*) FROM custfocus.answer) FROM custfocus.response")
[ "$n" -eq "$union" ] && [ "$distinct" -eq "$union" ] ||
	fail "response holds $n rows ($distinct respondents), expected $union"
[ "$answers" -eq $((union * 3)) ] || fail "answer holds $answers rows, expected $((union * 3))"
echo "import_concurrent: $sessions imports of $rows rows, $union respondents inserted once, $duplicates duplicates"
