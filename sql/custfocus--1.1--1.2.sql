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
-------------------------------------------------------------------------------
-- Ownership of shared rows and the suppression floor (issue 12 items 5, 7, 8)
--
-- The suppression floor moves from a user setting to custfocus.setting, a
-- row admins change; custfocus.min_responses() (now SQL) takes the higher
-- of it and the session's custfocus.min_responses, which the C function
-- reads as session_min_responses(), and the views read it
-- once per query.  Segments, requirements and scales get an owning program
-- (program_id; NULL, agency-wide, for every existing row) and row-level
-- security; a program's rows use only agency-wide ones and those of its
-- program or a program above it (the customer inventory lists only the
-- segments a role may read).  Analysts no longer add, delete, move or
-- recode programs; the roles already granted a level get the privileges
-- grant_access now gives.
-------------------------------------------------------------------------------

CREATE TABLE custfocus.setting (
	id			boolean PRIMARY KEY DEFAULT true CHECK (id),
	min_responses integer NOT NULL DEFAULT 10 CHECK (min_responses >= 1),
	updated_at	timestamptz,
	updated_by	name
);
COMMENT ON TABLE custfocus.setting IS
'Agency-wide settings (one row), changed by admins only';
COMMENT ON COLUMN custfocus.setting.id IS 'Always true: the table holds one row';
COMMENT ON COLUMN custfocus.setting.min_responses IS 'Suppression floor: a score of fewer valid answers is not shown in any view (at least 1; a session may raise it with the custfocus.min_responses setting, never lower it)';
COMMENT ON COLUMN custfocus.setting.updated_at IS 'When an admin last changed the row (NULL: never)';
COMMENT ON COLUMN custfocus.setting.updated_by IS 'Role that last changed the row (NULL: never changed)';
INSERT INTO custfocus.setting DEFAULT VALUES;

SELECT pg_catalog.pg_extension_config_dump('custfocus.setting', '');

CREATE FUNCTION custfocus.setting_stamp() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF pg_catalog.pg_trigger_depth() = 1 THEN
		NEW.updated_at := pg_catalog.now();
		NEW.updated_by := CURRENT_USER;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION custfocus.setting_stamp() IS
'Trigger: records when and by whom the settings row was changed';
CREATE TRIGGER setting_stamp BEFORE UPDATE ON custfocus.setting
	FOR EACH ROW EXECUTE FUNCTION custfocus.setting_stamp();

CREATE FUNCTION custfocus.setting_restore() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	UPDATE custfocus.setting s
	   SET min_responses = NEW.min_responses, updated_at = NEW.updated_at, updated_by = NEW.updated_by
	 WHERE s.id = NEW.id;
	IF FOUND THEN
		RETURN NULL;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION custfocus.setting_restore() IS
'Trigger: an INSERT of the settings row (a restore) updates the row that exists';
CREATE TRIGGER setting_restore BEFORE INSERT ON custfocus.setting
	FOR EACH ROW EXECUTE FUNCTION custfocus.setting_restore();
ALTER TABLE custfocus.setting ENABLE ALWAYS TRIGGER setting_restore;
REVOKE ALL ON FUNCTION custfocus.setting_stamp() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.setting_restore() FROM PUBLIC;

CREATE FUNCTION custfocus.session_min_responses() RETURNS integer
AS 'MODULE_PATHNAME', 'session_min_responses'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.session_min_responses() IS
'Value of the custfocus.min_responses setting of the session: a threshold the session asks for, which can only raise the agency''s floor';

CREATE OR REPLACE FUNCTION custfocus.min_responses() RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT greatest(coalesce((SELECT s.min_responses FROM custfocus.setting s WHERE s.id), 10),
					custfocus.session_min_responses())
$$;
COMMENT ON FUNCTION custfocus.min_responses() IS
'Suppression threshold in force: the agency''s floor (custfocus.setting, set by admins) or the session''s custfocus.min_responses setting, whichever is higher; groups with fewer valid answers have their scores suppressed';

ALTER TABLE custfocus.segment ADD COLUMN program_id integer REFERENCES custfocus.program (program_id);
CREATE INDEX segment_program_id_idx ON custfocus.segment (program_id);
COMMENT ON COLUMN custfocus.segment.program_id IS 'Program that owns the segment and whose analysts manage it (NULL: agency-wide, managed by admins); usable by that program and the programs below it';

