-------------------------------------------------------------------------------
-- The reports schema: what a reader reads, and nothing else
-------------------------------------------------------------------------------

-- BI tools list a schema's relations from pg_class (pgjdbc's getTables,
-- SQLAlchemy's get_table_names), whatever the connecting role may read: in
-- custfocus a reader is shown some twenty tables it cannot select.  Every
-- view of custfocus is therefore also in custfocus_reports, under the same
-- name, with the same columns and descriptions: a reader's tool pointed at
-- that schema (JDBC currentSchema, SQLAlchemy's schema, or the role's
-- search_path) lists exactly what the role can read.  Each is a plain
-- SELECT * of the custfocus view, owned by the extension: the custfocus
-- view applies the role's programs and the suppression, so the two return
-- the same rows to every role, and a filter passes through to it.  The
-- views are created from the catalog, so that none is forgotten;
-- sql/reports.sql checks that the two schemas hold the same views.  (An
-- update script that drops or recreates a view of custfocus drops its
-- namesake here first, and calls reports_mirror() once at its end.)
CREATE SCHEMA custfocus_reports;
COMMENT ON SCHEMA custfocus_reports IS
'custfocus''s views for readers and BI tools, and nothing else: the same views, columns and descriptions as in schema custfocus';

CREATE FUNCTION custfocus.reports_mirror() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v record;
	a record;
BEGIN
	FOR v IN
		SELECT c.oid, c.relname FROM pg_class c
		 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind = 'v'
		   AND NOT EXISTS (SELECT FROM pg_class m WHERE m.relnamespace = 'custfocus_reports'::regnamespace
											   AND m.relname = c.relname)
		 ORDER BY c.relname
	LOOP
		EXECUTE format('CREATE VIEW custfocus_reports.%I WITH (security_barrier) AS SELECT * FROM custfocus.%I',
					   v.relname, v.relname);
		EXECUTE format('COMMENT ON VIEW custfocus_reports.%I IS %L', v.relname, obj_description(v.oid, 'pg_class'));
		FOR a IN
			SELECT att.attname, col_description(v.oid, att.attnum) AS description
			  FROM pg_attribute att
			 WHERE att.attrelid = v.oid AND att.attnum > 0 AND NOT att.attisdropped
			 ORDER BY att.attnum
		LOOP
			EXECUTE format('COMMENT ON COLUMN custfocus_reports.%I.%I IS %L', v.relname, a.attname, a.description);
		END LOOP;
	END LOOP;
END
$$;
COMMENT ON FUNCTION custfocus.reports_mirror() IS
'Creates in custfocus_reports every view of custfocus it does not hold yet (install and update scripts only)';
REVOKE ALL ON FUNCTION custfocus.reports_mirror() FROM PUBLIC;

SELECT custfocus.reports_mirror();
