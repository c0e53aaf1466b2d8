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
	updated_by	name,
	-- the server's zone when the extension was installed, until an admin
	-- names the agency's
	reporting_time_zone text NOT NULL DEFAULT pg_catalog.current_setting('TimeZone')
);
COMMENT ON TABLE custfocus.setting IS
'Agency-wide settings (one row), changed by admins only';
COMMENT ON COLUMN custfocus.setting.id IS 'Always true: the table holds one row';
COMMENT ON COLUMN custfocus.setting.reporting_time_zone IS 'Time zone in which the views count months, quarters, years and ages, the same for every client whatever its session TimeZone (changing it rebuilds the roll-ups)';
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

-- Reporting (issue 13): roll-ups per service and month in the reporting time
-- zone (src/sql/rollup.sql), kept by triggers; the scorecard and the trend
-- read them through security_barrier views instead of rescanning every
-- answer in a function; admins verify and rebuild them.  The views keep
-- their names and columns, with new columns at the end.
CREATE FUNCTION custfocus.reporting_time_zone() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT s.reporting_time_zone FROM custfocus.setting s $$;
COMMENT ON FUNCTION custfocus.reporting_time_zone() IS
'The time zone every period and age in the views is counted in (custfocus.setting.reporting_time_zone), the same for every client whatever its session TimeZone';

CREATE TABLE custfocus.rollup_service_month (
	service_id	integer NOT NULL,
	month		date NOT NULL,
	responses	bigint NOT NULL,
	csat		double precision[],
	csat_counts	bigint[],
	nps			double precision[],
	lm			double precision[]
);
CREATE INDEX rollup_service_month_key_idx ON custfocus.rollup_service_month (service_id, month);
COMMENT ON TABLE custfocus.rollup_service_month IS
'Roll-up of responses and answers per service and month of the reporting time zone: aggregate states, possibly several rows per key until compacted (merge them); derived data, kept by triggers, not dumped';
COMMENT ON COLUMN custfocus.rollup_service_month.service_id IS 'Service of the responses';
COMMENT ON COLUMN custfocus.rollup_service_month.month IS 'First day of the month, in the reporting time zone';
COMMENT ON COLUMN custfocus.rollup_service_month.responses IS 'Responses (with or without answers)';
COMMENT ON COLUMN custfocus.rollup_service_month.csat IS 'top_box_state of oriented overall-satisfaction answers of rating and nps items, top two categories, weighted';
COMMENT ON COLUMN custfocus.rollup_service_month.csat_counts IS 'top_box_state of oriented overall-satisfaction answers of any metric, top two categories, unweighted (for p-charts)';
COMMENT ON COLUMN custfocus.rollup_service_month.nps IS 'nps_state of the answers to nps items, weighted';
COMMENT ON COLUMN custfocus.rollup_service_month.lm IS 'linear_mean_state of the oriented answers to rating items, weighted';

-- For each service: itself, and every program above it (the roll-ups), with
-- the codes and names readers filter on.  Rebuilt whole (it is small) after
-- any change to programs or services.
CREATE TABLE custfocus.report_unit (
	service_id	integer NOT NULL,
	level		text NOT NULL,
	program_id	integer NOT NULL,
	unit_service_id integer NOT NULL,
	program_code text NOT NULL,
	program_name text NOT NULL,
	program_level text NOT NULL,
	parent_program_code text,
	service_code text,
	service_name text
);
CREATE INDEX report_unit_service_id_idx ON custfocus.report_unit (service_id);
COMMENT ON TABLE custfocus.report_unit IS
'For each service, the units its answers count for: the service itself and every program above it; derived from program and service, kept by triggers';
COMMENT ON COLUMN custfocus.report_unit.service_id IS 'Service whose answers count';
COMMENT ON COLUMN custfocus.report_unit.level IS 'service, or program for a roll-up';
COMMENT ON COLUMN custfocus.report_unit.program_id IS 'The service''s program, or the program rolled up';
COMMENT ON COLUMN custfocus.report_unit.unit_service_id IS 'The service itself on service rows, 0 on program rows (no service has id 0: service_id_positive)';
COMMENT ON COLUMN custfocus.report_unit.program_code IS 'Code of program_id';
COMMENT ON COLUMN custfocus.report_unit.program_name IS 'Name of program_id';
COMMENT ON COLUMN custfocus.report_unit.program_level IS 'Level of program_id: agency, division or program';
COMMENT ON COLUMN custfocus.report_unit.parent_program_code IS 'Code of the program above program_id';
COMMENT ON COLUMN custfocus.report_unit.service_code IS 'Code of the service on service rows';
COMMENT ON COLUMN custfocus.report_unit.service_name IS 'Name of the service on service rows';

-- The roll-up per unit (a service, or a program with every service under
-- it), grain and period: what the views read, so that a whole scorecard is
-- a read of one row per unit and period rather than a merge of every
-- service-month under it.  Kept from the service-month roll-up: inserts
-- append their service-month deltas merged per unit (rollup_units_append);
-- recomputed keys recompute their units from the service-month rows;
-- a change to the program tree or the services rebuilds it.
CREATE TABLE custfocus.rollup_unit_period (
	program_id	integer NOT NULL,
	unit_service_id integer NOT NULL,
	grain		text NOT NULL,
	period_start date NOT NULL,
	responses	bigint NOT NULL,
	csat		double precision[],
	csat_counts	bigint[],
	nps			double precision[],
	lm			double precision[]
);
CREATE INDEX rollup_unit_period_key_idx ON custfocus.rollup_unit_period (program_id, unit_service_id, grain, period_start);
CREATE INDEX rollup_unit_period_service_idx ON custfocus.rollup_unit_period (unit_service_id, grain, period_start);
COMMENT ON TABLE custfocus.rollup_unit_period IS
'Roll-up per unit (service, or program with every service under it), grain and period of the reporting time zone: states merged from rollup_service_month, possibly several rows per key until compacted; derived data, kept by triggers, not dumped';
COMMENT ON COLUMN custfocus.rollup_unit_period.program_id IS 'The service''s program, or the program rolled up';
COMMENT ON COLUMN custfocus.rollup_unit_period.unit_service_id IS 'The service, or 0 for a program roll-up';
COMMENT ON COLUMN custfocus.rollup_unit_period.grain IS 'month, quarter or year';
COMMENT ON COLUMN custfocus.rollup_unit_period.period_start IS 'First day of the period, in the reporting time zone';
COMMENT ON COLUMN custfocus.rollup_unit_period.responses IS 'Responses';
COMMENT ON COLUMN custfocus.rollup_unit_period.csat IS 'As rollup_service_month.csat, merged';
COMMENT ON COLUMN custfocus.rollup_unit_period.csat_counts IS 'As rollup_service_month.csat_counts, merged';
COMMENT ON COLUMN custfocus.rollup_unit_period.nps IS 'As rollup_service_month.nps, merged';
COMMENT ON COLUMN custfocus.rollup_unit_period.lm IS 'As rollup_service_month.lm, merged';

-- State merges that return states (the *_merge aggregates return results).
CREATE AGGREGATE custfocus.counts_sum(bigint[]) (
	SFUNC = custfocus.counts_combine,
	STYPE = bigint[],
	COMBINEFUNC = custfocus.counts_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.counts_sum(bigint[]) IS
'Merges count states (top_box_state without weights) into one state';
CREATE AGGREGATE custfocus.sums_sum(double precision[]) (
	SFUNC = custfocus.sums_combine,
	STYPE = double precision[],
	COMBINEFUNC = custfocus.sums_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.sums_sum(double precision[]) IS
'Merges additive weighted states (top_box_state, nps_state) into one state';
CREATE AGGREGATE custfocus.moments_sum(double precision[]) (
	SFUNC = custfocus.linear_mean_stats_combine,
	STYPE = double precision[],
	COMBINEFUNC = custfocus.linear_mean_stats_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.moments_sum(double precision[]) IS
'Merges linear_mean_state states into one state (Chan''s pairwise formula)';

-- The roll-up rows of the given keys, computed from the raw data: what
-- every row of a key merges to.  Keys with no response give no row.
CREATE FUNCTION custfocus.rollup_compute(p_services integer[], p_months date[])
RETURNS SETOF custfocus.rollup_service_month
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH k AS (
		SELECT DISTINCT k.service_id, k.month, (SELECT custfocus.reporting_time_zone()) AS tz
		  FROM unnest(p_services, p_months) AS k (service_id, month)
	),
	resp AS (
		SELECT k.service_id, k.month, r.response_id, r.weight
		  FROM k
		  JOIN custfocus.response r ON r.service_id = k.service_id
			   AND r.submitted_at >= pg_catalog.timezone(k.tz, k.month::timestamp)
			   AND r.submitted_at < pg_catalog.timezone(k.tz, k.month + interval '1 month')
	),
	counted AS (
		SELECT resp.service_id, resp.month, count(*) AS responses FROM resp GROUP BY 1, 2
	),
	scored AS (
		SELECT resp.service_id, resp.month,
			   custfocus.top_box_state(custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value),
									   sc.max_value - 1, resp.weight)
				   FILTER (WHERE i.is_overall AND i.metric IN ('rating', 'nps')) AS csat,
			   custfocus.top_box_state(custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value),
									   sc.max_value - 1) FILTER (WHERE i.is_overall) AS csat_counts,
			   custfocus.nps_state(a.value, resp.weight) FILTER (WHERE i.metric = 'nps') AS nps,
			   custfocus.linear_mean_state(custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value),
										   sc.min_value, sc.max_value, resp.weight) FILTER (WHERE i.metric = 'rating') AS lm
		  FROM resp
		  JOIN custfocus.answer a ON a.response_id = resp.response_id
		  JOIN custfocus.item i ON i.item_id = a.item_id
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
		 WHERE a.value IS NOT NULL
		 GROUP BY 1, 2
	)
	SELECT c.service_id, c.month, c.responses, s.csat, s.csat_counts, s.nps, s.lm
	  FROM counted c LEFT JOIN scored s ON s.service_id = c.service_id AND s.month = c.month