ALTER TABLE custfocus.requirement ADD COLUMN program_id integer REFERENCES custfocus.program (program_id);
CREATE INDEX requirement_program_id_idx ON custfocus.requirement (program_id);
COMMENT ON COLUMN custfocus.requirement.program_id IS 'Program that owns the requirement and whose analysts manage it (NULL: agency-wide, managed by admins); usable by that program and the programs below it';

ALTER TABLE custfocus.scale ADD COLUMN program_id integer REFERENCES custfocus.program (program_id);
CREATE INDEX scale_program_id_idx ON custfocus.scale (program_id);
COMMENT ON COLUMN custfocus.scale.program_id IS 'Program that owns the scale and whose analysts manage it and its labels (NULL: agency-wide, managed by admins; always NULL for built-in scales); usable by that program and the programs below it';
ALTER TABLE custfocus.scale ADD CONSTRAINT scale_builtin_agency_wide CHECK (NOT builtin OR program_id IS NULL);

CREATE FUNCTION custfocus.program_path(p_program integer) RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH RECURSIVE up (program_id, parent_id) AS (
		SELECT p.program_id, p.parent_id FROM custfocus.program p
		 WHERE p.program_id = p_program
		UNION
		SELECT p.program_id, p.parent_id FROM custfocus.program p
		  JOIN up ON p.program_id = up.parent_id
	)
	SELECT coalesce(array_agg(program_id ORDER BY program_id), '{}') FROM up
$$;
COMMENT ON FUNCTION custfocus.program_path(integer) IS
'The program and every program above it (for the checks that run as the owner; not executable by other roles)';
REVOKE ALL ON FUNCTION custfocus.program_path(integer) FROM PUBLIC;

CREATE FUNCTION custfocus.may_use(p_program integer, p_owner integer, p_role name DEFAULT CURRENT_USER)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT p_owner IS NULL
		OR ((custfocus.sees_all_programs(p_role) OR p_program = ANY (custfocus.visible_program_ids(p_role)))
			AND p_owner = ANY (custfocus.program_path(p_program)))
$$;
COMMENT ON FUNCTION custfocus.may_use(integer, integer, name) IS
'True when rows of program p_program may use a shared row (segment, requirement, scale) owned by p_owner: agency-wide (NULL), or owned by that program or one above it; false for programs the role does not see';

ALTER TABLE custfocus.segment ENABLE ROW LEVEL SECURITY;
CREATE POLICY segment_read ON custfocus.segment FOR SELECT
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id IS NULL
		   OR program_id = ANY ((SELECT custfocus.readable_program_ids())::integer[]));
COMMENT ON POLICY segment_read ON custfocus.segment IS
'A role reads agency-wide segments and those of its programs, of the programs below and of the programs above them';
CREATE POLICY segment_write ON custfocus.segment
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]));
COMMENT ON POLICY segment_write ON custfocus.segment IS
'A role changes only the segments its own programs own; agency-wide segments are the admins''';

ALTER TABLE custfocus.requirement ENABLE ROW LEVEL SECURITY;
CREATE POLICY requirement_read ON custfocus.requirement FOR SELECT
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id IS NULL
		   OR program_id = ANY ((SELECT custfocus.readable_program_ids())::integer[]));
COMMENT ON POLICY requirement_read ON custfocus.requirement IS
'A role reads agency-wide requirements and those of its programs, of the programs below and of the programs above them';
CREATE POLICY requirement_write ON custfocus.requirement
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]));
COMMENT ON POLICY requirement_write ON custfocus.requirement IS
'A role changes only the requirements its own programs own; agency-wide requirements are the admins''';

ALTER TABLE custfocus.scale ENABLE ROW LEVEL SECURITY;
CREATE POLICY scale_read ON custfocus.scale FOR SELECT
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id IS NULL
		   OR program_id = ANY ((SELECT custfocus.readable_program_ids())::integer[]));
COMMENT ON POLICY scale_read ON custfocus.scale IS
'A role reads agency-wide scales (the built-in ones included) and those of its programs, of the programs below and of the programs above them';
CREATE POLICY scale_write ON custfocus.scale
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]));
COMMENT ON POLICY scale_write ON custfocus.scale IS
'A role changes only the scales its own programs own; agency-wide scales are the admins''';

ALTER TABLE custfocus.scale_label ENABLE ROW LEVEL SECURITY;
CREATE POLICY scale_label_read ON custfocus.scale_label FOR SELECT
	USING ((SELECT custfocus.sees_all_programs())
		   OR EXISTS (SELECT FROM custfocus.scale s WHERE s.scale_id = scale_label.scale_id));
