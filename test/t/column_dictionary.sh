#!/usr/bin/env bash
# README's column dictionary is what custfocus.data_dictionary says, that is
# the views' COMMENTs: regenerate it (test/docs/column_dictionary.sh, one
# throw-away database) and compare with the README section between the
# "column dictionary" markers.  Refresh with
#   test/docs/column_dictionary.sh --update-readme
# Run by test/check.sh inside a pg_virtualenv cluster (PGHOST etc. set).
set -euo pipefail
cd "$(dirname "$0")/../.."

readme=$(sed -n '/^<!-- column dictionary: begin -->$/,/^<!-- column dictionary: end -->$/p' README.md |
	sed -e '1d' -e '$d' | sed -e '/./,$!d' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}')
[ -n "$readme" ] || { echo "README has no column dictionary between its markers" >&2; exit 1; }
generated=$(bash test/docs/column_dictionary.sh)
if [ "$readme" != "$generated" ]; then
	echo "README's column dictionary differs from the views' comments (< README, > comments);" >&2
	echo "run test/docs/column_dictionary.sh --update-readme" >&2
	diff <(echo "$readme") <(echo "$generated") >&2 || true
	exit 1
fi
echo "column dictionary: $(echo "$generated" | grep -c '^| \*\*') views, $(echo "$generated" | grep -c '^| `') columns, as in README"
