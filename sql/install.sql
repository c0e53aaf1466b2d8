-- Install, inspect and drop the extension.
CREATE EXTENSION custfocus;

SELECT extname, extversion, extrelocatable, n.nspname AS control_schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'custfocus';

-- Every object of the extension has a description (what \dx+ and BI tools show).
SELECT pg_describe_object(d.classid, d.objid, 0) AS undocumented
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'custfocus')
   AND d.deptype = 'e'
   -- the row types of tables and views are described by their relation
   AND NOT (d.classid = 'pg_type'::regclass
			AND (SELECT typrelid FROM pg_type WHERE oid = d.objid) <> 0
			AND (SELECT relkind FROM pg_class
				  WHERE oid = (SELECT typrelid FROM pg_type WHERE oid = d.objid)) <> 'c')
   AND NOT (d.classid = 'pg_class'::regclass
			AND (SELECT relkind FROM pg_class WHERE oid = d.objid) IN ('S', 'i'))
   -- array types (extension members since PostgreSQL 17) are described by
   -- their element type, as PostgreSQL's own are: psql's \dT does not list them
   AND NOT (d.classid = 'pg_type'::regclass
			AND (SELECT typcategory FROM pg_type WHERE oid = d.objid) = 'A')
   AND obj_description(d.objid, (SELECT relname FROM pg_class WHERE oid = d.classid)) IS NULL
 ORDER BY 1;

-- ... and so does every column of every table, view and composite type.
SELECT c.relname || '.' || a.attname AS undocumented_column
  FROM pg_class c
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'custfocus'::regnamespace
   AND c.relkind IN ('r', 'v', 'm', 'p', 'c')
   AND col_description(c.oid, a.attnum) IS NULL
 ORDER BY 1;

-- Every function pins its search_path, and no C function is left unlabelled.
SELECT p.oid::regprocedure AS unpinned
  FROM pg_proc p
 WHERE p.pronamespace = 'custfocus'::regnamespace
   AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
   AND p.prokind <> 'a'
   AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
   -- SQL-standard bodies are bound when created: they look up no name when run
   AND p.prosqlbody IS NULL
 ORDER BY 1;

-- Functions that are not PARALLEL SAFE, each for a reason: triggers write or
-- run per statement.  A new function belongs here only if it must be so.
SELECT p.oid::regprocedure AS not_parallel_safe, p.proparallel
  FROM pg_proc p
 WHERE p.pronamespace = 'custfocus'::regnamespace
   AND p.proparallel <> 's'
 ORDER BY p.oid::regprocedure::text;

-- Every user-data table and its sequence is dumped by pg_dump.
SELECT c.relname AS not_dumped
  FROM pg_class c
 WHERE c.relnamespace = 'custfocus'::regnamespace
   AND c.relkind IN ('r', 'S')
   AND c.oid <> ALL ((SELECT extconfig FROM pg_extension WHERE extname = 'custfocus')::oid[])
   -- derived data, rebuilt by triggers as a restore loads the answers
   AND c.relname NOT IN ('rollup_service_month', 'rollup_unit_period', 'rollup_item_month', 'rollup_pairs_month', 'rollup_pending', 'report_unit',
						   'rollup_hidden', 'rollup_hidden_year', 'rollup_hidden_measure',
						   'report_scorecard', 'report_trend', 'report_key_drivers', 'report_measure_status', 'report_themes',
						   'report_feedback', 'report_opportunities', 'report_state', 'report_stale')
 ORDER BY 1;

SELECT c.relname, x.cond
  FROM pg_extension e,
	   unnest(e.extconfig, e.extcondition) AS x (oid, cond)
  JOIN pg_class c ON c.oid = x.oid
 WHERE e.extname = 'custfocus' AND x.cond <> ''
 ORDER BY 1;

-- No table is readable by PUBLIC, and no helper function is executable by it.
SELECT c.relname AS public_table
  FROM pg_class c
 WHERE c.relnamespace = 'custfocus'::regnamespace
   AND c.relkind IN ('r', 'S')
   AND has_table_privilege('public', c.oid, 'SELECT');
SELECT p.oid::regprocedure AS public_trigger_function
  FROM pg_proc p
 WHERE p.pronamespace = 'custfocus'::regnamespace
   AND p.prorettype = 'trigger'::regtype
   AND has_function_privilege('public', p.oid, 'EXECUTE');

-- The standard scales ship as built-in rows.
SELECT scale_id, code, min_value, max_value, integral, builtin FROM custfocus.scale ORDER BY scale_id;
SELECT s.code, string_agg(l.label || '=' || coalesce(l.value::text, 'missing'), ', ' ORDER BY l.value, l.label)
  FROM custfocus.scale_label l JOIN custfocus.scale s USING (scale_id)
 WHERE l.value IS NOT NULL
 GROUP BY s.code ORDER BY s.code;

-- The GUC is defined with its default and its prefix is reserved.  The
-- agency's floor (custfocus.setting, 10) is in force; the setting of a
-- session can raise the threshold, not lower it.
SELECT custfocus.min_responses();
SELECT min_responses, updated_at, updated_by FROM custfocus.setting;
SHOW custfocus.min_responses;
SET custfocus.min_responses = 5;
SELECT custfocus.session_min_responses(), custfocus.min_responses();
SET custfocus.min_responses = 30;
SELECT custfocus.session_min_responses(), custfocus.min_responses();
RESET custfocus.min_responses;
SET custfocus.no_such_setting = 1;

-- Drop and create again: the script leaves nothing behind.
DROP EXTENSION custfocus;
SELECT count(*) AS leftovers FROM pg_namespace WHERE nspname = 'custfocus';
CREATE EXTENSION custfocus;
SELECT count(*) FROM custfocus.scale;
