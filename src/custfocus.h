/*
 * custfocus.h
 *		Declarations shared by the custfocus C sources.
 */
#ifndef CUSTFOCUS_H
#define CUSTFOCUS_H

/* custfocus.min_responses: groups with fewer valid answers are suppressed */
extern int	custfocus_min_responses;

#endif							/* CUSTFOCUS_H */