COMMENT ON POLICY scale_label_read ON custfocus.scale_label IS
'The labels of a scale are readable with the scale';
CREATE POLICY scale_label_write ON custfocus.scale_label
	USING ((SELECT custfocus.sees_all_programs())
		   OR EXISTS (SELECT FROM custfocus.scale s
					   WHERE s.scale_id = scale_label.scale_id
						 AND s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])));
COMMENT ON POLICY scale_label_write ON custfocus.scale_label IS
'A role changes the labels of the scales its own programs own; labels of agency-wide scales are the admins''';

DROP POLICY service_segment_by_program ON custfocus.service_segment;
CREATE POLICY service_segment_by_program ON custfocus.service_segment
	USING ((SELECT custfocus.sees_all_programs())
		   OR service_id = ANY ((SELECT custfocus.visible_service_ids())::integer[]))
	WITH CHECK (((SELECT custfocus.sees_all_programs())
				 OR service_id = ANY ((SELECT custfocus.visible_service_ids())::integer[]))
				AND EXISTS (SELECT FROM custfocus.segment g, custfocus.service s
							 WHERE g.segment_id = service_segment.segment_id
							   AND s.service_id = service_segment.service_id
							   AND custfocus.may_use(s.program_id, g.program_id)));
COMMENT ON POLICY service_segment_by_program ON custfocus.service_segment IS
'A role sees and changes who uses the services of its programs; a service uses only agency-wide segments and those of its program or a program above it';

DROP POLICY service_requirement_by_program ON custfocus.service_requirement;
CREATE POLICY service_requirement_by_program ON custfocus.service_requirement
	USING ((SELECT custfocus.sees_all_programs())
		   OR service_id = ANY ((SELECT custfocus.visible_service_ids())::integer[]))
	WITH CHECK (((SELECT custfocus.sees_all_programs())
				 OR service_id = ANY ((SELECT custfocus.visible_service_ids())::integer[]))
				AND EXISTS (SELECT FROM custfocus.requirement r, custfocus.service s
							 WHERE r.requirement_id = service_requirement.requirement_id
							   AND s.service_id = service_requirement.service_id
							   AND custfocus.may_use(s.program_id, r.program_id)));
COMMENT ON POLICY service_requirement_by_program ON custfocus.service_requirement IS
'A role sees and changes the requirements of the services of its programs; a service uses only agency-wide requirements and those of its program or a program above it';

DROP POLICY item_write ON custfocus.item;
CREATE POLICY item_write ON custfocus.item
	USING ((SELECT custfocus.sees_all_programs())
		   OR survey_id = ANY ((SELECT custfocus.visible_survey_ids())::integer[]))
	WITH CHECK (((SELECT custfocus.sees_all_programs())
				 OR survey_id = ANY ((SELECT custfocus.visible_survey_ids())::integer[]))
				AND (scale_id IS NULL
					 OR EXISTS (SELECT FROM custfocus.scale sc, custfocus.survey sv
								 WHERE sc.scale_id = item.scale_id AND sv.survey_id = item.survey_id
								   AND custfocus.may_use(sv.program_id, sc.program_id)))
				AND (requirement_id IS NULL
					 OR EXISTS (SELECT FROM custfocus.requirement r, custfocus.survey sv
								 WHERE r.requirement_id = item.requirement_id AND sv.survey_id = item.survey_id
								   AND custfocus.may_use(sv.program_id, r.program_id))));
COMMENT ON POLICY item_write ON custfocus.item IS
'A role changes only the items of surveys its own programs own; an item uses only agency-wide scales and requirements and those of its survey''s program or a program above it';

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
			   AND c.relname NOT IN ('role_access', 'program_access', 'respondent_contact', 'setting')
		LOOP
			-- the program tree is the agency's structure: an analyst
			-- describes its programs (name, description) but neither adds,
			-- removes nor moves one, nor changes its code or level
			IF obj.relname = 'program' AND p_level = 'analyst' THEN
				EXECUTE format('GRANT SELECT, UPDATE (name, description) ON %s TO %s', obj.rel, p_role);
			-- an analyst records its own imports but does not rewrite or
			-- delete the record of anyone's
			ELSIF obj.relname = 'import_batch' AND p_level = 'analyst' THEN
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
			   AND c.relname <> 'setting'
		LOOP
			EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s', obj.rel, p_role);
		END LOOP;
		-- the settings are one row, changed in place
		EXECUTE format('GRANT SELECT, UPDATE ON custfocus.setting TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.apply_retention(text, interval, text) TO %s', p_role);
	END IF;

	INSERT INTO custfocus.role_access (role_name, level) VALUES (p_role::text::name, p_level);
