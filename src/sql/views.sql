-------------------------------------------------------------------------------
-- Views for analysts and BI tools
-------------------------------------------------------------------------------

-- Every view is a thin security_invoker view over a set-returning function
-- that runs with the owner's rights and keeps only the programs the calling
-- role may see (the same rule as the row-level security policies).  This is
-- what lets a reader-level role (a BI tool) use the views without being able
-- to read a single raw row: the view checks the caller's right to the view,
-- the function the caller's programs, and small groups are suppressed
-- before anything leaves the function.  The functions take the role as an
-- argument, because a SECURITY DEFINER function cannot see its caller;
-- check_role_asked() stops a caller from passing someone else's.

CREATE FUNCTION custfocus.customer_inventory_rows(p_role name)
RETURNS TABLE (
	segment_code text, segment_name text, relationship text, kind text, party text,
	service_code text, service_name text, program_code text, program_name text, need text)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH v AS (SELECT custfocus.sees_all_programs(p_role) AS sees_all,
					  custfocus.visible_service_ids(p_role) AS services,
					  custfocus.readable_program_ids(p_role) AS readable)
	SELECT g.code, g.name, g.relationship, g.kind, g.party,
		   u.service_code, u.service_name, u.program_code, u.program_name, u.need
	  FROM v
	 CROSS JOIN custfocus.segment g
	  LEFT JOIN (SELECT ss.segment_id, s.code AS service_code, s.name AS service_name,
						p.code AS program_code, p.name AS program_name, ss.need
				   FROM v
				   JOIN custfocus.service_segment ss ON v.sees_all OR ss.service_id = ANY (v.services)
				   JOIN custfocus.service s ON s.service_id = ss.service_id
				   JOIN custfocus.program p ON p.program_id = s.program_id) u
			 ON u.segment_id = g.segment_id
	 WHERE v.sees_all OR g.program_id IS NULL OR g.program_id = ANY (v.readable)
	 ORDER BY g.code, u.service_code
$$;
COMMENT ON FUNCTION custfocus.customer_inventory_rows(name) IS
'Rows of the customer_inventory view for the given role (which must be the caller)';
REVOKE ALL ON FUNCTION custfocus.customer_inventory_rows(name) FROM PUBLIC;

CREATE VIEW custfocus.customer_inventory WITH (security_invoker = true) AS
	SELECT * FROM custfocus.customer_inventory_rows(CURRENT_USER);
COMMENT ON VIEW custfocus.customer_inventory IS
'Step 1: every customer and stakeholder segment the role may read (agency-wide ones and those of its programs and the programs above and below them), the services it uses and the need that brings it (a segment with no service shows once, with the service columns empty)';
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

CREATE FUNCTION custfocus.data_coverage_rows(p_role name)
RETURNS TABLE (
	program_code text, program_name text, service_code text, service_name text, active boolean,
	surveys text, responses bigint, responses_last_90_days bigint,
	first_response timestamptz, last_response timestamptz, days_since_last_response integer,
	coverage text)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH v AS (SELECT custfocus.sees_all_programs(p_role) AS sees_all,
					  custfocus.visible_service_ids(p_role) AS services),
	r AS (
		SELECT r.service_id, count(*) AS responses,
			   count(*) FILTER (WHERE r.submitted_at >= pg_catalog.now() - interval '90 days') AS recent,
			   min(r.submitted_at) AS first_at, max(r.submitted_at) AS last_at,
			   string_agg(DISTINCT sv.code, ', ' ORDER BY sv.code) AS surveys
		  FROM v
		  JOIN custfocus.response r ON v.sees_all OR r.service_id = ANY (v.services)
		  JOIN custfocus.survey sv ON sv.survey_id = r.survey_id
		 WHERE r.service_id IS NOT NULL
		 GROUP BY r.service_id
	)
	SELECT p.code, p.name, s.code, s.name, s.active,
		   r.surveys, coalesce(r.responses, 0), coalesce(r.recent, 0),
		   r.first_at, r.last_at,
		   (CURRENT_DATE - r.last_at::date)::integer,
		   CASE WHEN r.responses IS NULL THEN 'none'
				WHEN r.last_at < pg_catalog.now() - interval '1 year' THEN 'stale'
				WHEN r.recent = 0 THEN 'lapsing'
				ELSE 'current' END
	  FROM v
	  JOIN custfocus.service s ON v.sees_all OR s.service_id = ANY (v.services)
	  JOIN custfocus.program p ON p.program_id = s.program_id
	  LEFT JOIN r ON r.service_id = s.service_id
	 ORDER BY p.code, s.code
