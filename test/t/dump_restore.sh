#!/usr/bin/env bash
# pg_dump of a database holding custfocus user data, restored into a fresh
# database, loses nothing: same rows in every extension table (built-in
# scales once, user scales and labels kept), and the sequences continue
# where they were, so new rows get new ids.
# Run by test/check.sh inside a pg_virtualenv cluster (PGHOST etc. set).
set -euo pipefail
cd "$(dirname "$0")/../.."

src=cf_dump_src
dst=cf_dump_dst
dstj=cf_dump_dst_parallel
dump=$(mktemp -d)/custfocus.dump
trap 'rm -rf "$(dirname "$dump")"; dropdb --if-exists $src; dropdb --if-exists $dst; dropdb --if-exists $dstj' EXIT

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

dropdb --if-exists $src; dropdb --if-exists $dst; dropdb --if-exists $dstj
createdb $src
psql_q -d $src -c 'CREATE EXTENSION custfocus'
psql_q -d $src -v responses=400 -f test/data/sample_agency.sql
psql_q -d $src <<'SQL'
INSERT INTO custfocus.scale (code, name, min_value, max_value) VALUES ('effort5', 'Effort 1..5', 1, 5);
INSERT INTO custfocus.scale_label (scale_id, label, value)
	SELECT scale_id, 'Very easy', 5 FROM custfocus.scale WHERE code = 'effort5';
INSERT INTO custfocus.scale_label (scale_id, label, value) VALUES (1, 'Somewhat agree', 4);
INSERT INTO custfocus.import_batch (survey_id, source, status, rows_read, rows_skipped)
	SELECT survey_id, 'by hand', 'loaded_with_errors', 1, 1 FROM custfocus.survey WHERE code = 'cs2026';
INSERT INTO custfocus.import_error (import_id, line, column_name, value, message)
	SELECT max(import_id), 2, 'Q1', '6', 'value 6 is outside scale "agree5"' FROM custfocus.import_batch;
INSERT INTO custfocus.respondent_contact (response_id, email)
	SELECT min(response_id), 'someone@example.org' FROM custfocus.response;
INSERT INTO custfocus.role_access (role_name, level) VALUES ('wic_analysts', 'analyst');
INSERT INTO custfocus.program_access (role_name, program_id)
	SELECT 'wic_analysts', program_id FROM custfocus.program WHERE code = 'WIC';
-- the suppression floor an admin set, and rows owned by a program
UPDATE custfocus.setting SET min_responses = 12;
INSERT INTO custfocus.segment (code, name, program_id)
	SELECT 'WIC-DADS', 'Fathers in WIC', program_id FROM custfocus.program WHERE code = 'WIC';
SQL

# One line per table: name, row count and a digest of its sorted rows.
# (The settings row, which CREATE EXTENSION makes and the dump carries too,
# is restored over it: see setting_restore.)
# Built-in rows are re-created by CREATE EXTENSION, so their created_at is
# the restore's; every other column must match.
fingerprint() {
	psql_q -d "$1" -At <<'SQL'
SELECT format('SELECT %L || '' '' || count(*) || '' '' || coalesce(md5(string_agg(r, ''|'' ORDER BY r)), ''-'')
				 FROM (SELECT CASE WHEN (to_jsonb(t) ->> ''builtin'')::boolean
								   THEN (to_jsonb(t) - ''created_at'')::text ELSE t::text END AS r
						 FROM %s t) AS x',
			  c.relname, c.oid::regclass)
  FROM pg_class c
 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind = 'r'
   -- derived data, compared below through rollup_verify() and the views
   AND c.relname NOT IN ('rollup_service_month', 'rollup_unit_period', 'rollup_item_month', 'rollup_pairs_month', 'rollup_pending', 'report_unit',
						   'rollup_hidden', 'rollup_hidden_year', 'rollup_hidden_measure',
						   'report_scorecard', 'report_trend', 'report_key_drivers', 'report_measure_status', 'report_themes',
						   'report_feedback', 'report_opportunities', 'report_state', 'report_stale')
 ORDER BY c.relname
\gexec
SELECT c.relname || ' ' || pg_sequence_last_value(c.oid)
  FROM pg_class c
 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind = 'S'
 ORDER BY c.relname;
SQL
}

# pg_dump warns that program references itself (parent_id); the data of one
# table is restored by one COPY, whose foreign-key checks run at its end.
pg_dump -Fc -f "$dump" $src 2> >(grep -v -e "circular foreign-key" -e "detail: program" -e "hint: " >&2)
createdb $dst
pg_restore --exit-on-error -d $dst "$dump"
# A parallel restore, with the command README (Backups) gives for it.  In the
# archive the data of an extension's tables depends on nothing but its table
# (pg_dump orders it by foreign keys, but records that order only as the
# order of the entries), so pg_restore -j runs every COPY at once, and a
# plain "pg_restore -j 4" fails on the foreign keys the extension created.
# With session_replication_role = replica the COPYs fire no triggers, the
# foreign-key checks included; the data is a consistent snapshot.
createdb $dstj
PGOPTIONS="-c session_replication_role=replica" pg_restore --exit-on-error -j 4 -d $dstj "$dump"
# ... and, the triggers having been off, the roll-ups are rebuilt (README, Backups)
psql_q -d $dstj -At -c "SELECT custfocus.rollup_rebuild() > 0" | grep -qx t
# the roll-ups of both restores agree with their data (the serial restore's
# were kept by the triggers as the COPYs loaded the answers)
for db in $dst $dstj; do
	problems=$(psql_q -d $db -At -c "SELECT count(*) FROM custfocus.rollup_verify()")
	[ "$problems" = 0 ] || { echo "the roll-ups of $db differ from their data in $problems keys" >&2; exit 1; }
	# and the published figures with the roll-ups
	problems=$(psql_q -d $db -At -c "SELECT count(*) FROM custfocus.report_verify()")
	[ "$problems" = 0 ] || { echo "the published figures of $db differ from a computation in $problems rows" >&2; exit 1; }
	published=$(psql_q -d $db -At -c "SELECT count(*) FROM custfocus.report_scorecard")
	[ "$published" -gt 0 ] || { echo "$db has no published scorecard" >&2; exit 1; }