END
$$;
COMMENT ON FUNCTION custfocus.grant_access(regrole, text) IS
'Grants a role reader (views only), analyst (reader + import + manage data) or admin (everything, all programs) access';

-- The roles already granted a level get what grant_access gives now:
-- analysts keep of program only SELECT and UPDATE of name and description;
-- admins may change the settings row.
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT a.role_name, a.level FROM custfocus.role_access a
			   JOIN pg_catalog.pg_roles g ON g.rolname = a.role_name
	LOOP
		IF r.level = 'analyst' THEN
			EXECUTE pg_catalog.format('REVOKE INSERT, UPDATE, DELETE ON custfocus.program FROM %I', r.role_name);
			EXECUTE pg_catalog.format('GRANT UPDATE (name, description) ON custfocus.program TO %I', r.role_name);
		ELSIF r.level = 'admin' THEN
			EXECUTE pg_catalog.format('GRANT SELECT, UPDATE ON custfocus.setting TO %I', r.role_name);
		END IF;
	END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION custfocus.customer_inventory_rows(p_role name)
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
COMMENT ON VIEW custfocus.customer_inventory IS
'Step 1: every customer and stakeholder segment the role may read (agency-wide ones and those of its programs and the programs above and below them), the services it uses and the need that brings it (a segment with no service shows once, with the service columns empty)';

CREATE OR REPLACE FUNCTION custfocus.voc_themes_rows(p_role name)
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

