#!/usr/bin/env bash
# The version and license said in META.json (PGXN), debian/changelog and
# debian/copyright agree with custfocus.control and LICENSE, so a release
# cannot ship one version number in one place and another elsewhere.
# META.json is parsed by the server under test (jsonb), which a fresh root
# has without any JSON tool.
set -euo pipefail
cd "$(dirname "$0")/../.."
control=$(sed -n "s/^default_version = '\(.*\)'/\1/p" custfocus.control)
fail() { echo "metadata: $*" >&2; exit 1; }
read -r meta provides license < <(psql -X -At -F ' ' -v meta="$(cat META.json)" <<'SQL'
SELECT m ->> 'version', m #>> '{provides,custfocus,version}', m ->> 'license'
  FROM (SELECT :'meta'::jsonb AS m) j;
SQL
)
[ "$meta" = "$control.0" ] || fail "META.json version $meta, custfocus.control $control"
[ "$provides" = "$control.0" ] || fail "META.json provides custfocus $provides, custfocus.control $control"
[ "$license" = postgresql ] || fail "META.json license $license"
deb=$(sed -n '1s/^custfocus (\([^-)]*\).*/\1/p' debian/changelog)
[ "$deb" = "$control" ] || fail "debian/changelog upstream version $deb, custfocus.control $control"
grep -q '^License: PostgreSQL$' debian/copyright || fail "debian/copyright does not name the PostgreSQL License"
grep -q '^PostgreSQL License$' LICENSE || fail "LICENSE is not the PostgreSQL License"
echo "metadata: version $control and the PostgreSQL License in META.json, debian/ and LICENSE"