$$;
COMMENT ON FUNCTION custfocus.data_coverage_rows(name) IS
'Rows of the data_coverage view for the given role (which must be the caller)';
REVOKE ALL ON FUNCTION custfocus.data_coverage_rows(name) FROM PUBLIC;

CREATE VIEW custfocus.data_coverage WITH (security_invoker = true) AS
	SELECT * FROM custfocus.data_coverage_rows(CURRENT_USER);
COMMENT ON VIEW custfocus.data_coverage IS
'Step 4: for every service, which surveys have data about it, how much and how recent; services without any survey data show coverage = none';
COMMENT ON COLUMN custfocus.data_coverage.program_code IS 'Program code';
COMMENT ON COLUMN custfocus.data_coverage.program_name IS 'Program name';
COMMENT ON COLUMN custfocus.data_coverage.service_code IS 'Service code';
COMMENT ON COLUMN custfocus.data_coverage.service_name IS 'Service name';
COMMENT ON COLUMN custfocus.data_coverage.active IS 'False for services no longer offered';
COMMENT ON COLUMN custfocus.data_coverage.surveys IS 'Codes of the surveys with responses about the service, in code order, separated by a comma and a space (NULL: none); custfocus.surveys describes each (join on survey_code)';
COMMENT ON COLUMN custfocus.data_coverage.responses IS 'Responses about the service, all time';
COMMENT ON COLUMN custfocus.data_coverage.responses_last_90_days IS 'Responses submitted in the last 90 days';
COMMENT ON COLUMN custfocus.data_coverage.first_response IS 'When the first response was submitted';
COMMENT ON COLUMN custfocus.data_coverage.last_response IS 'When the latest response was submitted';
COMMENT ON COLUMN custfocus.data_coverage.days_since_last_response IS 'Days from the date of the latest response to today (dates in the session time zone)';
COMMENT ON COLUMN custfocus.data_coverage.coverage IS 'none (no responses), stale (none in a year), lapsing (none in 90 days) or current';

CREATE FUNCTION custfocus.feedback_queue_rows(p_role name)
RETURNS TABLE (
	feedback_id bigint, kind text, status text, owner text, received_at timestamptz,
	age_days integer, acknowledged_at timestamptz, program_code text, service_code text,
	channel text, body text,
	service_open bigint, service_closed_last_90_days bigint, service_median_days_to_close numeric)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH v AS (SELECT custfocus.sees_all_programs(p_role) AS sees_all,
					  custfocus.visible_service_ids(p_role) AS services),
	f AS (
		SELECT f.* FROM v
		  JOIN custfocus.feedback f ON v.sees_all OR f.service_id = ANY (v.services)
	),
	loop AS (
		SELECT f.service_id,
			   count(*) FILTER (WHERE f.status <> 'closed') AS open_count,
			   count(*) FILTER (WHERE f.closed_at >= pg_catalog.now() - interval '90 days') AS closed_recent,
			   round(percentile_cont(0.5) WITHIN GROUP (
					ORDER BY extract(epoch FROM f.closed_at - f.received_at) / 86400)::numeric, 1) AS median_days
		  FROM f
		 GROUP BY f.service_id
	)
	SELECT f.feedback_id, f.kind, f.status, f.owner, f.received_at,
		   (CURRENT_DATE - f.received_at::date)::integer,
		   f.acknowledged_at, p.code, s.code, f.channel, f.body,
		   l.open_count, l.closed_recent, l.median_days
	  FROM f
	  LEFT JOIN custfocus.service s ON s.service_id = f.service_id
	  LEFT JOIN custfocus.program p ON p.program_id = s.program_id
	  LEFT JOIN loop l ON l.service_id IS NOT DISTINCT FROM f.service_id
	 WHERE f.status <> 'closed'
	 ORDER BY f.received_at, f.feedback_id