CREATE OR REPLACE FUNCTION custfocus.scorecard_rows(p_role name)
RETURNS TABLE (
	level text, program_code text, program_name text, service_code text, service_name text,
	grain text, period_start date, period_label text, responses bigint,
	csat_n bigint, csat double precision, csat_ci_low double precision, csat_ci_high double precision,
	nps_n bigint, nps double precision, nps_ci_low double precision, nps_ci_high double precision,
	linear_mean_n bigint, linear_mean double precision, linear_mean_ci_low double precision,
	linear_mean_ci_high double precision,
	csat_change double precision, csat_change_p double precision,
	nps_change double precision, nps_change_p double precision,
	suppressed boolean)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH v AS (SELECT (SELECT custfocus.min_responses()) AS min_n),
	unit AS (SELECT * FROM custfocus.scoring_units(p_role)),
	svc AS (SELECT DISTINCT unit.service_id FROM unit),
	-- stage 1: one pass over the answers, per service and month
	per_month AS (
		SELECT r.service_id, date_trunc('month', r.submitted_at)::date AS m,
			   custfocus.top_box_state(custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value),
									   sc.max_value - 1, r.weight) FILTER (WHERE i.is_overall) AS csat,
			   custfocus.nps_state(a.value, r.weight) FILTER (WHERE i.metric = 'nps') AS nps,
			   custfocus.linear_mean_state(custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value),
										   sc.min_value, sc.max_value, r.weight) FILTER (WHERE i.metric = 'rating') AS lm
		  FROM svc
		  JOIN custfocus.response r ON r.service_id = svc.service_id
		  JOIN custfocus.answer a ON a.response_id = r.response_id
		  JOIN custfocus.item i ON i.item_id = a.item_id
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
		 WHERE a.value IS NOT NULL AND i.metric IN ('rating', 'nps')
		 GROUP BY r.service_id, 2
	),
	responses_per_month AS (
		SELECT r.service_id, date_trunc('month', r.submitted_at)::date AS m, count(*) AS responses
		  FROM svc JOIN custfocus.response r ON r.service_id = svc.service_id
		 GROUP BY r.service_id, 2
	),
	-- stage 2: merge the monthly states into every unit and grain
	counted AS (
		SELECT u.level, u.program_id, u.unit_service_id,
			   CASE WHEN GROUPING(x.m) = 0 THEN 'month' WHEN GROUPING(x.q) = 0 THEN 'quarter' ELSE 'year' END AS grain,
			   coalesce(x.m, x.q, x.y) AS period_start,
			   sum(x.responses)::bigint AS responses
		  FROM (SELECT rm.*, date_trunc('quarter', rm.m)::date AS q, date_trunc('year', rm.m)::date AS y
				  FROM responses_per_month rm) x
		  JOIN unit u ON u.service_id = x.service_id
		 GROUP BY GROUPING SETS ((u.level, u.program_id, u.unit_service_id, x.m),
								 (u.level, u.program_id, u.unit_service_id, x.q),
								 (u.level, u.program_id, u.unit_service_id, x.y))
	),
	scored AS (
		SELECT u.level, u.program_id, u.unit_service_id,
			   CASE WHEN GROUPING(x.m) = 0 THEN 'month' WHEN GROUPING(x.q) = 0 THEN 'quarter' ELSE 'year' END AS grain,
			   coalesce(x.m, x.q, x.y) AS period_start,
			   custfocus.box_stats_merge(x.csat) AS csat,
			   custfocus.nps_stats_merge(x.nps) AS nps,
			   custfocus.linear_mean_stats_merge(x.lm) AS lm
		  FROM (SELECT pm.*, date_trunc('quarter', pm.m)::date AS q, date_trunc('year', pm.m)::date AS y
				  FROM per_month pm) x
		  JOIN unit u ON u.service_id = x.service_id
		 GROUP BY GROUPING SETS ((u.level, u.program_id, u.unit_service_id, x.m),
								 (u.level, u.program_id, u.unit_service_id, x.q),
								 (u.level, u.program_id, u.unit_service_id, x.y))
	),
	shown AS (
		SELECT c.level, c.program_id, c.unit_service_id, c.grain, c.period_start, c.responses,
			   (s.csat).n AS csat_n, (s.nps).n AS nps_n, (s.lm).n AS lm_n,
			   CASE WHEN (s.csat).n >= v.min_n THEN s.csat END AS csat,
			   CASE WHEN (s.nps).n >= v.min_n THEN s.nps END AS nps,
			   CASE WHEN (s.lm).n >= v.min_n THEN s.lm END AS lm,
			   ((s.csat).n < v.min_n OR (s.nps).n < v.min_n OR (s.lm).n < v.min_n) IS TRUE AS suppressed
		  FROM counted c CROSS JOIN v
		  LEFT JOIN scored s ON s.level = c.level AND s.program_id = c.program_id
			   AND s.unit_service_id IS NOT DISTINCT FROM c.unit_service_id
			   AND s.grain = c.grain AND s.period_start = c.period_start
	),
	withprev AS (
		SELECT x.*,
			   lag(x.period_start) OVER w AS prev_start,
			   lag(x.csat) OVER w AS prev_csat,
			   lag(x.nps) OVER w AS prev_nps
		  FROM shown x
		WINDOW w AS (PARTITION BY x.level, x.program_id, x.unit_service_id, x.grain ORDER BY x.period_start)
	)
	SELECT x.level, p.code, p.name, s.code, s.name, x.grain, x.period_start,
		   custfocus.period_label(x.grain, x.period_start),
		   x.responses,
		   coalesce(x.csat_n, 0), (x.csat).percent, (x.csat).ci_low, (x.csat).ci_high,
		   coalesce(x.nps_n, 0), (x.nps).nps, (x.nps).ci_low, (x.nps).ci_high,
		   coalesce(x.lm_n, 0), (x.lm).mean, (x.lm).ci_low, (x.lm).ci_high,
		   CASE WHEN adjacent THEN (x.csat).percent - (x.prev_csat).percent END,
		   CASE WHEN adjacent THEN (custfocus.prop_ztest(
				(x.csat).percent / 100 * (x.csat).n_eff, (x.csat).n_eff,
				(x.prev_csat).percent / 100 * (x.prev_csat).n_eff, (x.prev_csat).n_eff)).p_value END,
		   CASE WHEN adjacent THEN (x.nps).nps - (x.prev_nps).nps END,
		   CASE WHEN adjacent THEN (custfocus.nps_ztest((x.nps).nps, (x.nps).se,
														 (x.prev_nps).nps, (x.prev_nps).se)).p_value END,
		   x.suppressed
	  FROM withprev x
	  JOIN custfocus.program p ON p.program_id = x.program_id
	  LEFT JOIN custfocus.service s ON s.service_id = x.unit_service_id
	 CROSS JOIN LATERAL (SELECT x.prev_start = custfocus.previous_period(x.grain, x.period_start) AS adjacent) adj
	 ORDER BY x.level, p.code, s.code, x.grain, x.period_start
$$;
COMMENT ON FUNCTION custfocus.scorecard_rows(name) IS
'Rows of the scorecard view for the given role (which must be the caller)';

