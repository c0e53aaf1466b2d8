#!/usr/bin/env bash
# Import into a LATIN1 database: UTF-8 and UTF-16 exports are converted to
# the database encoding, a Windows-1252 export too, text arguments (already
# LATIN1) are read as they are, and a character LATIN1 cannot hold stops the
# import with its line in the error context.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
db=custfocus_import_latin1
data=$(pwd)/test/data
trap 'dropdb --if-exists "$db" 2>/dev/null || true' EXIT
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
fail() {
	echo "import_latin1: $*" >&2
	exit 1
}

createdb -E LATIN1 --locale=C -T template0 "$db"
psql() { command psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
psql -c 'CREATE EXTENSION custfocus' -f test/data/fixture_survey.sql

# UTF-16 (Excel) and UTF-8 exports are converted
got=$(psql -At -c "SELECT responses_inserted FROM custfocus.import_responses_file('cs2026', '$data/excel_unicode_text.txt', '{\"columns\": {\"Comments\": \"Q6\"}}')")
[ "$got" = 40 ] || fail "excel: $got responses"
cafe=$(PGCLIENTENCODING=UTF8 psql -At -c "SELECT count(*) FROM custfocus.answer WHERE text_value LIKE '%café'")
[ "$cafe" = 40 ] || fail "excel: $cafe comments end in café"
psql -c "DELETE FROM custfocus.response"
got=$(psql -At -c "SELECT answers_inserted FROM custfocus.import_responses_file('cs2026', '$data/qualtrics_labels.csv')")
[ "$got" = 221 ] || fail "qualtrics: $got answers"
psql -c "DELETE FROM custfocus.response"

# a text argument is in the database encoding already: é is one byte here
got=$(PGCLIENTENCODING=UTF8 psql -At -c "SELECT answers_inserted FROM custfocus.import_responses('cs2026', E'id,Date,Q6\n1,2026-01-01,Déjà vu\n')")
[ "$got" = 1 ] || fail "text argument: $got answers"
len=$(psql -At -c "SELECT octet_length(text_value) FROM custfocus.answer")
[ "$len" = 7 ] || fail "text argument stored in $len bytes, expected 7"
psql -c "DELETE FROM custfocus.response"

# Windows-1252 curly quotes have no LATIN1 equivalent: the import stops,
# naming the line
out=$(command psql -X -q -d "$db" -c "SELECT custfocus.import_responses_file('cs2026', '$data/windows1252.csv', '{\"encoding\": \"windows-1252\"}')" 2>&1 || true)
echo "$out" | grep -q 'has no equivalent in encoding "LATIN1"' || fail "expected a conversion error, got: $out"
echo "$out" | grep -q 'windows1252.csv", line 2' || fail "expected the line in the context, got: $out"
# invalid UTF-8 is still a bad row with its line and column
out=$(command psql -X -q -d "$db" -c "SELECT custfocus.import_responses_file('cs2026', '$data/bad_invalid_utf8.csv')" 2>&1 || true)
echo "$out" | grep -q 'Line 6, column "service"' || fail "expected the invalid byte on line 6, got: $out"
[ "$(psql -At -c 'SELECT count(*) FROM custfocus.response')" = 0 ] || fail "rows left behind"
echo "import_latin1: ok"
