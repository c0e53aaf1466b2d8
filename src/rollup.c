/*
 * rollup.c
 *		What the roll-up triggers need to know and SQL cannot tell them
 *		cheaply: which responses this transaction inserted and has not yet
 *		given any answer.
 *
 * The key-driver roll-up pairs each driver answer with the overall answer of
 * the same respondent.  When a statement inserts answers, the pairs it makes
 * are those among its own answers, and those between its answers and answers
 * the response already had.  The second kind needs a look at the answer
 * table for every response (an index probe each: several percent of an
 * import's time), unless the trigger knows that the responses had no
 * answers before the statement, which is the case of every import and of
 * any load that inserts responses and then their answers.  So the response
 * insert trigger records the new responses here, and the answer insert
 * trigger takes them out: if every response of its answers was still
 * recorded, the statement's answers are all those responses have, and the
 * roll-up delta computed from the transition table alone is exact;
 * otherwise the trigger recomputes the keys from the raw data.
 *
 * The set is an optimisation that may only err towards "not fresh": it is
 * emptied at the end of the transaction and whenever a subtransaction
 * aborts (its responses are gone, and an id might be inserted again by
 * someone else); responses whose id changes or that are deleted are taken
 * out; answers moved to a response by UPDATE take it out; and past
 * FRESH_MAX_ENTRIES ids it stops recording (those responses take the
 * recompute path).  The functions are the roll-up triggers' alone (EXECUTE
 * is revoked from PUBLIC): a false "fresh" would make the roll-up wrong.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "custfocus.h"
#include "pg_compat.h"

/* about 40 MB of hash table at most */
#define FRESH_MAX_ENTRIES	(1024 * 1024)

static HTAB *fresh_responses = NULL;

static void
FreshReset(void)
{
	if (fresh_responses != NULL)
	{
		hash_destroy(fresh_responses);
		fresh_responses = NULL;
	}
}

static void
FreshXactCallback(XactEvent event, void *arg)
{
	FreshReset();
}

static void
FreshSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		FreshReset();
}

void
custfocus_rollup_init(void)
{
	RegisterXactCallback(FreshXactCallback, NULL);
	RegisterSubXactCallback(FreshSubXactCallback, NULL);
}

/* The elements of a one-dimensional bigint[] without NULLs. */
static int64 *
ResponseIds(ArrayType *ids, int *n)
{
	if (ARR_ELEMTYPE(ids) != INT8OID)
		elog(ERROR, "custfocus: response ids must be bigint[]");
	if (ARR_NDIM(ids) == 0)
	{
		*n = 0;
		return NULL;
	}
	if (ARR_NDIM(ids) != 1 || ARR_HASNULL(ids))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("response ids must be a one-dimensional array without nulls")));
	*n = ARR_DIMS(ids)[0];
	return (int64 *) ARR_DATA_PTR(ids);
}

/*
 * rollup_fresh_add(ids bigint[]): records responses just inserted.
 */
PG_FUNCTION_INFO_V1(rollup_fresh_add);
Datum
rollup_fresh_add(PG_FUNCTION_ARGS)
{
	ArrayType  *ids = PG_GETARG_ARRAYTYPE_P(0);
	int			n;
	int64	   *id = ResponseIds(ids, &n);

	if (fresh_responses == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(int64);
		ctl.hcxt = TopMemoryContext;
		fresh_responses = hash_create("custfocus fresh responses", 1024, &ctl,
									  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	for (int i = 0; i < n; i++)
	{
		if (hash_get_num_entries(fresh_responses) >= FRESH_MAX_ENTRIES)
			break;
		(void) hash_search(fresh_responses, &id[i], HASH_ENTER, NULL);
	}
	PG_RETURN_VOID();
}

/*
 * rollup_fresh_take(ids bigint[]) returns boolean: true when every response
 * was recorded (none had answers before); takes them all out either way,
 * since from now on they have answers.
 */
PG_FUNCTION_INFO_V1(rollup_fresh_take);
Datum
rollup_fresh_take(PG_FUNCTION_ARGS)
{
	ArrayType  *ids = PG_GETARG_ARRAYTYPE_P(0);
	int			n;
	int64	   *id = ResponseIds(ids, &n);
	bool		all = true;

	for (int i = 0; i < n; i++)
	{
		bool		found = false;

		if (fresh_responses != NULL)
			(void) hash_search(fresh_responses, &id[i], HASH_REMOVE, &found);
		all = all && found;
	}
	PG_RETURN_BOOL(all);
}
