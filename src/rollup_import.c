/*
 * rollup_import.c
 *		The roll-up deltas of an import, added up in C as it inserts its
 *		batches and appended once, at its end.
 *
 * Any statement that inserts responses or answers has its roll-up deltas
 * appended by the statement triggers of src/sql/rollup.sql, which read the
 * transition tables back, join them with the responses, items and scales
 * and aggregate: for an import, once per batch of 5,000 responses, and each
 * batch's delta rows later compacted at commit.  That cost as much as
 * three quarters of the import itself.  The import already holds every
 * value those triggers read (each response's service, time and weight, each
 * answer's item and value), so it adds them up here as each batch goes in,
 * into one state per service and month and one per service, month and
 * item, and appends those states once, through custfocus.rollup_import_apply,
 * with the keys for the compaction and suppression at commit.  The states
 * are built by the same functions the aggregates use (CfTopBoxWeightedAdd,
 * CfNpsWeightedAdd, CfLinearMeanAdd, CfItemStateAdd, CfPairwiseAddRow), so they cannot count
 * differently; sql/rollup.sql checks rollup_verify() after imports.
 *
 * The triggers stand aside for the import's own two INSERT statements only:
 * the import "claims" the statement just before running it, and the
 * statement's roll-up trigger takes the claim and returns (the claim is
 * dropped when the statement returns, and at any (sub)transaction end).
 * This path is taken only where nothing else could put rows in, or change
 * the import's rows, between the import and the triggers: no trigger on
 * response or answer that would fire other than the extension's own, no
 * rule, and the two roll-up insert triggers enabled (a DBA who disabled
 * them, for a load to be followed by rollup_rebuild(), gets no deltas
 * either way); and not on Citus, whose roll-ups the coordinator keeps (see
 * citus.c).  Otherwise the triggers do the work as for any INSERT.  The
 * relations are locked (RowExclusiveLock, which the import takes anyway)
 * before the triggers are looked at, so no trigger can be created, enabled
 * or disabled until the transaction ends.
 *
 * As the answer trigger does, the items and scales of the survey are locked
 * FOR SHARE before they are read (custfocus.rollup_import_begin), so that a
 * change of an item's metric, orientation or scale in another transaction
 * waits for this one, or this one sees it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "aggutils.h"
#include "custfocus.h"
#include "pg_compat.h"

/* what the roll-ups need of an item (one with a scale) */
typedef struct ImportItem
{
	int32		item_id;		/* hash key */
	bool		is_overall;
	bool		rating;			/* metric 'rating' */
	bool		nps;			/* metric 'nps' */
	bool		reverse_coded;
	double		min_value;
	double		max_value;
} ImportItem;

typedef struct MonthKey
{
	int32		service_id;
	DateADT		month;
} MonthKey;

/* one row of rollup_service_month in the making */
typedef struct MonthDelta
{
	MonthKey	key;
	int64		responses;
	int64		answers;		/* answers with a value */
	float8		csat[CF_WBOX_STATE_LEN];
	int64		csat_counts[CF_BOX_STATE_LEN];
	float8		nps[CF_WNPS_STATE_LEN];
	float8		lm[CF_LINEAR_MEAN_STATE_LEN];
	ArrayType  *pairs;			/* rollup_pairs_month.state, or NULL */
} MonthDelta;

typedef struct ItemKey
{
	int32		service_id;
	DateADT		month;
	int32		item_id;
} ItemKey;

/* one row of rollup_item_month in the making */
typedef struct ItemDelta
{
	ItemKey		key;
	float8		s[CF_ITEM_STATE_LEN];
} ItemDelta;

struct CfRollupImport
{
	MemoryContext cxt;
	int32		survey_id;
	text	   *time_zone;		/* the reporting time zone */
	HTAB	   *items;
	HTAB	   *months;
	HTAB	   *item_months;
};

/* the statement the import is running: "response", "answer" or none */
static const char *claimed_table = NULL;

static void
ClaimXactCallback(XactEvent event, void *arg)
{
	claimed_table = NULL;
}

static void
ClaimSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		claimed_table = NULL;
}

void
custfocus_rollup_import_init(void)
{
	RegisterXactCallback(ClaimXactCallback, NULL);
	RegisterSubXactCallback(ClaimSubXactCallback, NULL);
}

