# Sourced by the scripts in test/t/ that need a scratch database and a scratch
# directory the server can read (the server runs as another OS user).
#
#   test_scratch NAME   sets $db (custfocus_NAME) and $work, quiets NOTICEs,
#                       and removes both when the script exits, after calling
#                       test_cleanup_hook if the script defines one
#   fail MESSAGE        prints "NAME: MESSAGE" and exits non-zero

test_scratch() {
	test_name=$1
	export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
	db=custfocus_$1
	work=$(mktemp -d "/tmp/custfocus-$1.XXXXXX")
	chmod 777 "$work"
	trap test_cleanup EXIT
}

test_cleanup() {
	if declare -F test_cleanup_hook >/dev/null; then test_cleanup_hook; fi
	rm -rf "$work"
	dropdb --if-exists "$db" 2>/dev/null || true
}

fail() {
	echo "$test_name: $*" >&2
	exit 1
}
