#!/usr/bin/env bash
# One huge field costs a small multiple of its size, not a dozen copies:
# imports an export whose one row carries a 60 MB comment and checks the
# backend's peak resident memory (VmHWM of /proc/PID/status, the backend's
# pid from pg_backend_pid(); the server runs on this machine) grew by at
# most 4 times the field.  What the import itself keeps is about one copy
# (the batch's array); the executor adds two while it inserts (the heap
# tuple, and the answer trigger's transition table); the rest of the bound
# is for the shared buffers the backend touches.  The transition table must
# stay in memory (the import raises work_mem for such a batch's INSERT): were
# it spilled to a temp file, the trigger would read the tuple back into a
# fourth copy, and on PostgreSQL 18+ the spilled tuple's memory is kept too
# (a generation context keeps the emptied block), so 4.2 times the field.
# The growth is almost all private memory (RssShmem grows by ~10 MB), so
# VmHWM is a fair measure.  Runs in test/check.sh's throw-away cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

field=${IMPORT_MEMORY_FIELD:-60000000}
source test/lib.sh
test_scratch import_memory

# one quoted comment of $field bytes, of text like a comment's (it
# compresses, as text does, so that the toast table's pages stay few)
{
	echo 'respondent_id,submitted_at,Q1,Q6'
	printf 'M1,2026-01-01,4,"'
	awk -v n="$field" 'BEGIN {
		s = "The clinic was friendly, but the wait was long and the forms confusing. ";
		for (i = 0; i + length(s) <= n; i += length(s))
			printf "%s", s;
		printf "%s", substr(s, 1, n - i);
	}'
	printf '"\n'
} > "$work/huge.csv"
chmod 644 "$work/huge.csv"

createdb "$db"
psql() { command psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
psql -c 'CREATE EXTENSION custfocus' -f test/data/fixture_survey.sql

# kB of a line of /proc/PID/status, from the output below
kb() { sed -n "s/^$1 \([0-9]*\)\$/\1/p" "$work/mem"; }

psql -At -v file="$work/huge.csv" -v mem="$work/mem" > "$work/out" <<'SQL'
SELECT pg_backend_pid() AS pid \gset
\setenv PID :pid
\setenv MEM :mem
\! test -r /proc/$PID/status && sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/before_rss \1/p' /proc/$PID/status > $MEM
SELECT responses_inserted FROM custfocus.import_responses_file('cs2026', :'file');
\! sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/after_hwm \1/p' /proc/$PID/status >> $MEM
SELECT length(text_value) FROM custfocus.answer WHERE text_value IS NOT NULL;
SQL
if [ ! -s "$work/mem" ]; then
	echo "import_memory: skipped, the backend's /proc/PID/status cannot be read here"
	exit 0
fi
[ "$(sed -n 1p "$work/out")" = 1 ] || fail "the row was not inserted: $(cat "$work/out")"
[ "$(sed -n 2p "$work/out")" = "$field" ] || fail "the comment has length $(sed -n 2p "$work/out"), expected $field"
before=$(kb before_rss)
after=$(kb after_hwm)
growth=$(( (after - before) * 1024 ))
awk -v g="$growth" -v f="$field" 'BEGIN {
	printf "import_memory: a field of %.0f MB raised the backend'"'"'s peak memory by %.0f MB (%.1f times the field)\n",
		f / 1e6, g / 1e6, g / f }'
[ "$growth" -le $((4 * field)) ] || fail "peak memory grew by more than 4 times the field"
