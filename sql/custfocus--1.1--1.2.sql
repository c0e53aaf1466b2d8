-- custfocus 1.1 -> 1.2
--
-- Analysts and admins made by grant_access can describe instruments again:
-- the item and scale triggers run as the owner (item_check_scale,
-- scale_check_items), as the other cross-table checks do.  The errors of
-- the checks (check_items_fit_scale, answer_check) name an item, survey or
-- response only if the role reading them may see it (error_viewer).  The
-- policies of program and survey test the row's own columns, so a role may
-- read back what it inserts (INSERT ... RETURNING), through the new
-- readable_program_ids.  CREATE OR REPLACE is right here, unlike in an
-- install script: the functions it replaces are the extension's own.

\echo Use "ALTER EXTENSION custfocus UPDATE TO '1.2'" to load this file. \quit

CREATE FUNCTION custfocus.error_viewer() RETURNS name
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	-- Inside a SECURITY DEFINER function CURRENT_USER is the owner; the role
	-- GUC still holds the role the session SET ROLE to, and otherwise the
	-- session user is the one acting.
	SELECT CASE WHEN pg_catalog.current_setting('role') = 'none' THEN SESSION_USER
				ELSE pg_catalog.current_setting('role')::name END
$$;
COMMENT ON FUNCTION custfocus.error_viewer() IS
'The role that reads an error raised by a check running as the owner: the role set with SET ROLE, else the session user';

REVOKE ALL ON FUNCTION custfocus.error_viewer() FROM PUBLIC;

CREATE OR REPLACE FUNCTION custfocus.check_items_fit_scale(p_item_id integer, p_scale_id integer)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	bad record;
	v_viewer name;
	v_all boolean;
	v_surveys integer[];
	v_services integer[];
	v_own_surveys integer[];
	v_n bigint;
BEGIN
	PERFORM FROM custfocus.item i
	  JOIN custfocus.scale s ON s.scale_id = i.scale_id
	 WHERE (i.item_id = p_item_id OR i.scale_id = p_scale_id)
	   AND ((i.metric = 'nps' AND NOT (s.min_value = 0 AND s.max_value = 10 AND s.integral))
			OR (i.metric = 'yes_no' AND NOT (s.min_value = 0 AND s.max_value = 1 AND s.integral)));
	IF FOUND THEN
		v_viewer := custfocus.error_viewer();
		v_all := custfocus.sees_all_programs(v_viewer);
		v_surveys := custfocus.readable_survey_ids(v_viewer);
		SELECT i.code AS item_code, i.metric, s.code AS scale_code,
			   v_all OR i.survey_id = ANY (v_surveys) AS readable, count(*) OVER () AS n
		  INTO bad
		  FROM custfocus.item i
		  JOIN custfocus.scale s ON s.scale_id = i.scale_id
		 WHERE (i.item_id = p_item_id OR i.scale_id = p_scale_id)
		   AND ((i.metric = 'nps' AND NOT (s.min_value = 0 AND s.max_value = 10 AND s.integral))
				OR (i.metric = 'yes_no' AND NOT (s.min_value = 0 AND s.max_value = 1 AND s.integral)))
		 ORDER BY v_all OR i.survey_id = ANY (v_surveys) DESC, i.item_id
		 LIMIT 1;
		IF bad.readable THEN
			RAISE EXCEPTION 'item "%" has metric % but its scale "%" is not the whole numbers 0 to %',
				bad.item_code, bad.metric, bad.scale_code, CASE bad.metric WHEN 'nps' THEN 10 ELSE 1 END
				USING ERRCODE = 'check_violation',
					  HINT = format('Use the built-in scale %s.', CASE bad.metric WHEN 'nps' THEN 'nps11' ELSE 'yes_no' END);
		ELSE
			RAISE EXCEPTION 'scale "%" must stay the whole numbers 0 to % for the items with metric % on it',
				bad.scale_code, CASE bad.metric WHEN 'nps' THEN 10 ELSE 1 END, bad.metric
				USING ERRCODE = 'check_violation',
					  DETAIL = format('%s such item(s), of surveys you cannot read.', bad.n);
		END IF;
	END IF;

	PERFORM FROM custfocus.item i
	  JOIN custfocus.scale s ON s.scale_id = i.scale_id
	  JOIN custfocus.answer a ON a.item_id = i.item_id
	 WHERE (i.item_id = p_item_id OR i.scale_id = p_scale_id)
	   AND (a.value < s.min_value OR a.value > s.max_value
			OR (s.integral AND a.value <> pg_catalog.trunc(a.value)));
	IF NOT FOUND THEN
		RETURN;
	END IF;
	v_viewer := custfocus.error_viewer();
	v_all := custfocus.sees_all_programs(v_viewer);
	v_surveys := custfocus.readable_survey_ids(v_viewer);
	v_services := custfocus.visible_service_ids(v_viewer);
	v_own_surveys := custfocus.visible_survey_ids(v_viewer);
	SELECT a.response_id, a.value, i.code AS item_code, s.code AS scale_code, s.min_value, s.max_value, s.integral,
		   v_all OR i.survey_id = ANY (v_surveys) AS item_readable,
		   v_all OR r.service_id = ANY (v_services)
			   OR (r.service_id IS NULL AND r.survey_id = ANY (v_own_surveys)) AS response_visible,
		   count(*) OVER () AS n
	  INTO bad
	  FROM custfocus.item i
	  JOIN custfocus.scale s ON s.scale_id = i.scale_id
	  JOIN custfocus.answer a ON a.item_id = i.item_id
	  JOIN custfocus.response r ON r.response_id = a.response_id
	 WHERE (i.item_id = p_item_id OR i.scale_id = p_scale_id)
	   AND (a.value < s.min_value OR a.value > s.max_value
			OR (s.integral AND a.value <> pg_catalog.trunc(a.value)))
	 ORDER BY v_all OR i.survey_id = ANY (v_surveys) DESC,
			  v_all OR r.service_id = ANY (v_services)
				  OR (r.service_id IS NULL AND r.survey_id = ANY (v_own_surveys)) DESC,
			  a.response_id, i.item_id
	 LIMIT 1;
	v_n := bad.n;
	IF bad.item_readable THEN
		RAISE EXCEPTION 'item "%" has an answer % outside scale "%"', bad.item_code, bad.value, bad.scale_code
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Scale "%s" takes %s values from %s to %s; %s outside it%s.',
								  bad.scale_code, CASE WHEN bad.integral THEN 'whole' ELSE 'any' END,
								  bad.min_value, bad.max_value,
								  CASE WHEN v_n = 1 THEN '1 answer lies' ELSE v_n || ' answers lie' END,
								  CASE WHEN bad.response_visible
									   THEN format(' (response %s holds %s)', bad.response_id, bad.value)
									   ELSE '' END);
	ELSE
		RAISE EXCEPTION 'scale "%" would leave % outside it', bad.scale_code,
			CASE WHEN v_n = 1 THEN '1 answer' ELSE v_n || ' answers' END
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Scale "%s" takes %s values from %s to %s; the answers outside it are to items of surveys you cannot read.',
								  bad.scale_code, CASE WHEN bad.integral THEN 'whole' ELSE 'any' END,
								  bad.min_value, bad.max_value);
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.check_items_fit_scale(integer, integer) IS
'Raises an error if the item (or any item on the scale) does not fit its scale: metric rules, and answers already given; names only what the viewer may see';

