#!/usr/bin/env bash
# The demo: installs build dependencies if missing, builds and installs
# custfocus, starts a throw-away cluster (pg_virtualenv), loads the sample
# agency and prints what an analyst would look at first.  The cluster is
# dropped when the script ends.

if [ "${1:-}" != --in-cluster ]; then
	source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
	pg_virtualenv -t "$CUSTFOCUS_ROOT/test/demo.sh" --in-cluster 2>&1 |
		grep -v -e '^Creating new PostgreSQL cluster' -e '^Dropping cluster'
	exit "${PIPESTATUS[0]}"
fi
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

psql -c 'CREATE EXTENSION custfocus'
psql -f test/data/sample_agency.sql

psql -P footer=off <<'SQL'
\echo
\echo '== Customers and stakeholders: who uses which service, and why =='
SELECT s.code AS service, g.code AS segment, g.relationship, g.kind, ss.need
  FROM custfocus.service_segment ss
  JOIN custfocus.service s USING (service_id)
  JOIN custfocus.segment g USING (segment_id)
 ORDER BY s.code, g.code
 LIMIT 8;

\echo
\echo '== Survey data by service (cs2026): responses and overall satisfaction =='
SELECT p.code AS program, s.code AS service,
	   count(DISTINCT r.response_id) AS responses,
	   max(r.submitted_at)::date AS latest,
	   round(100.0 * count(*) FILTER (WHERE i.is_overall AND a.value >= 4)
			 / nullif(count(*) FILTER (WHERE i.is_overall), 0), 1) AS csat_pct
  FROM custfocus.response r
  JOIN custfocus.survey sv ON sv.survey_id = r.survey_id AND sv.code = 'cs2026'
  JOIN custfocus.service s ON s.service_id = r.service_id
  JOIN custfocus.program p ON p.program_id = s.program_id
  JOIN custfocus.answer a ON a.response_id = r.response_id
  JOIN custfocus.item i ON i.item_id = a.item_id
 GROUP BY p.code, s.code
 ORDER BY csat_pct;
SQL
