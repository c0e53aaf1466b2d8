-------------------------------------------------------------------------------
-- Views for analysts and BI tools
-------------------------------------------------------------------------------

-- The customer inventory, the data coverage, the feedback queue and the
-- voice-of-the-customer themes are security_barrier views owned by the
-- extension, as the scorecard and the dimension views are: they read the
-- tables with the owner's rights and keep to the caller's programs
-- themselves (CURRENT_USER inside a view is the caller), by the rule of the
-- tables' row-level security:
--
--   (SELECT custfocus.sees_all_programs())
--   OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
--
-- for a service s (the sub-selects run once per query).  A reader reads no
-- table, so a BI tool's login can use them without being able to read a
-- single raw response or answer; small groups are suppressed inside the
-- view, before anything leaves it.  The planner inlines them, so that a
-- filter on a code (service_code, program_code, ...) reaches the tables'
-- indexes instead of being applied to the whole result; being
-- security_barrier, a caller's WHERE with a function that is not leakproof
-- is applied only to the rows the rule has kept (the leakproof comparisons
-- a BI filter sends are pushed down).  Window functions are partitioned by
-- the codes a reader filters on as well as by the ids (which are the same
-- partitions), so that those filters can pass below them.
--
-- Dates and ages are those of the reporting time zone
-- (custfocus.reporting_time_zone(), read once per query), so that every
-- client sees the same numbers whatever its session TimeZone: a date is
-- pg_catalog.timezone(tz, ts)::date, an age in days the difference of two
-- such dates, and "the last 90 days" are the instants since 90 calendar days
-- of that zone before now, timezone(tz, timezone(tz, now()) - '90 days').
--
-- Each view keeps the order its rows always had (ORDER BY in the view: a
-- sort of the rows that are left after the caller's filters).

CREATE VIEW custfocus.customer_inventory WITH (security_barrier) AS
SELECT g.code AS segment_code, g.name AS segment_name, g.relationship, g.kind, g.party,
	   u.service_code, u.service_name, u.program_code, u.program_name, u.need
  FROM custfocus.segment g
  LEFT JOIN (SELECT ss.segment_id, s.code AS service_code, s.name AS service_name,
					p.code AS program_code, p.name AS program_name, ss.need
			   FROM custfocus.service_segment ss
			   JOIN custfocus.service s ON s.service_id = ss.service_id
			   JOIN custfocus.program p ON p.program_id = s.program_id
			  WHERE (SELECT custfocus.sees_all_programs())
				 OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])) u
		 ON u.segment_id = g.segment_id
 -- segments follow the rule of shared reference rows (see requirements)
 WHERE (SELECT custfocus.sees_all_programs())
	OR g.program_id IS NULL
	OR g.program_id = ANY ((SELECT custfocus.readable_program_ids())::integer[])
 ORDER BY g.code, u.service_code;
COMMENT ON VIEW custfocus.customer_inventory IS
'Step 1: every customer and stakeholder segment the role may read (agency-wide ones and those of its programs and the programs above and below them), the services of the role''s programs it uses and the need that brings it (a segment with no such service shows once, with the service columns empty); in segment and service code order';
COMMENT ON COLUMN custfocus.customer_inventory.segment_code IS 'Segment code';
COMMENT ON COLUMN custfocus.customer_inventory.segment_name IS 'Segment name';
COMMENT ON COLUMN custfocus.customer_inventory.relationship IS 'customer or stakeholder';
COMMENT ON COLUMN custfocus.customer_inventory.kind IS 'internal or external';
COMMENT ON COLUMN custfocus.customer_inventory.party IS 'individual or entity';
COMMENT ON COLUMN custfocus.customer_inventory.service_code IS 'Service the segment uses (NULL: none recorded)';
COMMENT ON COLUMN custfocus.customer_inventory.service_name IS 'Service name';
COMMENT ON COLUMN custfocus.customer_inventory.program_code IS 'Program that delivers the service';
COMMENT ON COLUMN custfocus.customer_inventory.program_name IS 'Program name';
COMMENT ON COLUMN custfocus.customer_inventory.need IS 'Why the segment comes to the service';

