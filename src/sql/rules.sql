-------------------------------------------------------------------------------
-- Integrity rules a CHECK constraint cannot express
-------------------------------------------------------------------------------

-- The functions that check rules across tables run as the extension owner
-- (SECURITY DEFINER): under row-level security a caller sees only its own
-- programs' rows, and a check that saw only those would let a change slip
-- past rows it cannot see.  They read only, and take no input but the rows
-- being checked.

-- A cycle in the program hierarchy would make every roll-up recurse forever.
CREATE FUNCTION custfocus.program_check_cycle() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.parent_id IS NOT NULL AND EXISTS (
		WITH RECURSIVE up(program_id, parent_id) AS (
			SELECT p.program_id, p.parent_id FROM custfocus.program p
			 WHERE p.program_id = NEW.parent_id
			UNION
			SELECT p.program_id, p.parent_id FROM custfocus.program p
			  JOIN up ON p.program_id = up.parent_id
		)
		SELECT FROM up WHERE up.program_id = NEW.program_id)
	THEN
		RAISE EXCEPTION 'program "%" cannot be placed under "%": that would make a cycle',
			NEW.code, (SELECT p.code FROM custfocus.program p
					    WHERE p.program_id = NEW.parent_id)
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Program %s is already above program %s in the hierarchy.',
								  NEW.program_id, NEW.parent_id);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.program_check_cycle() IS
'Trigger: rejects a parent_id that would make the program hierarchy cyclic';
CREATE TRIGGER program_check_cycle AFTER INSERT OR UPDATE OF parent_id ON custfocus.program
	FOR EACH ROW EXECUTE FUNCTION custfocus.program_check_cycle();

CREATE TRIGGER scale_guard_builtin BEFORE INSERT OR UPDATE OR DELETE ON custfocus.scale
	FOR EACH ROW EXECUTE FUNCTION custfocus.guard_builtin();
CREATE TRIGGER scale_label_guard_builtin BEFORE INSERT OR UPDATE OR DELETE ON custfocus.scale_label
	FOR EACH ROW EXECUTE FUNCTION custfocus.guard_builtin();

-- A label must code a point of its own scale, or be NULL (missing).
CREATE FUNCTION custfocus.scale_label_check() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s custfocus.scale;
BEGIN
	SELECT * INTO s FROM custfocus.scale WHERE scale_id = NEW.scale_id;
	IF NEW.value IS NOT NULL AND
	   (NEW.value < s.min_value OR NEW.value > s.max_value OR
		(s.integral AND NEW.value <> pg_catalog.trunc(NEW.value)))
	THEN
		RAISE EXCEPTION 'label "%" codes value % which is not on scale "%"', NEW.label, NEW.value, s.code
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Scale "%s" takes %s values from %s to %s.', s.code,
								  CASE WHEN s.integral THEN 'whole' ELSE 'any' END, s.min_value, s.max_value);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.scale_label_check() IS
'Trigger: a scale label must code a value on its scale (or NULL for missing)';
CREATE TRIGGER scale_label_check AFTER INSERT OR UPDATE ON custfocus.scale_label
	FOR EACH ROW EXECUTE FUNCTION custfocus.scale_label_check();

-- The messages of these checks are read by the role that made the change,
-- and must not show it rows of programs it cannot see: the checks run as the
-- owner and see everything.  So an item, a survey or a response is named only
-- when the role reading the error may read it (the rules below, in
-- custfocus.error_viewer() and at each RAISE); otherwise the message counts
-- the offending rows or gives the id the caller itself supplied.
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

-- An item's metric fixes the shape of its scale (NPS is 0..10 whole numbers,
-- yes/no is 0..1) so that the scores computed from them mean what they say,
-- and an item's answers must fit its scale.  Both rules are checked by one
-- function, for one item or for every item on one scale, so that changing an
-- item and changing a scale are held to the same rules.  Scales are shared by
-- every program, so narrowing one is checked against the answers of all of
-- them; the error names an item only if the viewer may read its survey, a
-- response only if the viewer sees it, and otherwise says how many there are.
CREATE FUNCTION custfocus.check_items_fit_scale(p_item_id integer, p_scale_id integer)
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

-- The two triggers run as the owner, as the other cross-table checks do: the
-- check must see every program's answers, and check_items_fit_scale is not
-- executable by the roles that change items and scales.
CREATE FUNCTION custfocus.item_check_scale() RETURNS trigger
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
CREATE TRIGGER item_check_scale AFTER INSERT OR UPDATE OF scale_id, metric ON custfocus.item
	FOR EACH ROW EXECUTE FUNCTION custfocus.item_check_scale();

