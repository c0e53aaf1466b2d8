/*
 * aggutils.h
 *		Helpers shared by the aggregates: SQL-typed transition states, input
 *		checks with their error messages, and composite results.
 */
#ifndef CUSTFOCUS_AGGUTILS_H
#define CUSTFOCUS_AGGUTILS_H

#include <math.h>

#include "fmgr.h"
#include "nodes/nodes.h"
#include "utils/array.h"

#include "pg_compat.h"

/*
 * Largest number of items (cronbach_alpha) or drivers plus outcome
 * (relative_weights) in one array; the co-moment state grows with its
 * square and the eigen-solver with its cube.
 */
#define CF_MAX_VARIABLES	1000

/*
 * The transition state argument, writable when called as an aggregate.
 * Inside an aggregate the state belongs to the aggregate and may be
 * scribbled on; called directly, the argument may be a constant or a table
 * value and must be copied first.
 *
 * This runs once a row, so it does inline what AggCheckCallContext and
 * PG_GETARG_ARRAYTYPE_P do behind two out-of-line calls: the same node
 * tests (an AggState or a WindowAggState as the call context) and
 * detoasting only when the header says the value is toasted, which a state
 * the aggregate built itself never is.
 */
static inline ArrayType *
CfStateArg(FunctionCallInfo fcinfo, int argno)
{
	Node	   *context = fcinfo->context;
	struct varlena *state = (struct varlena *) PG_GETARG_POINTER(argno);

	if (likely(context != NULL &&
			   (IsA(context, AggState) || IsA(context, WindowAggState))))
		return (ArrayType *) (unlikely(VARATT_IS_EXTENDED(state)) ?
							  pg_detoast_datum(state) : state);
	return PG_GETARG_ARRAYTYPE_P_COPY(argno);
}

/*
 * Validate a state array (one dimension, expected length, no NULLs, the
 * right element type) and return its data.  States come from SQL and the
 * support functions can be called directly, so nothing is assumed.
 */
extern int64 *CfCountState(ArrayType *state, int len, const char *aggname);
extern float8 *CfSumState(ArrayType *state, int len, const char *aggname);
pg_noreturn extern void CfInvalidStateShape(ArrayType *state, Oid elemtype, int len,
											const char *aggname);
extern float8 *CfFloat8Data(ArrayType *state, int *len, const char *aggname);

extern ArrayType *CfNewFloat8Array(int len);

/*
 * ARR_DATA_PTR, minus the mixed signed/unsigned ?: in ARR_DATA_OFFSET that
 * -Wextra (-Wsign-compare) rejects.
 */
static inline void *
CfArrayData(ArrayType *a)
{
	Size		offset = ARR_HASNULL(a) ? (Size) a->dataoffset :
		ARR_OVERHEAD_NONULLS(ARR_NDIM(a));

	return (char *) a + offset;
}

/*
 * The per-row form of the checks above, for transition functions: only the
 * shape, which is what memory safety needs; the final and combine functions
 * check the contents before they use them.  Inline, because it runs once a
 * row.
 */
static inline void *
CfRowState(ArrayType *state, Oid elemtype, int len, const char *aggname)
{
	if (unlikely(ARR_NDIM(state) != 1 || ARR_DIMS(state)[0] != len ||
				 ARR_HASNULL(state) || ARR_ELEMTYPE(state) != elemtype))
		CfInvalidStateShape(state, elemtype, len, aggname);
	return CfArrayData(state);
}

/* input checks; each raises an error naming the function and the value */
extern char *CfFormatFloat(double value);
extern const char *CfAggName(FunctionCallInfo fcinfo, const char *fallback);
pg_noreturn extern void CfInvalidWeight(double weight, const char *fname);
pg_noreturn extern void CfNotFinite(double value, const char *what,
									 const char *fname);

static inline void
CfCheckFinite(double value, const char *what, const char *fname)
{
	if (unlikely(!isfinite(value)))
		CfNotFinite(value, what, fname);
}

static inline void
CfCheckWeight(double weight, const char *fname)
{
	if (unlikely(!(weight > 0.0 && isfinite(weight))))
		CfInvalidWeight(weight, fname);
}

extern void CfCheckLevel(double level, const char *fname);

/* a row of the function's declared composite result type */
extern Datum CfMakeRecord(FunctionCallInfo fcinfo, Datum *values, bool *nulls);

/* moments.c: the linear mean state, shared with the item roll-up (rollup.c) */
#define CF_LINEAR_MEAN_STATE_LEN	5
extern void CfLinearMeanAdd(float8 *s, double y, double w);
extern void CfLinearMeanMerge(float8 *a, const float8 *b);
extern double CfLinearScore(double x, double lo, double hi, const char *fname);

/* scores.c: the roll-ups' score states, one answer at a time (rollup.c) */
#define CF_WBOX_STATE_LEN			4
#define CF_BOX_STATE_LEN			2
#define CF_WNPS_STATE_LEN			6
extern void CfNpsWeightedAdd(float8 *s, double score, double w);
extern void CfTopBoxWeightedAdd(float8 *s, double score, double threshold, double w);
extern void CfTopBoxCountAdd(int64 *c, double score, double threshold);

/* matrix.c: pairwise states (the roll-up of answer pairs, rollup_import.c) */
extern ArrayType *CfPairwiseAddRow(ArrayType *state, int n, const double *ids, const double *x,
								   const bool *present, const bool *fresh, const char *fname);
extern ArrayType *CfPairwiseMerge(ArrayType *a, ArrayType *b, const char *fname);

#endif							/* CUSTFOCUS_AGGUTILS_H */
