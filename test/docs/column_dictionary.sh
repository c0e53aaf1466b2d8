#!/usr/bin/env bash
# Prints the README's "Column dictionary" (markdown) from custfocus.data_dictionary,
# that is from the COMMENTs of the views, in a throw-away database: the README
# section between the "column dictionary" markers is this script's output, and
# test/t/column_dictionary.sh fails when they differ.  To refresh the README
# after changing a comment:
#   test/docs/column_dictionary.sh --update-readme
# Run outside a cluster it makes one with pg_virtualenv (PGPORT as given);
# inside one (PGHOST etc. set, as in test/check.sh) it uses that cluster.
# Needs the extension installed (make install).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if [ -z "${PGHOST:-}" ] && [ "${1:-}" != --in-cluster ]; then
	exec pg_virtualenv -t ${CUSTFOCUS_PG_MAJOR:+-v "$CUSTFOCUS_PG_MAJOR"} "$0" --in-cluster "$@"
fi
[ "${1:-}" = --in-cluster ] && shift

db=cf_column_dictionary_$$
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT
createdb "$db"

dictionary() {
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" -At <<'SQL'
CREATE EXTENSION custfocus;
SELECT '| view, column | type | description |';
SELECT '|---|---|---|';
SELECT format('| %s | %s | %s |',
			  CASE WHEN d.object_kind = 'view' THEN format('**`%s`**', d.object)
				   ELSE format('`%s`', d.column_name) END,
			  CASE WHEN d.data_type IS NULL THEN 'view' ELSE format('`%s`', d.data_type) END,
			  replace(replace(d.description, '|', '\|'), E'\n', ' '))
  FROM custfocus.data_dictionary d
 ORDER BY d.object COLLATE "C", d.ordinal;
SQL
}

if [ "${1:-}" = --update-readme ]; then
	new=$(dictionary)
	NEW="$new" python3 - README.md <<'PY'
import os, re, sys
path = sys.argv[1]
text = open(path).read()
begin = '<!-- column dictionary: begin -->\n'
end = '<!-- column dictionary: end -->\n'
i, j = text.index(begin) + len(begin), text.index(end)
open(path, 'w').write(text[:i] + '\n' + os.environ['NEW'] + '\n\n' + text[j:])
PY
else
	dictionary
fi
