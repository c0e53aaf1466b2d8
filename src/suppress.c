/*
 * suppress.c
 *		Complementary (secondary) suppression of small groups in additive
 *		tables: which further cells to hide so that no hidden small group can
 *		be recovered by subtraction.
 *
 * The views hide a score computed from fewer than the floor's answers
 * (primary suppression).  But they also show the score of every larger
 * group it belongs to (its program, its quarter, its year) and of the
 * groups beside it, with additive columns: a quarter minus its two shown
 * months is the hidden month.  Statistical agencies answer this with
 * complementary suppression (Cox 1980; tau-ARGUS's hypercube method): hide
 * further cells so that every hidden small group stays unknown.
 *
 * The table is given as cells (each with its number of answers n, and
 * whether the views publish it at all) and relations: a parent cell equal
 * to the sum of its child cells (a quarter and its months, a year and its
 * quarters, a program and the services and programs under it, in one
 * period).  The answer counts n are public (the views show them); the
 * sums are what must not be learnt for a group of fewer than floor answers.
 *
 * The method, deterministic (the same data give the same cells, whoever
 * asks):
 *
 *   1. Hide every published cell with 1 <= n < floor (primary).  A cell is
 *      unknown when hidden or not published and n > 0 (a cell without
 *      answers is known to be empty).
 *   2. Derive: a relation in which exactly one cell is unknown gives that
 *      cell away (the parent minus the others); it is then known, and may
 *      give away another in another relation.  Repeat until nothing more is
 *      derived.  If a derived cell has 1 <= n < floor, its relation is
 *      violated; a relation whose parent is known and whose unknown children
 *      together hold 1 .. floor - 1 answers gives their sum away: violated
 *      too.
 *   3. For the first violated relation (in order), hide its smallest
 *      published, shown child with answers (ties by position); when it has
 *      none (every child it knows was derived elsewhere), one of the
 *      relation that derived it, and so on; only then a parent.  Back to 2;
 *      stop when nothing is violated.
 *
 * Each round hides one more cell, so it ends.  What it guarantees: no
 * small group is recovered from one relation, or from a chain of relations
 * each of which gives one cell away.  It does not solve the linear system of
 * every relation at once (that takes linear programming: an attack
 * combining several relations, each with two or more unknowns, is not
 * ruled out), nor bound how narrowly a hidden value can be pinned between
 * 0 and n; README, Suppression, says so.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "aggutils.h"
#include "custfocus.h"
#include "pg_compat.h"

typedef struct SuppressTable
{
	int			ncells;
	int			nrels;
	const int64 *n;
	const bool *published;
	int64		floor;
	/* relation r: parent rel_parent[r], children child[child_start[r] .. child_start[r + 1] - 1] */
	const int  *rel_parent;
	int		   *child_start;
	int		   *child;
	bool	   *hidden;			/* primary and complementary */
	bool	   *unknown;		/* hidden or unpublished, with answers, and not derived */
	int		   *derived_by;		/* relation that gave the cell away, or -1 */
} SuppressTable;

static inline bool
Sensitive(const SuppressTable *t, int c)
{
	return t->n[c] >= 1 && t->n[c] < t->floor;
}

/*
 * Step 2: derive what the relations give away; return the first violated
 * relation, or -1.
 */
static int
DeriveAll(SuppressTable *t)
{
	bool		changed = true;
	int			c,
				r;

	for (c = 0; c < t->ncells; c++)
	{
		t->unknown[c] = (t->hidden[c] || !t->published[c]) && t->n[c] > 0;
		t->derived_by[c] = -1;
	}
	while (changed)
	{
		changed = false;
		for (r = 0; r < t->nrels; r++)
		{
			int			p = t->rel_parent[r];
			int			nunknown = t->unknown[p] ? 1 : 0;
			int			last = nunknown ? p : -1;
			int64		unknown_n = 0;
			int			k;

			for (k = t->child_start[r]; k < t->child_start[r + 1]; k++)
			{
				c = t->child[k];
				if (t->unknown[c])
				{
					nunknown++;
					last = c;
					unknown_n += t->n[c];
				}
			}
			if (nunknown == 1)
			{
				t->unknown[last] = false;
				t->derived_by[last] = r;
				changed = true;
				if (Sensitive(t, last))
					return r;
			}
			else if (nunknown >= 2 && !t->unknown[p] &&
					 unknown_n >= 1 && unknown_n < t->floor)
				return r;
		}
	}
	return -1;
}