CREATE OR REPLACE FUNCTION custfocus.item_check_scale() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_items_fit_scale(NEW.item_id, NULL);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.item_check_scale() IS
'Trigger: an item''s scale must fit its metric and the answers already given';

CREATE OR REPLACE FUNCTION custfocus.scale_check_items() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_items_fit_scale(NULL, NEW.scale_id);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.scale_check_items() IS
'Trigger: a scale''s new range must still fit its items'' metrics and the answers already given';

CREATE OR REPLACE FUNCTION custfocus.answer_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
AS $$
DECLARE
	bad record;
	resp record;
	v_item text;
	v_resp text;
BEGIN
	SELECT n.response_id, n.value, n.item_id, i.code AS item_code, i.metric, i.survey_id AS item_survey_id,
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

	-- The caller gave the item and response ids; their codes, the surveys'
	-- codes and the respondent id are shown only if the viewer may read them.
	SELECT r.external_id, r.survey_id, rs.code AS survey_code,
		   custfocus.sees_all_programs(v) OR r.service_id = ANY (custfocus.visible_service_ids(v))
			   OR (r.service_id IS NULL AND r.survey_id = ANY (custfocus.visible_survey_ids(v))) AS visible,
		   custfocus.sees_all_programs(v) OR r.survey_id = ANY (custfocus.readable_survey_ids(v)) AS survey_readable,
		   custfocus.sees_all_programs(v) OR bad.item_survey_id = ANY (custfocus.readable_survey_ids(v)) AS item_readable
	  INTO resp
	  FROM custfocus.response r
	  JOIN custfocus.survey rs ON rs.survey_id = r.survey_id
	 CROSS JOIN custfocus.error_viewer() AS v
	 WHERE r.response_id = bad.response_id;
	v_item := CASE WHEN resp.item_readable
				   THEN format('item "%s" of survey "%s"', bad.item_code, bad.survey_code)
				   ELSE format('item %s', bad.item_id) END;
	v_resp := format('%s%s', bad.response_id,
					 CASE WHEN resp.visible THEN coalesce(format(' (respondent %s)', resp.external_id), '') ELSE '' END);
	IF bad.item_survey_id IS DISTINCT FROM resp.survey_id THEN
		RAISE EXCEPTION '% does not belong to the survey%of response %', v_item,
			CASE WHEN resp.survey_readable THEN format(' "%s" ', resp.survey_code) ELSE ' ' END, bad.response_id
			USING ERRCODE = 'foreign_key_violation',
				  HINT = 'An answer must answer an item of its response''s survey.';
	ELSIF bad.scale_code IS NULL THEN
		RAISE EXCEPTION '% is a text item and takes no numeric value, got %', v_item, bad.value
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Response %s.', v_resp),
				  HINT = 'Store free text in text_value.';
	ELSE
		RAISE EXCEPTION 'value % for % is outside scale "%"', bad.value, v_item, bad.scale_code
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Scale "%s" takes %s values from %s to %s; response %s gave %s.',
								  bad.scale_code, CASE WHEN bad.integral THEN 'whole' ELSE 'any' END,
								  bad.min_value, bad.max_value, v_resp, bad.value);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.answer_check() IS