done

before=$(fingerprint $src)
for db in $dst $dstj; do
	after=$(fingerprint $db)
	if [ "$before" != "$after" ]; then
		echo "dump/restore into $db changed the data:" >&2
		diff <(echo "$before") <(echo "$after") >&2 || true
		exit 1
	fi
done
# every table is covered, and the sample really holds data
tables=$(echo "$before" | grep -vc '_seq ')
[ "$tables" -eq 22 ] || { echo "expected 22 tables, fingerprinted $tables" >&2; exit 1; }
for t in program service segment survey item response answer feedback measure improvement_action engagement import_error \
		respondent_contact role_access program_access setting; do
	n=$(echo "$before" | awk -v t=$t '$1 == t {print $2}')
	[ "${n:-0}" -gt 0 ] || { echo "table $t is empty in the sample" >&2; exit 1; }
done

# The views compute the same figures from the restored data.  Floating-point
# sums depend on the order rows are read in, which a restore changes, so the
# figures are compared to 9 significant digits.
views_fingerprint() {
	psql_q -d "$1" -At <<'SQL'
CREATE FUNCTION pg_temp.r(x double precision) RETURNS text LANGUAGE sql IMMUTABLE
	AS $$ SELECT to_char(x, '9.99999999EEEE') $$;
SELECT md5(string_agg(row(level, program_code, service_code, grain, period_start, responses, csat_n,
						  pg_temp.r(csat), pg_temp.r(csat_ci_low), pg_temp.r(csat_ci_high), nps_n,
						  pg_temp.r(nps), pg_temp.r(nps_ci_low), linear_mean_n, pg_temp.r(linear_mean),
						  pg_temp.r(linear_mean_ci_high), pg_temp.r(csat_change), pg_temp.r(csat_change_p),
						  pg_temp.r(nps_change_p), suppressed)::text, '|'
					  ORDER BY level, program_code, service_code, grain, period_start))
  FROM custfocus.scorecard;
-- (importance, performance and priority are on 0..100 and 0..10000: an
-- importance of 0 may come back as 1e-14 from states merged in another
-- order, so these are compared to 6 decimals)
SELECT md5(string_agg(row(rank, service_code, survey_code, requirement_code, round(importance::numeric, 6),
						  round(performance::numeric, 6), round(priority::numeric, 6), quadrant, n, open_actions)::text, '|'
					  ORDER BY rank, service_code, survey_code, requirement_code))
  FROM custfocus.improvement_opportunities;
SELECT md5(string_agg(row(measure_code, period_start, n, pg_temp.r(actual), met, trend, suppressed)::text, '|'
					  ORDER BY measure_code, period_start))
  FROM custfocus.measure_status;
SELECT count(*) FROM custfocus.scorecard;
SQL
}
vb=$(views_fingerprint $src)
for db in $dst $dstj; do
	va=$(views_fingerprint $db)
	if [ "$vb" != "$va" ]; then
		echo "dump/restore into $db changed what the views show:" >&2
		diff <(echo "$vb") <(echo "$va") >&2 || true
		exit 1
	fi
done
[ "$(echo "$vb" | tail -1)" -gt 0 ] || { echo "the scorecard of the sample is empty" >&2; exit 1; }

# Restored sequences hand out new ids, and built-in rows exist exactly once;
# after the parallel restore the triggers are enabled again.
for db in $dst $dstj; do
psql_q -d $db -At <<'SQL' | tee /dev/stderr | grep -qx 'ok'
INSERT INTO custfocus.scale (code, name, min_value, max_value) VALUES ('restored', 'After restore', 0, 100);
INSERT INTO custfocus.response (survey_id, submitted_at, external_id)
	SELECT survey_id, now(), 'after-restore' FROM custfocus.survey WHERE code = 'cs2026';
SELECT CASE WHEN (SELECT count(*) FROM custfocus.scale WHERE builtin) = 6
			 AND (SELECT count(*) FROM custfocus.scale WHERE code = 'effort5') = 1
			 AND (SELECT count(*) FROM custfocus.scale_label WHERE scale_id = 1 AND label = 'Somewhat agree' AND NOT builtin) = 1
			 AND (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
				   WHERE c.relnamespace = 'custfocus'::regnamespace AND t.tgenabled = 'D') = 0
			 AND (SELECT count(*) FROM custfocus.setting) = 1
			 AND custfocus.min_responses() = 12
		THEN 'ok' ELSE 'wrong' END;
SQL
done
echo "dump/restore (serial, and pg_restore -j 4 with session_replication_role = replica): $tables tables identical, scorecard, opportunities and measures identical"