/* Whether trigger tg fires in this session (session_replication_role). */
static bool
TriggerFires(const Trigger *tg)
{
	if (tg->tgenabled == TRIGGER_DISABLED)
		return false;
	if (tg->tgenabled == TRIGGER_FIRES_ALWAYS)
		return true;
	if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		return tg->tgenabled == TRIGGER_FIRES_ON_REPLICA;
	return tg->tgenabled == TRIGGER_FIRES_ON_ORIGIN;
}

/*
 * Whether custfocus.<relname> lets the import add its own deltas: its
 * roll-up insert trigger fires, and no other trigger that fires is anyone
 * else's, and it has no rules.  Locks the relation as an INSERT does.
 */
static bool
TriggersAllowDeltas(const char *relname, const char *rollup_trigger, Oid extension)
{
	Oid			relid = RangeVarGetRelid(makeRangeVar("custfocus", (char *) relname, -1),
										 RowExclusiveLock, false);
	Relation	rel = table_open(relid, NoLock);
	bool		ours = false;
	bool		others = rel->rd_rules != NULL;

	if (rel->trigdesc != NULL)
	{
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *tg = &rel->trigdesc->triggers[i];

			if (tg->tgisinternal || !TriggerFires(tg))
				continue;
			if (strcmp(tg->tgname, rollup_trigger) == 0)
				ours = true;
			else if (getExtensionOfObject(ProcedureRelationId, tg->tgfoid) != extension)
				others = true;
		}
	}
	table_close(rel, NoLock);
	return ours && !others;
}

static Oid
RollupFunction(const char *name, int nargs, Oid *argtypes)
{
	return LookupFuncName(list_make2(makeString("custfocus"), makeString(pstrdup(name))),
						  nargs, argtypes, false);
}

/*
 * The import's accumulator, or NULL when the triggers are to do the work.
 * Locks the survey's items and scales (before the import reads them).
 */
