/*
 * pg_compat.h
 *		Every difference between the supported PostgreSQL majors (15 to 19)
 *		that the C sources meet, in one place, so that the rest of the code
 *		reads as if there were one PostgreSQL: the newest spelling is used
 *		everywhere, and older majors get it defined here.
 *
 * Include after postgres.h.
 */
#ifndef CUSTFOCUS_PG_COMPAT_H
#define CUSTFOCUS_PG_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "custfocus requires PostgreSQL 15 or later"
#endif

#define PG_VERSION_16 160000
#define PG_VERSION_18 180000

/*
 * PostgreSQL 18 replaced the pg_attribute_noreturn() suffix with the
 * pg_noreturn prefix (C11 _Noreturn where available).  GCC and clang accept
 * their noreturn attribute in front of a declaration too.
 */
#if PG_VERSION_NUM < PG_VERSION_18
#define pg_noreturn pg_attribute_noreturn()
#endif

/*
 * PostgreSQL 16 added the DateTimeErrorExtra argument to DecodeDateTime(),
 * where it reports which time zone was bad; the import only needs to know
 * that a date is not valid.
 */
#if PG_VERSION_NUM >= PG_VERSION_16
#define DecodeDateTime_compat(field, ftype, nf, dtype, tm, fsec, tz) \
	({ \
		DateTimeErrorExtra extra_compat_; \
		DecodeDateTime((field), (ftype), (nf), (dtype), (tm), (fsec), (tz), &extra_compat_); \
	})
#else
#define DecodeDateTime_compat(field, ftype, nf, dtype, tm, fsec, tz) \
	DecodeDateTime((field), (ftype), (nf), (dtype), (tm), (fsec), (tz))
#endif

/*
 * PostgreSQL 17 lets a background worker connect as a role without LOGIN
 * (BGWORKER_BYPASS_ROLELOGINCHECK); before it, the publisher's role (the
 * extension's owner) must be able to log in.
 */
#ifdef BGWORKER_BYPASS_ROLELOGINCHECK
#define BGWORKER_BYPASS_ROLELOGINCHECK_COMPAT BGWORKER_BYPASS_ROLELOGINCHECK
#define CF_PUBLISHER_NEEDS_LOGIN false
#else
#define BGWORKER_BYPASS_ROLELOGINCHECK_COMPAT 0
#define CF_PUBLISHER_NEEDS_LOGIN true
#endif

#endif							/* CUSTFOCUS_PG_COMPAT_H */
