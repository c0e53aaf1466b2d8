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
#include "utils/float.h"
#include "utils/memutils.h"

#include "aggutils.h"
#include "custfocus.h"
#include "pg_compat.h"

/* about 40 MB of hash table at most */
#define FRESH_MAX_ENTRIES	(1024 * 1024)

static HTAB *fresh_responses = NULL;

/*
 * Whether this transaction has queued the compaction of its roll-up keys
 * (rollup_pending) since it last compacted: only the first statement that
 * appends queues it, so that commit runs it once, not once per statement.
 */
static bool pending_signalled = false;

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
	pending_signalled = false;
}

static void
FreshSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		FreshReset();
		/* the signal may have been rolled back with it: signal again */
		pending_signalled = false;
	}
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
 * rollup_pending_signal() returns boolean: true for the first statement of
 * the transaction (since its last compaction) that appends to the roll-ups,
 * whose rollup_pending row then fires the compaction at commit.
 */
PG_FUNCTION_INFO_V1(rollup_pending_signal);
Datum
rollup_pending_signal(PG_FUNCTION_ARGS)
{
	bool		first = !pending_signalled;

	pending_signalled = true;
	PG_RETURN_BOOL(first);
}

/*
 * rollup_pending_consumed(): the compaction ran; a later statement of the
 * same transaction (after SET CONSTRAINTS ... IMMEDIATE) queues it again.
 */
PG_FUNCTION_INFO_V1(rollup_pending_consumed);
Datum
rollup_pending_consumed(PG_FUNCTION_ARGS)
{
	pending_signalled = false;
	PG_RETURN_VOID();
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
 *	 (<= 6), 15-19 the linear_mean_stats state of the linear scores, 20-27
 *	 the pairs (overall, score) of answers whose respondent answered the
 *	 overall item (overall not NULL): n, sum of scores, centred sum of
 *	 squares, the same of the overall scores, centred cross-products
 *	 (PostgreSQL's Youngs-Cramer update and merge, as corr() keeps them), and
 *	 the one score and the one overall score seen so far, NaN once two differ
 *	 (as PostgreSQL 19 keeps them, so that all-equal scores have no
 *	 correlation rather than one made of rounding errors).  The pairs have
 *	 functions of their own (pairs_combine, pairs_corr) rather than
 *	 PostgreSQL's float8_regr_combine and float8_corr, whose state is an
 *	 internal layout that PostgreSQL 19 changed from six numbers to eight.
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
#define IS_LEN			(IS_PAIRS + PAIRS_LEN)

/*
 * A state's data, its shape checked (the pairs' "one score seen" are NaN
 * once two scores differ, so the NaN test of sum states does not apply).
 */
#define CfFloat8State(state, len, aggname) \
	((float8 *) CfRowState((state), FLOAT8OID, (len), (aggname)))

/* the pairs' state */
#define PAIRS_N			0
#define PAIRS_SX		1
#define PAIRS_SXX		2
#define PAIRS_SY		3
#define PAIRS_SYY		4
#define PAIRS_SXY		5
#define PAIRS_COMMON_X	6
#define PAIRS_COMMON_Y	7
#define PAIRS_LEN		8

StaticAssertDecl(IS_LEN == CF_ITEM_STATE_LEN, "item_state length");

/* One pair (y the overall score, x this one) into a pairs state. */
static void
PairsAdd(float8 *p, double x, double y)
{
	double		n0 = p[PAIRS_N];

	p[PAIRS_N] += 1.0;
	p[PAIRS_SX] += x;
	p[PAIRS_SY] += y;
	if (n0 > 0.0)
	{
		double		tmpx = x * p[PAIRS_N] - p[PAIRS_SX];
		double		tmpy = y * p[PAIRS_N] - p[PAIRS_SY];
		double		scale = 1.0 / (p[PAIRS_N] * n0);

		p[PAIRS_SXX] += tmpx * tmpx * scale;
		p[PAIRS_SYY] += tmpy * tmpy * scale;
		p[PAIRS_SXY] += tmpx * tmpy * scale;
		if (x != p[PAIRS_COMMON_X])
			p[PAIRS_COMMON_X] = get_float8_nan();
		if (y != p[PAIRS_COMMON_Y])
			p[PAIRS_COMMON_Y] = get_float8_nan();
	}
	else
	{
		p[PAIRS_COMMON_X] = x;
		p[PAIRS_COMMON_Y] = y;
	}
}

/* Merges pairs state b into a (Youngs-Cramer, generalised). */
static void
PairsMerge(float8 *a, const float8 *b)
{
	if (a[PAIRS_N] == 0.0)
		memcpy(a, b, sizeof(float8) * PAIRS_LEN);
	else if (b[PAIRS_N] > 0.0)
	{
		double		n1 = a[PAIRS_N],
					n2 = b[PAIRS_N],
					n = n1 + n2;
		double		tmp1 = a[PAIRS_SX] / n1 - b[PAIRS_SX] / n2;
		double		tmp2 = a[PAIRS_SY] / n1 - b[PAIRS_SY] / n2;

		a[PAIRS_N] = n;
		a[PAIRS_SX] += b[PAIRS_SX];
		a[PAIRS_SXX] += b[PAIRS_SXX] + n1 * n2 * tmp1 * tmp1 / n;
		a[PAIRS_SY] += b[PAIRS_SY];
		a[PAIRS_SYY] += b[PAIRS_SYY] + n1 * n2 * tmp2 * tmp2 / n;
		a[PAIRS_SXY] += b[PAIRS_SXY] + n1 * n2 * tmp1 * tmp2 / n;
		if (a[PAIRS_COMMON_X] != b[PAIRS_COMMON_X])
			a[PAIRS_COMMON_X] = get_float8_nan();
		if (a[PAIRS_COMMON_Y] != b[PAIRS_COMMON_Y])
			a[PAIRS_COMMON_Y] = get_float8_nan();
	}
}

/*
 * One answer into an item_state's data: oriented score x on lo..hi, weight
 * w, and the same respondent's oriented overall score when has_overall.
 * (The import's roll-up deltas, rollup_import.c, add through this too.)
 */
void
CfItemStateAdd(float8 *s, double x, double lo, double hi, double w,
			   bool has_overall, double overall)
{
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

	if (has_overall)
		PairsAdd(s + IS_PAIRS, x, overall);
}

PG_FUNCTION_INFO_V1(item_stats_accum);
Datum
item_stats_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *s = CfRowState(state, FLOAT8OID, IS_LEN, "item_state");

	/* an answer without a score counts for nothing */
	if (PG_ARGISNULL(1))
		PG_RETURN_ARRAYTYPE_P(state);
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("item_state needs the scale's bounds and a weight for every score")));
	CfItemStateAdd(s, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3),
				   PG_GETARG_FLOAT8(4), !PG_ARGISNULL(5),
				   PG_ARGISNULL(5) ? 0.0 : PG_GETARG_FLOAT8(5));
	PG_RETURN_ARRAYTYPE_P(state);
}