-- Data coverage reads neither the answers nor every response.  Per service
-- the role sees, each figure is exact and comes from an index:
--   * responses: the sum of the service's rows of the roll-up
--     (rollup_service_month, kept exact by triggers in the same transaction
--     as every change, see src/sql/rollup.sql), by its (service_id, month)
--     index;
--   * first and last response: one probe each at the ends of the service's
--     range of the response index (service_id, submitted_at);
--   * responses in the last 90 days: a count over that range of the same
--     index, from 90 days before now;
--   * the surveys: for each survey, one probe of the respondent-id index
--     (survey_id, COALESCE(service_id, 0), external_id) for a response of
--     that survey about the service (service_id is never 0), so services
--     times surveys probes, however many responses there are.  A loose index
--     scan of all (survey, service) pairs (a recursive CTE) is exact too but
--     cannot be limited to the services a filter keeps, and a DISTINCT over
--     response reads every response; a table of pairs kept by a trigger
--     would cost every import.
CREATE VIEW custfocus.data_coverage WITH (security_barrier) AS
SELECT p.code AS program_code, p.name AS program_name, s.code AS service_code, s.name AS service_name, s.active,
	   sv.surveys, coalesce(n.responses, 0)::bigint AS responses, r90.responses AS responses_last_90_days,
	   fl.first_at AS first_response, fl.last_at AS last_response,
	   (pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())::date
		- pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), fl.last_at)::date) AS days_since_last_response,
	   CASE WHEN fl.last_at IS NULL THEN 'none'
			WHEN fl.last_at < pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
												   pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
												   - interval '1 year') THEN 'stale'
			WHEN r90.responses = 0 THEN 'lapsing'
			ELSE 'current' END AS coverage
  FROM custfocus.service s
  JOIN custfocus.program p ON p.program_id = s.program_id
 CROSS JOIN LATERAL (SELECT sum(m.responses) AS responses FROM custfocus.rollup_service_month m
					  WHERE m.service_id = s.service_id) n
 CROSS JOIN LATERAL (SELECT min(r.submitted_at) AS first_at, max(r.submitted_at) AS last_at
					   FROM custfocus.response r WHERE r.service_id = s.service_id) fl
 CROSS JOIN LATERAL (SELECT count(*) AS responses FROM custfocus.response r
					  WHERE r.service_id = s.service_id
						AND r.submitted_at >= pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
									pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
									- interval '90 days')) r90
 CROSS JOIN LATERAL (SELECT string_agg(x.code, ', ' ORDER BY x.code) AS surveys FROM custfocus.survey x
					  WHERE EXISTS (SELECT FROM custfocus.response r
									 WHERE r.survey_id = x.survey_id AND COALESCE(r.service_id, 0) = s.service_id)) sv
 WHERE (SELECT custfocus.sees_all_programs())
	OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
 ORDER BY p.code, s.code;
COMMENT ON VIEW custfocus.data_coverage IS
'Step 4: for every service of the role''s programs, which surveys have data about it, how much and how recent (dates in the reporting time zone); services without any survey data show coverage = none; in program and service code order';
COMMENT ON COLUMN custfocus.data_coverage.program_code IS 'Program code';
COMMENT ON COLUMN custfocus.data_coverage.program_name IS 'Program name';
COMMENT ON COLUMN custfocus.data_coverage.service_code IS 'Service code';
COMMENT ON COLUMN custfocus.data_coverage.service_name IS 'Service name';
COMMENT ON COLUMN custfocus.data_coverage.active IS 'False for services no longer offered';
COMMENT ON COLUMN custfocus.data_coverage.surveys IS 'Codes of the surveys with responses about the service, in code order, separated by a comma and a space (NULL: none); custfocus.surveys describes each (join on survey_code)';
COMMENT ON COLUMN custfocus.data_coverage.responses IS 'Responses about the service, all time';
COMMENT ON COLUMN custfocus.data_coverage.responses_last_90_days IS 'Responses submitted in the last 90 days: at or after the same time of day 90 days ago, days of the reporting time zone';
COMMENT ON COLUMN custfocus.data_coverage.first_response IS 'When the first response was submitted';
COMMENT ON COLUMN custfocus.data_coverage.last_response IS 'When the latest response was submitted';
COMMENT ON COLUMN custfocus.data_coverage.days_since_last_response IS 'Days from the date of the latest response to today (dates in the reporting time zone)';
COMMENT ON COLUMN custfocus.data_coverage.coverage IS 'none (no responses), stale (none in the last year), lapsing (none in the last 90 days) or current (years and days of the reporting time zone)';

-------------------------------------------------------------------------------
-- Dimension views and the data dictionary (BI conventions, issue 13)
-------------------------------------------------------------------------------

