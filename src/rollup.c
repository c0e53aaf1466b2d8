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

#include "aggutils.h"
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
	return (int64 *) CfArrayData(ids);
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

/*
 * The item roll-up's statistics of a set of answers to one item, in one
 * pass: custfocus.item_state(score, scale_min, scale_max, weight, overall).
 * Every column of rollup_item_month comes from this one state, whether the
 * answer trigger aggregates its transition table or rollup_item_compute the
 * raw data, so the two cannot count differently; one transition call per
 * answer, where SQL would make eighteen.  The state:
 *
 *	 0 n, 1 sum of weights, 2 of squared weights, 3 of scores, 4 of weight x
 *	 score, 5-8 answers in the top two, top one, bottom two and bottom one
 *	 categories (score >= max - 1, >= max, <= min + 1, <= min), 9-12 their
 *	 weights, 13-14 weights of NPS promoters (score >= 9) and detractors
 *	 (<= 6), 15-19 the linear_mean_stats state of the linear scores, 20-25
 *	 the state of corr(overall, score) (float8_regr_accum's, PostgreSQL's
 *	 own Youngs-Cramer update, over answers whose respondent answered the
 *	 overall item: overall not NULL).
 */
#define IS_N			0
#define IS_SUM_W		1
#define IS_SUM_W2		2
#define IS_SUM_X		3
#define IS_SUM_WX		4
#define IS_N_TOP2		5
#define IS_N_TOP1		6
#define IS_N_BOTTOM2	7
#define IS_N_BOTTOM1	8
#define IS_W_TOP2		9
#define IS_W_TOP1		10
#define IS_W_BOTTOM2	11
#define IS_W_BOTTOM1	12
#define IS_W_PROMOTERS	13
#define IS_W_DETRACTORS 14
#define IS_SUMS			15		/* elements 0 .. 14 add up */
#define IS_PERF			15
#define IS_PAIRS		(IS_PERF + CF_LINEAR_MEAN_STATE_LEN)
#define IS_LEN			(IS_PAIRS + 6)

PG_FUNCTION_INFO_V1(item_stats_accum);
Datum
item_stats_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *s = CfRowState(state, FLOAT8OID, IS_LEN, "item_state");
	double		x,
				lo,
				hi,
				w;

	/* an answer without a score counts for nothing */
	if (PG_ARGISNULL(1))
		PG_RETURN_ARRAYTYPE_P(state);
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("item_state needs the scale's bounds and a weight for every score")));
	x = PG_GETARG_FLOAT8(1);
	lo = PG_GETARG_FLOAT8(2);
	hi = PG_GETARG_FLOAT8(3);
	w = PG_GETARG_FLOAT8(4);
	CfCheckWeight(w, "item_state");

	s[IS_N] += 1.0;
	s[IS_SUM_W] += w;
	s[IS_SUM_W2] += w * w;
	s[IS_SUM_X] += x;
	s[IS_SUM_WX] += w * x;
	if (x >= hi - 1)
	{
		s[IS_N_TOP2] += 1.0;
		s[IS_W_TOP2] += w;
	}
	if (x >= hi)
	{
		s[IS_N_TOP1] += 1.0;
		s[IS_W_TOP1] += w;
	}
	if (x <= lo + 1)
	{
		s[IS_N_BOTTOM2] += 1.0;
		s[IS_W_BOTTOM2] += w;
	}
	if (x <= lo)
	{
		s[IS_N_BOTTOM1] += 1.0;
		s[IS_W_BOTTOM1] += w;
	}
	if (x >= 9)
		s[IS_W_PROMOTERS] += w;
	if (x <= 6)
		s[IS_W_DETRACTORS] += w;
	CfLinearMeanAdd(s + IS_PERF, CfLinearScore(x, lo, hi, "item_state"), w);

	if (!PG_ARGISNULL(5))
	{
		float8	   *p = s + IS_PAIRS;
		double		y = PG_GETARG_FLOAT8(5);
		double		n0 = p[0];

		/* float8_regr_accum, for finite scores: Y the overall, X this one */
		p[0] += 1.0;
		p[1] += x;
		p[3] += y;
		if (n0 > 0.0)
		{
			double		tmpx = x * p[0] - p[1];
			double		tmpy = y * p[0] - p[3];
			double		scale = 1.0 / (p[0] * n0);

			p[2] += tmpx * tmpx * scale;
			p[4] += tmpy * tmpy * scale;
			p[5] += tmpx * tmpy * scale;
		}
	}
	PG_RETURN_ARRAYTYPE_P(state);
}

PG_FUNCTION_INFO_V1(item_stats_combine);
Datum
item_stats_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *a = CfSumState(state, IS_LEN, "item_state");
	float8	   *b = CfSumState(PG_GETARG_ARRAYTYPE_P(1), IS_LEN, "item_state");
	float8	   *pa = a + IS_PAIRS;
	float8	   *pb = b + IS_PAIRS;

	for (int i = 0; i < IS_SUMS; i++)
		a[i] += b[i];
	CfLinearMeanMerge(a + IS_PERF, b + IS_PERF);

	/* float8_regr_combine */
	if (pa[0] == 0.0)
		memcpy(pa, pb, sizeof(float8) * 6);
	else if (pb[0] > 0.0)
	{
		double		n1 = pa[0],
					n2 = pb[0],
					n = n1 + n2;
		double		tmp1 = pa[1] / n1 - pb[1] / n2;
		double		tmp2 = pa[3] / n1 - pb[3] / n2;

		pa[0] = n;
		pa[1] += pb[1];
		pa[2] += pb[2] + n1 * n2 * tmp1 * tmp1 / n;
		pa[3] += pb[3];
		pa[4] += pb[4] + n1 * n2 * tmp2 * tmp2 / n;
		pa[5] += pb[5] + n1 * n2 * tmp1 * tmp2 / n;
	}
	PG_RETURN_ARRAYTYPE_P(state);
}
