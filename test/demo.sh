#!/usr/bin/env bash
# The demo: installs build dependencies if missing, builds and installs
# custfocus, starts a throw-away cluster (pg_virtualenv), loads the sample
# agency and prints what an analyst would look at first.  The cluster is
# dropped when the script ends.

if [ "${1:-}" != --in-cluster ]; then
	source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
	pg_virtualenv -t -v "$CUSTFOCUS_PG_MAJOR" "$CUSTFOCUS_ROOT/test/demo.sh" --in-cluster 2>&1 |
		grep -v -e '^Creating new PostgreSQL cluster' -e '^Dropping cluster'
	exit "${PIPESTATUS[0]}"
fi
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

psql -c 'CREATE EXTENSION custfocus'
psql -f test/data/sample_agency.sql

# A survey export as Qualtrics writes it (labels, three header rows, contact
# columns that are not stored), loaded through the import.
psql -P footer=off <<'SQL'
\echo
\echo '== Import of a Qualtrics export (test/data/qualtrics_labels.csv) into survey cs2026 =='
\set csv `cat test/data/qualtrics_labels.csv`
SELECT import_id, status, rows_read, responses_inserted, answers_inserted, rows_skipped, duplicates
  FROM custfocus.import_responses('cs2026', :'csv', '{"source": "qualtrics_labels.csv"}');
\echo 'Loading it again adds nothing:'
SELECT responses_inserted, duplicates
  FROM custfocus.import_responses('cs2026', :'csv', '{"source": "qualtrics_labels.csv"}');
SQL

psql -P footer=off <<'SQL'
\echo
\echo '== Data coverage: which services have survey data, and how recent =='
SELECT program_code AS program, service_code AS service, surveys, responses,
	   responses_last_90_days AS last_90d, days_since_last_response AS days_since, coverage
  FROM custfocus.data_coverage;

\echo
\echo '== Scorecard, latest full quarter (2026-Q3): services, then program roll-ups =='
SELECT level, coalesce(service_code, program_code) AS unit, responses AS n,
	   round(csat::numeric, 1) AS csat_pct,
	   format('%s..%s', round(csat_ci_low::numeric), round(csat_ci_high::numeric)) AS csat_95ci,
	   round(nps::numeric) AS nps, round(linear_mean::numeric, 1) AS linear_mean,
	   round(csat_change::numeric, 1) AS csat_change,
	   CASE WHEN csat_change_p < 0.05 THEN 'yes' ELSE 'no' END AS significant
  FROM custfocus.scorecard
 WHERE grain = 'quarter' AND period_label = '2026-Q3'
 ORDER BY level DESC, csat;

\echo
\echo '== Improvement opportunities: where to improve first (top 10) =='
SELECT rank, service_code AS service, requirement_name AS requirement, survey_code AS survey,
	   round(importance::numeric) AS importance, importance_source AS source,
	   round(performance::numeric) AS performance, round(gap::numeric) AS gap,
	   round(priority::numeric) AS priority, quadrant, open_actions
  FROM custfocus.improvement_opportunities
 WHERE rank <= 10;
\echo
\echo 'Why the top one ranks first:'
SELECT reason FROM custfocus.improvement_opportunities WHERE rank = 1;

\echo
\echo '== Key drivers: what explains overall satisfaction, the largest samples =='
\echo '(relative importance: Johnson''s relative weights of the requirements, percent of R squared;'
\echo ' alpha of the requirement items; pairwise, from the pairs roll-up over the 12-month window)'
SELECT service_code AS service, survey_code AS survey, requirement_name AS requirement,
	   round(importance::numeric) AS importance, round(relative_importance::numeric, 1) AS relative_pct,
	   round(model_r2::numeric, 2) AS r2, model_n, round(drivers_alpha::numeric, 2) AS alpha
  FROM custfocus.key_drivers
 WHERE relative_importance IS NOT NULL
 ORDER BY model_n DESC, service_code, survey_code, relative_importance DESC
 LIMIT 8;

\echo
\echo '== Performance measures, latest period =='
SELECT DISTINCT ON (measure_code) measure_code, period_label, n, round(actual::numeric, 1) AS actual,
	   target, met, trend
  FROM custfocus.measure_status ORDER BY measure_code, period_start DESC;
SQL
# What a BI tool's login sees (README, Access levels): the reader level, one
# program, and the schema that holds the views and nothing else.
psql -P footer=off <<'SQL'
CREATE ROLE demo_bi_reader;
SELECT custfocus.grant_program_access('demo_bi_reader', 'WIC') AS granted,
	   custfocus.grant_access('demo_bi_reader', 'reader') AS level \gset
SET ROLE demo_bi_reader;
\echo
\echo '== A BI reader of WIC: what its navigator lists in custfocus_reports, and its scorecard =='
SELECT count(*) AS relations_listed, count(*) FILTER (WHERE has_table_privilege(c.oid, 'SELECT')) AS readable
  FROM pg_class c WHERE c.relnamespace = 'custfocus_reports'::regnamespace;
SELECT coalesce(service_code, program_code) AS unit, responses AS n, round(csat::numeric, 1) AS csat_pct, suppressed
  FROM custfocus_reports.scorecard
 WHERE grain = 'year' AND period_label = '2026'
 ORDER BY level DESC, unit;
\echo
\echo 'Its monthly CSAT cells: shown, hidden for too few answers, and hidden so that'
\echo 'no small group can be subtracted out of the others (complementary suppression):'
SELECT count(*) FILTER (WHERE csat IS NOT NULL) AS shown,
	   count(*) FILTER (WHERE csat IS NULL AND csat_n BETWEEN 1 AND custfocus.min_responses() - 1) AS too_few_answers,
	   count(*) FILTER (WHERE csat IS NULL AND csat_n >= custfocus.min_responses()) AS complementary
  FROM custfocus_reports.scorecard
 WHERE grain = 'month';
RESET ROLE;

\echo
\echo '== Published figures: finished when the data last changed, read by key =='
-- (by a background worker right after each commit: see README, Publication
-- after commit; the views compute them when read until it is done)
SELECT custfocus.report_wait() AS published_after_the_last_commit;
SELECT s.publications AS commits_that_published,
	   (SELECT count(*) FROM custfocus.report_scorecard) AS scorecard_rows,
	   (SELECT count(*) FROM custfocus.report_key_drivers) AS key_driver_rows,
	   (SELECT count(*) FROM custfocus.report_measure_status) AS measure_rows,
	   (SELECT count(*) FROM custfocus.report_verify()) AS differing_from_a_computation_now
  FROM custfocus.report_state s;
SQL