-- The dimensions a BI model joins the facts to: programs, services, surveys,
-- their items, requirements.  Like the views above and the scorecard they
-- are security_barrier views owned by the extension: they read the tables
-- with the owner's rights and keep to the caller's programs themselves
-- (CURRENT_USER inside a view is the caller), by the rule of the tables'
-- row-level security.  A reader reads no table; the view stays inlinable, so
-- a filter on a code reaches the tables' indexes (a function's result could
-- only be filtered after the fact); being security_barrier, a caller's WHERE
-- with a function that is not leakproof sees only rows the rule has kept.

-- Programs the role sees, as a tree of their own: a program whose parent the
-- role does not see is a root here (depth 0, parent_program_code NULL), so
-- nothing names a program above the role's, and a BI tool's parent-child
-- hierarchy finds every parent it is given.
CREATE VIEW custfocus.program_tree WITH (security_barrier) AS
WITH RECURSIVE seen AS (
	SELECT p.program_id, p.parent_id, p.code, p.name, p.level
	  FROM custfocus.program p
	 WHERE (SELECT custfocus.sees_all_programs())
		OR p.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
),
tree (program_id, depth, path) AS (
	SELECT s.program_id, 0, s.code FROM seen s
	 WHERE s.parent_id IS NULL OR s.parent_id NOT IN (SELECT seen.program_id FROM seen)
	UNION ALL
	SELECT s.program_id, t.depth + 1, t.path || ' > ' || s.code
	  FROM tree t JOIN seen s ON s.parent_id = t.program_id
)
SELECT s.code AS program_code, s.name AS program_name, s.level AS program_level,
	   pp.code AS parent_program_code, t.depth, t.path
  FROM tree t
  JOIN seen s ON s.program_id = t.program_id
  LEFT JOIN seen pp ON pp.program_id = s.parent_id;
COMMENT ON VIEW custfocus.program_tree IS
'Dimension: the programs the role may see (those granted to it and every program below them), as a tree; a program whose parent the role does not see is a root';
COMMENT ON COLUMN custfocus.program_tree.program_code IS 'Program code';
COMMENT ON COLUMN custfocus.program_tree.program_name IS 'Program name';
COMMENT ON COLUMN custfocus.program_tree.program_level IS 'agency, division or program';
COMMENT ON COLUMN custfocus.program_tree.parent_program_code IS 'Program directly above (NULL: none, or one the role does not see)';
COMMENT ON COLUMN custfocus.program_tree.depth IS 'Steps below the root of the role''s tree (0: a root)';
COMMENT ON COLUMN custfocus.program_tree.path IS 'Codes from the root of the role''s tree down to the program, separated by " > "';

CREATE VIEW custfocus.services WITH (security_barrier) AS
SELECT s.code AS service_code, s.name AS service_name, p.code AS program_code, s.active
  FROM custfocus.service s
  JOIN custfocus.program p ON p.program_id = s.program_id
 WHERE (SELECT custfocus.sees_all_programs())
	OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]);
COMMENT ON VIEW custfocus.services IS
'Dimension: the services of the programs the role may see';
COMMENT ON COLUMN custfocus.services.service_code IS 'Service code';
COMMENT ON COLUMN custfocus.services.service_name IS 'Service name';
COMMENT ON COLUMN custfocus.services.program_code IS 'Program that delivers the service (see program_tree)';
COMMENT ON COLUMN custfocus.services.active IS 'False for services no longer offered';

-- Surveys and items follow the surveys' rule: a role reads those of its
-- programs, of the programs above them and the agency-wide ones.  The owner
-- of a survey of a program above is not named (the role does not see it).
CREATE VIEW custfocus.surveys WITH (security_barrier) AS
SELECT sv.code AS survey_code, sv.name, sv.version,
	   CASE WHEN (SELECT custfocus.sees_all_programs())
				 OR sv.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
			THEN p.code END AS program_code
  FROM custfocus.survey sv
  LEFT JOIN custfocus.program p ON p.program_id = sv.program_id
 WHERE (SELECT custfocus.sees_all_programs())
	OR sv.survey_id = ANY ((SELECT custfocus.readable_survey_ids())::integer[]);
COMMENT ON VIEW custfocus.surveys IS
'Dimension: the survey instruments the role may read (those of its programs, of the programs above them, and agency-wide ones)';
COMMENT ON COLUMN custfocus.surveys.survey_code IS 'Survey code (one per instrument version)';
COMMENT ON COLUMN custfocus.surveys.name IS 'Survey name';
COMMENT ON COLUMN custfocus.surveys.version IS 'Instrument version';
COMMENT ON COLUMN custfocus.surveys.program_code IS 'Program that owns the survey (NULL: agency-wide, or a program above the role''s)';

