/*
 * publish.c
 *		Publication after commit: a background worker that publishes the
 *		figures a commit changed, once that commit is visible.
 *
 * A commit that changed answers used to publish every figure it touched
 * (scorecard, trend, key drivers, measures) before it returned: about
 * 0.2 s of every import's commit on the benchmark agency, whatever the
 * import's size.  With custfocus.publish_after_commit on (the default) the
 * commit only lists what it changed (custfocus.report_stale) and asks for
 * this worker; until the worker has published, the views compute the
 * figures from the roll-ups when read (report_published() is false while
 * anything is listed), so every reader sees the same exact numbers either
 * way, as TimescaleDB's real-time aggregates do between refreshes.
 *
 * The worker is a dynamic background worker (no shared_preload_libraries
 * needed): registered by the committing backend in its commit callback,
 * after the commit is visible to others, so that the worker's snapshot
 * holds what it must publish.  It connects to the same database as the
 * extension's owner, who may run the publication function (revoked from
 * everyone else), calls custfocus.report_publish_pending() and exits.
 * Publications run one at a time (report_state's row lock); a commit
 * that sees a worker of its database at work asks for no other, since that
 * one will take its listing too (see report_publish), so commits closer
 * together than a publication start about one worker each publication.
 * When no worker slot is free, the commit warns, and the figures stay
 * listed (read live, exact) until the next commit's worker, a report_wait
 * (which starts one when none is at work) or report_publish_pending().
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "custfocus.h"
#include "pg_compat.h"

static bool custfocus_publish_after_commit = true;

/* a worker is wanted when this transaction commits, as this role */
static bool publish_requested = false;
static Oid	publish_role = InvalidOid;

PGDLLEXPORT pg_noreturn void custfocus_publish_main(Datum arg);

/*
 * Registers a publisher for this database, to run as the given role; false
 * when no background worker slot is free.  No handle is asked for: it would
 * be palloc'd, and an error after the commit is a PANIC.
 */
static bool
StartPublisher(Oid role)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, sizeof(worker.bgw_library_name), "custfocus");
	snprintf(worker.bgw_function_name, sizeof(worker.bgw_function_name), "custfocus_publish_main");
	snprintf(worker.bgw_name, sizeof(worker.bgw_name), "custfocus publisher");
	snprintf(worker.bgw_type, sizeof(worker.bgw_type), "custfocus publisher");
	worker.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
	memcpy(worker.bgw_extra, &role, sizeof(Oid));
	worker.bgw_notify_pid = 0;
	return RegisterDynamicBackgroundWorker(&worker, NULL);
}

static void
PublishXactCallback(XactEvent event, void *arg)
{
	if (!publish_requested)
		return;
	if (event != XACT_EVENT_COMMIT)
	{
		/*
		 * Aborted: nothing to publish.  Prepared: its COMMIT PREPARED may
		 * run in another session, which starts nothing; its listing waits
		 * for the next commit's publisher or a report_wait.
		 */
		if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE)
			publish_requested = false;
		return;
	}
	publish_requested = false;

	/* the commit is done: a warning, never an error, from here */
	if (!StartPublisher(publish_role))
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a custfocus publisher: no background worker slot is free"),
				 errdetail("The reporting views compute the figures this commit changed when read, until they are published."),
				 errhint("Raise max_worker_processes; custfocus.report_wait() starts a publisher once a slot is free.")));
}

void
custfocus_publish_init(void)
{
	DefineCustomBoolVariable("custfocus.publish_after_commit",
							 "Publish the figures a commit changed in a background worker after the commit, rather than in the commit.",
							 "On, the default: a commit that changed answers lists what it changed and returns; a background "
							 "worker publishes it right after, and until then the reporting views compute those figures when "
							 "read (the same numbers). Off: the commit publishes them itself before it returns.",
							 &custfocus_publish_after_commit,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	RegisterXactCallback(PublishXactCallback, NULL);
}

/* The role that owns the extension: the publisher's. */
static Oid
ExtensionOwner(void)
{
	Oid			ext = get_extension_oid("custfocus", false);
	Oid			owner;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(ext));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "custfocus: extension %u not found", ext);
	owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

