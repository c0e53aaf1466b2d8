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

/* citus.c: the roll-ups of a distributed custfocus (custfocus.distribute()) */
extern bool custfocus_storing_rollups;
extern void custfocus_citus_init(void);

#endif							/* CUSTFOCUS_H */