CREATE OR REPLACE FUNCTION custfocus.satisfaction_trend_rows(p_role name)
RETURNS TABLE (
	level text, program_code text, service_code text, grain text, period_start date, period_label text,
	n bigint, csat double precision, centre double precision, lcl double precision, ucl double precision,
	outside boolean, run_of_8 boolean, trend_of_6 boolean, signal text, suppressed boolean)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH v AS (SELECT (SELECT custfocus.min_responses()) AS min_n),
	unit AS (SELECT * FROM custfocus.scoring_units(p_role)),
	per_month AS (
		SELECT r.service_id, date_trunc('month', r.submitted_at)::date AS m,
			   custfocus.top_box_state(custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value),
									   sc.max_value - 1) AS b
		  FROM (SELECT DISTINCT unit.service_id FROM unit) svc
		  JOIN custfocus.response r ON r.service_id = svc.service_id
		  JOIN custfocus.answer a ON a.response_id = r.response_id
		  JOIN custfocus.item i ON i.item_id = a.item_id AND i.is_overall
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
		 WHERE a.value IS NOT NULL
		 GROUP BY r.service_id, 2
	),
	g AS (
		SELECT u.level, u.program_id, u.unit_service_id,
			   CASE WHEN GROUPING(x.m) = 0 THEN 'month' WHEN GROUPING(x.q) = 0 THEN 'quarter' ELSE 'year' END AS grain,
			   coalesce(x.m, x.q, x.y) AS period_start,
			   custfocus.box_stats_merge(x.b) AS b
		  FROM (SELECT pm.*, date_trunc('quarter', pm.m)::date AS q, date_trunc('year', pm.m)::date AS y
				  FROM per_month pm) x
		  JOIN unit u ON u.service_id = x.service_id
		 GROUP BY GROUPING SETS ((u.level, u.program_id, u.unit_service_id, x.m),
								 (u.level, u.program_id, u.unit_service_id, x.q),
								 (u.level, u.program_id, u.unit_service_id, x.y))
	),
	series AS (
		SELECT g.level, g.program_id, g.unit_service_id, g.grain,
			   array_agg(g.period_start ORDER BY g.period_start) AS periods,
			   array_agg((g.b).in_box ORDER BY g.period_start) AS xs,
			   array_agg((g.b).n::double precision ORDER BY g.period_start) AS ns
		  FROM g GROUP BY g.level, g.program_id, g.unit_service_id, g.grain
	)
	SELECT x.level, p.code, s.code, x.grain, x.periods[c.point],
		   custfocus.period_label(x.grain, x.periods[c.point]),
		   c.n::bigint, 100 * c.p, 100 * c.centre, 100 * c.lcl, 100 * c.ucl,
		   c.outside, c.run_of_8, c.trend_of_6, c.signal, c.p IS NULL
	  FROM series x
	 CROSS JOIN v
	 CROSS JOIN LATERAL custfocus.p_chart(x.xs, x.ns, v.min_n) c
	  JOIN custfocus.program p ON p.program_id = x.program_id
	  LEFT JOIN custfocus.service s ON s.service_id = x.unit_service_id
	 ORDER BY x.level, p.code, s.code, x.grain, c.point
$$;
COMMENT ON FUNCTION custfocus.satisfaction_trend_rows(name) IS
'Rows of the satisfaction_trend view for the given role (which must be the caller)';

