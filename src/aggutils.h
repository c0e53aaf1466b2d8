/*
 * aggutils.h
 *		Helpers shared by the aggregates: SQL-typed transition states, input
 *		checks with their error messages, and composite results.
 */
#ifndef CUSTFOCUS_AGGUTILS_H
#define CUSTFOCUS_AGGUTILS_H

#include "fmgr.h"
#include "utils/array.h"

/*
 * Largest number of items (cronbach_alpha) or drivers plus outcome
 * (relative_weights) in one array; the co-moment state grows with its
 * square and the eigen-solver with its cube.
 */
#define CF_MAX_VARIABLES	1000

/* the transition state argument, writable when called as an aggregate */
extern ArrayType *CfStateArg(FunctionCallInfo fcinfo, int argno);

/*
 * Validate a state array (one dimension, expected length, no NULLs, the
 * right element type) and return its data.  States come from SQL and the
 * support functions can be called directly, so nothing is assumed.
 */
extern int64 *CfCountState(ArrayType *state, int len, const char *aggname);
extern float8 *CfSumState(ArrayType *state, int len, const char *aggname);
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

/* input checks; each raises an error naming the function and the value */
extern char *CfFormatFloat(double value);
extern const char *CfAggName(FunctionCallInfo fcinfo, const char *fallback);
extern void CfCheckWeight(double weight, const char *fname);
extern void CfCheckFinite(double value, const char *what, const char *fname);
extern void CfCheckLevel(double level, const char *fname);

/* a row of the function's declared composite result type */
extern Datum CfMakeRecord(FunctionCallInfo fcinfo, Datum *values, bool *nulls);

#endif							/* CUSTFOCUS_AGGUTILS_H */