CREATE VIEW custfocus.survey_items WITH (security_barrier) AS
SELECT sv.code AS survey_code, i.code AS item_code, i.text, i.metric, sc.code AS scale_code,
	   rq.code AS requirement_code, i.is_overall, i.reverse_coded
  FROM custfocus.item i
  JOIN custfocus.survey sv ON sv.survey_id = i.survey_id
  LEFT JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
  LEFT JOIN custfocus.requirement rq ON rq.requirement_id = i.requirement_id
 WHERE (SELECT custfocus.sees_all_programs())
	OR i.survey_id = ANY ((SELECT custfocus.readable_survey_ids())::integer[]);
COMMENT ON VIEW custfocus.survey_items IS
'Dimension: the items (questions) of the surveys the role may read';
COMMENT ON COLUMN custfocus.survey_items.survey_code IS 'Survey (see surveys)';
COMMENT ON COLUMN custfocus.survey_items.item_code IS 'Item code: the column name in survey exports';
COMMENT ON COLUMN custfocus.survey_items.text IS 'Question text';
COMMENT ON COLUMN custfocus.survey_items.metric IS 'rating, nps, ces, yes_no, text or category';
COMMENT ON COLUMN custfocus.survey_items.scale_code IS 'Scale of the answers (NULL for text items)';
COMMENT ON COLUMN custfocus.survey_items.requirement_code IS 'Requirement (key driver) the item measures (see requirements; NULL: none)';
COMMENT ON COLUMN custfocus.survey_items.is_overall IS 'The survey''s overall-satisfaction item';
COMMENT ON COLUMN custfocus.survey_items.reverse_coded IS 'A higher code is worse: flipped before scoring';

-- Requirements follow the rule of shared reference rows: agency-wide ones,
-- and those owned by the role's programs or the programs above and below
-- them (the customer inventory's rule for segments).
CREATE VIEW custfocus.requirements WITH (security_barrier) AS
SELECT rq.code AS requirement_code, rq.name, rq.importance
  FROM custfocus.requirement rq
 WHERE (SELECT custfocus.sees_all_programs())
	OR rq.program_id IS NULL
	OR rq.program_id = ANY ((SELECT custfocus.readable_program_ids())::integer[]);
COMMENT ON VIEW custfocus.requirements IS
'Dimension: the customer requirements (key drivers) the role may read: agency-wide ones and those of its programs and of the programs above and below them';
COMMENT ON COLUMN custfocus.requirements.requirement_code IS 'Requirement code';
COMMENT ON COLUMN custfocus.requirements.name IS 'Requirement name';
COMMENT ON COLUMN custfocus.requirements.importance IS 'Stated importance, above 0 up to 100 (NULL: not stated)';

-- The data dictionary: every view of the extension the caller may read, and
-- its columns, with their types and descriptions, from the catalog's
-- comments, for clients that show no comments (psqlODBC).  It reads only
-- the catalog, which every role may read: security_invoker.
CREATE VIEW custfocus.data_dictionary WITH (security_invoker = true) AS
SELECT 'custfocus.' || c.relname AS object, 'view' AS object_kind, NULL::text AS column_name,
	   0 AS ordinal, NULL::text AS data_type, pg_catalog.obj_description(c.oid, 'pg_class') AS description
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind IN ('v', 'm')
   AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
UNION ALL
SELECT 'custfocus.' || c.relname, 'column', a.attname::text, a.attnum::integer,
	   pg_catalog.format_type(a.atttypid, a.atttypmod), pg_catalog.col_description(c.oid, a.attnum)
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind IN ('v', 'm')
   AND pg_catalog.has_table_privilege(c.oid, 'SELECT');
COMMENT ON VIEW custfocus.data_dictionary IS
'Every view of custfocus the role may read and each of its columns, with type and description (the COMMENTs, for clients that do not show them)';
COMMENT ON COLUMN custfocus.data_dictionary.object IS 'View, schema-qualified';
COMMENT ON COLUMN custfocus.data_dictionary.object_kind IS 'view (the view itself) or column (one of its columns)';
COMMENT ON COLUMN custfocus.data_dictionary.column_name IS 'Column name (NULL on the view''s own row)';
COMMENT ON COLUMN custfocus.data_dictionary.ordinal IS 'Position of the column in the view, from 1 (0 on the view''s own row)';
COMMENT ON COLUMN custfocus.data_dictionary.data_type IS 'Column type as SQL writes it, e.g. numeric(4,1) (NULL on the view''s own row)';
COMMENT ON COLUMN custfocus.data_dictionary.description IS 'What the view or column holds';