$$;
COMMENT ON FUNCTION custfocus.rollup_compute(integer[], date[]) IS
'The roll-up of the given (service, month) keys computed from the raw responses and answers';

-- Recompute keys: one statement deletes every row of the keys and inserts
-- the recomputation, under one snapshot (see the design above).
CREATE FUNCTION custfocus.rollup_refresh(p_services integer[], p_months date[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- one recompute of a key at a time, the locks taken in key order
	PERFORM pg_advisory_xact_lock(pg_catalog.hashtextextended('custfocus.rollup ' || k.service_id || ' ' || k.month, 0))
	   FROM (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)
			  WHERE service_id IS NOT NULL ORDER BY 1, 2) k;
	WITH k AS (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_service_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
	)
	INSERT INTO custfocus.rollup_service_month
	SELECT * FROM custfocus.rollup_compute(p_services, p_months);
	PERFORM custfocus.rollup_units_refresh(p_services, p_months);
END
$$;
COMMENT ON FUNCTION custfocus.rollup_refresh(integer[], date[]) IS
'Recomputes the roll-up of the given (service, month) keys from the raw data';

-- Merge each key's rows into one.  Keys another transaction is recomputing
-- or compacting are skipped (try-lock), so compaction never waits.
CREATE FUNCTION custfocus.rollup_compact(p_services integer[] DEFAULT NULL, p_months date[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_services integer[];
	v_months date[];
	v_n bigint;
BEGIN
	SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month)
	  INTO v_services, v_months
	  FROM (SELECT r.service_id, r.month FROM custfocus.rollup_service_month r
			 WHERE p_services IS NULL
				OR (r.service_id, r.month) IN (SELECT * FROM unnest(p_services, p_months))
			 GROUP BY 1, 2 HAVING count(*) > 1) k
	 WHERE pg_try_advisory_xact_lock(pg_catalog.hashtextextended('custfocus.rollup ' || k.service_id || ' ' || k.month, 0));
	IF v_services IS NULL THEN
		RETURN CASE WHEN p_services IS NULL THEN custfocus.rollup_units_compact() ELSE 0 END;
	END IF;
	WITH k AS (SELECT * FROM unnest(v_services, v_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_service_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
		RETURNING r.*
	)
	INSERT INTO custfocus.rollup_service_month
	SELECT g.service_id, g.month, sum(g.responses), custfocus.sums_sum(g.csat), custfocus.counts_sum(g.csat_counts),
		   custfocus.sums_sum(g.nps), custfocus.moments_sum(g.lm)
	  FROM gone g GROUP BY g.service_id, g.month;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	IF p_services IS NULL THEN
		v_n := v_n + custfocus.rollup_units_compact();
	END IF;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_compact(integer[], date[]) IS
'Merges the roll-up rows of each key (of the given service-month keys; or of all keys, the unit roll-up''s too) into one; returns how many keys it compacted';

CREATE FUNCTION custfocus.rollup_rebuild() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
BEGIN
	-- nobody appends while the table is rebuilt
	LOCK TABLE custfocus.rollup_service_month IN EXCLUSIVE MODE;
	PERFORM custfocus.report_unit_refresh();
	DELETE FROM custfocus.rollup_service_month;
	INSERT INTO custfocus.rollup_service_month
	SELECT c.* FROM (
		SELECT array_agg(k.service_id) AS s, array_agg(k.month) AS m
		  FROM (SELECT DISTINCT r.service_id, date_trunc('month', timezone((SELECT custfocus.reporting_time_zone()), r.submitted_at))::date AS month
				  FROM custfocus.response r WHERE r.service_id IS NOT NULL) k
	) keys
	CROSS JOIN LATERAL custfocus.rollup_compute(keys.s, keys.m) c;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	PERFORM custfocus.rollup_units_rebuild();
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_rebuild() IS
'Recomputes every roll-up (and report_unit) from the raw data, after a restore with triggers off or to repair; returns the number of keys';

-- Every key whose merged roll-up differs from a recomputation: counts must
-- be equal, float sums equal to 1e-12 relative.  Empty when all is well.
CREATE FUNCTION custfocus.rollup_verify()
RETURNS TABLE (service_id integer, month date, problem text)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH stored AS (
		SELECT r.service_id, r.month, sum(r.responses) AS responses,
			   custfocus.sums_sum(r.csat) AS csat, custfocus.counts_sum(r.csat_counts) AS csat_counts,
			   custfocus.sums_sum(r.nps) AS nps, custfocus.moments_sum(r.lm) AS lm
		  FROM custfocus.rollup_service_month r GROUP BY 1, 2
	),
	fresh AS (
		SELECT c.* FROM (
			SELECT array_agg(k.service_id) AS s, array_agg(k.month) AS m
			  FROM (SELECT DISTINCT r.service_id, date_trunc('month', timezone((SELECT custfocus.reporting_time_zone()), r.submitted_at))::date AS month
					  FROM custfocus.response r WHERE r.service_id IS NOT NULL) k
		) keys
		CROSS JOIN LATERAL custfocus.rollup_compute(keys.s, keys.m) c
	),
	cmp AS (
		SELECT coalesce(s.service_id, f.service_id) AS service_id, coalesce(s.month, f.month) AS month,
			   s.responses AS s_resp, f.responses AS f_resp,
			   coalesce(s.csat, '{0,0,0,0}') AS s_csat, coalesce(f.csat, '{0,0,0,0}') AS f_csat,
			   coalesce(s.csat_counts, '{0,0}') AS s_cc, coalesce(f.csat_counts, '{0,0}') AS f_cc,
			   coalesce(s.nps, '{0,0,0,0,0,0}') AS s_nps, coalesce(f.nps, '{0,0,0,0,0,0}') AS f_nps,
			   coalesce(s.lm, '{0,0,0,0,0}') AS s_lm, coalesce(f.lm, '{0,0,0,0,0}') AS f_lm
		  FROM stored s FULL JOIN fresh f ON f.service_id = s.service_id AND f.month = s.month
	)
	SELECT c.service_id, c.month, p.problem
	  FROM cmp c
	 CROSS JOIN LATERAL (
		SELECT CASE WHEN c.s_resp IS DISTINCT FROM c.f_resp THEN format('responses %s, recomputed %s', c.s_resp, c.f_resp)
					WHEN c.s_cc IS DISTINCT FROM c.f_cc THEN format('csat counts %s, recomputed %s', c.s_cc, c.f_cc)
					WHEN EXISTS (SELECT FROM unnest(c.s_csat || c.s_nps || c.s_lm, c.f_csat || c.f_nps || c.f_lm) AS x (a, b)
								  WHERE abs(x.a - x.b) > 1e-12 * greatest(abs(x.a), abs(x.b), 1e-300))
					THEN format('states %s, recomputed %s', c.s_csat || c.s_nps || c.s_lm, c.f_csat || c.f_nps || c.f_lm)
			   END AS problem) p
	 WHERE p.problem IS NOT NULL
	UNION ALL
	-- and every unit key whose rows do not merge to the service-months'
	SELECT c.unit_service_id, c.period_start, format('unit (program %s, service %s, %s): %s', c.program_id,
													 c.unit_service_id, c.grain, p.problem)
	  FROM (
		SELECT coalesce(s.program_id, f.program_id) AS program_id,
			   coalesce(s.unit_service_id, f.unit_service_id) AS unit_service_id,
			   coalesce(s.grain, f.grain) AS grain, coalesce(s.period_start, f.period_start) AS period_start,
			   s.responses AS s_resp, f.responses AS f_resp,
			   coalesce(s.csat_counts, '{0,0}') AS s_cc, coalesce(f.csat_counts, '{0,0}') AS f_cc,
			   coalesce(s.csat, '{0,0,0,0}') || coalesce(s.nps, '{0,0,0,0,0,0}') || coalesce(s.lm, '{0,0,0,0,0}') AS s_st,
			   coalesce(f.csat, '{0,0,0,0}') || coalesce(f.nps, '{0,0,0,0,0,0}') || coalesce(f.lm, '{0,0,0,0,0}') AS f_st
		  FROM (SELECT r.program_id, r.unit_service_id, r.grain, r.period_start, sum(r.responses) AS responses,
					   custfocus.sums_sum(r.csat) AS csat, custfocus.counts_sum(r.csat_counts) AS csat_counts,
					   custfocus.sums_sum(r.nps) AS nps, custfocus.moments_sum(r.lm) AS lm
				  FROM custfocus.rollup_unit_period r GROUP BY 1, 2, 3, 4) s
		  FULL JOIN (
				SELECT u.program_id, u.unit_service_id, g.grain, date_trunc(g.grain, b.month)::date AS period_start,
					   sum(b.responses) AS responses, custfocus.sums_sum(b.csat) AS csat,
					   custfocus.counts_sum(b.csat_counts) AS csat_counts, custfocus.sums_sum(b.nps) AS nps,
					   custfocus.moments_sum(b.lm) AS lm
				  FROM custfocus.rollup_service_month b
				  JOIN custfocus.report_unit u ON u.service_id = b.service_id
				 CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) AS g (grain)
				 GROUP BY 1, 2, 3, 4) f
			ON f.program_id = s.program_id AND f.unit_service_id = s.unit_service_id
		   AND f.grain = s.grain AND f.period_start = s.period_start
	  ) c
	 CROSS JOIN LATERAL (
		SELECT CASE WHEN c.s_resp IS DISTINCT FROM c.f_resp THEN format('responses %s, merged %s', c.s_resp, c.f_resp)
					WHEN c.s_cc IS DISTINCT FROM c.f_cc THEN format('csat counts %s, merged %s', c.s_cc, c.f_cc)
					WHEN EXISTS (SELECT FROM unnest(c.s_st, c.f_st) AS x (a, b)
								  WHERE abs(x.a - x.b) > 1e-12 * greatest(abs(x.a), abs(x.b), 1e-300))
					THEN format('states %s, merged %s', c.s_st, c.f_st)
			   END AS problem) p
	 WHERE p.problem IS NOT NULL
$$;
COMMENT ON FUNCTION custfocus.rollup_verify() IS
'Lists every (service, month) whose roll-up differs from a recomputation from the raw data, and every unit key whose roll-up differs from the merge of its service-months (none when all is well)';

-------------------------------------------------------------------------------
-- Keeping the roll-ups current
-------------------------------------------------------------------------------

-- Inserted responses: one delta row of counts per service and month.
CREATE FUNCTION custfocus.rollup_response_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tz text := custfocus.reporting_time_zone();
	v_rows tid[];
BEGIN
	WITH d AS (
		INSERT INTO custfocus.rollup_service_month (service_id, month, responses)
		SELECT n.service_id, date_trunc('month', timezone(v_tz, n.submitted_at))::date, count(*)
		  FROM new_response n
		 WHERE n.service_id IS NOT NULL
		 GROUP BY 1, 2
		RETURNING ctid
	)
	SELECT array_agg(d.ctid) INTO v_rows FROM d;
	IF v_rows IS NOT NULL THEN
		PERFORM custfocus.rollup_units_append(v_rows);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_response_insert() IS
'Trigger: appends the counts of inserted responses to the roll-up';
CREATE TRIGGER rollup_response_insert AFTER INSERT ON custfocus.response
	REFERENCING NEW TABLE AS new_response
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_response_insert();

-- Changed or deleted responses: recompute the keys they left and entered.
-- (Their answers, deleted by the cascade, are gone by then.)
CREATE FUNCTION custfocus.rollup_response_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tz text := custfocus.reporting_time_zone();
	v_services integer[];
	v_months date[];
BEGIN
	IF TG_OP = 'UPDATE' THEN
		-- every row whose service, time or weight changed, and every row
		-- whose id changed (it finds no twin on the other side)
		SELECT array_agg(k.service_id), array_agg(k.month) INTO v_services, v_months
		  FROM (SELECT x.service_id, date_trunc('month', timezone(v_tz, x.submitted_at))::date AS month
				  FROM old_response o FULL JOIN new_response n ON n.response_id = o.response_id
				 CROSS JOIN LATERAL (VALUES (o.service_id, o.submitted_at), (n.service_id, n.submitted_at))
						AS x (service_id, submitted_at)
				 WHERE o.response_id IS NULL OR n.response_id IS NULL
					OR (o.service_id, o.submitted_at, o.weight) IS DISTINCT FROM (n.service_id, n.submitted_at, n.weight)
				 GROUP BY 1, 2) k
		 WHERE k.service_id IS NOT NULL;
	ELSE
		SELECT array_agg(k.service_id), array_agg(k.month) INTO v_services, v_months
		  FROM (SELECT DISTINCT o.service_id, date_trunc('month', timezone(v_tz, o.submitted_at))::date AS month
				  FROM old_response o
				 WHERE o.service_id IS NOT NULL) k;
	END IF;
	IF v_services IS NOT NULL THEN
		PERFORM custfocus.rollup_refresh(v_services, v_months);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_response_change() IS
'Trigger: recomputes the roll-up keys of updated (service, time, weight) or deleted responses';
CREATE TRIGGER rollup_response_update AFTER UPDATE ON custfocus.response
	REFERENCING OLD TABLE AS old_response NEW TABLE AS new_response
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_response_change();
CREATE TRIGGER rollup_response_delete AFTER DELETE ON custfocus.response
	REFERENCING OLD TABLE AS old_response
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_response_change();

-- Inserted answers: one delta row of states per service and month, then
-- compaction of the keys that have gathered many rows.
-- Answers are matched to their responses by primary key, whatever the
-- statistics say halfway through a long load (as in answer_check); with
-- sequential scans priced out, JIT would compile every statement, so it is
-- off here.
CREATE FUNCTION custfocus.rollup_answer_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET jit = off
AS $$
DECLARE
	v_services integer[];
	v_months date[];
	v_rows tid[];
	v_responses bigint[];
	v_items integer[];
	v_tz text := custfocus.reporting_time_zone();
BEGIN
	-- The responses, items and scales these answers are counted with must
	-- not change unseen under them: an UPDATE of a response's weight,
	-- service or time, or of an item or a scale, in another transaction
	-- does not wait for the answers (their foreign keys take key-share locks
	-- only), and its recompute cannot see them.  Share locks make the later
	-- of the two wait for the other, and the states are computed in the
	-- next statement, which sees what the other committed (or, in
	-- REPEATABLE READ, fails to serialize).  Responses this transaction
	-- inserted itself (an import's) nobody else can see: no lock.
	-- (Each probes by primary key with an array of the new answers' keys:
	-- as a join or a semi-join with the transition table the planner may
	-- rescan one side once per row of the other.)
	SELECT array_agg(DISTINCT n.response_id), array_agg(DISTINCT n.item_id)
	  INTO v_responses, v_items FROM new_answer n;
	PERFORM 1 FROM custfocus.response r
	 WHERE r.response_id = ANY (v_responses)
	   AND r.xmin <> pg_catalog.xid(pg_catalog.pg_current_xact_id())
	 ORDER BY r.response_id FOR SHARE;
	PERFORM 1 FROM custfocus.item i WHERE i.item_id = ANY (v_items) ORDER BY i.item_id FOR SHARE;
	PERFORM 1 FROM custfocus.scale sc
	 WHERE sc.scale_id = ANY (ARRAY(SELECT i.scale_id FROM custfocus.item i WHERE i.item_id = ANY (v_items)))
	 ORDER BY sc.scale_id FOR SHARE;
	WITH d AS (
		INSERT INTO custfocus.rollup_service_month
		SELECT r.service_id, date_trunc('month', timezone(v_tz, r.submitted_at))::date, 0,
			   custfocus.top_box_state(custfocus.oriented_score(n.value, i.reverse_coded, sc.min_value, sc.max_value),
									   sc.max_value - 1, r.weight)
				   FILTER (WHERE i.is_overall AND i.metric IN ('rating', 'nps')),
			   custfocus.top_box_state(custfocus.oriented_score(n.value, i.reverse_coded, sc.min_value, sc.max_value),
									   sc.max_value - 1) FILTER (WHERE i.is_overall),
			   custfocus.nps_state(n.value, r.weight) FILTER (WHERE i.metric = 'nps'),
			   custfocus.linear_mean_state(custfocus.oriented_score(n.value, i.reverse_coded, sc.min_value, sc.max_value),
										   sc.min_value, sc.max_value, r.weight) FILTER (WHERE i.metric = 'rating')
		  FROM new_answer n
		  JOIN custfocus.response r ON r.response_id = n.response_id
		  JOIN custfocus.item i ON i.item_id = n.item_id
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
		 WHERE n.value IS NOT NULL AND r.service_id IS NOT NULL
		 GROUP BY 1, 2
		RETURNING service_id, month, ctid
	)
	SELECT array_agg(d.service_id), array_agg(d.month), array_agg(d.ctid) INTO v_services, v_months, v_rows FROM d;
	IF v_rows IS NOT NULL THEN
		PERFORM custfocus.rollup_units_append(v_rows);
	END IF;
	IF v_services IS NOT NULL AND EXISTS (
		SELECT FROM custfocus.rollup_service_month r
		 WHERE (r.service_id, r.month) IN (SELECT * FROM unnest(v_services, v_months))
		 GROUP BY r.service_id, r.month HAVING count(*) > 8) THEN
		PERFORM custfocus.rollup_compact(v_services, v_months);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_answer_insert() IS
'Trigger: appends the states of inserted answers to the roll-up, and compacts keys that have gathered many rows';
CREATE TRIGGER rollup_answer_insert AFTER INSERT ON custfocus.answer
	REFERENCING NEW TABLE AS new_answer
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_answer_insert();

-- Changed or deleted answers: recompute their responses' keys (an answer
-- deleted with its response finds no response: the response's own trigger
-- recomputes that key).
CREATE FUNCTION custfocus.rollup_answer_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tz text := custfocus.reporting_time_zone();
	v_services integer[];
	v_months date[];
BEGIN
	IF TG_OP = 'UPDATE' THEN
		-- answers whose response, item or value changed (matched on their
		-- key; a changed key finds no twin); a change of text alone, as
		-- retention's anonymising, counts for nothing here
		SELECT array_agg(k.service_id), array_agg(k.month) INTO v_services, v_months
		  FROM (SELECT DISTINCT r.service_id, date_trunc('month', timezone(v_tz, r.submitted_at))::date AS month
				  FROM (SELECT DISTINCT x.response_id
						  FROM old_answer o FULL JOIN new_answer n
							ON n.response_id = o.response_id AND n.item_id = o.item_id
						 CROSS JOIN LATERAL (VALUES (o.response_id), (n.response_id)) AS x (response_id)
						 WHERE (o.response_id IS NULL OR n.response_id IS NULL OR o.value IS DISTINCT FROM n.value)
						   AND x.response_id IS NOT NULL) a
				  JOIN custfocus.response r ON r.response_id = a.response_id
				 WHERE r.service_id IS NOT NULL) k;
	ELSE
		SELECT array_agg(k.service_id), array_agg(k.month) INTO v_services, v_months
		  FROM (SELECT DISTINCT r.service_id, date_trunc('month', timezone(v_tz, r.submitted_at))::date AS month
				  FROM (SELECT DISTINCT response_id FROM old_answer) a
				  JOIN custfocus.response r ON r.response_id = a.response_id
				 WHERE r.service_id IS NOT NULL) k;
	END IF;
	IF v_services IS NOT NULL THEN
		PERFORM custfocus.rollup_refresh(v_services, v_months);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_answer_change() IS
'Trigger: recomputes the roll-up keys of updated or deleted answers';
CREATE TRIGGER rollup_answer_update AFTER UPDATE ON custfocus.answer
	REFERENCING OLD TABLE AS old_answer NEW TABLE AS new_answer
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_answer_change();
CREATE TRIGGER rollup_answer_delete AFTER DELETE ON custfocus.answer
	REFERENCING OLD TABLE AS old_answer
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_answer_change();

-- What an item or a scale says about its answers (overall, metric, reverse
-- coding, range) changes what they count for: recompute every key with
-- answers to the items concerned.  Rare, and bounded by those answers.
CREATE FUNCTION custfocus.rollup_items_change(p_items integer[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tz text := custfocus.reporting_time_zone();
	v_services integer[];
	v_months date[];
BEGIN
	SELECT array_agg(k.service_id), array_agg(k.month) INTO v_services, v_months
	  FROM (SELECT DISTINCT r.service_id, date_trunc('month', timezone(v_tz, r.submitted_at))::date AS month
			  FROM custfocus.answer a
			  JOIN custfocus.response r ON r.response_id = a.response_id
			 WHERE a.item_id = ANY (p_items) AND r.service_id IS NOT NULL) k;
	IF v_services IS NOT NULL THEN
		PERFORM custfocus.rollup_refresh(v_services, v_months);
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_items_change(integer[]) IS
'Recomputes the roll-up keys that hold answers to the given items';

CREATE FUNCTION custfocus.rollup_item_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.rollup_items_change(array_agg(n.item_id))
	   FROM old_item o JOIN new_item n ON n.item_id = o.item_id
	  WHERE (o.is_overall, o.metric, o.reverse_coded, o.scale_id)
			IS DISTINCT FROM (n.is_overall, n.metric, n.reverse_coded, n.scale_id)
	 HAVING count(*) > 0;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_item_update() IS
'Trigger: recomputes the roll-up keys of items whose overall flag, metric, reverse coding or scale changed';
CREATE TRIGGER rollup_item_update AFTER UPDATE ON custfocus.item
	REFERENCING OLD TABLE AS old_item NEW TABLE AS new_item
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_item_update();

CREATE FUNCTION custfocus.rollup_scale_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.rollup_items_change(array_agg(i.item_id))
	   FROM old_scale o JOIN new_scale n ON n.scale_id = o.scale_id
	   JOIN custfocus.item i ON i.scale_id = n.scale_id
	  WHERE (o.min_value, o.max_value) IS DISTINCT FROM (n.min_value, n.max_value)
	 HAVING count(*) > 0;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_scale_update() IS
'Trigger: recomputes the roll-up keys of the items on scales whose range changed';
CREATE TRIGGER rollup_scale_update AFTER UPDATE ON custfocus.scale
	REFERENCING OLD TABLE AS old_scale NEW TABLE AS new_scale
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_scale_update();

-- Emptied tables: nothing is left to roll up.
CREATE FUNCTION custfocus.rollup_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.rollup_rebuild();
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_truncate() IS
'Trigger: rebuilds the roll-up after a TRUNCATE of responses or answers';
CREATE TRIGGER rollup_response_truncate AFTER TRUNCATE ON custfocus.response
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_truncate();
CREATE TRIGGER rollup_answer_truncate AFTER TRUNCATE ON custfocus.answer
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_truncate();

-------------------------------------------------------------------------------
-- The units a service counts for, as a table the views can join and filter
-------------------------------------------------------------------------------

-- The unit rows of the given unit keys, merged from the service-month
-- roll-up: what every row of a unit key merges to.
CREATE FUNCTION custfocus.rollup_units_compute(p_programs integer[], p_services integer[], p_grains text[],
											   p_periods date[])
RETURNS SETOF custfocus.rollup_unit_period
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT k.program_id, k.unit_service_id, k.grain, k.period_start, sum(b.responses),
		   custfocus.sums_sum(b.csat), custfocus.counts_sum(b.csat_counts), custfocus.sums_sum(b.nps),
		   custfocus.moments_sum(b.lm)
	  FROM (SELECT DISTINCT * FROM unnest(p_programs, p_services, p_grains, p_periods)
							 AS u (program_id, unit_service_id, grain, period_start)) k
	  JOIN custfocus.report_unit u ON u.program_id = k.program_id AND u.unit_service_id = k.unit_service_id
	  JOIN custfocus.rollup_service_month b ON b.service_id = u.service_id
		   AND b.month >= k.period_start
		   AND b.month < k.period_start + CASE k.grain WHEN 'month' THEN interval '1 month'
													   WHEN 'quarter' THEN interval '3 months'
													   ELSE interval '1 year' END
	 GROUP BY 1, 2, 3, 4
$$;
COMMENT ON FUNCTION custfocus.rollup_units_compute(integer[], integer[], text[], date[]) IS
'The unit roll-up of the given (program, service or 0, grain, period) keys, merged from rollup_service_month';

-- Append the unit deltas of service-month delta rows just inserted (by
-- their ctid, in this transaction), merged per unit key.
CREATE FUNCTION custfocus.rollup_units_append(p_rows tid[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k record;
BEGIN
	WITH d AS (
		INSERT INTO custfocus.rollup_unit_period
		SELECT u.program_id, u.unit_service_id, g.grain, date_trunc(g.grain, b.month)::date, sum(b.responses),
			   custfocus.sums_sum(b.csat), custfocus.counts_sum(b.csat_counts), custfocus.sums_sum(b.nps),
			   custfocus.moments_sum(b.lm)
		  FROM custfocus.rollup_service_month b
		  JOIN custfocus.report_unit u ON u.service_id = b.service_id
		 CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) AS g (grain)
		 WHERE b.ctid = ANY (p_rows)
		 GROUP BY 1, 2, 3, 4
		RETURNING program_id, unit_service_id, grain, period_start
	)
	SELECT array_agg(d.program_id) AS p, array_agg(d.unit_service_id) AS s, array_agg(d.grain) AS g,
		   array_agg(d.period_start) AS t
	  INTO k FROM d;
	-- every statement adds a row to each unit key it touches (a year of the
	-- agency, by every statement): compact those that gathered many
	IF k.p IS NOT NULL AND EXISTS (
		SELECT FROM custfocus.rollup_unit_period r
		 WHERE (r.program_id, r.unit_service_id, r.grain, r.period_start) IN (SELECT * FROM unnest(k.p, k.s, k.g, k.t))
		 GROUP BY r.program_id, r.unit_service_id, r.grain, r.period_start HAVING count(*) > 8) THEN
		PERFORM custfocus.rollup_units_compact(k.p, k.s, k.g, k.t);
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_units_append(tid[]) IS
'Appends to the unit roll-up the deltas of the given new rows of rollup_service_month';

-- Merge each unit key's rows into one, skipping keys others hold.
CREATE FUNCTION custfocus.rollup_units_compact(p_programs integer[] DEFAULT NULL, p_services integer[] DEFAULT NULL,
											   p_grains text[] DEFAULT NULL, p_periods date[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k record;
	v_n bigint;
BEGIN
	SELECT array_agg(x.program_id ORDER BY x.h) AS p, array_agg(x.unit_service_id ORDER BY x.h) AS s,
		   array_agg(x.grain ORDER BY x.h) AS g, array_agg(x.period_start ORDER BY x.h) AS t
	  INTO k
	  FROM (SELECT r.program_id, r.unit_service_id, r.grain, r.period_start,
				   pg_catalog.hashtextextended(format('custfocus.rollup unit %s %s %s %s', r.program_id,
											   r.unit_service_id, r.grain, r.period_start), 0) AS h
			  FROM custfocus.rollup_unit_period r
			 WHERE p_programs IS NULL
				OR (r.program_id, r.unit_service_id, r.grain, r.period_start)
				   IN (SELECT * FROM unnest(p_programs, p_services, p_grains, p_periods))
			 GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) x
	 WHERE pg_try_advisory_xact_lock(x.h);
	IF k.p IS NULL THEN
		RETURN 0;
	END IF;
	WITH u AS (SELECT * FROM unnest(k.p, k.s, k.g, k.t) AS u (program_id, unit_service_id, grain, period_start)),
	gone AS (
		DELETE FROM custfocus.rollup_unit_period r USING u
		 WHERE r.program_id = u.program_id AND r.unit_service_id = u.unit_service_id
		   AND r.grain = u.grain AND r.period_start = u.period_start
		RETURNING r.*
	)
	INSERT INTO custfocus.rollup_unit_period
	SELECT g.program_id, g.unit_service_id, g.grain, g.period_start, sum(g.responses), custfocus.sums_sum(g.csat),
		   custfocus.counts_sum(g.csat_counts), custfocus.sums_sum(g.nps), custfocus.moments_sum(g.lm)
	  FROM gone g GROUP BY 1, 2, 3, 4;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_units_compact(integer[], integer[], text[], date[]) IS
'Merges the unit roll-up rows of each key (of the given keys, or of all) into one; returns how many keys it compacted';

-- Recompute the unit keys of the given service-month keys from the
-- service-month roll-up: one statement, one snapshot, after the
-- service-month keys themselves were recomputed; unit keys locked in order,
-- always after the service-month keys.
CREATE FUNCTION custfocus.rollup_units_refresh(p_services integer[], p_months date[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k record;
BEGIN
	SELECT array_agg(x.program_id ORDER BY x.h) AS p, array_agg(x.unit_service_id ORDER BY x.h) AS s,
		   array_agg(x.grain ORDER BY x.h) AS g, array_agg(x.period_start ORDER BY x.h) AS t,
		   array_agg(x.h ORDER BY x.h) AS h
	  INTO k
	  FROM (SELECT DISTINCT u.program_id, u.unit_service_id, g.grain, date_trunc(g.grain, m.month)::date AS period_start,
				   pg_catalog.hashtextextended(format('custfocus.rollup unit %s %s %s %s', u.program_id,
											   u.unit_service_id, g.grain, date_trunc(g.grain, m.month)::date), 0) AS h
			  FROM unnest(p_services, p_months) AS m (service_id, month)
			  JOIN custfocus.report_unit u ON u.service_id = m.service_id
			 CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) AS g (grain)) x;
	IF k.p IS NULL THEN
		RETURN;
	END IF;
	PERFORM pg_advisory_xact_lock(l.h) FROM unnest(k.h) AS l (h);
	WITH u AS (SELECT * FROM unnest(k.p, k.s, k.g, k.t) AS u (program_id, unit_service_id, grain, period_start)),
	gone AS (
		DELETE FROM custfocus.rollup_unit_period r USING u
		 WHERE r.program_id = u.program_id AND r.unit_service_id = u.unit_service_id
		   AND r.grain = u.grain AND r.period_start = u.period_start
	)
	INSERT INTO custfocus.rollup_unit_period
	SELECT * FROM custfocus.rollup_units_compute(k.p, k.s, k.g, k.t);
END
$$;
COMMENT ON FUNCTION custfocus.rollup_units_refresh(integer[], date[]) IS
'Recomputes the unit roll-up keys that the given (service, month) keys count for';

-- The whole unit roll-up from the service-month roll-up.
CREATE FUNCTION custfocus.rollup_units_rebuild() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	LOCK TABLE custfocus.rollup_unit_period IN EXCLUSIVE MODE;
	DELETE FROM custfocus.rollup_unit_period;
	INSERT INTO custfocus.rollup_unit_period
	SELECT u.program_id, u.unit_service_id, g.grain, date_trunc(g.grain, b.month)::date, sum(b.responses),
		   custfocus.sums_sum(b.csat), custfocus.counts_sum(b.csat_counts), custfocus.sums_sum(b.nps),
		   custfocus.moments_sum(b.lm)
	  FROM custfocus.rollup_service_month b
	  JOIN custfocus.report_unit u ON u.service_id = b.service_id
	 CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) AS g (grain)
	 GROUP BY 1, 2, 3, 4;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_units_rebuild() IS
'Rebuilds the unit roll-up from the service-month roll-up (after a change to programs or services)';

CREATE FUNCTION custfocus.report_unit_refresh() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- one refresh at a time (each deletes every row and inserts its own, so
	-- two at once would leave both sets); readers are not blocked
	LOCK TABLE custfocus.report_unit IN EXCLUSIVE MODE;
	DELETE FROM custfocus.report_unit;
	WITH RECURSIVE up (service_id, program_id) AS (
		SELECT s.service_id, s.program_id FROM custfocus.service s
		UNION ALL
		SELECT up.service_id, p.parent_id FROM up
		  JOIN custfocus.program p ON p.program_id = up.program_id
		 WHERE p.parent_id IS NOT NULL
	)
	INSERT INTO custfocus.report_unit
	SELECT s.service_id, 'service', p.program_id, s.service_id, p.code, p.name, p.level, pp.code, s.code, s.name
	  FROM custfocus.service s
	  JOIN custfocus.program p ON p.program_id = s.program_id
	  LEFT JOIN custfocus.program pp ON pp.program_id = p.parent_id
	UNION ALL
	SELECT up.service_id, 'program', p.program_id, 0, p.code, p.name, p.level, pp.code, NULL, NULL
	  FROM up
	  JOIN custfocus.program p ON p.program_id = up.program_id
	  LEFT JOIN custfocus.program pp ON pp.program_id = p.parent_id;
END
$$;
COMMENT ON FUNCTION custfocus.report_unit_refresh() IS
'Rebuilds report_unit from program and service';

CREATE FUNCTION custfocus.report_unit_rebuild() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.report_unit_refresh();
	-- a service moved to another program, or a program under another
	-- parent, counts for other units: rebuild the unit roll-up (which takes
	-- it whole, EXCLUSIVE, so only structural changes do); new or deleted
	-- rows and new names change no roll-up
	IF TG_ARGV[0] = 'structure' THEN
		PERFORM custfocus.rollup_units_rebuild();
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.report_unit_rebuild() IS
'Trigger: rebuilds report_unit after a change to programs or services, and the unit roll-up after a change of the tree (argument structure)';
CREATE TRIGGER report_unit_program AFTER INSERT OR DELETE OR TRUNCATE ON custfocus.program
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_unit_rebuild('names');
CREATE TRIGGER report_unit_program_names AFTER UPDATE OF code, name, level ON custfocus.program
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_unit_rebuild('names');
CREATE TRIGGER report_unit_program_tree AFTER UPDATE OF parent_id ON custfocus.program
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_unit_rebuild('structure');
CREATE TRIGGER report_unit_service AFTER INSERT OR DELETE OR TRUNCATE ON custfocus.service
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_unit_rebuild('names');
CREATE TRIGGER report_unit_service_names AFTER UPDATE OF code, name ON custfocus.service
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_unit_rebuild('names');
CREATE TRIGGER report_unit_service_tree AFTER UPDATE OF program_id ON custfocus.service
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_unit_rebuild('structure');

REVOKE ALL ON FUNCTION custfocus.rollup_compute(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_refresh(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_compact(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_rebuild() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_verify() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_items_change(integer[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_response_insert() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_response_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_answer_insert() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_answer_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_item_update() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_scale_update() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_truncate() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.report_unit_rebuild() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.report_unit_refresh() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_units_compute(integer[], integer[], text[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_units_append(tid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_units_compact(integer[], integer[], text[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_units_refresh(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_units_rebuild() FROM PUBLIC;

-- A new reporting time zone moves every period's edges: rebuild the roll-up.
CREATE FUNCTION custfocus.rollup_time_zone_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- refuses a zone PostgreSQL does not know, even with no data yet
	PERFORM pg_catalog.timezone(NEW.reporting_time_zone, pg_catalog.now());
	PERFORM custfocus.rollup_rebuild();
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_time_zone_change() IS
'Trigger: checks a new reporting time zone and rebuilds the roll-up in it';
CREATE TRIGGER rollup_time_zone AFTER UPDATE OF reporting_time_zone ON custfocus.setting
	FOR EACH ROW WHEN (OLD.reporting_time_zone IS DISTINCT FROM NEW.reporting_time_zone)
	EXECUTE FUNCTION custfocus.rollup_time_zone_change();
REVOKE ALL ON FUNCTION custfocus.rollup_time_zone_change() FROM PUBLIC;

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
			   -- derived data (roll-ups hold unsuppressed small groups of every
			   -- program): only the extension's own functions touch them
			   AND c.relname NOT IN ('rollup_service_month', 'rollup_unit_period', 'report_unit')
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
			   AND c.relname NOT IN ('setting', 'rollup_service_month', 'rollup_unit_period', 'report_unit')
		LOOP
			EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s', obj.rel, p_role);
		END LOOP;
		-- the settings are one row, changed in place
		EXECUTE format('GRANT SELECT, UPDATE ON custfocus.setting TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.apply_retention(text, interval, text) TO %s', p_role);
		-- the roll-ups' maintenance (see src/sql/rollup.sql)
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.rollup_verify() TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.rollup_rebuild() TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.rollup_compact(integer[], date[]) TO %s', p_role);
	END IF;

	INSERT INTO custfocus.role_access (role_name, level) VALUES (p_role::text::name, p_level);
	-- a reader or analyst sees only the programs granted to it: say so
	-- when there are none yet, rather than let the views come back empty
	IF p_level <> 'admin'
	   AND NOT EXISTS (SELECT FROM pg_roles r WHERE r.oid = p_role AND (r.rolsuper OR r.rolbypassrls))
	   AND NOT EXISTS (SELECT FROM custfocus.program_access a
						 JOIN pg_roles g ON g.rolname = a.role_name
						WHERE pg_has_role(p_role, g.oid, 'USAGE')) THEN
		RAISE NOTICE 'role "%" sees no program yet: the views will show it nothing', p_role
			USING HINT = format('Grant it programs with custfocus.grant_program_access(%L, ''PROGRAM CODE''); a program covers every program below it.', p_role::text);
	END IF;
END
$$;

-- roles made admins before 1.2 get what grant_access now gives admins
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT a.role_name FROM custfocus.role_access a
			   JOIN pg_catalog.pg_roles g ON g.rolname = a.role_name
			  WHERE a.level = 'admin'
	LOOP
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION custfocus.rollup_verify() TO %I', r.role_name);
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION custfocus.rollup_rebuild() TO %I', r.role_name);
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION custfocus.rollup_compact(integer[], date[]) TO %I', r.role_name);
	END LOOP;
END
$$;

-- Period helpers inlined into the views (SQL-standard bodies, not STRICT).
CREATE OR REPLACE FUNCTION custfocus.period_label(grain text, period_start date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE grain WHEN 'month' THEN pg_catalog.to_char(period_start, 'YYYY-MM')
				  WHEN 'quarter' THEN pg_catalog.to_char(period_start, 'YYYY-"Q"Q')
				  WHEN 'year' THEN pg_catalog.to_char(period_start, 'YYYY') END;
COMMENT ON FUNCTION custfocus.period_label(text, date) IS
'A period as text: 2026-03 (month), 2026-Q1 (quarter) or 2026 (year)';

CREATE OR REPLACE FUNCTION custfocus.previous_period(grain text, period_start date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (period_start OPERATOR(pg_catalog.-) CASE grain WHEN 'month' THEN interval '1 month'
													  WHEN 'quarter' THEN interval '3 months'
													  WHEN 'year' THEN interval '1 year' END)::date;
COMMENT ON FUNCTION custfocus.previous_period(text, date) IS
'First day of the period before the one starting on period_start, at the given grain';

-- Suppressed points take no part in a p-chart's centre line (it gave their
-- successes away).
CREATE OR REPLACE FUNCTION custfocus.p_chart(p_x double precision[], p_n double precision[], p_min_n integer DEFAULT 0)
RETURNS TABLE (point integer, x double precision, n double precision, p double precision,
			   centre double precision, lcl double precision, ucl double precision,
			   outside boolean, run_of_8 boolean, trend_of_6 boolean, signal text)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k integer := coalesce(cardinality(p_x), 0);
	pbar double precision;
	side integer;
	last_side integer := 0;
	side_run integer := 0;
	dir integer;
	last_dir integer := 0;
	dir_run integer := 0;
	last_p double precision;
	half double precision;
BEGIN
	IF k <> coalesce(cardinality(p_n), 0) THEN
		RAISE EXCEPTION 'p_chart needs as many counts as successes, got % and %', k, cardinality(p_n)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT sum(a.x) / nullif(sum(a.n), 0) INTO pbar
	  FROM unnest(p_x, p_n) AS a (x, n) WHERE a.n > 0 AND a.n >= p_min_n;
	FOR i IN 1 .. k LOOP
		point := i;
		x := p_x[i];
		n := p_n[i];
		IF x IS NULL OR n IS NULL OR n <= 0 OR x < 0 OR x > n THEN
			RAISE EXCEPTION 'p_chart point % has % successes of %', i, x, n
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Each point needs 0 <= successes <= n and n > 0.';
		END IF;
		centre := pbar;
		half := 3 * sqrt(pbar * (1 - pbar) / n);
		lcl := CASE WHEN pbar IS NOT NULL THEN greatest(0, pbar - half) END;
		ucl := CASE WHEN pbar IS NOT NULL THEN least(1, pbar + half) END;
		IF n < p_min_n THEN
			p := NULL; outside := NULL; run_of_8 := NULL; trend_of_6 := NULL; signal := NULL;
			RETURN NEXT;
			CONTINUE;
		END IF;
		p := x / n;
		outside := p < lcl OR p > ucl;
		side := sign(p - pbar)::integer;
		IF side <> 0 AND side = last_side THEN side_run := side_run + 1;
		ELSIF side <> 0 THEN side_run := 1;
		ELSE side_run := 0;
		END IF;
		last_side := side;
		run_of_8 := side_run >= 8;
		IF last_p IS NULL THEN
			dir := 0;
		ELSE
			dir := sign(p - last_p)::integer;
		END IF;
		IF dir <> 0 AND dir = last_dir THEN dir_run := dir_run + 1;
		ELSIF dir <> 0 THEN dir_run := 1;
		ELSE dir_run := 0;
		END IF;
		last_dir := dir;
		last_p := p;
		trend_of_6 := dir_run >= 5;
		signal := nullif(concat_ws(', ',
			CASE WHEN outside THEN 'outside limits' END,
			CASE WHEN run_of_8 THEN CASE WHEN side > 0 THEN '8 above centre' ELSE '8 below centre' END END,
			CASE WHEN trend_of_6 THEN CASE WHEN dir > 0 THEN '6 rising' ELSE '6 falling' END END), '');
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION custfocus.p_chart(double precision[], double precision[], integer) IS
'p-chart of a series of proportions x/n: centre sum(x)/sum(n), limits centre +- 3 sqrt(centre (1 - centre) / n) clipped to [0, 1], and the run rules (a point outside the limits, 8 in a row on one side, 6 steadily rising or falling)';

-- CREATE OR REPLACE VIEW keeps the views (and any view of a user's built on
-- them) and replaces their options: security_barrier instead of
-- security_invoker.
CREATE OR REPLACE VIEW custfocus.scorecard WITH (security_barrier) AS
SELECT x.level, x.program_code, x.program_name, x.service_code, x.service_name, x.grain, x.period_start,
	   custfocus.period_label(x.grain, x.period_start) AS period_label,
	   x.responses,
	   coalesce((x.csat).n, 0) AS csat_n, (x.csat_shown).percent AS csat, (x.csat_shown).ci_low AS csat_ci_low,
	   (x.csat_shown).ci_high AS csat_ci_high,
	   coalesce((x.nps).n, 0) AS nps_n, (x.nps_shown).nps AS nps, (x.nps_shown).ci_low AS nps_ci_low,
	   (x.nps_shown).ci_high AS nps_ci_high,
	   coalesce((x.lm).n, 0) AS linear_mean_n, (x.lm_shown).mean AS linear_mean, (x.lm_shown).ci_low AS linear_mean_ci_low,
	   (x.lm_shown).ci_high AS linear_mean_ci_high,
	   CASE WHEN x.adjacent THEN (x.csat_shown).percent - (x.prev_csat).percent END AS csat_change,
	   CASE WHEN x.adjacent THEN (custfocus.prop_ztest(
			(x.csat_shown).percent / 100 * (x.csat_shown).n_eff, (x.csat_shown).n_eff,
			(x.prev_csat).percent / 100 * (x.prev_csat).n_eff, (x.prev_csat).n_eff)).p_value END AS csat_change_p,
	   CASE WHEN x.adjacent THEN (x.nps_shown).nps - (x.prev_nps).nps END AS nps_change,
	   CASE WHEN x.adjacent THEN (custfocus.nps_ztest((x.nps_shown).nps, (x.nps_shown).se,
													  (x.prev_nps).nps, (x.prev_nps).se)).p_value END AS nps_change_p,
	   x.suppressed,
	   x.program_level, x.parent_program_code,
	   CASE WHEN x.csat_shown IS NOT NULL THEN x.csat_state[2] END AS csat_weight,
	   CASE WHEN x.csat_shown IS NOT NULL THEN x.csat_state[4] END AS csat_weight_in_box,
	   (x.csat_shown).n_eff AS csat_n_eff,
	   CASE WHEN x.nps_shown IS NOT NULL THEN x.nps_state[2] END AS nps_weight,
	   CASE WHEN x.nps_shown IS NOT NULL THEN x.nps_state[4] END AS nps_weight_promoters,
	   CASE WHEN x.nps_shown IS NOT NULL THEN x.nps_state[6] END AS nps_weight_detractors,
	   CASE WHEN x.lm_shown IS NOT NULL THEN x.lm_state[2] END AS linear_mean_weight,
	   CASE WHEN x.lm_shown IS NOT NULL THEN x.lm_state[2] * x.lm_state[4] END AS linear_mean_weighted_sum
  FROM (
	SELECT y.*,
		   lag(y.period_start) OVER w = custfocus.previous_period(y.grain, y.period_start) AS adjacent,
		   lag(y.csat_shown) OVER w AS prev_csat,
		   lag(y.nps_shown) OVER w AS prev_nps
	  FROM (
		SELECT g.*,
			   CASE WHEN (g.csat).n >= v.min_n THEN g.csat END AS csat_shown,
			   CASE WHEN (g.nps).n >= v.min_n THEN g.nps END AS nps_shown,
			   CASE WHEN (g.lm).n >= v.min_n THEN g.lm END AS lm_shown,
			   (coalesce((g.csat).n, 0) BETWEEN 1 AND v.min_n - 1
				OR coalesce((g.nps).n, 0) BETWEEN 1 AND v.min_n - 1
				OR coalesce((g.lm).n, 0) BETWEEN 1 AND v.min_n - 1) AS suppressed
		  FROM (
		  -- each state merged once, and each result computed once: a function
		  -- in FROM runs once a row, where the same call in the select list
		  -- of a subquery the planner flattens would run for every field of
		  -- its result the outer levels read
		  SELECT m.*, csat_r AS csat, nps_r AS nps, lm_r AS lm
			FROM (
			SELECT u.level, u.program_id, u.unit_service_id, u.program_code, u.program_name, u.program_level,
				   u.parent_program_code, u.service_code, u.service_name, r.grain, r.period_start,
				   sum(r.responses)::bigint AS responses,
				   custfocus.sums_sum(r.csat) AS csat_state, custfocus.sums_sum(r.nps) AS nps_state,
				   custfocus.moments_sum(r.lm) AS lm_state
			  FROM (SELECT DISTINCT level, program_id, unit_service_id, program_code, program_name, program_level,
									parent_program_code, service_code, service_name
					  FROM custfocus.report_unit) u
			  JOIN custfocus.rollup_unit_period r ON r.program_id = u.program_id AND r.unit_service_id = u.unit_service_id
			 WHERE (SELECT custfocus.sees_all_programs())
				OR u.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
			 GROUP BY u.level, u.program_id, u.unit_service_id, u.program_code, u.program_name, u.program_level,
					  u.parent_program_code, u.service_code, u.service_name, r.grain, r.period_start
			) m
			CROSS JOIN LATERAL custfocus.box_weighted_stats_final(m.csat_state) AS csat_r
			CROSS JOIN LATERAL custfocus.nps_weighted_stats_final(m.nps_state) AS nps_r
			CROSS JOIN LATERAL custfocus.linear_mean_stats_final(m.lm_state) AS lm_r
		  ) g
		 -- OFFSET 0 keeps this a sub-query evaluated once: pulled up, the
		 -- (SECURITY DEFINER) function would be called in every row's tests
		 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
	  ) y
	WINDOW w AS (PARTITION BY y.level, y.program_id, y.unit_service_id, y.program_code, y.service_code, y.grain
				 ORDER BY y.period_start)
  ) x;
COMMENT ON VIEW custfocus.scorecard IS
'Satisfaction per service and per program (roll-up of every service under it), per month, quarter and year of the reporting time zone: CSAT, NPS and linear mean with 95 % intervals (survey weights applied), the change from the period before with its p-value, and additive columns to re-aggregate any selection; scores of fewer than custfocus.min_responses() answers are suppressed';
COMMENT ON COLUMN custfocus.scorecard.level IS 'service, or program for a roll-up of every service under the program';
COMMENT ON COLUMN custfocus.scorecard.program_code IS 'Program (of the service, or rolled up)';
COMMENT ON COLUMN custfocus.scorecard.program_name IS 'Program name';
COMMENT ON COLUMN custfocus.scorecard.service_code IS 'Service (NULL on program rows)';
COMMENT ON COLUMN custfocus.scorecard.service_name IS 'Service name';
COMMENT ON COLUMN custfocus.scorecard.grain IS 'month, quarter or year: filter on it';
COMMENT ON COLUMN custfocus.scorecard.period_start IS 'First day of the period, in the reporting time zone';
COMMENT ON COLUMN custfocus.scorecard.period_label IS 'Period as text: 2026-03, 2026-Q1 or 2026';
COMMENT ON COLUMN custfocus.scorecard.responses IS 'Responses in the period (additive over services and periods of one grain)';
COMMENT ON COLUMN custfocus.scorecard.csat_n IS 'Answers to overall-satisfaction items (shown even when the score is suppressed)';
COMMENT ON COLUMN custfocus.scorecard.csat IS 'CSAT: percent of overall-satisfaction answers in the top two categories of their scale (weighted)';
COMMENT ON COLUMN custfocus.scorecard.csat_ci_low IS 'Lower end of the 95 % Wilson interval of CSAT (on the effective n)';
COMMENT ON COLUMN custfocus.scorecard.csat_ci_high IS 'Upper end of the 95 % Wilson interval of CSAT';
COMMENT ON COLUMN custfocus.scorecard.nps_n IS 'Answers to likelihood-to-recommend (nps) items';
COMMENT ON COLUMN custfocus.scorecard.nps IS 'Net Promoter Score, -100..100 (weighted)';
COMMENT ON COLUMN custfocus.scorecard.nps_ci_low IS 'Lower end of the 95 % interval of NPS';
COMMENT ON COLUMN custfocus.scorecard.nps_ci_high IS 'Upper end of the 95 % interval of NPS';
COMMENT ON COLUMN custfocus.scorecard.linear_mean_n IS 'Answers to rating items';
COMMENT ON COLUMN custfocus.scorecard.linear_mean IS 'CAHPS linear mean of all rating answers on 0..100, reverse-coded items flipped (weighted)';
COMMENT ON COLUMN custfocus.scorecard.linear_mean_ci_low IS 'Lower end of the 95 % interval of the linear mean';
COMMENT ON COLUMN custfocus.scorecard.linear_mean_ci_high IS 'Upper end of the 95 % interval of the linear mean';
COMMENT ON COLUMN custfocus.scorecard.csat_change IS 'CSAT minus CSAT of the period just before (percentage points); NULL if that period has no shown CSAT';
COMMENT ON COLUMN custfocus.scorecard.csat_change_p IS 'Two-sided p-value of the change (pooled two-proportion z-test on effective counts)';
COMMENT ON COLUMN custfocus.scorecard.nps_change IS 'NPS minus NPS of the period just before';
COMMENT ON COLUMN custfocus.scorecard.nps_change_p IS 'Two-sided p-value of the NPS change: z = difference / sqrt(SE1^2 + SE2^2)';
COMMENT ON COLUMN custfocus.scorecard.suppressed IS 'True when at least one score of the row has answers, but fewer than custfocus.min_responses(), and is shown as NULL (a score without answers is NULL and not suppressed)';
COMMENT ON COLUMN custfocus.scorecard.program_level IS 'Level of the program: agency, division or program (for drill-down)';
COMMENT ON COLUMN custfocus.scorecard.parent_program_code IS 'Program above program_code (for drill-down)';
COMMENT ON COLUMN custfocus.scorecard.csat_weight IS 'Sum of the weights of the CSAT answers (NULL when suppressed): CSAT of a selection = 100 * sum(csat_weight_in_box) / sum(csat_weight)';
COMMENT ON COLUMN custfocus.scorecard.csat_weight_in_box IS 'Sum of the weights of the CSAT answers in the top two categories (NULL when suppressed)';
COMMENT ON COLUMN custfocus.scorecard.csat_n_eff IS 'Kish''s effective number of CSAT answers, (sum w)^2 / sum w^2 (NULL when suppressed)';
COMMENT ON COLUMN custfocus.scorecard.nps_weight IS 'Sum of the weights of the NPS answers (NULL when suppressed): NPS of a selection = 100 * (sum(nps_weight_promoters) - sum(nps_weight_detractors)) / sum(nps_weight)';
COMMENT ON COLUMN custfocus.scorecard.nps_weight_promoters IS 'Sum of the weights of promoters (9 or 10; NULL when suppressed)';
COMMENT ON COLUMN custfocus.scorecard.nps_weight_detractors IS 'Sum of the weights of detractors (0 to 6; NULL when suppressed)';
COMMENT ON COLUMN custfocus.scorecard.linear_mean_weight IS 'Sum of the weights of the rating answers (NULL when suppressed): linear mean of a selection = sum(linear_mean_weighted_sum) / sum(linear_mean_weight)';
COMMENT ON COLUMN custfocus.scorecard.linear_mean_weighted_sum IS 'Sum of weight times score (0..100) of the rating answers (NULL when suppressed)';

CREATE OR REPLACE VIEW custfocus.satisfaction_trend WITH (security_barrier) AS
SELECT x.level, x.program_code, x.service_code, x.grain, x.periods[c.point] AS period_start,
	   custfocus.period_label(x.grain, x.periods[c.point]) AS period_label,
	   c.n::bigint AS n, 100 * c.p AS csat, 100 * c.centre AS centre, 100 * c.lcl AS lcl, 100 * c.ucl AS ucl,
	   c.outside, c.run_of_8, c.trend_of_6, c.signal, c.p IS NULL AS suppressed,
	   x.program_level, x.parent_program_code,
	   CASE WHEN c.p IS NOT NULL THEN c.x::bigint END AS in_box
  FROM (
	SELECT g.level, g.program_id, g.unit_service_id, g.program_code, g.service_code, g.program_level,
		   g.parent_program_code, g.grain,
		   array_agg(g.period_start ORDER BY g.period_start) AS periods,
		   array_agg(g.b[2]::double precision ORDER BY g.period_start) AS xs,
		   array_agg(g.b[1]::double precision ORDER BY g.period_start) AS ns
	  FROM (
		SELECT u.level, u.program_id, u.unit_service_id, u.program_code, u.service_code, u.program_level,
			   u.parent_program_code, r.grain, r.period_start,
			   custfocus.counts_sum(r.csat_counts) AS b
		  FROM (SELECT DISTINCT level, program_id, unit_service_id, program_code, service_code, program_level,
								parent_program_code
				  FROM custfocus.report_unit) u
		  JOIN custfocus.rollup_unit_period r ON r.program_id = u.program_id AND r.unit_service_id = u.unit_service_id
		 WHERE (SELECT custfocus.sees_all_programs())
			OR u.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
		 GROUP BY u.level, u.program_id, u.unit_service_id, u.program_code, u.service_code, u.program_level,
				  u.parent_program_code, r.grain, r.period_start
	  ) g
	 WHERE g.b[1] > 0
	 GROUP BY g.level, g.program_id, g.unit_service_id, g.program_code, g.service_code, g.program_level,
			  g.parent_program_code, g.grain
  ) x
 CROSS JOIN LATERAL custfocus.p_chart(x.xs, x.ns, (SELECT custfocus.min_responses())) c;
COMMENT ON VIEW custfocus.satisfaction_trend IS
'CSAT over time per service and program as a p-chart: each period''s percent satisfied against the centre line and 3-sigma limits, with the run signals (outside the limits, 8 in a row on one side, 6 rising or falling); unweighted counts, periods of the reporting time zone';
COMMENT ON COLUMN custfocus.satisfaction_trend.level IS 'service, or program for a roll-up of every service under it';
COMMENT ON COLUMN custfocus.satisfaction_trend.program_code IS 'Program';
COMMENT ON COLUMN custfocus.satisfaction_trend.service_code IS 'Service (NULL on program rows)';
COMMENT ON COLUMN custfocus.satisfaction_trend.grain IS 'month, quarter or year: filter on it';
COMMENT ON COLUMN custfocus.satisfaction_trend.period_start IS 'First day of the period, in the reporting time zone';
COMMENT ON COLUMN custfocus.satisfaction_trend.period_label IS 'Period as text';
COMMENT ON COLUMN custfocus.satisfaction_trend.n IS 'Overall-satisfaction answers in the period (additive)';
COMMENT ON COLUMN custfocus.satisfaction_trend.csat IS 'Percent in the top two categories (NULL when suppressed)';
COMMENT ON COLUMN custfocus.satisfaction_trend.centre IS 'Centre line: percent satisfied over the shown (not suppressed) periods of the series';
COMMENT ON COLUMN custfocus.satisfaction_trend.lcl IS 'Lower control limit for this period''s n (percent, at least 0)';
COMMENT ON COLUMN custfocus.satisfaction_trend.ucl IS 'Upper control limit for this period''s n (percent, at most 100)';
COMMENT ON COLUMN custfocus.satisfaction_trend.outside IS 'The point is outside the control limits';
COMMENT ON COLUMN custfocus.satisfaction_trend.run_of_8 IS 'The point ends a run of 8 or more on one side of the centre line';
COMMENT ON COLUMN custfocus.satisfaction_trend.trend_of_6 IS 'The point ends 6 or more points steadily rising or falling';
COMMENT ON COLUMN custfocus.satisfaction_trend.signal IS 'The signals of the point in words (NULL: none)';
COMMENT ON COLUMN custfocus.satisfaction_trend.suppressed IS 'True when the period has fewer than custfocus.min_responses() answers: its percent and signals are not shown';
COMMENT ON COLUMN custfocus.satisfaction_trend.program_level IS 'Level of the program: agency, division or program';
COMMENT ON COLUMN custfocus.satisfaction_trend.parent_program_code IS 'Program above program_code';
COMMENT ON COLUMN custfocus.satisfaction_trend.in_box IS 'Answers in the top two categories (NULL when suppressed): percent of a selection = 100 * sum(in_box) / sum(n)';

DROP FUNCTION custfocus.scorecard_rows(name);
DROP FUNCTION custfocus.satisfaction_trend_rows(name);

-- Build the roll-ups of the data already there (report_unit included).
SELECT custfocus.rollup_rebuild();

-------------------------------------------------------------------------------
-- BI conventions (issue 13)
-------------------------------------------------------------------------------
-- View columns a client maps without guessing: data_coverage.surveys becomes
-- text (codes separated by ", "), the two unscaled numerics get a stated
-- scale (feedback_queue.service_median_days_to_close numeric(8,1),
-- voc_themes.share_of_documents numeric(4,1)).  A view column cannot change
-- its type in place, so these views (and data_coverage's function, whose
-- result type changes) are dropped and created again, as the install script
-- creates them, then commented and granted again below.  Then the dimension
-- views and the data dictionary, new.  Everything from here to the grants is
-- the text of src/sql/views.sql.
DROP VIEW custfocus.data_coverage;
DROP FUNCTION custfocus.data_coverage_rows(name);
DROP VIEW custfocus.feedback_queue;
DROP VIEW custfocus.voc_themes;

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

-- The roles granted a level read the views created again and the new ones,
-- as grant_access grants every view and *_rows function to every level.
DO $$
DECLARE
	r record;
	v text;
BEGIN
	FOR r IN SELECT a.role_name FROM custfocus.role_access a
			   JOIN pg_catalog.pg_roles g ON g.rolname = a.role_name
	LOOP
		FOREACH v IN ARRAY ARRAY['data_coverage', 'feedback_queue', 'voc_themes', 'program_tree', 'services',
								 'surveys', 'survey_items', 'requirements', 'data_dictionary']
		LOOP
			EXECUTE pg_catalog.format('GRANT SELECT ON custfocus.%I TO %I', v, r.role_name);
		END LOOP;
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION custfocus.data_coverage_rows(name) TO %I', r.role_name);
	END LOOP;
END
$$;