'Statement trigger: every new or changed answer lies on its item''s scale and answers an item of its response''s survey';

CREATE FUNCTION custfocus.readable_program_ids(p_role name DEFAULT CURRENT_USER) RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH RECURSIVE up (program_id, parent_id) AS (
		SELECT p.program_id, p.parent_id FROM custfocus.program p
		 WHERE p.program_id = ANY (custfocus.visible_program_ids(p_role))
		UNION
		SELECT p.program_id, p.parent_id FROM custfocus.program p
		  JOIN up ON p.program_id = up.parent_id
	)
	SELECT coalesce(array_agg(program_id ORDER BY program_id), '{}') FROM up
$$;
COMMENT ON FUNCTION custfocus.readable_program_ids(name) IS
'Programs whose surveys the role may read: its programs, those below them and those above them';

DROP POLICY program_by_program ON custfocus.program;
CREATE POLICY program_by_program ON custfocus.program
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
		   OR parent_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]));
COMMENT ON POLICY program_by_program ON custfocus.program IS
'A role sees and changes the programs granted to it and the programs below them';

DROP POLICY survey_read ON custfocus.survey;
CREATE POLICY survey_read ON custfocus.survey FOR SELECT
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id IS NULL
		   OR program_id = ANY ((SELECT custfocus.readable_program_ids())::integer[]));
COMMENT ON POLICY survey_read ON custfocus.survey IS
'A role reads the surveys of its programs, of the programs above them, and agency-wide surveys without a program';

DROP POLICY survey_write ON custfocus.survey;
CREATE POLICY survey_write ON custfocus.survey
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]));
COMMENT ON POLICY survey_write ON custfocus.survey IS
'A role changes only the surveys its own programs own';

-- Respondent ids (issue 12, items 3 and 4): unique per survey and service,
-- not per survey, so that programs sharing a survey keep their own id spaces
-- (see response_external_id_key in the install script); and a response is
-- written only to a survey its writer may read.
ALTER TABLE custfocus.service ADD CONSTRAINT service_id_positive CHECK (service_id > 0);
ALTER TABLE custfocus.response DROP CONSTRAINT response_survey_id_external_id_key;
CREATE UNIQUE INDEX response_external_id_key
	ON custfocus.response (survey_id, (COALESCE(service_id, 0)), external_id);
COMMENT ON COLUMN custfocus.response.external_id IS
'Respondent or response id from the survey tool, unique per survey and service; makes re-imports idempotent';

ALTER POLICY response_by_program ON custfocus.response
	USING ((SELECT custfocus.sees_all_programs())
		   OR service_id = ANY ((SELECT custfocus.visible_service_ids())::integer[])
		   OR (service_id IS NULL AND survey_id = ANY ((SELECT custfocus.visible_survey_ids())::integer[])))
	WITH CHECK ((SELECT custfocus.sees_all_programs())
				OR (service_id = ANY ((SELECT custfocus.visible_service_ids())::integer[])
					AND survey_id = ANY ((SELECT custfocus.readable_survey_ids())::integer[]))
				OR (service_id IS NULL AND survey_id = ANY ((SELECT custfocus.visible_survey_ids())::integer[])));
COMMENT ON POLICY response_by_program ON custfocus.response IS
'A role sees and changes the responses about services of its programs (or, without a service, to surveys of its programs), and writes them only to surveys it may read';