CREATE FUNCTION custfocus.scale_check_items() RETURNS trigger
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
CREATE TRIGGER scale_check_items AFTER UPDATE OF min_value, max_value, integral ON custfocus.scale
	FOR EACH ROW EXECUTE FUNCTION custfocus.scale_check_items();

-- Answers are checked once per statement, over the transition table, so that
-- a bulk load pays one join rather than a trigger call per row.  The plan of
-- that join must not depend on statistics of response: an ANALYZE during a
-- long load sees none of the load's uncommitted responses, records the table
-- as nearly empty, and a plan made from that (a hash of, or a scan over,
-- every response) then costs seconds per statement, more with every batch.
-- So the response of each new answer is looked up by a correlated sub-select
-- on its primary key, and sequential scans are off inside this function: one
-- index probe per answer, as the foreign key check already makes, whatever
-- the statistics say.
CREATE FUNCTION custfocus.answer_check() RETURNS trigger
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
CREATE TRIGGER answer_check_insert AFTER INSERT ON custfocus.answer
	REFERENCING NEW TABLE AS new_answer
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.answer_check();
CREATE TRIGGER answer_check_update AFTER UPDATE ON custfocus.answer
	REFERENCING NEW TABLE AS new_answer
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.answer_check();

-- Changing a response's survey would orphan its answers from their items.
CREATE FUNCTION custfocus.response_check_survey() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF EXISTS (SELECT FROM custfocus.answer a
				WHERE a.response_id = NEW.response_id) THEN
		RAISE EXCEPTION 'response % has answers and cannot move to another survey', NEW.response_id
			USING ERRCODE = 'foreign_key_violation',
				  HINT = 'Delete the response and load it again under the other survey.';
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.response_check_survey() IS
'Trigger: a response with answers keeps its survey';
CREATE TRIGGER response_check_survey AFTER UPDATE OF survey_id ON custfocus.response
	FOR EACH ROW WHEN (OLD.survey_id IS DISTINCT FROM NEW.survey_id)
	EXECUTE FUNCTION custfocus.response_check_survey();

-- Feedback timestamps follow its status, so the closed-loop figures (time to
-- acknowledge, time to close) need no discipline from whoever updates it.
CREATE FUNCTION custfocus.feedback_track_status() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.status <> 'open' AND NEW.acknowledged_at IS NULL THEN
		NEW.acknowledged_at := GREATEST(pg_catalog.now(), NEW.received_at);
	END IF;
	IF NEW.status = 'closed' AND NEW.closed_at IS NULL THEN
		NEW.closed_at := GREATEST(pg_catalog.now(), NEW.received_at);
	ELSIF NEW.status <> 'closed' THEN
		NEW.closed_at := NULL;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION custfocus.feedback_track_status() IS
'Trigger: sets acknowledged_at and closed_at from status changes';
CREATE TRIGGER feedback_track_status BEFORE INSERT OR UPDATE OF status, acknowledged_at, closed_at
	ON custfocus.feedback
	FOR EACH ROW EXECUTE FUNCTION custfocus.feedback_track_status();

CREATE FUNCTION custfocus.improvement_action_track_status() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.status = ANY ('{completed,cancelled}'::text[]) THEN
		IF NEW.closed_on IS NULL THEN
			NEW.closed_on := GREATEST(CURRENT_DATE, NEW.opened_on);
		END IF;
	ELSE
		NEW.closed_on := NULL;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION custfocus.improvement_action_track_status() IS
'Trigger: sets closed_on when an action is completed or cancelled, clears it when re-opened';
CREATE TRIGGER improvement_action_track_status BEFORE INSERT OR UPDATE OF status, closed_on
	ON custfocus.improvement_action
	FOR EACH ROW EXECUTE FUNCTION custfocus.improvement_action_track_status();

-- The settings row: who changed it and when.  A statement's change is
-- stamped; the row a restore re-applies (setting_restore, one trigger level
-- down) keeps the stamp it was dumped with.
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

-- pg_dump carries the settings row, and a restore loads it into a database
-- where CREATE EXTENSION has already made the row: the INSERT becomes an
-- UPDATE of that row.  The trigger fires ALWAYS, so a parallel restore with
-- session_replication_role = replica (README, Backups) keeps the row too.
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
