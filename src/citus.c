/*
 * citus.c
 *		What custfocus needs from C when it is distributed on Citus
 *		(custfocus.distribute(), src/sql/distribute.sql).
 *
 * On Citus a DML on response or answer runs on the shards, where the
 * roll-up triggers cannot keep the coordinator's roll-ups.  Triggers on the
 * shards record the (service, time) of every row they change in the
 * co-located table custfocus.rollup_dirty; here, on the coordinator, a
 * transaction that ran a DML on response or answer recomputes those keys
 * just before it commits (custfocus.citus_rollup_sync), so that the
 * roll-ups are current when it commits, as on one node.  The recompute
 * reads as the session's role (Citus refuses to read, as another role,
 * shards the transaction modified); the rows are stored by a SECURITY
 * DEFINER function that accepts them only while custfocus_storing_rollups
 * is set, by this file or by the import, around their own SQL.
 *
 * Citus passes an error a shard raised to the client without its hint and
 * error code when the rows went to the shard by COPY (an INSERT ... SELECT it
 * runs through the coordinator): the triggers on the shards that raise
 * custfocus' errors (custfocus.citus_answer_check, ...) also put both on the
 * detail's last line, after CUSTFOCUS_ERROR_MARK, and an emit_log_hook here
 * takes that line off and gives the error its hint and code back, on the
 * way to the client and the log.
 *
 * The hooks need the library loaded before the first DML of a session:
 * distribute() adds custfocus to the database's session_preload_libraries.
 * On a database without Citus they do nothing but a catalogue lookup after
 * a DML on those two tables.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "custfocus.h"

bool		custfocus_storing_rollups = false;

static bool rollup_sync_pending = false;
static bool rollup_syncing = false;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static emit_log_hook_type prev_emit_log_hook = NULL;

/* the detail's last line: the mark, 5 characters of SQLSTATE, ':', the hint */
#define CUSTFOCUS_ERROR_MARK "custfocus error: "

static void CitusExecutorEnd(QueryDesc *queryDesc);
static void CitusXactCallback(XactEvent event, void *arg);
static void RunRollupSync(void);
static void CitusEmitLog(ErrorData *edata);

void
custfocus_citus_init(void)
{
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = CitusExecutorEnd;
	RegisterXactCallback(CitusXactCallback, NULL);
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = CitusEmitLog;
}

/*
 * An error of a shard's trigger: its detail's last line (see
 * custfocus.citus_error_detail) gives the hint and the code back when Citus
 * dropped them, and goes.
 */