PG_FUNCTION_INFO_V1(item_stats_combine);
Datum
item_stats_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *a = CfFloat8State(state, IS_LEN, "item_state");
	float8	   *b = CfFloat8State(PG_GETARG_ARRAYTYPE_P(1), IS_LEN, "item_state");

	for (int i = 0; i < IS_SUMS; i++)
		a[i] += b[i];
	CfLinearMeanMerge(a + IS_PERF, b + IS_PERF);
	PairsMerge(a + IS_PAIRS, b + IS_PAIRS);
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * pairs_combine(a, b): the merge of two pairs states (rollup_item_month.pairs),
 * for the aggregate pairs_sum.
 */
PG_FUNCTION_INFO_V1(pairs_combine);
Datum
pairs_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *a = CfFloat8State(state, PAIRS_LEN, "pairs_sum");
	float8	   *b = CfFloat8State(PG_GETARG_ARRAYTYPE_P(1), PAIRS_LEN, "pairs_sum");

	PairsMerge(a, b);
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * pairs_corr(state): Pearson's r of a pairs state, as corr() computes it;
 * NULL without pairs or when either side's scores are all equal.
 */
PG_FUNCTION_INFO_V1(pairs_corr);
Datum
pairs_corr(PG_FUNCTION_ARGS)
{
	float8	   *p = CfFloat8State(PG_GETARG_ARRAYTYPE_P(0), PAIRS_LEN, "pairs_corr");

	if (p[PAIRS_N] < 1.0 || !isnan(p[PAIRS_COMMON_X]) || !isnan(p[PAIRS_COMMON_Y]) ||
		p[PAIRS_SXX] == 0.0 || p[PAIRS_SYY] == 0.0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(p[PAIRS_SXY] / sqrt(p[PAIRS_SXX] * p[PAIRS_SYY]));
}