$$;
COMMENT ON FUNCTION custfocus.feedback_queue_rows(name) IS
'Rows of the feedback_queue view for the given role (which must be the caller)';
REVOKE ALL ON FUNCTION custfocus.feedback_queue_rows(name) FROM PUBLIC;

-- A median of days is shown to one decimal: numeric(8,1) tells a client the
-- scale (a bare numeric arrives as a Decimal of unknown scale).
CREATE VIEW custfocus.feedback_queue WITH (security_invoker = true) AS
	SELECT f.feedback_id, f.kind, f.status, f.owner, f.received_at, f.age_days, f.acknowledged_at,
		   f.program_code, f.service_code, f.channel, f.body, f.service_open, f.service_closed_last_90_days,
		   f.service_median_days_to_close::numeric(8,1) AS service_median_days_to_close
	  FROM custfocus.feedback_queue_rows(CURRENT_USER) f;
COMMENT ON VIEW custfocus.feedback_queue IS
'Feedback not yet closed, oldest first, with its age and, for its service, the closed-loop figures';
COMMENT ON COLUMN custfocus.feedback_queue.feedback_id IS 'Feedback key';
COMMENT ON COLUMN custfocus.feedback_queue.kind IS 'complaint, compliment, suggestion or question';
COMMENT ON COLUMN custfocus.feedback_queue.status IS 'open, acknowledged or actioned';
COMMENT ON COLUMN custfocus.feedback_queue.owner IS 'Who is handling it';
COMMENT ON COLUMN custfocus.feedback_queue.received_at IS 'When it arrived';
COMMENT ON COLUMN custfocus.feedback_queue.age_days IS 'Days since it arrived (dates in the session time zone)';
COMMENT ON COLUMN custfocus.feedback_queue.acknowledged_at IS 'When it was acknowledged (NULL: not yet)';
COMMENT ON COLUMN custfocus.feedback_queue.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.feedback_queue.service_code IS 'Service it is about';
COMMENT ON COLUMN custfocus.feedback_queue.channel IS 'How it arrived';
COMMENT ON COLUMN custfocus.feedback_queue.body IS 'What the customer said';
COMMENT ON COLUMN custfocus.feedback_queue.service_open IS 'Feedback about the same service not yet closed';
COMMENT ON COLUMN custfocus.feedback_queue.service_closed_last_90_days IS 'Feedback about the same service closed in the last 90 days';
COMMENT ON COLUMN custfocus.feedback_queue.service_median_days_to_close IS 'Median days from arrival to closing, over the service''s closed feedback, to one decimal (numeric(8,1))';