static void
CitusEmitLog(ErrorData *edata)
{
	/*
	 * (Not on a worker serving the coordinator, whose error goes on to the
	 * coordinator: the line must reach it.)
	 */
	if (edata->elevel >= ERROR && edata->detail != NULL &&
		(application_name == NULL || strncmp(application_name, "citus_internal", 14) != 0))
	{
		char	   *line = edata->detail;
		char	   *next;
		const char *code;
		const char *hint;

		/* the last line */
		while ((next = strchr(line, '\n')) != NULL)
			line = next + 1;
		if (strncmp(line, CUSTFOCUS_ERROR_MARK, strlen(CUSTFOCUS_ERROR_MARK)) == 0 &&
			strlen(line) >= strlen(CUSTFOCUS_ERROR_MARK) + 6 &&
			line[strlen(CUSTFOCUS_ERROR_MARK) + 5] == ':')
		{
			code = line + strlen(CUSTFOCUS_ERROR_MARK);
			hint = code + 6;
			if (edata->sqlerrcode == ERRCODE_INTERNAL_ERROR)
				edata->sqlerrcode = MAKE_SQLSTATE(code[0], code[1], code[2], code[3], code[4]);
			if (edata->hint == NULL && *hint != '\0')
				edata->hint = MemoryContextStrdup(ErrorContext, hint);
			/* the line off (the detail is the error's own copy) */
			if (line == edata->detail)
				edata->detail = NULL;
			else
				line[-1] = '\0';
		}
	}

	/*
	 * Citus runs an INSERT ... SELECT it cannot push down (a reference table
	 * with a sequence default: every placement must get the same ids) as a
	 * COPY into the placements unless it has RETURNING or ON CONFLICT, and
	 * PostgreSQL refuses COPY FROM into a table under row-level security:
	 * so an analyst's plain INSERT ... SELECT into feedback fails where the
	 * same statement with RETURNING works.  The placement's error comes with
	 * PostgreSQL's hint, "Use INSERT statements instead.", which puzzles the
	 * author of an INSERT; on the coordinator (where Citus re-raises it, in
	 * ReportResultError) say what to write instead.  Matched on the message
	 * as the placement sent it (a server with English messages): no
	 * catalogue lookup in an error's path.
	 */
	if (edata->elevel >= ERROR && edata->message != NULL &&
		strcmp(edata->message, "COPY FROM not supported with row-level security") == 0 &&
		edata->funcname != NULL && strcmp(edata->funcname, "ReportResultError") == 0 &&
		(application_name == NULL || strncmp(application_name, "citus_internal", 14) != 0))
	{
		edata->sqlerrcode = ERRCODE_FEATURE_NOT_SUPPORTED;
		edata->hint = MemoryContextStrdup(ErrorContext,
										  "On Citus an INSERT ... SELECT into a reference table runs as a COPY unless it has a RETURNING clause; "
										  "add RETURNING (any column), or insert with VALUES.");
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/* A DML on custfocus.response or custfocus.answer, with Citus installed */
static void
CitusExecutorEnd(QueryDesc *queryDesc)
{
	if (!rollup_sync_pending && !rollup_syncing &&
		queryDesc->operation != CMD_SELECT && queryDesc->operation != CMD_UTILITY &&
		queryDesc->plannedstmt != NULL && IsTransactionState())
	{
		Oid			nsp = get_namespace_oid("custfocus", true);
		ListCell   *lc;

		if (OidIsValid(nsp))
		{
			Oid			response = get_relname_relid("response", nsp);
			Oid			answer = get_relname_relid("answer", nsp);

			foreach(lc, queryDesc->plannedstmt->rtable)
			{
				RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

				/* (the catalogue lookup last: single nodes rarely get here) */
				if (rte->rtekind == RTE_RELATION && (rte->relid == response || rte->relid == answer))
				{
					rollup_sync_pending = OidIsValid(get_extension_oid("citus", true));
					break;
				}
			}
		}
	}
	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

static void
CitusXactCallback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (rollup_sync_pending && !rollup_syncing)
			{
				rollup_syncing = true;
				PG_TRY();
				{
					RunRollupSync();
				}
				PG_FINALLY();
				{
					rollup_syncing = false;
					rollup_sync_pending = false;
					custfocus_storing_rollups = false;
				}
				PG_END_TRY();
			}
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			rollup_sync_pending = false;
			rollup_syncing = false;
			custfocus_storing_rollups = false;
			break;
		default:
			break;
	}
}

/* custfocus.citus_rollup_sync(), if this version of the extension has it */
static void
RunRollupSync(void)
{
	bool		pushed = false;
	bool		isnull;
	bool		exists;

	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT pg_catalog.to_regprocedure('custfocus.citus_rollup_sync()') IS NOT NULL",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not look up custfocus.citus_rollup_sync()");
	exists = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (exists)
	{
		custfocus_storing_rollups = true;
		if (SPI_execute("SELECT custfocus.citus_rollup_sync()", false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not bring the roll-ups up to date");
		custfocus_storing_rollups = false;
	}
	SPI_finish();
	if (pushed)
		PopActiveSnapshot();
}

/*
 * custfocus.import_storing_rollups(): whether the extension's own C code is
 * storing roll-up rows right now (see custfocus.citus_rollup_store).
 */
PG_FUNCTION_INFO_V1(import_storing_rollups);
Datum
import_storing_rollups(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(custfocus_storing_rollups);
}