CREATE OR REPLACE FUNCTION custfocus.measure_status_rows(p_role name)
RETURNS TABLE (
	measure_code text, measure_name text, program_code text, service_code text, metric text,
	period text, period_start date, period_label text, n bigint, actual double precision,
	target double precision, direction text, met boolean, distance_to_target double precision,
	previous_actual double precision, change double precision, trend text, trend_slope double precision,
	baseline double precision, suppressed boolean)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH v AS (SELECT (SELECT custfocus.min_responses()) AS min_n),
	x AS (
		SELECT mv.*, m.code, m.name, m.metric, m.period, m.target, m.direction, m.baseline,
			   m.program_id, m.service_id,
			   m.metric <> 'response_count' AND mv.n < v.min_n AS supp
		  FROM custfocus.measure_values(p_role) mv
		  JOIN custfocus.measure m ON m.measure_id = mv.measure_id
		 CROSS JOIN v
	),
	y AS (
		SELECT x.*, CASE WHEN NOT x.supp THEN x.actual END AS shown,
			   row_number() OVER (PARTITION BY x.measure_id ORDER BY x.period_start) AS k
		  FROM x
	),
	z AS (
		SELECT y.*,
			   lag(y.shown) OVER w AS prev,
			   lag(y.period_start) OVER w AS prev_start,
			   regr_slope(y.shown, y.k) OVER (PARTITION BY y.measure_id ORDER BY y.period_start
											   ROWS 3 PRECEDING) AS slope
		  FROM y
		WINDOW w AS (PARTITION BY y.measure_id ORDER BY y.period_start)
	)
	SELECT z.code, z.name, coalesce(p.code, sp.code), s.code, z.metric, z.period, z.period_start,
		   custfocus.period_label(z.period, z.period_start),
		   z.n, z.shown, z.target, z.direction,
		   CASE WHEN z.direction = 'higher' THEN z.shown >= z.target ELSE z.shown <= z.target END,
		   z.shown - z.target,
		   CASE WHEN adjacent THEN z.prev END,
		   CASE WHEN adjacent THEN z.shown - z.prev END,
		   CASE WHEN NOT adjacent OR z.shown IS NULL OR z.prev IS NULL THEN NULL
				WHEN z.shown = z.prev THEN 'steady'
				WHEN (z.shown > z.prev) = (z.direction = 'higher') THEN 'improving'
				ELSE 'worsening' END,
		   z.slope, z.baseline, z.supp
	  FROM z
	  LEFT JOIN custfocus.program p ON p.program_id = z.program_id
	  LEFT JOIN custfocus.service s ON s.service_id = z.service_id
	  LEFT JOIN custfocus.program sp ON sp.program_id = s.program_id
	 CROSS JOIN LATERAL (SELECT z.prev_start = custfocus.previous_period(z.period, z.period_start) AS adjacent) adj
	 ORDER BY z.code, z.period_start
$$;
COMMENT ON FUNCTION custfocus.measure_status_rows(name) IS
'Rows of the measure_status view for the given role (which must be the caller)';

CREATE OR REPLACE FUNCTION custfocus.control_chart_rows(p_role name)
RETURNS TABLE (
	measure_code text, measure_name text, metric text, period text, period_start date, period_label text,
	n bigint, p double precision, centre double precision, lcl double precision, ucl double precision,
	outside boolean, run_of_8 boolean, trend_of_6 boolean, signal text, suppressed boolean)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH v AS (SELECT (SELECT custfocus.min_responses()) AS min_n),
	series AS (
		SELECT mv.measure_id,
			   array_agg(mv.period_start ORDER BY mv.period_start) AS periods,
			   array_agg(mv.box_x ORDER BY mv.period_start) AS xs,
			   array_agg(mv.box_n ORDER BY mv.period_start) AS ns
		  FROM custfocus.measure_values(p_role) mv
		 WHERE mv.box_n > 0
		 GROUP BY mv.measure_id
	)
	SELECT m.code, m.name, m.metric, m.period, x.periods[c.point],
		   custfocus.period_label(m.period, x.periods[c.point]),
		   c.n::bigint, 100 * c.p, 100 * c.centre, 100 * c.lcl, 100 * c.ucl,
		   c.outside, c.run_of_8, c.trend_of_6, c.signal, c.p IS NULL
	  FROM series x
	  JOIN custfocus.measure m ON m.measure_id = x.measure_id
	 CROSS JOIN v
	 CROSS JOIN LATERAL custfocus.p_chart(x.xs, x.ns, v.min_n) c
	 ORDER BY m.code, c.point
$$;
COMMENT ON FUNCTION custfocus.control_chart_rows(name) IS
'Rows of the control_chart view for the given role (which must be the caller)';