-- Themes: the lexemes (English stemming, stop words removed) that occur in
-- the most feedback bodies and free-text answers of a service.  A term is
-- shown only when it occurs in custfocus.min_responses documents or more, so
-- a rare word cannot point at one respondent.
CREATE FUNCTION custfocus.voc_themes_rows(p_role name)
RETURNS TABLE (
	program_code text, service_code text, term text, documents bigint,
	feedback_documents bigint, answer_documents bigint, share_of_documents numeric,
	rank integer, example text)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH v AS (SELECT custfocus.sees_all_programs(p_role) AS sees_all,
					  custfocus.visible_service_ids(p_role) AS services),
	doc AS (
		SELECT f.service_id, 'feedback' AS source, f.body AS txt
		  FROM v JOIN custfocus.feedback f ON v.sees_all OR f.service_id = ANY (v.services)
		 WHERE f.service_id IS NOT NULL
		UNION ALL
		SELECT r.service_id, 'answer', a.text_value
		  FROM v
		  JOIN custfocus.response r ON v.sees_all OR r.service_id = ANY (v.services)
		  JOIN custfocus.answer a ON a.response_id = r.response_id
		 WHERE a.text_value IS NOT NULL AND r.service_id IS NOT NULL
	),
	term AS (
		SELECT d.service_id, t.lexeme, d.source, d.txt,
			   count(*) OVER (PARTITION BY d.service_id) AS service_documents
		  FROM doc d
		 CROSS JOIN LATERAL unnest(pg_catalog.tsvector_to_array(
				pg_catalog.to_tsvector('pg_catalog.english'::regconfig, d.txt))) AS t (lexeme)
	),
	docs AS (
		SELECT d.service_id, count(*) AS n FROM doc d GROUP BY d.service_id
	),
	counted AS (
		SELECT t.service_id, t.lexeme, count(*) AS documents,
			   count(*) FILTER (WHERE t.source = 'feedback') AS feedback_documents,
			   count(*) FILTER (WHERE t.source = 'answer') AS answer_documents,
			   min(t.txt) AS example
		  FROM term t
		 GROUP BY t.service_id, t.lexeme
		HAVING count(*) >= (SELECT custfocus.min_responses())
	),
	ranked AS (
		SELECT c.*, rank() OVER (PARTITION BY c.service_id ORDER BY c.documents DESC, c.lexeme)::integer AS rnk
		  FROM counted c
	)
	SELECT p.code, s.code, x.lexeme, x.documents, x.feedback_documents, x.answer_documents,
		   round(100.0 * x.documents / d.n, 1), x.rnk, x.example
	  FROM ranked x
	  JOIN docs d ON d.service_id = x.service_id
	  JOIN custfocus.service s ON s.service_id = x.service_id
	  JOIN custfocus.program p ON p.program_id = s.program_id
	 WHERE x.rnk <= 20
	 ORDER BY p.code, s.code, x.rnk
$$;
COMMENT ON FUNCTION custfocus.voc_themes_rows(name) IS
'Rows of the voc_themes view for the given role (which must be the caller)';
REVOKE ALL ON FUNCTION custfocus.voc_themes_rows(name) FROM PUBLIC;

-- A percent is shown to one decimal, 0.0 to 100.0: numeric(4,1).
CREATE VIEW custfocus.voc_themes WITH (security_invoker = true) AS
	SELECT t.program_code, t.service_code, t.term, t.documents, t.feedback_documents, t.answer_documents,
		   t.share_of_documents::numeric(4,1) AS share_of_documents, t.rank, t.example
	  FROM custfocus.voc_themes_rows(CURRENT_USER) t;
COMMENT ON VIEW custfocus.voc_themes IS
'Voice of the customer: for each service, the 20 terms (full-text lexemes) found in the most feedback bodies and free-text answers; terms in fewer than custfocus.min_responses documents are not shown';
COMMENT ON COLUMN custfocus.voc_themes.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.voc_themes.service_code IS 'Service';
COMMENT ON COLUMN custfocus.voc_themes.term IS 'Lexeme (English stemming: "waiting" and "waited" are "wait")';
COMMENT ON COLUMN custfocus.voc_themes.documents IS 'Feedback bodies and free-text answers about the service that contain the term';
COMMENT ON COLUMN custfocus.voc_themes.feedback_documents IS 'Of those, feedback bodies';
COMMENT ON COLUMN custfocus.voc_themes.answer_documents IS 'Of those, free-text survey answers';
COMMENT ON COLUMN custfocus.voc_themes.share_of_documents IS 'Percent of the service''s documents that contain the term, 0.0 to 100.0, to one decimal (numeric(4,1))';
COMMENT ON COLUMN custfocus.voc_themes.rank IS 'Rank of the term within the service (1 = most frequent)';
COMMENT ON COLUMN custfocus.voc_themes.example IS 'One document that contains the term';


-------------------------------------------------------------------------------
-- Dimension views and the data dictionary (BI conventions, issue 13)
-------------------------------------------------------------------------------

-- The dimensions a BI model joins the facts to: programs, services, surveys,
-- their items, requirements.  Unlike the views above they are not
-- security_invoker views over a *_rows(role) function but security_barrier
-- views owned by the extension, as the scorecard is: they read the tables
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