/*
 * The cell to hide for relation r (step 3), or -1 when it has none: its
 * smallest shown child with answers, else one in the relation that derived
 * a cell of r (blocking that derivation), and so on down the chain; only
 * when no relation of the chain has such a child, the first shown parent.
 * (Hiding a parent first would leave the derivation in place and hide
 * more in the end: the 2 x 2 block of a small service-month, its sibling's
 * month and the next months is what the hypercube method would hide.)
 */
static int
FindCandidate(SuppressTable *t, int r)
{
	int			chain_len = 0;
	int		   *chain = palloc(sizeof(int) * (t->nrels + 1));
	int			i,
				result = -1;

	for (;;)
	{
		int			best = -1;
		int			next = -1;
		int			k;

		for (i = 0; i < chain_len; i++)
			if (chain[i] == r)
				break;
		if (i < chain_len || chain_len > t->nrels)
			break;
		chain[chain_len++] = r;
		for (k = t->child_start[r]; k < t->child_start[r + 1]; k++)
		{
			int			c = t->child[k];

			if (t->published[c] && !t->hidden[c] && t->n[c] > 0 &&
				(best < 0 || t->n[c] < t->n[best] || (t->n[c] == t->n[best] && c < best)))
				best = c;
			if (next < 0 && t->derived_by[c] >= 0 && t->derived_by[c] != r)
				next = t->derived_by[c];
		}
		if (best >= 0)
		{
			result = best;
			break;
		}
		if (next < 0 && t->derived_by[t->rel_parent[r]] >= 0 && t->derived_by[t->rel_parent[r]] != r)
			next = t->derived_by[t->rel_parent[r]];
		if (next < 0)
			break;
		r = next;
	}
	for (i = 0; result < 0 && i < chain_len; i++)
	{
		int			p = t->rel_parent[chain[i]];

		if (t->published[p] && !t->hidden[p] && t->n[p] > 0)
			result = p;
	}
	pfree(chain);
	return result;
}

static int *
IntArrayArg(ArrayType *a, const char *name, int *len)
{
	if (ARR_ELEMTYPE(a) != INT4OID || ARR_NDIM(a) > 1 || ARR_HASNULL(a))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional integer array without nulls", name)));
	*len = ARR_NDIM(a) == 0 ? 0 : ARR_DIMS(a)[0];
	return (int *) CfArrayData(a);
}

/*
 * complementary_suppression(n bigint[], published boolean[], rel_parent
 * integer[], child_rel integer[], child_cell integer[], floor integer)
 * returns boolean[]: for each cell, true when it must be hidden although it
 * has floor answers or more, or is not published (the complementary cells).
 * Cells and relations are numbered from 1; child_rel must be in ascending
 * order (the children of relation 1 first).
 */