/*
 * Whether a publisher can connect as the owner: before PostgreSQL 17 a
 * background worker connects only as a role that may log in.
 */
static bool
OwnerCanPublish(Oid owner)
{
	HeapTuple	tup;
	bool		can;

	if (!CF_PUBLISHER_NEEDS_LOGIN)
		return true;
	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(owner));
	if (!HeapTupleIsValid(tup))
		return false;
	can = ((Form_pg_authid) GETSTRUCT(tup))->rolcanlogin;
	ReleaseSysCache(tup);
	return can;
}

/*
 * custfocus.publish_after_commit(): whether this session's commits leave
 * the publication to a background worker: the setting (read through a
 * function, see session_min_responses in custfocus.c), and a publisher
 * able to connect (on PostgreSQL 15 and 16, an owner without LOGIN cannot:
 * then the commit publishes, as with the setting off, rather than list
 * what no worker could ever publish).
 */
PG_FUNCTION_INFO_V1(publish_after_commit);
Datum
publish_after_commit(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(custfocus_publish_after_commit && OwnerCanPublish(ExtensionOwner()));
}

/*
 * custfocus.report_publish_request(now boolean): a publisher is to start,
 * as the extension's owner (looked up here, inside the transaction: the
 * commit callback may not read the catalogues): when this transaction
 * commits, or at once (now: what is listed is committed already, see
 * report_wait).  Returns false when it could not start one at once.
 */
PG_FUNCTION_INFO_V1(report_publish_request);
Datum
report_publish_request(PG_FUNCTION_ARGS)
{
	bool		now = PG_ARGISNULL(0) ? false : PG_GETARG_BOOL(0);
	Oid			owner = ExtensionOwner();

	if (!OwnerCanPublish(owner))
		PG_RETURN_BOOL(false);
	if (now)
		PG_RETURN_BOOL(StartPublisher(owner));
	publish_role = owner;
	publish_requested = true;
	PG_RETURN_BOOL(true);
}

/*
 * On any exit (an error, SIGTERM): idle before the abort releases the
 * publication lock (before_shmem_exit callbacks run last registered first,
 * so this one before InitPostgres's, which aborts the transaction), so that
 * no commit counts on a publisher that will not take its listing.
 */
static void
PublisherExit(int code, Datum arg)
{
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * The worker: publish what is listed, in one transaction, and exit.  An
 * error is logged and ends the worker; what it did not publish stays listed
 * (the views compute it when read) until the next commit's publisher or a
 * report_wait starts another.
 */
void
custfocus_publish_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);
	Oid			role;

	memcpy(&role, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, role,
											  BGWORKER_BYPASS_ROLELOGINCHECK_COMPAT | BGWORKER_BYPASS_ALLOWCONN);
	before_shmem_exit(PublisherExit, (Datum) 0);

	/*
	 * What the database or the owner's settings may say must not make the
	 * publication fail where the commit's would not have: it waits for the
	 * lock as long as it takes, under READ COMMITTED (a fresh snapshot after
	 * the lock, see report_publish_pending), and writes.
	 */
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("idle_in_transaction_session_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("session_replication_role", "origin", PGC_SUSET, PGC_S_OVERRIDE);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	/*
	 * The extension may have been dropped (or the database restored without
	 * it) since the commit that asked for this worker: then there is nothing
	 * to publish, and no error to log.
	 */
	if (OidIsValid(get_extension_oid("custfocus", true)))
	{
		/*
		 * Active from before the publication lock until it has taken and
		 * published the listings: a commit that sees this worker active
		 * (under the lock) starts no other (custfocus.report_publish).
		 */
		pgstat_report_activity(STATE_RUNNING, "SELECT custfocus.report_publish_pending()");
		if (SPI_execute("SELECT custfocus.report_publish_pending()", false, 0) != SPI_OK_SELECT)
			elog(ERROR, "custfocus: publication failed");
	}
	SPI_finish();
	PopActiveSnapshot();

	/*
	 * Idle before the commit releases the lock: a commit that takes the
	 * lock after this one's must not count on it.
	 */
	pgstat_report_activity(STATE_IDLE, NULL);
	CommitTransactionCommand();
	pgstat_report_stat(true);
	proc_exit(0);
}