CREATE OR REPLACE FUNCTION custfocus.key_drivers_rows(p_role name)
RETURNS TABLE (
	program_code text, service_code text, survey_code text, requirement_code text, requirement_name text,
	window_start date, window_end date, n bigint, correlation double precision,
	derived_importance double precision, stated_importance double precision,
	importance double precision, importance_source text, performance double precision,
	gap double precision, priority double precision, quadrant text, suppressed boolean)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH v AS (
		SELECT custfocus.sees_all_programs(p_role) AS sees_all,
			   custfocus.visible_service_ids(p_role) AS services,
			   (SELECT custfocus.min_responses()) AS min_n
	),
	win AS (
		SELECT r.service_id, r.survey_id, max(r.submitted_at) AS last_at
		  FROM v JOIN custfocus.response r ON v.sees_all OR r.service_id = ANY (v.services)
		 WHERE r.service_id IS NOT NULL
		 GROUP BY r.service_id, r.survey_id
	),
	resp AS (
		SELECT r.response_id, r.service_id, r.survey_id, r.weight
		  FROM win JOIN custfocus.response r
			ON r.service_id = win.service_id AND r.survey_id = win.survey_id
		   AND r.submitted_at > win.last_at - interval '12 months'
	),
	overall AS (
		SELECT r.response_id, custfocus.oriented_score(a.value, i.reverse_coded, s.min_value, s.max_value) AS y
		  FROM resp r
		  JOIN custfocus.answer a ON a.response_id = r.response_id
		  JOIN custfocus.item i ON i.item_id = a.item_id AND i.is_overall
		  JOIN custfocus.scale s ON s.scale_id = i.scale_id
		 WHERE a.value IS NOT NULL
	),
	drv AS (
		SELECT r.response_id, r.service_id, r.survey_id, r.weight, i.requirement_id,
			   custfocus.oriented_score(a.value, i.reverse_coded, s.min_value, s.max_value) AS x,
			   s.min_value, s.max_value
		  FROM resp r
		  JOIN custfocus.answer a ON a.response_id = r.response_id
		  JOIN custfocus.item i ON i.item_id = a.item_id AND i.requirement_id IS NOT NULL AND NOT i.is_overall
		  JOIN custfocus.scale s ON s.scale_id = i.scale_id
		 WHERE a.value IS NOT NULL
	),
	perf AS (
		SELECT d.service_id, d.survey_id, d.requirement_id,
			   custfocus.linear_mean_stats(d.x, d.min_value, d.max_value, d.weight) AS lm,
			   count(o.y) AS pairs, corr(d.x, o.y) AS r
		  FROM drv d LEFT JOIN overall o ON o.response_id = d.response_id
		 GROUP BY d.service_id, d.survey_id, d.requirement_id
	),
	base AS (
		SELECT p.*, v.min_n,
			   CASE WHEN p.pairs >= v.min_n AND p.r IS NOT NULL THEN 100 * greatest(p.r, 0) END AS derived,
			   coalesce(sr.importance, rq.importance) AS stated,
			   CASE WHEN (p.lm).n >= v.min_n THEN (p.lm).mean END AS performance
		  FROM perf p CROSS JOIN v
		  JOIN custfocus.requirement rq ON rq.requirement_id = p.requirement_id
		  LEFT JOIN custfocus.service_requirement sr
			ON sr.service_id = p.service_id AND sr.requirement_id = p.requirement_id
	),
	ipa AS (
		SELECT b.*, coalesce(b.derived, b.stated) AS importance,
			   avg(coalesce(b.derived, b.stated)) FILTER (WHERE coalesce(b.derived, b.stated) IS NOT NULL
															AND b.performance IS NOT NULL)
				   OVER (PARTITION BY b.service_id, b.survey_id) AS imp_mid,
			   avg(b.performance) FILTER (WHERE coalesce(b.derived, b.stated) IS NOT NULL
											  AND b.performance IS NOT NULL)
				   OVER (PARTITION BY b.service_id, b.survey_id) AS perf_mid
		  FROM base b
	)
	SELECT pg.code, s.code, sv.code, rq.code, rq.name,
		   (win.last_at - interval '12 months')::date, win.last_at::date,
		   (x.lm).n, CASE WHEN x.pairs >= x.min_n THEN x.r END, x.derived, x.stated, x.importance,
		   CASE WHEN x.derived IS NOT NULL THEN 'derived' WHEN x.stated IS NOT NULL THEN 'stated' END,
		   x.performance, x.importance - x.performance, x.importance * (x.importance - x.performance),
		   CASE WHEN x.importance IS NULL OR x.performance IS NULL THEN NULL
				WHEN x.importance >= x.imp_mid AND x.performance < x.perf_mid THEN 'Concentrate here'
				WHEN x.importance >= x.imp_mid THEN 'Keep up the good work'
				WHEN x.performance < x.perf_mid THEN 'Low priority'
				ELSE 'Possible overkill' END,
		   (x.lm).n < x.min_n OR (x.pairs > 0 AND x.pairs < x.min_n)
	  FROM ipa x
	  JOIN win ON win.service_id = x.service_id AND win.survey_id = x.survey_id
	  JOIN custfocus.service s ON s.service_id = x.service_id
	  JOIN custfocus.program pg ON pg.program_id = s.program_id
	  JOIN custfocus.survey sv ON sv.survey_id = x.survey_id
	  JOIN custfocus.requirement rq ON rq.requirement_id = x.requirement_id
	 ORDER BY pg.code, s.code, sv.code, rq.code
$$;
COMMENT ON FUNCTION custfocus.key_drivers_rows(name) IS
'Rows of the key_drivers view for the given role (which must be the caller)';
