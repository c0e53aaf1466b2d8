/*
 * custfocus.h
 *		Declarations shared by the custfocus C sources.
 */
#ifndef CUSTFOCUS_H
#define CUSTFOCUS_H

/* custfocus.min_responses: a session may raise the suppression floor with it */
extern int	custfocus_min_responses;
extern bool custfocus_live_reports;

/* rollup.c: the responses this transaction inserted that have no answers yet */
extern void custfocus_rollup_init(void);

/* rollup.c: one answer into an item_state (the item roll-up's 28 numbers) */
#define CF_ITEM_STATE_LEN	28
extern void CfItemStateAdd(double *s, double x, double lo, double hi, double w,
						   bool has_overall, double overall);

/* rollup_import.c: the import's roll-up deltas, added up in C */
typedef struct CfRollupImport CfRollupImport;
extern void custfocus_rollup_import_init(void);
extern CfRollupImport *CfRollupImportBegin(int32 survey_id, MemoryContext cxt);
extern void CfRollupImportItem(CfRollupImport *ri, int32 item_id, bool is_overall,
							   const char *metric, bool reverse_coded,
							   double min_value, double max_value);
extern void CfRollupImportClaim(const char *table);
extern void CfRollupImportUnclaim(void);
extern void CfRollupImportBatch(CfRollupImport *ri, int nrows, const bool *inserted,
								const Datum *service, const bool *service_null,
								const Datum *submitted, const Datum *weight,
								int nanswers, const int *a_row, const Datum *a_item,
								const Datum *a_value, const bool *a_value_null);
extern void CfRollupImportApply(CfRollupImport *ri);

/* publish.c: custfocus.publish_after_commit, and the publisher worker */
extern void custfocus_publish_init(void);

/* citus.c: the roll-ups of a distributed custfocus (custfocus.distribute()) */
extern bool custfocus_storing_rollups;
extern void custfocus_citus_init(void);

#endif							/* CUSTFOCUS_H */