CfRollupImport *
CfRollupImportBegin(int32 survey_id, MemoryContext cxt)
{
	Oid			extension = get_extension_oid("custfocus", false);
	Oid			argtypes[1] = {INT4OID};
	CfRollupImport *ri;
	HASHCTL		ctl;
	Datum		tz;

	if (!TriggersAllowDeltas("response", "rollup_response_insert", extension) ||
		!TriggersAllowDeltas("answer", "rollup_answer_insert", extension))
		return NULL;

	/*
	 * Through fmgr, as the triggers call it: a SECURITY DEFINER function
	 * with EXECUTE granted to nobody, so that no user can take the locks or
	 * append states in its name.
	 */
	tz = OidFunctionCall1(RollupFunction("rollup_import_begin", 1, argtypes),
						  Int32GetDatum(survey_id));

	ri = MemoryContextAllocZero(cxt, sizeof(CfRollupImport));
	ri->cxt = cxt;
	ri->survey_id = survey_id;
	ri->time_zone = (text *) MemoryContextAlloc(cxt, VARSIZE_ANY(DatumGetPointer(tz)));
	memcpy(ri->time_zone, DatumGetPointer(tz), VARSIZE_ANY(DatumGetPointer(tz)));

	memset(&ctl, 0, sizeof(ctl));
	ctl.hcxt = cxt;
	ctl.keysize = sizeof(int32);
	ctl.entrysize = sizeof(ImportItem);
	ri->items = hash_create("custfocus import items", 64, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.keysize = sizeof(MonthKey);
	ctl.entrysize = sizeof(MonthDelta);
	ri->months = hash_create("custfocus import months", 256, &ctl,
							 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.keysize = sizeof(ItemKey);
	ctl.entrysize = sizeof(ItemDelta);
	ri->item_months = hash_create("custfocus import item months", 1024, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	return ri;
}

/* An item of the survey with a scale, as the import read it. */
void
CfRollupImportItem(CfRollupImport *ri, int32 item_id, bool is_overall, const char *metric,
				   bool reverse_coded, double min_value, double max_value)
{
	ImportItem *item = hash_search(ri->items, &item_id, HASH_ENTER, NULL);

	item->is_overall = is_overall;
	item->rating = strcmp(metric, "rating") == 0;
	item->nps = strcmp(metric, "nps") == 0;
	item->reverse_coded = reverse_coded;
	item->min_value = min_value;
	item->max_value = max_value;
}

/*
 * The import is about to run its INSERT into custfocus.<table>: that
 * statement's roll-up trigger stands aside (the import adds the deltas).
 */
void
CfRollupImportClaim(const char *table)
{
	claimed_table = table;
}

void
CfRollupImportUnclaim(void)
{
	claimed_table = NULL;
}

/*
 * custfocus.rollup_import_claimed(table name) returns boolean: true in the
 * roll-up insert trigger of the import's own statement into that table
 * (the claim is taken).  For the triggers only (EXECUTE revoked).
 */
PG_FUNCTION_INFO_V1(rollup_import_claimed);
Datum
rollup_import_claimed(PG_FUNCTION_ARGS)
{
	const char *table = NameStr(*PG_GETARG_NAME(0));

	if (claimed_table == NULL || strcmp(claimed_table, table) != 0)
		PG_RETURN_BOOL(false);
	claimed_table = NULL;
	PG_RETURN_BOOL(true);
}

/* First day of the month of t in the reporting time zone, as the triggers say it. */
static DateADT
ReportingMonth(CfRollupImport *ri, Datum t)
{
	Datum		local = DirectFunctionCall2(timestamptz_zone, PointerGetDatum(ri->time_zone), t);
	Datum		month = DirectFunctionCall2(timestamp_trunc, CStringGetTextDatum("month"), local);

	return DatumGetDateADT(DirectFunctionCall1(timestamp_date, month));
}

/*
 * A batch the import inserted: rows 0..nrows-1 (those with inserted[k]
 * went in), and answers 0..nanswers-1 of rows a_row[], all of inserted
 * rows.  What rollup_response_insert and rollup_answer_insert would have
 * appended, added to the import's states.
 */
void
CfRollupImportBatch(CfRollupImport *ri, int nrows, const bool *inserted,
					const Datum *service, const bool *service_null,
					const Datum *submitted, const Datum *weight,
					int nanswers, const int *a_row, const Datum *a_item,
					const Datum *a_value, const bool *a_value_null)
{
	MemoryContext old = MemoryContextSwitchTo(ri->cxt);
	MonthDelta **row_month = palloc0(sizeof(MonthDelta *) * Max(nrows, 1));
	double	   *overall = palloc(sizeof(double) * Max(nrows, 1));
	bool	   *has_overall = palloc0(sizeof(bool) * Max(nrows, 1));
	int			k;

	/* the responses, counted in their service and month */
	for (k = 0; k < nrows; k++)
	{
		MonthKey	key;
		bool		found;
		MonthDelta *m;

		if (!inserted[k] || service_null[k])
			continue;
		memset(&key, 0, sizeof(key));
		key.service_id = DatumGetInt32(service[k]);
		key.month = ReportingMonth(ri, submitted[k]);
		m = hash_search(ri->months, &key, HASH_ENTER, &found);
		if (!found)
		{
			memset((char *) m + sizeof(MonthKey), 0, sizeof(MonthDelta) - sizeof(MonthKey));
			/* the states start where the aggregates' INITCOND do */
		}
		m->responses++;
		row_month[k] = m;
	}

	/* each response's overall score (a survey has one overall item at most) */
	for (k = 0; k < nanswers; k++)
	{
		int32		item_id = DatumGetInt32(a_item[k]);
		ImportItem *item;
		double		x;

		if (a_value_null[k] || row_month[a_row[k]] == NULL)
			continue;
		item = hash_search(ri->items, &item_id, HASH_FIND, NULL);
		if (item == NULL || !item->is_overall)
			continue;
		x = (double) DatumGetFloat4(a_value[k]);
		if (item->reverse_coded)
			x = item->min_value + item->max_value - x;
		overall[a_row[k]] = x;
		has_overall[a_row[k]] = true;
	}

	/* the answers, as the answer trigger's aggregates take them */
	for (k = 0; k < nanswers; k++)
	{
		int			row = a_row[k];
		MonthDelta *m = row_month[row];
		int32		item_id = DatumGetInt32(a_item[k]);
		ImportItem *item;
		double		value,
					score,
					w;
		ItemKey		ikey;
		ItemDelta  *d;
		bool		found;

		if (a_value_null[k] || m == NULL)
			continue;
		item = hash_search(ri->items, &item_id, HASH_FIND, NULL);
		if (item == NULL)
			continue;			/* no scale: the trigger's join drops it */
		value = (double) DatumGetFloat4(a_value[k]);
		score = item->reverse_coded ? item->min_value + item->max_value - value : value;
		w = DatumGetFloat8(weight[row]);

		m->answers++;
		if (item->is_overall && (item->rating || item->nps))
			CfTopBoxWeightedAdd(m->csat, score, item->max_value - 1, w);
		if (item->is_overall)
			CfTopBoxCountAdd(m->csat_counts, score, item->max_value - 1);
		if (item->nps)
			CfNpsWeightedAdd(m->nps, value, w);
		if (item->rating)
			CfLinearMeanAdd(m->lm, CfLinearScore(score, item->min_value, item->max_value,
												 "linear_mean_stats"), w);

		memset(&ikey, 0, sizeof(ikey));
		ikey.service_id = m->key.service_id;
		ikey.month = m->key.month;
		ikey.item_id = item_id;
		d = hash_search(ri->item_months, &ikey, HASH_ENTER, &found);
		if (!found)
			memset(d->s, 0, sizeof(d->s));
		CfItemStateAdd(d->s, score, item->min_value, item->max_value, w,
					   !item->is_overall && has_overall[row], overall[row]);
	}

	/*
	 * The pairs roll-up: each response's scored answers as one row of
	 * pairwise_state(item ids, scores), as the answer trigger gives them
	 * (every pair is new: the responses had no answers before).
	 */
	{
		int		   *first = palloc(sizeof(int) * (nrows + 1));
		int		   *next = palloc(sizeof(int) * Max(nanswers, 1));
		double	   *ids = palloc(sizeof(double) * Max(nanswers, 1));
		double	   *x = palloc(sizeof(double) * Max(nanswers, 1));
		bool	   *present = palloc(sizeof(bool) * Max(nanswers, 1));

		/* each row's answers, in order (a linked list through next) */
		for (k = 0; k <= nrows; k++)
			first[k] = -1;
		for (k = nanswers - 1; k >= 0; k--)
		{
			next[k] = first[a_row[k]];
			first[a_row[k]] = k;
		}
		for (int row = 0; row < nrows; row++)
		{
			MonthDelta *m = row_month[row];
			int			n = 0;

			if (m == NULL)
				continue;
			for (k = first[row]; k >= 0; k = next[k])
			{
				int32		item_id = DatumGetInt32(a_item[k]);
				ImportItem *item;
				double		value;

				if (a_value_null[k])
					continue;
				item = hash_search(ri->items, &item_id, HASH_FIND, NULL);
				if (item == NULL)
					continue;
				value = (double) DatumGetFloat4(a_value[k]);
				ids[n] = item_id;
				x[n] = item->reverse_coded ? item->min_value + item->max_value - value : value;
				present[n] = true;
				n++;
			}
			if (n == 0)
				continue;
			if (m->pairs == NULL)
				m->pairs = construct_empty_array(FLOAT8OID);
			m->pairs = CfPairwiseAddRow(m->pairs, n, ids, x, present, NULL, "pairwise_state");
		}
		pfree(first);
		pfree(next);
		pfree(ids);
		pfree(x);
		pfree(present);
	}
	pfree(row_month);
	pfree(overall);
	pfree(has_overall);
	MemoryContextSwitchTo(old);
}

static Datum
Float8Array(const float8 *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * n);

	for (int i = 0; i < n; i++)
		d[i] = Float8GetDatum(v[i]);
	return PointerGetDatum(construct_array(d, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

static Datum
Int8Array(const int64 *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * n);

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(v[i]);
	return PointerGetDatum(construct_array(d, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* An array of rows of custfocus.<relname>'s row type. */
static Datum
RowArray(const char *relname, Datum *rows, int n)
{
	Oid			typid = get_rel_type_id(RangeVarGetRelid(makeRangeVar("custfocus", (char *) relname, -1),
														 NoLock, false));
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(typid, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(rows, n, typid, typlen, typbyval, typalign));
}

static TupleDesc
RowDesc(const char *relname, int natts)
{
	Oid			typid = get_rel_type_id(RangeVarGetRelid(makeRangeVar("custfocus", (char *) relname, -1),
														 NoLock, false));
	TupleDesc	desc = lookup_rowtype_tupdesc_copy(typid, -1);

	if (desc->natts != natts)
		elog(ERROR, "custfocus.%s has %d columns, the import's roll-up deltas %d",
			 relname, desc->natts, natts);
	return desc;
}

/*
 * Appends the import's states: one row per service and month and one per
 * service, month and item, with the unit roll-ups and the keys to compact
 * and suppress at commit (custfocus.rollup_import_apply).
 */
void
CfRollupImportApply(CfRollupImport *ri)
{
	MemoryContext old = MemoryContextSwitchTo(ri->cxt);
	long		nmonths = hash_get_num_entries(ri->months);
	long		nitems = hash_get_num_entries(ri->item_months);
	TupleDesc	mdesc = RowDesc("rollup_service_month", 7);
	TupleDesc	idesc = RowDesc("rollup_item_month", 20);
	TupleDesc	pdesc = RowDesc("rollup_pairs_month", 4);
	Datum	   *mrows;
	Datum	   *prows;
	int			npairs;
	Datum	   *irows;
	Datum	   *answers;
	HASH_SEQ_STATUS seq;
	MonthDelta *m;
	ItemDelta  *d;
	Oid			argtypes[4];
	int			i = 0;

	if (nmonths == 0)
	{
		MemoryContextSwitchTo(old);
		return;
	}
	mrows = palloc(sizeof(Datum) * nmonths);
	answers = palloc(sizeof(Datum) * nmonths);
	hash_seq_init(&seq, ri->months);
	while ((m = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[7];
		bool		nulls[7] = {false};

		values[0] = Int32GetDatum(m->key.service_id);
		values[1] = DateADTGetDatum(m->key.month);
		values[2] = Int64GetDatum(m->responses);
		/* a key without answers has no states, as the response trigger's rows */
		if (m->answers == 0)
			nulls[3] = nulls[4] = nulls[5] = nulls[6] = true;
		else
		{
			values[3] = Float8Array(m->csat, CF_WBOX_STATE_LEN);
			values[4] = Int8Array(m->csat_counts, CF_BOX_STATE_LEN);
			values[5] = Float8Array(m->nps, CF_WNPS_STATE_LEN);
			values[6] = Float8Array(m->lm, CF_LINEAR_MEAN_STATE_LEN);
		}
		mrows[i] = heap_copy_tuple_as_datum(heap_form_tuple(mdesc, values, nulls), mdesc);
		answers[i] = Int64GetDatum(m->answers);
		i++;
	}

	/* the pairs rows (a key with scored answers has one) */
	prows = palloc(sizeof(Datum) * nmonths);
	npairs = 0;
	hash_seq_init(&seq, ri->months);
	while ((m = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[4];
		bool		nulls[4] = {false};

		if (m->pairs == NULL)
			continue;
		values[0] = Int32GetDatum(m->key.service_id);
		values[1] = DateADTGetDatum(m->key.month);
		values[2] = Int32GetDatum(ri->survey_id);
		values[3] = PointerGetDatum(m->pairs);
		prows[npairs++] = heap_copy_tuple_as_datum(heap_form_tuple(pdesc, values, nulls), pdesc);
	}

	irows = palloc(sizeof(Datum) * Max(nitems, 1));
	i = 0;
	hash_seq_init(&seq, ri->item_months);
	while ((d = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[20];
		bool		nulls[20] = {false};
		int			c;

		values[0] = Int32GetDatum(d->key.service_id);
		values[1] = DateADTGetDatum(d->key.month);
		values[2] = Int32GetDatum(d->key.item_id);
		/* n, four sums, four counts, six weights: item_state's first 15 */
		for (c = 0; c < 15; c++)
		{
			bool		count = c == 0 || (c >= 5 && c <= 8);

			values[3 + c] = count ? Int64GetDatum((int64) d->s[c]) : Float8GetDatum(d->s[c]);
		}
		values[18] = Float8Array(d->s + 15, CF_LINEAR_MEAN_STATE_LEN);
		values[19] = Float8Array(d->s + 15 + CF_LINEAR_MEAN_STATE_LEN,
								 CF_ITEM_STATE_LEN - 15 - CF_LINEAR_MEAN_STATE_LEN);
		irows[i++] = heap_copy_tuple_as_datum(heap_form_tuple(idesc, values, nulls), idesc);
	}

	argtypes[0] = get_array_type(mdesc->tdtypeid);
	argtypes[1] = get_array_type(idesc->tdtypeid);
	argtypes[2] = get_array_type(pdesc->tdtypeid);
	argtypes[3] = INT8ARRAYOID;
	OidFunctionCall4(RollupFunction("rollup_import_apply", 4, argtypes),
					 RowArray("rollup_service_month", mrows, (int) nmonths),
					 RowArray("rollup_item_month", irows, i),
					 RowArray("rollup_pairs_month", prows, npairs),
					 PointerGetDatum(construct_array(answers, (int) nmonths, INT8OID, sizeof(int64),
													 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)));
	MemoryContextSwitchTo(old);
}