PG_FUNCTION_INFO_V1(complementary_suppression);
Datum
complementary_suppression(PG_FUNCTION_ARGS)
{
	ArrayType  *n_arr = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *pub_arr = PG_GETARG_ARRAYTYPE_P(1);
	int			nrels,
				nchild,
				nchild2,
				ncells,
				npub,
				c,
				r,
				k;
	int		   *rel_parent = IntArrayArg(PG_GETARG_ARRAYTYPE_P(2), "rel_parent", &nrels);
	int		   *child_rel = IntArrayArg(PG_GETARG_ARRAYTYPE_P(3), "child_rel", &nchild);
	int		   *child_cell = IntArrayArg(PG_GETARG_ARRAYTYPE_P(4), "child_cell", &nchild2);
	int32		floor = PG_GETARG_INT32(5);
	SuppressTable t;
	Datum	   *result;
	int		   *parent0;

	if (ARR_ELEMTYPE(n_arr) != INT8OID || ARR_NDIM(n_arr) > 1 || ARR_HASNULL(n_arr) ||
		ARR_ELEMTYPE(pub_arr) != BOOLOID || ARR_NDIM(pub_arr) > 1 || ARR_HASNULL(pub_arr))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be a bigint array and published a boolean array, one-dimensional, without nulls")));
	ncells = ARR_NDIM(n_arr) == 0 ? 0 : ARR_DIMS(n_arr)[0];
	npub = ARR_NDIM(pub_arr) == 0 ? 0 : ARR_DIMS(pub_arr)[0];
	if (npub != ncells || nchild != nchild2)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("n and published, and child_rel and child_cell, must have the same lengths"),
				 errdetail("n has %d elements, published %d, child_rel %d, child_cell %d.",
						   ncells, npub, nchild, nchild2)));

	t.ncells = ncells;
	t.nrels = nrels;
	t.n = (const int64 *) CfArrayData(n_arr);
	t.published = (const bool *) CfArrayData(pub_arr);
	t.floor = floor;
	parent0 = palloc(sizeof(int) * Max(nrels, 1));
	t.child_start = palloc(sizeof(int) * (nrels + 1));
	t.child = palloc(sizeof(int) * Max(nchild, 1));
	for (r = 0; r < nrels; r++)
	{
		if (rel_parent[r] < 1 || rel_parent[r] > ncells)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("rel_parent[%d] is %d, not a cell (1 to %d)", r + 1, rel_parent[r], ncells)));
		parent0[r] = rel_parent[r] - 1;
	}
	t.rel_parent = parent0;
	/* children grouped by relation, in the ascending order asked for */
	r = 0;
	t.child_start[0] = 0;
	for (k = 0; k < nchild; k++)
	{
		if (child_rel[k] < 1 || child_rel[k] > nrels || child_rel[k] < r + 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("child_rel[%d] is %d: relations must be 1 to %d, in ascending order",
							k + 1, child_rel[k], nrels)));
		if (child_cell[k] < 1 || child_cell[k] > ncells)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("child_cell[%d] is %d, not a cell (1 to %d)", k + 1, child_cell[k], ncells)));
		while (r + 1 < child_rel[k])
			t.child_start[++r] = k;
		t.child[k] = child_cell[k] - 1;
	}
	while (r < nrels)
		t.child_start[++r] = nchild;

	t.hidden = palloc(sizeof(bool) * Max(ncells, 1));
	t.unknown = palloc(sizeof(bool) * Max(ncells, 1));
	t.derived_by = palloc(sizeof(int) * Max(ncells, 1));
	for (c = 0; c < ncells; c++)
		t.hidden[c] = t.published[c] && Sensitive(&t, c);

	for (;;)
	{
		int			violated;
		int			hide;

		CHECK_FOR_INTERRUPTS();
		violated = DeriveAll(&t);
		if (violated < 0)
			break;
		hide = FindCandidate(&t, violated);
		if (hide < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("complementary suppression found no cell to hide for relation %d", violated + 1),
					 errhint("Every cell of the relation is hidden or unpublished, yet one is given away: the relations are inconsistent.")));
		t.hidden[hide] = true;
	}

	result = palloc(sizeof(Datum) * Max(ncells, 1));
	for (c = 0; c < ncells; c++)
		result[c] = BoolGetDatum(t.hidden[c] && !Sensitive(&t, c));
	PG_RETURN_ARRAYTYPE_P(construct_array(result, ncells, BOOLOID, 1, true, TYPALIGN_CHAR));
}
