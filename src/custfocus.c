/*
 * custfocus.c
 *		Module initialisation, GUCs and small catalogue helpers.
 *
 * Everything that the SQL install script needs from C but that belongs to no
 * statistical or import concern lives here.
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/guc.h"
#include "utils/rel.h"

#include "custfocus.h"
#include "pg_compat.h"

PG_MODULE_MAGIC;

int			custfocus_min_responses = 0;
bool		custfocus_live_reports = false;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("custfocus.min_responses",
							"Smallest number of valid answers for which this session is shown a score; it can only raise the agency's floor.",
							"Views report NULL and set suppressed = true for groups with fewer valid answers "
							"than this setting or the agency's floor (custfocus.setting.min_responses, set by admins), "
							"whichever is higher, so that small groups cannot be re-identified. "
							"0, the default, asks for nothing beyond the floor.",
							&custfocus_min_responses,
							0, 0, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("custfocus.live_reports",
							 "Compute the published reporting views from the roll-ups and the data when they are read.",
							 "Off, the default: the scorecard, the trend, the key drivers, the measures, the themes "
							 "and the feedback queue read the figures published by the last commit that changed their "
							 "data (the same numbers, computed once). On: they compute them at read time, as they do "
							 "anyway in a transaction that changed their data or under a threshold above the agency's floor.",
							 &custfocus_live_reports,
							 false,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	custfocus_publish_init();

	MarkGUCPrefixReserved("custfocus");

	custfocus_rollup_init();
	custfocus_rollup_import_init();
	custfocus_citus_init();
}

/*
 * The session's custfocus.min_responses, as custfocus.session_min_responses().
 * Read through a function rather than current_setting(), because calling it
 * loads the library and so defines the GUC with its default even in a
 * session that has not touched custfocus yet.  It is only a request:
 * custfocus.min_responses() takes the higher of it and the agency's floor.
 */
PG_FUNCTION_INFO_V1(session_min_responses);
Datum
session_min_responses(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(custfocus_min_responses);
}

/*
 * The session's custfocus.live_reports, as custfocus.live_reports() (read
 * through a function for the reason above).
 */
PG_FUNCTION_INFO_V1(live_reports);
Datum
live_reports(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(custfocus_live_reports);
}

/*
 * custfocus.min_responses() of versions 1.0 and 1.1, whose scripts bind this
 * symbol: the threshold itself, 10 by default.  A database not yet updated
 * to 1.2 runs it with this library, where the setting's default is 0 (no
 * request beyond the agency's floor), so an unset setting must still mean
 * the old default, not "suppress nothing".
 */
#define CUSTFOCUS_LEGACY_MIN_RESPONSES 10

PG_FUNCTION_INFO_V1(min_responses);
Datum
min_responses(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(custfocus_min_responses > 0 ? custfocus_min_responses : CUSTFOCUS_LEGACY_MIN_RESPONSES);
}

/*
 * Trigger that keeps the rows shipped by the extension (standard scales and
 * their labels) apart from user rows.  pg_dump skips rows with builtin = true
 * (see pg_extension_config_dump in the install script), so a user row marked
 * builtin would silently vanish from backups, and a changed built-in row would
 * be restored in its original form.  Only the install or update script may
 * write built-in rows; the global creating_extension tells us when that is.
 */
PG_FUNCTION_INFO_V1(guard_builtin);
Datum
guard_builtin(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	int			attnum;
	bool		isnull;
	HeapTuple	rettuple;
	char	   *relname;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "guard_builtin: not called by trigger manager");
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		elog(ERROR, "guard_builtin: must be fired before, for each row");

	tupdesc = RelationGetDescr(trigdata->tg_relation);
	attnum = SPI_fnumber(tupdesc, "builtin");
	if (attnum <= 0)
		elog(ERROR, "guard_builtin: table \"%s\" has no column \"builtin\"",
			 RelationGetRelationName(trigdata->tg_relation));

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		rettuple = trigdata->tg_trigtuple;
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		rettuple = trigdata->tg_newtuple;
	else
		rettuple = trigdata->tg_trigtuple;

	if (creating_extension)
		return PointerGetDatum(rettuple);

	/*
	 * The table's name, also on a Citus placement (scale_102014 fires for
	 * scale, custfocus.distribute()): a trailing _<digits> is a shard's
	 * suffix, which no custfocus table name has.
	 */
	relname = pstrdup(RelationGetRelationName(trigdata->tg_relation));
	{
		size_t		len = strlen(relname);
		size_t		i = len;

		while (i > 0 && isdigit((unsigned char) relname[i - 1]))
			i--;
		if (i < len && i > 1 && relname[i - 1] == '_')
			relname[i - 1] = '\0';
	}

	/* an existing built-in row may be neither changed nor deleted */
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) &&
		DatumGetBool(heap_getattr(trigdata->tg_trigtuple, attnum, tupdesc, &isnull)) && !isnull)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("built-in rows of \"%s\" cannot be changed or deleted", relname),
				 errdetail("The row is part of the custfocus extension and is re-created by CREATE EXTENSION."),
				 errhint("Create a scale of your own with a new code instead.")));

	/* and no user row may claim to be built in */
	if (!TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) &&
		DatumGetBool(heap_getattr(rettuple, attnum, tupdesc, &isnull)) && !isnull)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("only the custfocus install script can add built-in rows to \"%s\"", relname),
				 errdetail("Rows with builtin = true are left out of pg_dump, so a user row marked so would be lost on restore."),
				 errhint("Insert the row with builtin = false (the default).")));

	return PointerGetDatum(rettuple);
}
