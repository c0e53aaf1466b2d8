-- custfocus 1.0 -> 1.1
--
-- Adds the import of survey exports (import_responses, import_responses_file),
-- lets analysts record their imports (grant_access), and makes the answer
-- table's statement trigger immune to statistics taken halfway through a
-- load.  CREATE OR REPLACE is right here, unlike in an install script: the
-- functions it replaces are the extension's own, created by the 1.0 script.

\echo Use "ALTER EXTENSION custfocus UPDATE TO '1.1'" to load this file. \quit

CREATE OR REPLACE FUNCTION custfocus.answer_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
AS $$
DECLARE
	bad record;
	resp record;
BEGIN
	SELECT n.response_id, n.value, i.code AS item_code, i.metric, i.survey_id AS item_survey_id,
		   sv.code AS survey_code, s.code AS scale_code, s.min_value, s.max_value, s.integral,
		   s.scale_id IS NOT NULL AND NOT (n.value IS NULL
			   OR (n.value >= s.min_value AND n.value <= s.max_value
				   AND NOT (s.integral AND n.value <> pg_catalog.trunc(n.value)))) AS off_scale
	  INTO bad
	  FROM new_answer n
	  JOIN custfocus.item i ON i.item_id = n.item_id
	  JOIN custfocus.survey sv ON sv.survey_id = i.survey_id
	  LEFT JOIN custfocus.scale s ON s.scale_id = i.scale_id
	 WHERE (n.value IS NOT NULL AND
			(s.scale_id IS NULL
			 OR n.value < s.min_value OR n.value > s.max_value
			 OR (s.integral AND n.value <> pg_catalog.trunc(n.value))))
		OR i.survey_id IS DISTINCT FROM (SELECT r.survey_id FROM custfocus.response r
										  WHERE r.response_id = n.response_id)
	 LIMIT 1;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;

	SELECT r.external_id, r.survey_id, rs.code AS survey_code INTO resp
	  FROM custfocus.response r JOIN custfocus.survey rs ON rs.survey_id = r.survey_id
	 WHERE r.response_id = bad.response_id;
	IF NOT bad.off_scale AND NOT (bad.value IS NOT NULL AND bad.scale_code IS NULL) THEN
		RAISE EXCEPTION 'item "%" belongs to survey "%", not to the survey "%" of response %',
			bad.item_code, bad.survey_code, resp.survey_code, bad.response_id
			USING ERRCODE = 'foreign_key_violation';
	ELSIF bad.scale_code IS NULL THEN
		RAISE EXCEPTION 'item "%" of survey "%" is a text item and takes no numeric value, got %',
			bad.item_code, bad.survey_code, bad.value
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Response %s%s.', bad.response_id,
								  coalesce(format(' (respondent %s)', resp.external_id), '')),
				  HINT = 'Store free text in text_value.';
	ELSE
		RAISE EXCEPTION 'value % for item "%" of survey "%" is outside scale "%"',
			bad.value, bad.item_code, bad.survey_code, bad.scale_code
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Scale "%s" takes %s values from %s to %s; response %s%s gave %s.',
								  bad.scale_code, CASE WHEN bad.integral THEN 'whole' ELSE 'any' END,
								  bad.min_value, bad.max_value, bad.response_id,
								  coalesce(format(' (respondent %s)', resp.external_id), ''), bad.value);
	END IF;
	RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION custfocus.grant_access(p_role regrole, p_level text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	obj record;
BEGIN
	IF p_level IS NULL OR p_level NOT IN ('reader', 'analyst', 'admin') THEN
		RAISE EXCEPTION 'unknown access level "%"', p_level
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use reader, analyst or admin.';
	END IF;
	PERFORM custfocus.revoke_access(p_role);
	EXECUTE format('GRANT USAGE ON SCHEMA custfocus TO %s', p_role);

	-- every level reads the views
	FOR obj IN
		SELECT c.oid::regclass AS rel FROM pg_class c
		 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind IN ('v', 'm')
	LOOP
		EXECUTE format('GRANT SELECT ON %s TO %s', obj.rel, p_role);
	END LOOP;
	FOR obj IN
		SELECT p.oid::regprocedure AS fn FROM pg_proc p
		 WHERE p.pronamespace = 'custfocus'::regnamespace AND p.proname LIKE '%\_rows'
	LOOP
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', obj.fn, p_role);
	END LOOP;

	IF p_level IN ('analyst', 'admin') THEN
		-- manage the program's data, load surveys, describe instruments
		FOR obj IN
			SELECT c.oid::regclass AS rel, c.relname FROM pg_class c
			 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind = 'r'
			   AND c.relname NOT IN ('role_access', 'program_access', 'respondent_contact')
		LOOP
			-- an analyst records its own imports but does not rewrite or
			-- delete the record of anyone's
			IF obj.relname = 'import_batch' AND p_level = 'analyst' THEN
				EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %s TO %s', obj.rel, p_role);
			ELSIF obj.relname = 'import_error' AND p_level = 'analyst' THEN
				EXECUTE format('GRANT SELECT, INSERT ON %s TO %s', obj.rel, p_role);
			ELSE
				EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s', obj.rel, p_role);
			END IF;
		END LOOP;
		FOR obj IN
			SELECT c.oid::regclass AS rel FROM pg_class c
			 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind = 'S'
		LOOP
			EXECUTE format('GRANT USAGE ON SEQUENCE %s TO %s', obj.rel, p_role);
		END LOOP;
		IF pg_catalog.to_regprocedure('custfocus.import_responses(text,text,jsonb)') IS NOT NULL THEN
			EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.import_responses(text, text, jsonb) TO %s', p_role);
			EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.import_responses_file(text, text, jsonb) TO %s', p_role);
		END IF;
	END IF;

	IF p_level = 'admin' THEN
		FOR obj IN
			SELECT c.oid::regclass AS rel FROM pg_class c
			 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind = 'r'
		LOOP
			EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s', obj.rel, p_role);
		END LOOP;
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.apply_retention(text, interval, text) TO %s', p_role);
	END IF;

	INSERT INTO custfocus.role_access (role_name, level) VALUES (p_role::text::name, p_level);
END
$$;

-- Written in C (src/import.c, src/csvmap.c) on libcsv.  Rows go in through
-- SPI, so constraints, triggers, row-level security and the caller's
-- privileges apply as to any INSERT.  VOLATILE and PARALLEL UNSAFE because
-- they write; search_path is pinned because they run queries.
CREATE FUNCTION custfocus.import_responses(survey text, csv text, options jsonb DEFAULT '{}')
RETURNS custfocus.import_batch
AS 'MODULE_PATHNAME', 'import_responses'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION custfocus.import_responses(text, text, jsonb) IS
'Loads a survey export (CSV or tab-separated text, any common survey tool''s layout) given as text into response and answer; returns the import_batch row';

-- Reading a file on the server is what COPY FROM a file and file_fdw
-- reserve for pg_read_server_files; the C code checks it.
CREATE FUNCTION custfocus.import_responses_file(survey text, path text, options jsonb DEFAULT '{}')
RETURNS custfocus.import_batch
AS 'MODULE_PATHNAME', 'import_responses_file'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION custfocus.import_responses_file(text, text, jsonb) IS
'Loads a survey export from a file on the database server (requires the privileges of pg_read_server_files); returns the import_batch row';

-- Importing writes responses: granted to analysts, never to PUBLIC.
REVOKE ALL ON FUNCTION custfocus.import_responses(text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.import_responses_file(text, text, jsonb) FROM PUBLIC;

-- Roles granted analyst or admin access under 1.0 get the new rights by
-- calling custfocus.grant_access() again; nothing is granted behind the
-- DBA's back.
