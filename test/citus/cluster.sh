#!/usr/bin/env bash
# A throw-away Citus cluster on localhost: a coordinator and two workers, each
# a fresh initdb of one PostgreSQL major with shared_preload_libraries =
# 'citus', the citus and custfocus extensions created on every node and the
# workers added with citus_add_node.  Everything (servers, data directories,
# sockets, logs) is stopped and removed on exit, whatever the outcome.
#
#   bash test/citus/cluster.sh CMD [ARGS...]   run CMD against the coordinator
#                                              and exit with its status
#   source test/citus/cluster.sh               start the cluster in this shell;
#                                              it is removed when the shell
#                                              exits (sets an EXIT trap)
#
# CMD (or the sourcing shell) gets PGHOST (a socket directory), PGPORT (the
# coordinator), PGUSER=postgres and PGDATABASE=custfocus, and
# CITUS_WORKER_PORTS="p1 p2".  Settings, from the environment:
#   CITUS_PG_MAJOR  the major (default: the newest with citus.so installed)
#   CITUS_PORT      the coordinator's port (default 55432); the workers take
#                   the next two
# Citus and custfocus must be installed for that major (test/citus/build.sh,
# make install).  Run as root: the servers run as the OS user postgres.

citus_cluster_say() { echo "citus-cluster: $*" >&2; }

citus_cluster_start() {
	local major=${CITUS_PG_MAJOR:-} port=${CITUS_PORT:-55432} bin n p dir
	if [ -z "$major" ]; then
		major=$(ls -v /usr/lib/postgresql/*/lib/citus.so 2>/dev/null | tail -n 1 |
			sed -n 's,^/usr/lib/postgresql/\([0-9]*\)/lib/citus.so$,\1,p')
	fi
	[ -n "$major" ] || { citus_cluster_say "no Citus installed (run test/citus/build.sh MAJOR)"; return 1; }
	bin=/usr/lib/postgresql/$major/bin
	[ -f "/usr/lib/postgresql/$major/lib/citus.so" ] || { citus_cluster_say "Citus is not installed for PostgreSQL $major"; return 1; }
	[ "$(id -u)" -eq 0 ] || { citus_cluster_say "run as root (the servers run as postgres)"; return 1; }
	id postgres >/dev/null 2>&1 || { citus_cluster_say "no OS user postgres"; return 1; }

	CITUS_CLUSTER_DIR=$(mktemp -d /tmp/custfocus-citus.XXXXXX)
	CITUS_CLUSTER_BIN=$bin
	CITUS_CLUSTER_NODES=()
	chown postgres: "$CITUS_CLUSTER_DIR"
	chmod 700 "$CITUS_CLUSTER_DIR"
	trap citus_cluster_stop EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	export PGHOST=$CITUS_CLUSTER_DIR PGPORT=$port PGUSER=postgres PGDATABASE=custfocus
	export CITUS_WORKER_PORTS="$((port + 1)) $((port + 2))"
	unset PGSERVICE PGPASSWORD PGOPTIONS PGHOSTADDR
	citus_cluster_say "PostgreSQL $major ($("$bin/postgres" --version | sed 's/.*) //')): coordinator on port $port, workers on $CITUS_WORKER_PORTS, sockets in $CITUS_CLUSTER_DIR"
	for n in 0 1 2; do
		p=$((port + n))
		dir=$CITUS_CLUSTER_DIR/node$p
		runuser -u postgres -- "$bin/initdb" -D "$dir" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
			--no-sync >"$CITUS_CLUSTER_DIR/initdb$p.log" 2>&1 ||
			{ cat "$CITUS_CLUSTER_DIR/initdb$p.log" >&2; return 1; }
		cat >>"$dir/postgresql.conf" <<-EOF
			# test/citus/cluster.sh
			port = $p
			listen_addresses = 'localhost'
			unix_socket_directories = '$CITUS_CLUSTER_DIR'
			shared_preload_libraries = 'citus'
			fsync = off
			synchronous_commit = off
			full_page_writes = off
			max_connections = 200
			# nodes talk over localhost without TLS; nothing leaves the machine
			citus.node_conninfo = 'sslmode=disable'
			citus.enable_statistics_collection = off
			lc_messages = 'C'
		EOF
		CITUS_CLUSTER_NODES+=("$dir")
		runuser -u postgres -- "$bin/pg_ctl" -D "$dir" -l "$CITUS_CLUSTER_DIR/node$p.log" -w -t 60 start >/dev/null ||
			{ tail -n 30 "$CITUS_CLUSTER_DIR/node$p.log" >&2; return 1; }
		# citus first: custfocus may then be recorded as a distributed object
		"$bin/psql" -X -q -v ON_ERROR_STOP=1 -p "$p" -d postgres -c 'CREATE DATABASE custfocus' &&
			"$bin/psql" -X -q -v ON_ERROR_STOP=1 -p "$p" -c 'SET client_min_messages = warning' \
				-c 'CREATE EXTENSION citus' -c 'CREATE EXTENSION custfocus' || return 1
	done
	for p in $CITUS_WORKER_PORTS; do
		"$bin/psql" -X -q -v ON_ERROR_STOP=1 -At -c "SELECT citus_add_node('localhost', $p)" >/dev/null || return 1
	done
	citus_cluster_say "Citus $("$bin/psql" -X -At -c 'SELECT citus_version()' | sed -n 's/^Citus \([^ ]*\).*/\1/p') on" \
		"$("$bin/psql" -X -At -c "SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND isactive")" \
		"active nodes (1 coordinator, $("$bin/psql" -X -At -c 'SELECT count(*) FROM citus_get_active_worker_nodes()') workers)"
	PATH=$bin:$PATH
	export PATH
	CITUS_CLUSTER_UP=1
}

citus_cluster_stop() {
	local rc=$? dir
	trap - EXIT INT TERM
	if [ -n "${CITUS_CLUSTER_DIR:-}" ] && [ -d "$CITUS_CLUSTER_DIR" ]; then
		if [ $rc -ne 0 ]; then
			# the servers' side: the whole end of each log if the cluster did
			# not come up, else only their errors
			for dir in "$CITUS_CLUSTER_DIR"/node*.log; do
				[ -f "$dir" ] || continue
				if [ -n "${CITUS_CLUSTER_UP:-}" ]; then
					grep -E 'ERROR|FATAL|PANIC|terminated by signal' "$dir" | tail -n 10 |
						sed "s/^/$(basename "$dir" .log): /" >&2 || true
				else
					echo "---- last lines of $(basename "$dir") ----" >&2
					tail -n 15 "$dir" >&2
				fi
			done
		fi
		for dir in "${CITUS_CLUSTER_NODES[@]}"; do
			[ -f "$dir/postmaster.pid" ] &&
				runuser -u postgres -- "$CITUS_CLUSTER_BIN/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null 2>&1
		done
		rm -rf "$CITUS_CLUSTER_DIR"
		citus_cluster_say "stopped and removed"
	fi
	CITUS_CLUSTER_DIR= CITUS_CLUSTER_UP=
	return $rc
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# run: start, run the command, stop (through the EXIT trap)
	set -euo pipefail
	[ $# -gt 0 ] || { sed -n '2,21p' "${BASH_SOURCE[0]}" >&2; exit 2; }
	citus_cluster_start || exit 1
	rc=0
	"$@" || rc=$?
	exit $rc
else
	citus_cluster_start
fi
