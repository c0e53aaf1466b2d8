#!/usr/bin/env bash
# Complementary suppression under concurrency: the cells of a year are
# computed (or checked) as a transaction commits, one transaction at a time
# per year (a row of rollup_hidden_year), so that none stores cells that
# leave out answers another committed meanwhile.  Two sessions add answers
# to small months of the same year, the first holding the year's row (as its
# commit would) while the second commits; then rollup_verify() must find
# nothing.  Under REPEATABLE READ the second must fail to serialize rather
# than store cells computed without the first's answers, and succeed when
# retried.  Runs in test/check.sh's throw-away cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source test/lib.sh
test_scratch suppression_concurrent
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

createdb "$db"
psql_q -c "CREATE EXTENSION custfocus"
psql_q -v responses=200 -f test/data/sample_agency.sql >/dev/null

# one response of SERVICE, in MONTH, with an answer to every rating and NPS
# item of the 2026 survey
answer_sql() {
	echo "WITH r AS (
		INSERT INTO custfocus.response (survey_id, service_id, submitted_at, weight)
		SELECT s.survey_id, v.service_id, timestamptz '$2-15 12:00', 1
		  FROM custfocus.survey s, custfocus.service v WHERE s.code = 'cs2026' AND v.code = '$1'
		RETURNING response_id, survey_id)
	INSERT INTO custfocus.answer (response_id, item_id, value)
	SELECT r.response_id, i.item_id, CASE WHEN i.metric = 'nps' THEN 3 ELSE 2 END
	  FROM r JOIN custfocus.item i ON i.survey_id = r.survey_id AND i.metric IN ('rating', 'nps');"
}
check() {
	local problems
	problems=$(psql_q -At -c "SELECT count(*) FROM custfocus.rollup_verify()")
	[ "$problems" = 0 ] || { psql_q -c "SELECT * FROM custfocus.rollup_verify()" >&2; fail "$1: the complementary cells do not protect the data ($problems problems)"; }
	# and the figures published after the commits (report_scorecard, ...)
	# with the roll-ups: as the publishers (background workers, see
	# src/publish.c) left them, not as report_verify would publish them
	[ "$(psql_q -At -c "SELECT custfocus.report_wait()")" = t ] || fail "$1: the publishers did not finish in 30 s"
	problems=$(psql_q -At -c "SELECT count(*) FROM custfocus.report_verify()")
	[ "$problems" = 0 ] || { psql_q -c "SELECT * FROM custfocus.report_verify()" >&2; fail "$1: the published figures differ from a computation in $problems rows"; }
	echo "suppression_concurrent: $1: cells right"
}
year=$(psql_q -At -c "SELECT date_trunc('year', max(submitted_at))::date FROM custfocus.response")
computed() { psql_q -At -c "SELECT computations FROM custfocus.rollup_hidden_year WHERE year = '$year'"; }
month=$(date -d "$year" +%Y)-11

# READ COMMITTED: the first computes the year with its answers (SET
# CONSTRAINTS ALL IMMEDIATE runs what its commit would) and holds it; the
# second commits meanwhile and waits for the year; the first commits; the
# second then computes with the first's answers (without the wait it would
# have stored cells computed without them, after the first's).
before=$(computed)
psql_q -o /dev/null <<SQL &
BEGIN;
$(answer_sql WIC-CLINIC "$month")
SET CONSTRAINTS ALL IMMEDIATE;
SELECT pg_sleep(2);
COMMIT;
SQL
sleep 0.7
psql_q -c "$(answer_sql VITAL-RECORDS "$month")"
wait
after=$(computed)
[ "$after" -ge $((before + 2)) ] || fail "read committed: the year was computed $((after - before)) times for two commits to small months, not twice"
check "read committed, two small months of a year at once"

# REPEATABLE READ: the second took its snapshot before the first committed
# its answers and its computation of the year: it must not store cells
# computed without them.
psql_q -o /dev/null <<SQL &
BEGIN;
$(answer_sql WIC-CLINIC "$month")
SELECT pg_sleep(2);
COMMIT;
SQL
sleep 0.3
set +e
out=$(psql_q 2>&1 <<SQL
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM custfocus.response;
$(answer_sql VITAL-RECORDS "$month")
SELECT pg_sleep(3);
COMMIT;
SQL
)
rc=$?
set -e
wait
case "$out" in
*"could not serialize access"*) echo "suppression_concurrent: repeatable read: the second commit failed to serialize, as it must" ;;
*) fail "repeatable read: the second commit did not fail to serialize (exit $rc): $out" ;;
esac
check "repeatable read, after the failed commit"
psql_q -c "BEGIN ISOLATION LEVEL REPEATABLE READ; $(answer_sql VITAL-RECORDS "$month") COMMIT;"
check "repeatable read, retried"
