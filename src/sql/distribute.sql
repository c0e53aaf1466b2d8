-------------------------------------------------------------------------------
-- Scale-out on Citus: custfocus.distribute() (SPEC section 9, issue 14)
-------------------------------------------------------------------------------

-- Nothing here runs on a single node:
-- every function below either returns at once when custfocus is not
-- distributed or refuses to run without Citus, so a single-node database is
-- unchanged.
--
-- The design:
--
--   * Distribution key: response_id.  response, answer and respondent_contact
--     are hash-distributed by response_id and co-located, so a response, its
--     answers and its contact details live in one shard group on one node.
--     Every primary and foreign key among them already includes response_id,
--     so the model does not change; the checks that join an answer to its
--     response (the answer's item belongs to the response's survey; a
--     response with answers keeps its survey; an answer is visible with its
--     response) join co-located shards, on one node, in one transaction.
--     The alternative, service_id, would co-locate the service-keyed
--     roll-ups with what they roll up, but needs service_id in answer (a
--     column on the big table and a value every INSERT must supply, which a
--     user inserting an answer does not know), a NOT NULL service on every
--     response (responses without a service are allowed), and primary keys
--     (service_id, response_id): a model change for every single-node user,
--     and the program-level roll-ups would still span shards.
--   * Reference tables (a copy on every node, the coordinator included):
--     everything small: program, service, segment, service_segment,
--     requirement, service_requirement, scale, scale_label, survey, item,
--     import_batch, import_error, feedback, measure, improvement_action,
--     engagement, role_access, program_access.  The foreign keys from the
--     distributed tables to them stay (Citus enforces them on every shard).
--     feedback.response_id -> response is dropped: Citus allows no foreign
--     key from a reference table to a distributed table (a limit: its ON
--     DELETE SET NULL is done by apply_retention, not by a direct DELETE).
--   * Coordinator-local tables (plain PostgreSQL, not Citus): setting, the
--     roll-ups (rollup_service_month, rollup_unit_period, rollup_item_month, rollup_pairs_month,
--     rollup_pending), report_unit and the published figures (report_*,
--     published at commit by rollup_commit_compact, as on one node).  The views read the roll-ups on the
--     coordinator, joined to reference tables (which have a placement there:
--     the coordinator must be in the metadata, citus_set_coordinator_host).
--   * Roll-ups: the roll-up triggers cannot fire on Citus (a DML on a
--     distributed table runs on the shards; triggers on the coordinator's
--     shell table never fire), and a trigger on a shard may only touch
--     co-located shards, which the service-keyed roll-ups are not.  So the
--     coordinator maintains them: distribute() rebuilds them, the import
--     (custfocus.import_responses) recomputes the (service, month) keys its
--     responses touched, in its own transaction, and so does apply_retention
--     (citus_after_retention) and a change of an item or a scale.  The
--     import reads the raw data as the importer (rollup_compute and
--     rollup_item_compute become SECURITY INVOKER on Citus): Citus refuses
--     to read, as another role, shards the transaction modified as the
--     importer, so a SECURITY DEFINER recompute fails for an analyst.  The
--     rows are stored by citus_rollup_store (SECURITY DEFINER), which takes
--     them only while the import's C code says it is storing them.
--     A direct INSERT, UPDATE or DELETE on response or answer: triggers on
--     the shards record the service and time of each changed response in
--     rollup_dirty (co-located, by shard name); the C module (src/citus.c,
--     in the database's session_preload_libraries, set by distribute())
--     notes the DML on the coordinator and, before the transaction commits,
--     runs citus_rollup_sync, which recomputes those keys as the role.
--     LIMIT: a session that did not load the module (the setting is per
--     database) leaves its keys in rollup_dirty for the next sync; keys of
--     services the role does not see are left to their own sessions.
--   * Integrity: the answer check (value on its item's scale, item of the
--     response's survey) and the response survey check run as triggers on
--     the shards (citus.enable_unsafe_triggers, set by distribute() only to
--     create them) whose functions read only the co-located shard of
--     response or answer and the local placements of the reference tables,
--     by shard name: no distributed query from a shard, and they see the
--     uncommitted rows of their own transaction.  The built-in rows guard,
--     the program cycle check, the label check and the status timestamps of
--     feedback and improvement_action run on every placement of their
--     reference table (they only read that placement or the row).  The
--     report_unit refresh, the checks that an item's scale fits its answers
--     and that a changed scale still fits every answer, and the roll-up
--     recompute after an item or scale change run on the coordinator's
--     placement only (they read answers through Citus: nested execution).
--   * Unique respondent ids: UNIQUE (survey_id, COALESCE(service_id, 0),
--     external_id) cannot hold on a table distributed by response_id
--     (Citus allows unique keys only with the distribution column).  It
--     becomes a plain index; the import (which serialises imports of a
--     survey with an advisory lock) looks the batch's ids up before it
--     inserts and counts the ones it finds as duplicates.  A direct INSERT
--     or UPDATE is checked before the transaction commits
--     (citus_check_respondent_ids): a duplicate fails the commit with the
--     one-node index's error.
--   * Access: Citus refuses policies with sub-selects on Citus tables, so
--     every policy is re-created without them: the visibility functions are
--     called directly (once per row, not once per query: slower), and the
--     policies that looked at another table (an answer follows its response,
--     a label its scale, an import error its import, ...) call a SECURITY
--     DEFINER function that applies that table's policy.  Those functions
--     run on the shards, inside Citus' tasks, and read reference tables:
--     they are marked SET citus.allow_nested_distributed_execution = on, and
--     Citus then reads the node's local placement.  LIMIT: Citus calls this
--     possibly incorrect; a query on a worker does not see a change to a
--     reference table made earlier in the same transaction through another
--     connection to that worker (a grant and a query in one transaction).
--     Citus runs a query's shard tasks as the calling role, so a role needs
--     USAGE on the schema on every node and, for the views, SELECT on the
--     shards the views read (not on the tables themselves: on the
--     coordinator a reader still reads no table).  Both come with the role
--     custfocus_citus (made by distribute(): schema USAGE and default
--     privileges on each node before the shards exist, the admins' tables
--     revoked after), which grant_access grants (citus_sync_access; Citus
--     propagates the membership in the transaction; a grant per shard from
--     run_command_on_placements deadlocked with grant_access's own locks).
--     The shards keep the row-level security, so a reader reading a shard
--     on a worker directly sees only its programs' rows, unsuppressed:
--     workers should accept connections from the coordinator only.
--   * Views: a view that joins a coordinator-local table (roll-ups,
--     report_unit) to a Citus table runs, through Citus, as the reader, not
--     as the view's owner (permission denied for report_unit).  Those views
--     and data_coverage (correlated sub-queries per service, which Citus
--     cannot plan) read on Citus a SECURITY DEFINER function of the role,
--     made by distribute() (see "Reporting views on Citus" below).
--   * Complementary suppression (1.4): the coordinator's recomputes queue
--     their keys in rollup_pending (rollup_hidden_touch), so that the
--     deferred rollup_commit_compact computes the cells at commit; the
--     pre-commit sync, which runs after the deferred triggers, fires it
--     itself.  Its triggers on measure and item act on the coordinator's
--     placement.
--   * Errors of the shard triggers: their hint and code, which Citus drops
--     from a COPY's errors, travel on the detail's last line and are
--     restored by the C module on the coordinator (citus_error_detail).
--   * The import on Citus (src/import.c, when citus_distributed()): no ON
--     CONFLICT (the ids already there are looked up first), one-shot plans
--     (Citus plans parameters only with their values), multi-row VALUES
--     instead of INSERT ... SELECT (which Citus runs as a COPY, refused by
--     PostgreSQL under row-level security; LIMIT: a user's INSERT ...
--     SELECT under row-level security fails the same way, unless it has
--     RETURNING, with which Citus inserts from intermediate results), finished_at read in C (Citus
--     refuses clock_timestamp() in an UPDATE).
--   * One call: custfocus.distribute(), on the coordinator, as a superuser,
--     with custfocus of the same version created on every node (after
--     citus, as test/citus/cluster.sh does).  It prepares every node (the
--     extension's objects exist on every node; Citus reuses them as the
--     shells of the distributed tables, so their triggers and policies must
--     go everywhere), distributes, re-creates the triggers and policies that
--     Citus accepts, syncs the grants and rebuilds the roll-ups.  LIMIT:
--     the preparation of the workers runs through run_command_on_workers,
--     outside the coordinator's transaction: if distribute() fails after it,
--     drop and re-create the extension on the workers before trying again.
--   * pg_dump: the objects distribute() changes are extension members, which
--     pg_dump does not dump; restore into single nodes, then distribute
--     again.

-- True when custfocus.response is a Citus table in this database.
CREATE FUNCTION custfocus.citus_distributed() RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v boolean;
BEGIN
	IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
		RETURN false;
	END IF;
	EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid = ''custfocus.response''::pg_catalog.regclass)'
	   INTO v;
	RETURN v;
END
$$;
COMMENT ON FUNCTION custfocus.citus_distributed() IS
'True when custfocus has been distributed with custfocus.distribute() (custfocus.response is a Citus table)';

-- The tables distribute() makes reference tables, in foreign-key order.
CREATE FUNCTION custfocus.citus_reference_tables() RETURNS regclass[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['custfocus.program', 'custfocus.service', 'custfocus.segment', 'custfocus.service_segment',
				 'custfocus.requirement', 'custfocus.service_requirement', 'custfocus.scale',
				 'custfocus.scale_label', 'custfocus.survey', 'custfocus.item', 'custfocus.import_batch',
				 'custfocus.import_error', 'custfocus.feedback', 'custfocus.measure',
				 'custfocus.improvement_action', 'custfocus.engagement', 'custfocus.role_access',
				 'custfocus.program_access']::regclass[]
$$;
COMMENT ON FUNCTION custfocus.citus_reference_tables() IS
'The tables custfocus.distribute() makes Citus reference tables, in foreign-key order';

CREATE FUNCTION custfocus.citus_distributed_tables() RETURNS regclass[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT ARRAY['custfocus.response', 'custfocus.answer', 'custfocus.respondent_contact']::regclass[] $$;
COMMENT ON FUNCTION custfocus.citus_distributed_tables() IS
'The tables custfocus.distribute() distributes by response_id, co-located';

-------------------------------------------------------------------------------
-- Shards by name, for the functions that run on a shard
-------------------------------------------------------------------------------

-- The local placement of a reference table (every node has one).
CREATE FUNCTION custfocus.citus_reference_shard(p_table regclass) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v text;
BEGIN
	EXECUTE 'SELECT pg_catalog.shard_name($1, s.shardid) FROM pg_catalog.pg_dist_shard s WHERE s.logicalrelid = $1'
	   INTO v USING p_table;
	IF v IS NULL THEN
		RAISE EXCEPTION '% is not a Citus reference table', p_table;
	END IF;
	RETURN v;
END
$$;
COMMENT ON FUNCTION custfocus.citus_reference_shard(regclass) IS
'The name of the placement of a reference table (the same on every node)';

-- The shard of p_table co-located with shard p_shard of another table.
CREATE FUNCTION custfocus.citus_colocated_shard(p_table regclass, p_shard bigint) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v text;
BEGIN
	EXECUTE 'SELECT pg_catalog.shard_name($1, s2.shardid)
			   FROM pg_catalog.pg_dist_shard s1
			   JOIN pg_catalog.pg_dist_shard s2 ON s2.logicalrelid = $1 AND s2.shardminvalue = s1.shardminvalue
			  WHERE s1.shardid = $2'
	   INTO v USING p_table, p_shard;
	IF v IS NULL THEN
		RAISE EXCEPTION 'no shard of % is co-located with shard %', p_table, p_shard;
	END IF;
	RETURN v;
END
$$;
COMMENT ON FUNCTION custfocus.citus_colocated_shard(regclass, bigint) IS
'The name of the shard of a distributed table co-located with a given shard (of response, answer or respondent_contact)';

-- The shard id in a shard's name (answer_102040 -> 102040); NULL for a
-- table that is not a shard.
CREATE FUNCTION custfocus.citus_shard_id(p_relname name) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.substring(p_relname, '_([0-9]+)$')::bigint $$;
COMMENT ON FUNCTION custfocus.citus_shard_id(name) IS
'The shard id at the end of a Citus shard''s name, NULL if there is none';

-------------------------------------------------------------------------------
-- Triggers on shards and placements
-------------------------------------------------------------------------------

-- The detail of an error a trigger on a shard raises: Citus drops the hint
-- and the code of such an error when the rows came by COPY (INSERT ...
-- SELECT through the coordinator), so they go on the detail's last line too,
-- which the C module on the coordinator takes off and turns back into them
-- (src/citus.c, CitusEmitLog).
CREATE FUNCTION custfocus.citus_error_detail(p_detail text, p_code text, p_hint text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT concat_ws(E'\n', p_detail, 'custfocus error: ' || p_code || ':' || coalesce(p_hint, '')) $$;
COMMENT ON FUNCTION custfocus.citus_error_detail(text, text, text) IS
'On a distributed custfocus: the detail of an error raised on a shard, with its code and hint on a last line the coordinator turns back into them (Citus drops them from errors of a COPY)';

-- answer_check on a shard of answer: the same rule and messages, reading the
-- co-located response shard and the local placements of item, survey and
-- scale.
CREATE FUNCTION custfocus.citus_answer_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
	v_shard bigint := custfocus.citus_shard_id(TG_TABLE_NAME);
	bad record;
	v name;
	v_all boolean;
	v_visible boolean;
	v_survey_readable boolean;
	v_item_readable boolean;
	v_response_survey text;
	v_item text;
	v_resp text;
BEGIN
	IF v_shard IS NULL THEN
		RETURN NULL;			-- the shell table: never has rows
	END IF;
	EXECUTE format($q$
		SELECT n.response_id, n.value, n.item_id, i.code AS item_code, i.survey_id AS item_survey_id,
			   sv.code AS survey_code, s.code AS scale_code, s.min_value, s.max_value, s.integral,
			   r.survey_id AS response_survey_id, r.service_id, r.external_id,
			   (SELECT rs.code FROM %3$s rs WHERE rs.survey_id = r.survey_id) AS response_survey_code
		  FROM new_answer n
		  LEFT JOIN %1$s r ON r.response_id = n.response_id
		  JOIN %2$s i ON i.item_id = n.item_id
		  JOIN %3$s sv ON sv.survey_id = i.survey_id
		  LEFT JOIN %4$s s ON s.scale_id = i.scale_id
		 WHERE (n.value IS NOT NULL AND
				(s.scale_id IS NULL
				 OR n.value < s.min_value OR n.value > s.max_value
				 OR (s.integral AND n.value <> pg_catalog.trunc(n.value))))
			OR i.survey_id IS DISTINCT FROM r.survey_id
		 LIMIT 1$q$,
		custfocus.citus_colocated_shard('custfocus.response', v_shard),
		custfocus.citus_reference_shard('custfocus.item'),
		custfocus.citus_reference_shard('custfocus.survey'),
		custfocus.citus_reference_shard('custfocus.scale')) INTO bad;
	IF bad.response_id IS NULL THEN
		RETURN NULL;
	END IF;

	-- as answer_check: names only what the viewer may read
	v := custfocus.error_viewer();
	v_all := custfocus.sees_all_programs(v);
	v_visible := v_all OR bad.service_id = ANY (custfocus.visible_service_ids(v))
		OR (bad.service_id IS NULL AND bad.response_survey_id = ANY (custfocus.visible_survey_ids(v)));
	v_survey_readable := v_all OR bad.response_survey_id = ANY (custfocus.readable_survey_ids(v));
	v_item_readable := v_all OR bad.item_survey_id = ANY (custfocus.readable_survey_ids(v));
	v_item := CASE WHEN v_item_readable
				   THEN format('item "%s" of survey "%s"', bad.item_code, bad.survey_code)
				   ELSE format('item %s', bad.item_id) END;
	v_resp := format('%s%s', bad.response_id,
					 CASE WHEN v_visible THEN coalesce(format(' (respondent %s)', bad.external_id), '') ELSE '' END);
	IF bad.item_survey_id IS DISTINCT FROM bad.response_survey_id THEN
		RAISE EXCEPTION '% does not belong to the survey%of response %', v_item,
			CASE WHEN v_survey_readable AND bad.response_survey_code IS NOT NULL
				 THEN format(' "%s" ', bad.response_survey_code) ELSE ' ' END, bad.response_id
			USING ERRCODE = 'foreign_key_violation',
				  DETAIL = custfocus.citus_error_detail(NULL, '23503', 'An answer must answer an item of its response''s survey.'),
				  HINT = 'An answer must answer an item of its response''s survey.';
	ELSIF bad.scale_code IS NULL THEN
		RAISE EXCEPTION '% is a text item and takes no numeric value, got %', v_item, bad.value
			USING ERRCODE = 'check_violation',
				  DETAIL = custfocus.citus_error_detail(format('Response %s.', v_resp), '23514', 'Store free text in text_value.'),
				  HINT = 'Store free text in text_value.';
	ELSE
		RAISE EXCEPTION 'value % for % is outside scale "%"', bad.value, v_item, bad.scale_code
			USING ERRCODE = 'check_violation',
				  DETAIL = custfocus.citus_error_detail(
					  format('Scale "%s" takes %s values from %s to %s; response %s gave %s.',
							 bad.scale_code, CASE WHEN bad.integral THEN 'whole' ELSE 'any' END,
							 bad.min_value, bad.max_value, v_resp, bad.value), '23514', NULL);
	END IF;
	RETURN NULL;
END
$f$;
COMMENT ON FUNCTION custfocus.citus_answer_check() IS
'Statement trigger on the shards of answer (Citus): custfocus.answer_check, reading the co-located response shard and the local placements of item, survey and scale';
REVOKE ALL ON FUNCTION custfocus.citus_answer_check() FROM PUBLIC;

CREATE FUNCTION custfocus.citus_response_check_survey() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_shard bigint := custfocus.citus_shard_id(TG_TABLE_NAME);
	v_has boolean;
BEGIN
	IF v_shard IS NULL THEN
		RETURN NULL;
	END IF;
	EXECUTE format('SELECT EXISTS (SELECT FROM %s a WHERE a.response_id = $1)',
				   custfocus.citus_colocated_shard('custfocus.answer', v_shard))
	   INTO v_has USING NEW.response_id;
	IF v_has THEN
		RAISE EXCEPTION 'response % has answers and cannot move to another survey', NEW.response_id
			USING ERRCODE = 'foreign_key_violation',
				  DETAIL = custfocus.citus_error_detail(NULL, '23503', 'Delete the response and load it again under the other survey.'),
				  HINT = 'Delete the response and load it again under the other survey.';
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_response_check_survey() IS
'Trigger on the shards of response (Citus): custfocus.response_check_survey, reading the co-located answer shard';
REVOKE ALL ON FUNCTION custfocus.citus_response_check_survey() FROM PUBLIC;

-- On the shards of response and answer: records the service and time of
-- every response the statement changed (before and after), in the
-- co-located shard of rollup_dirty.  An answer's response is read from the
-- co-located response shard; the answers a deleted response takes with it
-- are covered by the response's own row.
CREATE FUNCTION custfocus.citus_rollup_dirty() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
	v_shard bigint := custfocus.citus_shard_id(TG_TABLE_NAME);
	v_dirty text;
	v_response text;
	v_t text;
BEGIN
	IF v_shard IS NULL THEN
		RETURN NULL;
	END IF;
	v_dirty := custfocus.citus_colocated_shard('custfocus.rollup_dirty', v_shard);
	FOREACH v_t IN ARRAY CASE TG_OP WHEN 'INSERT' THEN '{new_rows}'::text[] WHEN 'DELETE' THEN '{old_rows}'::text[]
								   ELSE '{old_rows,new_rows}'::text[] END LOOP
		IF TG_TABLE_NAME LIKE 'response\_%' THEN
			-- (responses without a service too: their respondent ids are
			-- checked, citus_check_respondent_ids)
			EXECUTE format('INSERT INTO %s (response_id, service_id, submitted_at)
							SELECT t.response_id, t.service_id, t.submitted_at FROM %I t',
						   v_dirty, v_t);
		ELSE
			v_response := custfocus.citus_colocated_shard('custfocus.response', v_shard);
			EXECUTE format('INSERT INTO %s (response_id, service_id, submitted_at)
							SELECT r.response_id, r.service_id, r.submitted_at
							  FROM (SELECT DISTINCT t.response_id FROM %I t) t
							  JOIN %s r ON r.response_id = t.response_id
							 WHERE r.service_id IS NOT NULL',
						   v_dirty, v_t, v_response);
		END IF;
	END LOOP;
	RETURN NULL;
END
$f$;
COMMENT ON FUNCTION custfocus.citus_rollup_dirty() IS
'Statement trigger on the shards of response and answer (Citus): records the roll-up keys the statement touched in the co-located shard of rollup_dirty';
REVOKE ALL ON FUNCTION custfocus.citus_rollup_dirty() FROM PUBLIC;

-- program_check_cycle on a placement of program: walks the placement itself.
CREATE FUNCTION custfocus.citus_program_check_cycle() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
	v_cycle boolean;
	v_parent_code text;
BEGIN
	IF NEW.parent_id IS NULL THEN
		RETURN NULL;
	END IF;
	EXECUTE format($q$
		WITH RECURSIVE up (program_id, parent_id) AS (
			SELECT p.program_id, p.parent_id FROM %1$s p WHERE p.program_id = $1
			UNION
			SELECT p.program_id, p.parent_id FROM %1$s p JOIN up ON p.program_id = up.parent_id
		)
		SELECT EXISTS (SELECT FROM up WHERE up.program_id = $2),
			   (SELECT p.code FROM %1$s p WHERE p.program_id = $1)$q$, TG_RELID::regclass)
	   INTO v_cycle, v_parent_code USING NEW.parent_id, NEW.program_id;
	IF v_cycle THEN
		RAISE EXCEPTION 'program "%" cannot be placed under "%": that would make a cycle', NEW.code, v_parent_code
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Program %s is already above program %s in the hierarchy.',
								  NEW.program_id, NEW.parent_id);
	END IF;
	RETURN NULL;
END
$f$;
COMMENT ON FUNCTION custfocus.citus_program_check_cycle() IS
'Trigger on the placements of program (Citus): custfocus.program_check_cycle over the placement itself';
REVOKE ALL ON FUNCTION custfocus.citus_program_check_cycle() FROM PUBLIC;

CREATE FUNCTION custfocus.citus_scale_label_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
BEGIN
	IF NEW.value IS NULL THEN
		RETURN NULL;
	END IF;
	EXECUTE format('SELECT sc.code, sc.min_value, sc.max_value, sc.integral FROM %s sc WHERE sc.scale_id = $1',
				   custfocus.citus_reference_shard('custfocus.scale'))
	   INTO s USING NEW.scale_id;
	IF NEW.value < s.min_value OR NEW.value > s.max_value OR (s.integral AND NEW.value <> pg_catalog.trunc(NEW.value)) THEN
		RAISE EXCEPTION 'label "%" codes value % which is not on scale "%"', NEW.label, NEW.value, s.code
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Scale "%s" takes %s values from %s to %s.', s.code,
								  CASE WHEN s.integral THEN 'whole' ELSE 'any' END, s.min_value, s.max_value);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_scale_label_check() IS
'Trigger on the placements of scale_label (Citus): custfocus.scale_label_check, reading the local placement of scale';
REVOKE ALL ON FUNCTION custfocus.citus_scale_label_check() FROM PUBLIC;

-- report_unit is the coordinator's: refreshed when the coordinator's
-- placement of program or service changes (the placements on the workers
-- change in the same transaction).
CREATE FUNCTION custfocus.citus_report_unit_rebuild() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group integer;
BEGIN
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	IF v_group = 0 THEN
		PERFORM custfocus.report_unit_refresh();
		IF TG_ARGV[0] = 'structure' THEN
			PERFORM custfocus.rollup_units_rebuild();
		END IF;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_report_unit_rebuild() IS
'Trigger on the placements of program and service (Citus): custfocus.report_unit_rebuild, on the coordinator only';
REVOKE ALL ON FUNCTION custfocus.citus_report_unit_rebuild() FROM PUBLIC;

-- rollup_hidden_all on the placements of measure and item (a measure added,
-- changed or dropped, an item given another requirement: every year's
-- complementary suppression again at commit), acting on the coordinator's:
-- rollup_pending is the coordinator's.
CREATE FUNCTION custfocus.citus_rollup_hidden_all() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group integer;
BEGIN
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	IF v_group = 0 THEN
		PERFORM custfocus.rollup_hidden_touch(NULL, NULL);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_rollup_hidden_all() IS
'Trigger on the placements of measure and item (Citus): custfocus.rollup_hidden_all, on the coordinator only';
REVOKE ALL ON FUNCTION custfocus.citus_rollup_hidden_all() FROM PUBLIC;

-- report_importance_change on the placements of requirement and
-- service_requirement (a stated importance changed: the key drivers are
-- published again at commit), and of service and requirement when a code
-- changes (the opportunities' ranks), acting on the coordinator's: rollup_pending
-- and the published figures are the coordinator's.  Every service's, since
-- a placement's trigger has no transition tables to say which.
CREATE FUNCTION custfocus.citus_report_importance_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group integer;
BEGIN
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	IF v_group = 0 THEN
		PERFORM custfocus.report_touch(NULL);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_report_importance_change() IS
'Trigger on the placements of requirement, service_requirement and service (Citus; a stated importance or a code changed): the key drivers of every service published again at commit, and the opportunities'' ranks, on the coordinator only';
REVOKE ALL ON FUNCTION custfocus.citus_report_importance_change() FROM PUBLIC;

-- feedback_figures_change on the placements of feedback (the queue's
-- closed-loop figures published again at commit), acting on the
-- coordinator's: rollup_pending and report_feedback are the coordinator's.
-- Every service's (and those about no service), since a placement's
-- trigger has no transition tables to say which: feedback is small.
CREATE FUNCTION custfocus.citus_feedback_figures_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group integer;
BEGIN
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	IF v_group = 0 THEN
		PERFORM custfocus.report_feedback_touch(ARRAY(SELECT s.service_id FROM custfocus.service s
													  UNION SELECT r.service_id FROM custfocus.report_feedback r
													  UNION SELECT 0));
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_feedback_figures_change() IS
'Trigger on the placements of feedback (Citus): the closed-loop figures of every service published again at commit, on the coordinator only';
REVOKE ALL ON FUNCTION custfocus.citus_feedback_figures_change() FROM PUBLIC;

-- An item's and a scale's checks against the answers already given
-- (item_check_scale, scale_check_items) and the roll-up recompute after such
-- a change (rollup_item_update, rollup_scale_update), on the coordinator's
-- placement only: they read answers, a distributed table, through Citus
-- (nested execution: committed answers and those of this backend).
CREATE FUNCTION custfocus.citus_item_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group integer;
BEGIN
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	IF v_group <> 0 THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' OR (OLD.scale_id, OLD.metric) IS DISTINCT FROM (NEW.scale_id, NEW.metric) THEN
		PERFORM custfocus.check_items_fit_scale(NEW.item_id, NULL);
	END IF;
	IF TG_OP = 'UPDATE' AND (OLD.is_overall, OLD.metric, OLD.reverse_coded, OLD.scale_id, OLD.survey_id)
							IS DISTINCT FROM (NEW.is_overall, NEW.metric, NEW.reverse_coded, NEW.scale_id, NEW.survey_id) THEN
		PERFORM custfocus.rollup_items_change(ARRAY[NEW.item_id]);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_item_change() IS
'Trigger on the placements of item (Citus), acting on the coordinator''s: item_check_scale and rollup_item_update, row by row';
REVOKE ALL ON FUNCTION custfocus.citus_item_change() FROM PUBLIC;

CREATE FUNCTION custfocus.citus_scale_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group integer;
	v_items integer[];
BEGIN
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	IF v_group <> 0 THEN
		RETURN NULL;
	END IF;
	IF (OLD.min_value, OLD.max_value, OLD.integral) IS DISTINCT FROM (NEW.min_value, NEW.max_value, NEW.integral) THEN
		PERFORM custfocus.check_items_fit_scale(NULL, NEW.scale_id);
	END IF;
	IF (OLD.min_value, OLD.max_value) IS DISTINCT FROM (NEW.min_value, NEW.max_value) THEN
		SELECT array_agg(i.item_id) INTO v_items FROM custfocus.item i WHERE i.scale_id = NEW.scale_id;
		IF v_items IS NOT NULL THEN
			PERFORM custfocus.rollup_items_change(v_items);
		END IF;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_scale_change() IS
'Trigger on the placements of scale (Citus), acting on the coordinator''s: scale_check_items and rollup_scale_update, row by row';
REVOKE ALL ON FUNCTION custfocus.citus_scale_change() FROM PUBLIC;

-------------------------------------------------------------------------------
-- Policies without sub-selects: what a sub-select on another table checked
-------------------------------------------------------------------------------

-- An answer or a contact is visible with its response (response_by_program),
-- read from the co-located response shard.
CREATE FUNCTION custfocus.citus_response_visible(p_shard oid, p_response bigint, p_role name DEFAULT CURRENT_USER)
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	v_shard bigint := custfocus.citus_shard_id((SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = p_shard));
BEGIN
	IF v_shard IS NULL THEN
		RETURN false;
	END IF;
	EXECUTE format('SELECT r.service_id, r.survey_id FROM %s r WHERE r.response_id = $1',
				   custfocus.citus_colocated_shard('custfocus.response', v_shard))
	   INTO r USING p_response;
	RETURN custfocus.sees_all_programs(p_role)
		OR r.service_id = ANY (custfocus.visible_service_ids(p_role))
		OR (r.service_id IS NULL AND r.survey_id = ANY (custfocus.visible_survey_ids(p_role)));
END
$$;
COMMENT ON FUNCTION custfocus.citus_response_visible(oid, bigint, name) IS
'Policy helper on Citus: whether the role sees the response of a row of answer or respondent_contact (the row''s shard gives the co-located response shard)';

CREATE FUNCTION custfocus.citus_scale_readable(p_scale integer, p_role name DEFAULT CURRENT_USER) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT custfocus.sees_all_programs(p_role)
		OR EXISTS (SELECT FROM custfocus.scale s WHERE s.scale_id = p_scale
					  AND (s.program_id IS NULL OR s.program_id = ANY (custfocus.readable_program_ids(p_role))))
$$;
COMMENT ON FUNCTION custfocus.citus_scale_readable(integer, name) IS
'Policy helper on Citus: whether the role may read the scale (scale_read, scale_write)';

CREATE FUNCTION custfocus.citus_scale_writable(p_scale integer, p_role name DEFAULT CURRENT_USER) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT FROM custfocus.scale s WHERE s.scale_id = p_scale
					  AND (custfocus.sees_all_programs(p_role)
						   OR s.program_id IS NULL OR s.program_id = ANY (custfocus.readable_program_ids(p_role)))
					  AND s.program_id = ANY (custfocus.visible_program_ids(p_role)))
$$;
COMMENT ON FUNCTION custfocus.citus_scale_writable(integer, name) IS
'Policy helper on Citus: whether a label of the scale may be written (the scale is readable and owned by one of the role''s programs)';

-- service_segment, service_requirement: the segment (requirement) and the
-- service are readable by the role and the service may use the segment.
CREATE FUNCTION custfocus.citus_service_may_use(p_service integer, p_table regclass, p_id integer,
												p_role name DEFAULT CURRENT_USER) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_owner integer;
	v_found boolean;
	v_program integer;
	v_all boolean := custfocus.sees_all_programs(p_role);
BEGIN
	IF p_table = 'custfocus.segment'::regclass THEN
		SELECT true, g.program_id INTO v_found, v_owner FROM custfocus.segment g WHERE g.segment_id = p_id;
	ELSE
		SELECT true, r.program_id INTO v_found, v_owner FROM custfocus.requirement r WHERE r.requirement_id = p_id;
	END IF;
	IF NOT coalesce(v_found, false)
	   OR NOT (v_all OR v_owner IS NULL OR v_owner = ANY (custfocus.readable_program_ids(p_role))) THEN
		RETURN false;
	END IF;
	SELECT s.program_id INTO v_program FROM custfocus.service s WHERE s.service_id = p_service;
	IF NOT FOUND OR NOT (v_all OR v_program = ANY (custfocus.visible_program_ids(p_role))) THEN
		RETURN false;
	END IF;
	RETURN custfocus.may_use(v_program, v_owner, p_role);
END
$$;
COMMENT ON FUNCTION custfocus.citus_service_may_use(integer, regclass, integer, name) IS
'Policy helper on Citus: whether a service may use a segment or requirement (service_segment_by_program, service_requirement_by_program)';

-- item_write: the survey may use the item's scale and requirement.
CREATE FUNCTION custfocus.citus_survey_may_use(p_survey integer, p_table regclass, p_id integer,
											   p_role name DEFAULT CURRENT_USER) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_owner integer;
	v_found boolean;
	v_program integer;
	v_all boolean := custfocus.sees_all_programs(p_role);
	v_readable integer[] := custfocus.readable_program_ids(p_role);
BEGIN
	IF p_id IS NULL THEN
		RETURN true;
	END IF;
	IF p_table = 'custfocus.scale'::regclass THEN
		SELECT true, s.program_id INTO v_found, v_owner FROM custfocus.scale s WHERE s.scale_id = p_id;
	ELSE
		SELECT true, r.program_id INTO v_found, v_owner FROM custfocus.requirement r WHERE r.requirement_id = p_id;
	END IF;
	IF NOT coalesce(v_found, false) OR NOT (v_all OR v_owner IS NULL OR v_owner = ANY (v_readable)) THEN
		RETURN false;
	END IF;
	SELECT true, sv.program_id INTO v_found, v_program FROM custfocus.survey sv WHERE sv.survey_id = p_survey;
	IF NOT coalesce(v_found, false) OR NOT (v_all OR v_program IS NULL OR v_program = ANY (v_readable)) THEN
		RETURN false;
	END IF;
	RETURN custfocus.may_use(v_program, v_owner, p_role);
END
$$;
COMMENT ON FUNCTION custfocus.citus_survey_may_use(integer, regclass, integer, name) IS
'Policy helper on Citus: whether an item of a survey may use a scale or requirement (item_write)';

CREATE FUNCTION custfocus.citus_measure_visible(p_measure integer, p_role name DEFAULT CURRENT_USER) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT FROM custfocus.measure m WHERE m.measure_id = p_measure
					  AND (custfocus.sees_all_programs(p_role)
						   OR m.program_id = ANY (custfocus.visible_program_ids(p_role))
						   OR m.service_id = ANY (custfocus.visible_service_ids(p_role))))
$$;
COMMENT ON FUNCTION custfocus.citus_measure_visible(integer, name) IS
'Policy helper on Citus: whether the role sees the measure (measure_by_program)';

CREATE FUNCTION custfocus.citus_import_visible(p_import bigint, p_role name DEFAULT CURRENT_USER) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT FROM custfocus.import_batch b WHERE b.import_id = p_import
					  AND (custfocus.sees_all_programs(p_role) OR b.imported_by = p_role
						   OR b.survey_id = ANY (custfocus.visible_survey_ids(p_role))))
$$;
COMMENT ON FUNCTION custfocus.citus_import_visible(bigint, name) IS
'Policy helper on Citus: whether the role sees the import batch (import_batch_by_program)';

-- The functions that run on the shards inside Citus' tasks and read Citus
-- tables (see the design above).
CREATE FUNCTION custfocus.citus_nested_functions() RETURNS regprocedure[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['custfocus.sees_all_programs(name)', 'custfocus.visible_program_ids(name)',
				 'custfocus.visible_service_ids(name)', 'custfocus.visible_survey_ids(name)',
				 'custfocus.readable_survey_ids(name)', 'custfocus.readable_program_ids(name)',
				 'custfocus.programs_below(integer[])', 'custfocus.programs_above(integer[])',
				 'custfocus.program_path(integer)', 'custfocus.may_use(integer,integer,name)',
				 'custfocus.citus_item_change()', 'custfocus.citus_scale_change()',
				 'custfocus.check_items_fit_scale(integer,integer)', 'custfocus.rollup_items_change(integer[])',
				 'custfocus.rollup_refresh(integer[],date[])', 'custfocus.rollup_item_refresh(integer[],date[])',
				 'custfocus.citus_response_visible(oid,bigint,name)', 'custfocus.citus_scale_readable(integer,name)',
				 'custfocus.citus_scale_writable(integer,name)',
				 'custfocus.citus_service_may_use(integer,regclass,integer,name)',
				 'custfocus.citus_survey_may_use(integer,regclass,integer,name)',
				 'custfocus.citus_measure_visible(integer,name)', 'custfocus.citus_import_visible(bigint,name)',
				 'custfocus.citus_answer_check()', 'custfocus.report_unit_refresh()',
				 'custfocus.citus_report_unit_rebuild()', 'custfocus.rollup_units_rebuild()']::regprocedure[]
$$;
COMMENT ON FUNCTION custfocus.citus_nested_functions() IS
'The functions distribute() lets run Citus queries inside a shard''s task (citus.allow_nested_distributed_execution)';

-- The policies on Citus: those of access.sql with every sub-select replaced.
CREATE FUNCTION custfocus.citus_create_policies() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	CREATE POLICY program_by_program ON custfocus.program
		USING (custfocus.sees_all_programs()
			   OR program_id = ANY (custfocus.visible_program_ids())
			   OR parent_id = ANY (custfocus.visible_program_ids()));
	CREATE POLICY service_by_program ON custfocus.service
		USING (custfocus.sees_all_programs() OR program_id = ANY (custfocus.visible_program_ids()));
	CREATE POLICY segment_read ON custfocus.segment FOR SELECT
		USING (custfocus.sees_all_programs() OR program_id IS NULL
			   OR program_id = ANY (custfocus.readable_program_ids()));
	CREATE POLICY segment_write ON custfocus.segment
		USING (custfocus.sees_all_programs() OR program_id = ANY (custfocus.visible_program_ids()));
	CREATE POLICY requirement_read ON custfocus.requirement FOR SELECT
		USING (custfocus.sees_all_programs() OR program_id IS NULL
			   OR program_id = ANY (custfocus.readable_program_ids()));
	CREATE POLICY requirement_write ON custfocus.requirement
		USING (custfocus.sees_all_programs() OR program_id = ANY (custfocus.visible_program_ids()));
	CREATE POLICY scale_read ON custfocus.scale FOR SELECT
		USING (custfocus.sees_all_programs() OR program_id IS NULL
			   OR program_id = ANY (custfocus.readable_program_ids()));
	CREATE POLICY scale_write ON custfocus.scale
		USING (custfocus.sees_all_programs() OR program_id = ANY (custfocus.visible_program_ids()));
	CREATE POLICY scale_label_read ON custfocus.scale_label FOR SELECT
		USING (custfocus.citus_scale_readable(scale_id));
	CREATE POLICY scale_label_write ON custfocus.scale_label
		USING (custfocus.sees_all_programs() OR custfocus.citus_scale_writable(scale_id));
	CREATE POLICY service_segment_by_program ON custfocus.service_segment
		USING (custfocus.sees_all_programs() OR service_id = ANY (custfocus.visible_service_ids()))
		WITH CHECK ((custfocus.sees_all_programs() OR service_id = ANY (custfocus.visible_service_ids()))
					AND custfocus.citus_service_may_use(service_id, 'custfocus.segment', segment_id));
	CREATE POLICY service_requirement_by_program ON custfocus.service_requirement
		USING (custfocus.sees_all_programs() OR service_id = ANY (custfocus.visible_service_ids()))
		WITH CHECK ((custfocus.sees_all_programs() OR service_id = ANY (custfocus.visible_service_ids()))
					AND custfocus.citus_service_may_use(service_id, 'custfocus.requirement', requirement_id));
	CREATE POLICY survey_read ON custfocus.survey FOR SELECT
		USING (custfocus.sees_all_programs() OR program_id IS NULL
			   OR program_id = ANY (custfocus.readable_program_ids()));
	CREATE POLICY survey_write ON custfocus.survey
		USING (custfocus.sees_all_programs() OR program_id = ANY (custfocus.visible_program_ids()));
	CREATE POLICY item_read ON custfocus.item FOR SELECT
		USING (custfocus.sees_all_programs() OR survey_id = ANY (custfocus.readable_survey_ids()));
	CREATE POLICY item_write ON custfocus.item
		USING (custfocus.sees_all_programs() OR survey_id = ANY (custfocus.visible_survey_ids()))
		WITH CHECK ((custfocus.sees_all_programs() OR survey_id = ANY (custfocus.visible_survey_ids()))
					AND custfocus.citus_survey_may_use(survey_id, 'custfocus.scale', scale_id)
					AND custfocus.citus_survey_may_use(survey_id, 'custfocus.requirement', requirement_id));
	CREATE POLICY response_by_program ON custfocus.response
		USING (custfocus.sees_all_programs()
			   OR service_id = ANY (custfocus.visible_service_ids())
			   OR (service_id IS NULL AND survey_id = ANY (custfocus.visible_survey_ids())))
		WITH CHECK (custfocus.sees_all_programs()
					OR (service_id = ANY (custfocus.visible_service_ids())
						AND survey_id = ANY (custfocus.readable_survey_ids()))
					OR (service_id IS NULL AND survey_id = ANY (custfocus.visible_survey_ids())));
	CREATE POLICY answer_by_program ON custfocus.answer
		USING (custfocus.sees_all_programs() OR custfocus.citus_response_visible(tableoid, response_id));
	CREATE POLICY respondent_contact_by_program ON custfocus.respondent_contact
		USING (custfocus.sees_all_programs() OR custfocus.citus_response_visible(tableoid, response_id));
	CREATE POLICY feedback_by_program ON custfocus.feedback
		USING (custfocus.sees_all_programs() OR service_id = ANY (custfocus.visible_service_ids()));
	CREATE POLICY measure_by_program ON custfocus.measure
		USING (custfocus.sees_all_programs()
			   OR program_id = ANY (custfocus.visible_program_ids())
			   OR service_id = ANY (custfocus.visible_service_ids()));
	CREATE POLICY improvement_action_by_program ON custfocus.improvement_action
		USING (custfocus.sees_all_programs()
			   OR program_id = ANY (custfocus.visible_program_ids())
			   OR service_id = ANY (custfocus.visible_service_ids())
			   OR (program_id IS NULL AND service_id IS NULL AND custfocus.citus_measure_visible(measure_id)));
	CREATE POLICY engagement_by_program ON custfocus.engagement
		USING (custfocus.sees_all_programs()
			   OR program_id = ANY (custfocus.visible_program_ids())
			   OR service_id = ANY (custfocus.visible_service_ids()));
	CREATE POLICY import_batch_by_program ON custfocus.import_batch
		USING (custfocus.sees_all_programs()
			   OR imported_by = CURRENT_USER
			   OR survey_id = ANY (custfocus.visible_survey_ids()));
	CREATE POLICY import_error_by_program ON custfocus.import_error
		USING (custfocus.sees_all_programs() OR custfocus.citus_import_visible(import_id));
END
$$;
COMMENT ON FUNCTION custfocus.citus_create_policies() IS
'Creates the row-level security policies of a distributed custfocus (those of the install script, without sub-selects, which Citus refuses)';

-------------------------------------------------------------------------------
-- Each node's part
-------------------------------------------------------------------------------

-- Runs on every node, coordinator and workers, before the tables become
-- Citus tables: drops what Citus refuses (triggers, policies with
-- sub-selects, the unique key without the distribution column, the foreign
-- key from feedback to response) and lets the functions that run inside
-- Citus' tasks read reference tables.  The extension's own tables on a
-- worker become the shells of the distributed tables, so they must match the
-- coordinator's.
CREATE FUNCTION custfocus.citus_prepare_node() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	v_tables regclass[] := custfocus.citus_reference_tables() || custfocus.citus_distributed_tables();
	v_worker boolean;
	v_ddl text;
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = CURRENT_USER AND rolsuper) THEN
		RAISE EXCEPTION 'custfocus.citus_prepare_node() must be run by a superuser';
	END IF;
	EXECUTE 'SELECT NOT pg_catalog.citus_is_coordinator()' INTO v_worker;
	FOR r IN
		SELECT t.tgrelid::regclass AS rel, t.tgname FROM pg_catalog.pg_trigger t
		 WHERE t.tgrelid = ANY (v_tables) AND NOT t.tgisinternal
	LOOP
		EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, r.rel);
	END LOOP;
	FOR r IN
		SELECT p.polrelid::regclass AS rel, p.polname FROM pg_catalog.pg_policy p
		 WHERE p.polrelid = ANY (v_tables)
	LOOP
		EXECUTE format('DROP POLICY %I ON %s', r.polname, r.rel);
	END LOOP;
	PERFORM custfocus.citus_create_policies();
	-- On a worker, Citus adds the foreign keys of the shells itself, and
	-- fails on those CREATE EXTENSION made ("already exists").
	IF v_worker THEN
		FOR r IN
			SELECT c.conrelid::regclass AS rel, c.conname FROM pg_catalog.pg_constraint c
			 WHERE c.conrelid = ANY (v_tables) AND c.contype = 'f'
		LOOP
			EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.rel, r.conname);
		END LOOP;
	END IF;
	-- custfocus_citus: what every role with an access level needs on the
	-- workers (custfocus.citus_sync_access makes them members): USAGE on
	-- the schema, SELECT on the shards (given here as default privileges,
	-- so that the shards Citus is about to create get it).  Made on each
	-- node by this function, not propagated by Citus: the workers run it
	-- outside the coordinator's transaction.
	-- (The coordinator's distribute() creates the role there, after this
	-- ran on the workers, through Citus, which then knows it and
	-- propagates the memberships citus_sync_access grants.)
	v_ddl := pg_catalog.current_setting('citus.enable_ddl_propagation');
	PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
	IF v_worker AND NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'custfocus_citus') THEN
		CREATE ROLE custfocus_citus NOLOGIN;
	END IF;
	GRANT USAGE ON SCHEMA custfocus TO custfocus_citus;
	ALTER DEFAULT PRIVILEGES IN SCHEMA custfocus GRANT SELECT ON TABLES TO custfocus_citus;
	PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', v_ddl, true);
	DROP INDEX custfocus.response_external_id_key;
	CREATE INDEX response_external_id_idx ON custfocus.response (survey_id, (COALESCE(service_id, 0)), external_id);
	ALTER TABLE custfocus.feedback DROP CONSTRAINT IF EXISTS feedback_response_id_fkey;
	-- the import recomputes its keys reading as the importer (citus_import_done)
	ALTER FUNCTION custfocus.rollup_compute(integer[], date[]) SECURITY INVOKER;
	ALTER FUNCTION custfocus.rollup_item_compute(integer[], date[]) SECURITY INVOKER;
	ALTER FUNCTION custfocus.rollup_pairs_compute(integer[], date[]) SECURITY INVOKER;
	GRANT EXECUTE ON FUNCTION custfocus.rollup_compute(integer[], date[]), custfocus.rollup_item_compute(integer[], date[]),
		custfocus.rollup_pairs_compute(integer[], date[])
		TO custfocus_citus;
	-- the dirty-key trigger writes into a shard of rollup_dirty by name
	ALTER FUNCTION custfocus.citus_rollup_dirty() SET citus.enable_manual_changes_to_shards = on;
	FOR r IN SELECT unnest(custfocus.citus_nested_functions()) AS fn LOOP
		EXECUTE format('ALTER FUNCTION %s SET citus.allow_nested_distributed_execution = on', r.fn);
	END LOOP;
END
$$;
COMMENT ON FUNCTION custfocus.citus_prepare_node() IS
'Part of custfocus.distribute() run on every node: drops the triggers, policies and keys Citus refuses and re-creates the policies without sub-selects';
REVOKE ALL ON FUNCTION custfocus.citus_prepare_node() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.citus_create_policies() FROM PUBLIC;

-- The triggers of a distributed custfocus, created on the coordinator with
-- citus.enable_unsafe_triggers, which puts them on every shard and placement.
CREATE FUNCTION custfocus.citus_create_triggers() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- (set here, not in the function's SET clause: without Citus the
	-- parameter does not exist when the extension is created)
	PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
	CREATE TRIGGER answer_check_insert AFTER INSERT ON custfocus.answer
		REFERENCING NEW TABLE AS new_answer
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_answer_check();
	CREATE TRIGGER answer_check_update AFTER UPDATE ON custfocus.answer
		REFERENCING NEW TABLE AS new_answer
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_answer_check();
	CREATE TRIGGER response_check_survey AFTER UPDATE OF survey_id ON custfocus.response
		FOR EACH ROW WHEN (OLD.survey_id IS DISTINCT FROM NEW.survey_id)
		EXECUTE FUNCTION custfocus.citus_response_check_survey();
	CREATE TRIGGER rollup_dirty_answer_insert AFTER INSERT ON custfocus.answer
		REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_dirty();
	CREATE TRIGGER rollup_dirty_answer_update AFTER UPDATE ON custfocus.answer
		REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_dirty();
	CREATE TRIGGER rollup_dirty_answer_delete AFTER DELETE ON custfocus.answer
		REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_dirty();
	CREATE TRIGGER rollup_dirty_response_insert AFTER INSERT ON custfocus.response
		REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_dirty();
	CREATE TRIGGER rollup_dirty_response_update AFTER UPDATE ON custfocus.response
		REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_dirty();
	CREATE TRIGGER rollup_dirty_response_delete AFTER DELETE ON custfocus.response
		REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_dirty();
	CREATE TRIGGER program_check_cycle AFTER INSERT OR UPDATE OF parent_id ON custfocus.program
		FOR EACH ROW EXECUTE FUNCTION custfocus.citus_program_check_cycle();
	CREATE TRIGGER scale_guard_builtin BEFORE INSERT OR UPDATE OR DELETE ON custfocus.scale
		FOR EACH ROW EXECUTE FUNCTION custfocus.guard_builtin();
	CREATE TRIGGER scale_label_guard_builtin BEFORE INSERT OR UPDATE OR DELETE ON custfocus.scale_label
		FOR EACH ROW EXECUTE FUNCTION custfocus.guard_builtin();
	CREATE TRIGGER item_change AFTER INSERT OR UPDATE ON custfocus.item
		FOR EACH ROW EXECUTE FUNCTION custfocus.citus_item_change();
	CREATE TRIGGER scale_change AFTER UPDATE ON custfocus.scale
		FOR EACH ROW EXECUTE FUNCTION custfocus.citus_scale_change();
	CREATE TRIGGER scale_label_check AFTER INSERT OR UPDATE ON custfocus.scale_label
		FOR EACH ROW EXECUTE FUNCTION custfocus.citus_scale_label_check();
	CREATE TRIGGER feedback_track_status BEFORE INSERT OR UPDATE OF status, acknowledged_at, closed_at
		ON custfocus.feedback
		FOR EACH ROW EXECUTE FUNCTION custfocus.feedback_track_status();
	CREATE TRIGGER improvement_action_track_status BEFORE INSERT OR UPDATE OF status, closed_on
		ON custfocus.improvement_action
		FOR EACH ROW EXECUTE FUNCTION custfocus.improvement_action_track_status();
	CREATE TRIGGER rollup_hidden_measure AFTER INSERT OR UPDATE OR DELETE ON custfocus.measure
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_hidden_all();
	CREATE TRIGGER rollup_hidden_requirement AFTER UPDATE OF requirement_id ON custfocus.item
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_hidden_all();
	CREATE TRIGGER report_unit_program AFTER INSERT OR DELETE ON custfocus.program
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_unit_rebuild('names');
	CREATE TRIGGER report_unit_program_names AFTER UPDATE OF code, name, level ON custfocus.program
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_unit_rebuild('names');
	CREATE TRIGGER report_unit_program_tree AFTER UPDATE OF parent_id ON custfocus.program
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_unit_rebuild('structure');
	CREATE TRIGGER report_unit_service AFTER INSERT OR DELETE ON custfocus.service
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_unit_rebuild('names');
	CREATE TRIGGER report_unit_service_names AFTER UPDATE OF code, name ON custfocus.service
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_unit_rebuild('names');
	CREATE TRIGGER report_unit_service_tree AFTER UPDATE OF program_id ON custfocus.service
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_unit_rebuild('structure');
	CREATE TRIGGER rollup_hidden_item_change AFTER INSERT OR DELETE ON custfocus.item
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_hidden_all();
	CREATE TRIGGER report_requirement_importance AFTER UPDATE OF importance ON custfocus.requirement
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_importance_change();
	CREATE TRIGGER report_service_requirement_change AFTER INSERT OR UPDATE OR DELETE ON custfocus.service_requirement
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_importance_change();
	CREATE TRIGGER report_service_code AFTER UPDATE OF code ON custfocus.service
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_importance_change();
	CREATE TRIGGER report_requirement_code AFTER UPDATE OF code ON custfocus.requirement
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_importance_change();
	CREATE TRIGGER feedback_figures_change AFTER INSERT OR UPDATE OR DELETE ON custfocus.feedback
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_feedback_figures_change();
END
$$;
COMMENT ON FUNCTION custfocus.citus_create_triggers() IS
'Part of custfocus.distribute(): creates the triggers of a distributed custfocus on the shards and placements';
REVOKE ALL ON FUNCTION custfocus.citus_create_triggers() FROM PUBLIC;

-------------------------------------------------------------------------------
-- Grants on every node
-------------------------------------------------------------------------------

-- Citus runs a query's tasks on the workers as the calling role: it needs
-- USAGE on the schema there (an extension's schema, whose grants Citus does
-- not propagate), and the views, which run as their owner on one node, need
-- SELECT on the shards they read.  Both come with membership in
-- custfocus_citus (see custfocus.citus_prepare_node and distribute()).
-- Grants on the tables themselves Citus propagates (grant_access's for
-- analysts and admins), and so it does the membership, in this transaction.
-- (A grant on each shard through run_command_on_placements, outside the
-- transaction, deadlocked on the locks grant_access holds there.)
CREATE FUNCTION custfocus.citus_sync_access(p_role regrole) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT custfocus.citus_distributed() THEN
		RETURN;
	END IF;
	IF EXISTS (SELECT FROM custfocus.role_access a WHERE a.role_name = p_role::text::name) THEN
		EXECUTE format('GRANT custfocus_citus TO %s', p_role);
	ELSIF pg_catalog.pg_has_role(p_role, 'custfocus_citus', 'MEMBER') THEN
		EXECUTE format('REVOKE custfocus_citus FROM %s', p_role);
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.citus_sync_access(regrole) IS
'On a distributed custfocus: makes the role a member of custfocus_citus on every node when it has an access level (schema USAGE and SELECT on the shards the views read), or takes the membership back';

-- Grants on tables Citus propagates to their shards, each in parallel over
-- many connections; after that on a distributed table, a grant on a reference
-- table that it refers to fails ("parallel DDL access ... in the same
-- transaction").  revoke_access and grant_access grant on every table in one
-- transaction: on Citus they do it one connection at a time.
CREATE FUNCTION custfocus.citus_before_grants() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF custfocus.citus_distributed() THEN
		PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.citus_before_grants() IS
'On a distributed custfocus: makes the grants of the rest of the transaction run one connection at a time (Citus requires it for grants on reference tables after distributed ones)';

CREATE FUNCTION custfocus.citus_raise(p_message text) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RAISE EXCEPTION '%', p_message; END $$;
COMMENT ON FUNCTION custfocus.citus_raise(text) IS 'Raises an error with the message (for use inside a query)';

-------------------------------------------------------------------------------
-- The import's part on Citus
-------------------------------------------------------------------------------

-- Called by the import on a distributed custfocus, after its rows are in:
-- recomputes the roll-ups of every (service, month) its responses fall in.
-- It reads the raw data as the importer (on Citus, rollup_compute and
-- rollup_item_compute run as their caller, see citus_prepare_node): Citus
-- refuses to read, as another role (the owner, in a SECURITY DEFINER
-- function), shards this transaction modified as the importer.  The
-- importer sees every response of the services it imports for, so the
-- recomputation is whole.  The rows are stored by citus_rollup_store, which
-- runs as the owner and only inside an import.
CREATE FUNCTION custfocus.citus_import_done(p_import bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_services integer[];
	v_months date[];
	v_rows custfocus.rollup_service_month[];
	v_items custfocus.rollup_item_month[];
	v_pairs custfocus.rollup_pairs_month[];
BEGIN
	SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month)
	  INTO v_services, v_months
	  FROM (SELECT DISTINCT r.service_id,
				   date_trunc('month', timezone(custfocus.reporting_time_zone(), r.submitted_at))::date AS month
			  FROM custfocus.response r
			 WHERE r.import_id = p_import AND r.service_id IS NOT NULL) k;
	IF v_services IS NULL THEN
		RETURN;
	END IF;
	-- the keys' locks first (as rollup_refresh): one recompute of a key at a time
	PERFORM pg_advisory_xact_lock(pg_catalog.hashtextextended('custfocus.rollup ' || k.s || ' ' || k.m, 0))
	   FROM unnest(v_services, v_months) AS k (s, m);
	v_rows := ARRAY(SELECT c FROM custfocus.rollup_compute(v_services, v_months) c);
	v_items := ARRAY(SELECT c FROM custfocus.rollup_item_compute(v_services, v_months) c);
	v_pairs := ARRAY(SELECT c FROM custfocus.rollup_pairs_compute(v_services, v_months) c);
	PERFORM custfocus.citus_rollup_store(v_services, v_months, v_rows, v_items, v_pairs);
END
$$;
COMMENT ON FUNCTION custfocus.citus_import_done(bigint) IS
'On a distributed custfocus: recomputes the roll-ups an import touched (the roll-up triggers do not fire on Citus)';

-- True only while the import (src/import.c) runs citus_import_done.
CREATE FUNCTION custfocus.import_storing_rollups() RETURNS boolean
AS 'MODULE_PATHNAME', 'import_storing_rollups'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION custfocus.import_storing_rollups() IS
'True while custfocus.import_responses stores the roll-ups of its rows on a distributed custfocus (a backend-local flag of the import''s C code)';

CREATE FUNCTION custfocus.citus_rollup_store(p_services integer[], p_months date[],
											 p_rows custfocus.rollup_service_month[],
											 p_items custfocus.rollup_item_month[],
											 p_pairs custfocus.rollup_pairs_month[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT custfocus.import_storing_rollups() THEN
		RAISE EXCEPTION 'only custfocus.import_responses stores roll-up rows'
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	PERFORM custfocus.rollup_check_isolation();
	WITH k AS (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_service_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
	)
	INSERT INTO custfocus.rollup_service_month SELECT * FROM unnest(p_rows);
	PERFORM custfocus.rollup_units_refresh(p_services, p_months);
	WITH k AS (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_item_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
	)
	INSERT INTO custfocus.rollup_item_month SELECT * FROM unnest(p_items);
	WITH k AS (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_pairs_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
	)
	INSERT INTO custfocus.rollup_pairs_month SELECT * FROM unnest(p_pairs);
	-- the keys' complementary suppression, computed when the transaction
	-- commits (rollup_commit_compact), as after rollup_refresh
	PERFORM custfocus.rollup_hidden_touch(p_services, p_months);
END
$$;
COMMENT ON FUNCTION custfocus.citus_rollup_store(integer[], date[], custfocus.rollup_service_month[], custfocus.rollup_item_month[], custfocus.rollup_pairs_month[]) IS
'On a distributed custfocus: replaces the roll-up rows of the given keys by the given recomputation; only inside custfocus.import_responses';

-- Respondent ids are unique per survey and service (response_external_id_key
-- on one node, which Citus cannot keep: not the distribution column).  Run
-- by citus_rollup_sync before the transaction commits: the ids of the
-- responses it inserted or changed (rollup_dirty) are locked (a transaction
-- lock per id, in one order, so that two transactions adding the same id
-- run this one after the other) and looked up; a second response with the
-- same id fails the commit with PostgreSQL's own error for the one-node
-- index (unique_violation), so that a client sees what it would see on one
-- node, at COMMIT instead of at the INSERT.  As the session's role (Citus
-- lets no other role read the shards this transaction changed): a
-- duplicate in a response the role may not see is not found.  Only under
-- READ COMMITTED (each statement a new snapshot, taken after the locks):
-- under REPEATABLE READ or SERIALIZABLE the lookup would read the
-- transaction's snapshot and miss an id committed after it began, so such
-- a transaction is refused, as the roll-ups' recompute refuses it
-- (rollup_check_isolation).
CREATE FUNCTION custfocus.citus_check_respondent_ids() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_surveys integer[];
	v_services integer[];
	v_ids text[];
	v_dup record;
BEGIN
	SELECT array_agg(k.survey_id), array_agg(k.service), array_agg(k.external_id)
	  INTO v_surveys, v_services, v_ids
	  FROM (SELECT DISTINCT r.survey_id, coalesce(r.service_id, 0) AS service, r.external_id
			  FROM custfocus.response r
			 WHERE r.response_id IN (SELECT d.response_id FROM custfocus.rollup_dirty d)
			   AND r.external_id IS NOT NULL) k;
	IF v_ids IS NULL THEN
		RETURN;
	END IF;
	-- (a snapshot older than the lock would miss an id committed in between)
	IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE EXCEPTION 'custfocus checks respondent ids on a distributed database only under READ COMMITTED'
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = format('This transaction inserts or changes responses with respondent ids under %s, whose snapshot may miss an id another session committed since.',
								  upper(pg_catalog.current_setting('transaction_isolation'))),
				  HINT = 'Make the change in a READ COMMITTED transaction (BEGIN ISOLATION LEVEL READ COMMITTED).';
	END IF;
	PERFORM pg_catalog.pg_advisory_xact_lock(k.h)
	   FROM (SELECT DISTINCT pg_catalog.hashtextextended('custfocus.respondent ' || x.survey_id || ' ' || x.service
														  || ' ' || x.external_id, 0) AS h
			   FROM unnest(v_surveys, v_services, v_ids) AS x (survey_id, service, external_id)) k
	  ORDER BY k.h;
	SELECT r.survey_id, coalesce(r.service_id, 0) AS service, r.external_id INTO v_dup
	  FROM custfocus.response r
	 WHERE (r.survey_id, coalesce(r.service_id, 0), r.external_id)
		   IN (SELECT * FROM unnest(v_surveys, v_services, v_ids))
	 GROUP BY 1, 2, 3
	HAVING count(*) > 1
	 ORDER BY 1, 2, 3
	 LIMIT 1;
	-- the key's values in the detail only for a role that reads response
	-- without row-level security, as PostgreSQL does for the index
	IF FOUND AND NOT pg_catalog.row_security_active('custfocus.response'::pg_catalog.regclass)
	   AND pg_catalog.has_table_privilege('custfocus.response'::pg_catalog.regclass, 'SELECT') THEN
		RAISE EXCEPTION 'duplicate key value violates unique constraint "response_external_id_key"'
			USING ERRCODE = 'unique_violation',
				  DETAIL = format('Key (survey_id, COALESCE(service_id, 0), external_id)=(%s, %s, %s) already exists.',
								  v_dup.survey_id, v_dup.service, v_dup.external_id),
				  SCHEMA = 'custfocus', TABLE = 'response', CONSTRAINT = 'response_external_id_key';
	ELSIF FOUND THEN
		RAISE EXCEPTION 'duplicate key value violates unique constraint "response_external_id_key"'
			USING ERRCODE = 'unique_violation', SCHEMA = 'custfocus', TABLE = 'response',
				  CONSTRAINT = 'response_external_id_key';
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.citus_check_respondent_ids() IS
'On a distributed custfocus: fails the transaction, as the one-node unique index would, when a response it inserted or changed has the respondent id of another response of the same survey and service (run before commit by citus_rollup_sync)';

-- Run by src/citus.c before a transaction that changed response or answer
-- commits: recomputes the roll-up keys rollup_dirty holds for services the
-- session's role sees whole (its own changes, and any left over), reading as
-- that role, and stores them (citus_rollup_store).  Keys of services it does
-- not see are left for their own sessions: a recompute over part of a
-- service would be wrong.
CREATE FUNCTION custfocus.citus_rollup_sync() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_all boolean;
	v_visible integer[];
	v_services integer[];
	v_months date[];
	v_rows custfocus.rollup_service_month[];
	v_items custfocus.rollup_item_month[];
	v_pairs custfocus.rollup_pairs_month[];
BEGIN
	IF NOT custfocus.citus_distributed() THEN
		RETURN;
	END IF;
	PERFORM custfocus.citus_check_respondent_ids();
	DELETE FROM custfocus.rollup_dirty d WHERE d.service_id IS NULL;
	v_all := custfocus.sees_all_programs();
	v_visible := custfocus.visible_service_ids();
	SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month)
	  INTO v_services, v_months
	  FROM (SELECT DISTINCT d.service_id,
				   date_trunc('month', timezone(custfocus.reporting_time_zone(), d.submitted_at))::date AS month
			  FROM custfocus.rollup_dirty d
			 WHERE d.service_id IS NOT NULL AND (v_all OR d.service_id = ANY (v_visible))) k;
	IF v_services IS NULL THEN
		RETURN;
	END IF;
	PERFORM pg_advisory_xact_lock(pg_catalog.hashtextextended('custfocus.rollup ' || k.s || ' ' || k.m, 0))
	   FROM unnest(v_services, v_months) AS k (s, m);
	v_rows := ARRAY(SELECT c FROM custfocus.rollup_compute(v_services, v_months) c);
	v_items := ARRAY(SELECT c FROM custfocus.rollup_item_compute(v_services, v_months) c);
	v_pairs := ARRAY(SELECT c FROM custfocus.rollup_pairs_compute(v_services, v_months) c);
	PERFORM custfocus.citus_rollup_store(v_services, v_months, v_rows, v_items, v_pairs);
	DELETE FROM custfocus.rollup_dirty d WHERE d.service_id = ANY (v_services);
	-- This runs before the commit, but after the deferred triggers fired:
	-- the compaction and complementary suppression that citus_rollup_store
	-- queued (rollup_commit_compact on rollup_pending) would never run.
	-- Fired here, before the transaction commits, as on one node.
	SET CONSTRAINTS custfocus.rollup_commit_compact IMMEDIATE;
END
$$;
COMMENT ON FUNCTION custfocus.citus_rollup_sync() IS
'On a distributed custfocus: recomputes the roll-up keys the transaction''s changes to response and answer touched (run before commit by the C module)';

-- Called by apply_retention on a distributed custfocus, after it deleted or
-- anonymised the responses submitted before p_cutoff: what the roll-up
-- triggers and feedback's foreign key (ON DELETE SET NULL) do on one node.
-- The roll-up keys of every service up to the cutoff's month are recomputed
-- (the deleted responses' keys are no longer known; a superset is exact).
CREATE FUNCTION custfocus.citus_after_retention(p_cutoff timestamptz) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_referred bigint[];
	v_alive bigint[];
	v_services integer[];
	v_months date[];
BEGIN
	IF NOT custfocus.citus_distributed() THEN
		RETURN;
	END IF;
	IF NOT pg_catalog.has_function_privilege(custfocus.error_viewer(), 'custfocus.apply_retention(text,interval,text)', 'EXECUTE') THEN
		RAISE EXCEPTION 'permission denied for function citus_after_retention'
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT array_agg(DISTINCT f.response_id) INTO v_referred FROM custfocus.feedback f WHERE f.response_id IS NOT NULL;
	IF v_referred IS NOT NULL THEN
		SELECT coalesce(array_agg(r.response_id), '{}') INTO v_alive FROM custfocus.response r
		 WHERE r.response_id = ANY (v_referred);
		UPDATE custfocus.feedback f SET response_id = NULL
		 WHERE f.response_id = ANY (v_referred) AND f.response_id <> ALL (v_alive);
	END IF;
	SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month)
	  INTO v_services, v_months
	  FROM (SELECT DISTINCT m.service_id, m.month FROM custfocus.rollup_service_month m
			 WHERE m.month <= date_trunc('month', timezone(custfocus.reporting_time_zone(), p_cutoff))::date) k;
	IF v_services IS NOT NULL THEN
		PERFORM custfocus.rollup_refresh(v_services, v_months);
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.citus_after_retention(timestamptz) IS
'On a distributed custfocus: after apply_retention, clears feedback.response_id of deleted responses and recomputes the roll-ups up to the cutoff (what triggers and a foreign key do on one node)';

-------------------------------------------------------------------------------
-- Reporting views on Citus
-------------------------------------------------------------------------------

-- On one node the reporting views run with their owner's rights, read the
-- roll-ups and report_unit (which a reader may not read: they hold
-- unsuppressed small groups) and keep to the caller's programs themselves;
-- being security_barrier views the planner inlines, a BI filter reaches the
-- roll-ups' indexes.  On Citus, a query that joins a coordinator-local table
-- (the roll-ups, report_unit) to a Citus table is planned in parts, and the
-- parts run as the caller, not as the view's owner: "permission denied for
-- table report_unit".  So distribute() redefines the views that do so
-- (citus_redefined_views) to read one SECURITY DEFINER function each,
-- custfocus.citus_view_<view>(role), whose query is the view's own, taken
-- from the catalogue (pg_get_viewdef) with every call of a visibility
-- function that defaults to CURRENT_USER given the role instead, and every
-- redefined view it reads replaced by that view's function.  The result is
-- the view's, row for row; a reader still reads no roll-up (the function
-- returns the view's rows only).  The cost: a BI filter on such a view no
-- longer reaches the roll-ups' indexes (the function computes every row the
-- role sees).  data_coverage is defined anew (citus_view_data_coverage):
-- its correlated sub-queries per service, index probes on one node, are
-- sub-queries Citus cannot plan.
--
-- A function that takes the role must not let a caller read as another
-- role: citus_view_check_role lets the session's user read as a role it
-- could SET ROLE to (itself, or a role it is a member of), and nothing
-- else.  LIMIT: a view read inside a SECURITY DEFINER function of another
-- owner (CURRENT_USER that owner, the session's user not a member of it)
-- is refused on Citus.

CREATE FUNCTION custfocus.citus_redefined_views() RETURNS regclass[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	-- in an order where a view comes after the redefined views it reads
	SELECT ARRAY['custfocus.measure_status', 'custfocus.key_drivers', 'custfocus.improvement_opportunities',
				 'custfocus.feedback_queue']::regclass[]
$$;
COMMENT ON FUNCTION custfocus.citus_redefined_views() IS
'The reporting views distribute() makes read a SECURITY DEFINER function of the caller''s role on Citus (they join the coordinator''s roll-ups to Citus tables); data_coverage and voc_themes are defined anew besides';

CREATE FUNCTION custfocus.citus_view_check_role(p_role name) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_role IS NULL OR NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = p_role)
	   OR NOT pg_catalog.pg_has_role(SESSION_USER, p_role, 'MEMBER') THEN
		RAISE EXCEPTION 'permission denied to read the custfocus views as role "%"', p_role
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'On a distributed custfocus the views read as the role they are given, which must be the session''s user or a role it is a member of.';
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.citus_view_check_role(name) IS
'On a distributed custfocus: refuses to read the views as a role the session''s user could not SET ROLE to';

-- The query of a view, to run as its owner for a role p_role (see above).
CREATE FUNCTION custfocus.citus_view_query(p_view regclass) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_sql text := pg_catalog.rtrim(pg_catalog.btrim(pg_catalog.pg_get_viewdef(p_view, false)), ';');
	v_fn record;
	v_rel record;
BEGIN
	-- the visibility functions whose last argument is the role, defaulting
	-- to CURRENT_USER: one-argument ones called without it get it; any
	-- other call of them, or CURRENT_USER left, is not handled
	FOR v_fn IN
		SELECT p.proname, p.pronargs FROM pg_catalog.pg_proc p
		 WHERE p.pronamespace = 'custfocus'::regnamespace AND p.pronargdefaults > 0
		   AND pg_catalog.pg_get_function_arguments(p.oid) LIKE '%p_role name DEFAULT CURRENT_USER'
	LOOP
		IF v_fn.pronargs = 1 THEN
			v_sql := pg_catalog.replace(v_sql, format('custfocus.%s()', v_fn.proname), format('custfocus.%s(p_role)', v_fn.proname));
		END IF;
		IF pg_catalog.regexp_count(v_sql, format('custfocus\.%s\(', v_fn.proname))
		   <> pg_catalog.regexp_count(v_sql, format('custfocus\.%s\(p_role\)', v_fn.proname)) THEN
			RAISE EXCEPTION 'view %: a call of custfocus.% cannot be given the role', p_view, v_fn.proname;
		END IF;
	END LOOP;
	v_sql := pg_catalog.regexp_replace(v_sql, '\mCURRENT_USER\M', 'p_role', 'g');
	-- the views it reads: redefined ones through their functions; others
	-- (which would read as the function's owner) are not handled
	FOR v_rel IN
		SELECT DISTINCT c.oid::regclass AS rel, c.relname
		  FROM pg_catalog.pg_rewrite w
		  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = w.oid
			   AND d.refclassid = 'pg_catalog.pg_class'::regclass
		  JOIN pg_catalog.pg_class c ON c.oid = d.refobjid AND c.relkind = 'v' AND c.oid <> p_view
		 WHERE w.ev_class = p_view
	LOOP
		IF NOT v_rel.rel = ANY (custfocus.citus_redefined_views()) THEN
			RAISE EXCEPTION 'view % reads view %, which is not redefined on Citus', p_view, v_rel.rel;
		END IF;
		v_sql := pg_catalog.regexp_replace(v_sql, format('custfocus\.%s\M', v_rel.relname),
										   format('custfocus.citus_view_%s(p_role)', v_rel.relname), 'g');
	END LOOP;
	RETURN v_sql;
END
$$;
COMMENT ON FUNCTION custfocus.citus_view_query(regclass) IS
'On a distributed custfocus: the query of a reporting view with the role as p_role (see custfocus.citus_redefined_views)';

-- data_coverage on Citus: the same figures, each per service from one
-- aggregation over the responses (and the roll-up) instead of sub-queries
-- per service.
CREATE FUNCTION custfocus.citus_data_coverage_query() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $q$
	SELECT $$
	SELECT p.code AS program_code, p.name AS program_name, s.code AS service_code, s.name AS service_name, s.active,
		   sv.surveys, coalesce(n.responses, 0)::bigint AS responses, coalesce(fl.last_90, 0)::bigint AS responses_last_90_days,
		   fl.first_at AS first_response, fl.last_at AS last_response,
		   (pg_catalog.timezone(t.tz, pg_catalog.now())::date - pg_catalog.timezone(t.tz, fl.last_at)::date) AS days_since_last_response,
		   CASE WHEN fl.last_at IS NULL THEN 'none'
				WHEN fl.last_at < pg_catalog.timezone(t.tz, pg_catalog.timezone(t.tz, pg_catalog.now()) - interval '1 year') THEN 'stale'
				WHEN coalesce(fl.last_90, 0) = 0 THEN 'lapsing'
				ELSE 'current' END AS coverage
	  FROM custfocus.service s
	  JOIN custfocus.program p ON p.program_id = s.program_id
	 CROSS JOIN (SELECT custfocus.reporting_time_zone() AS tz) t
	  LEFT JOIN (SELECT m.service_id, sum(m.responses) AS responses FROM custfocus.rollup_service_month m
				  GROUP BY m.service_id) n ON n.service_id = s.service_id
	  LEFT JOIN (SELECT r.service_id, min(r.submitted_at) AS first_at, max(r.submitted_at) AS last_at,
						count(*) FILTER (WHERE r.submitted_at >= pg_catalog.timezone(custfocus.reporting_time_zone(),
									pg_catalog.timezone(custfocus.reporting_time_zone(), pg_catalog.now()) - interval '90 days')) AS last_90
				   FROM custfocus.response r WHERE r.service_id IS NOT NULL
				  GROUP BY r.service_id) fl ON fl.service_id = s.service_id
	  LEFT JOIN (SELECT k.service_id, string_agg(x.code, ', ' ORDER BY x.code) AS surveys
				   FROM (SELECT r.service_id, r.survey_id FROM custfocus.response r WHERE r.service_id IS NOT NULL
						  GROUP BY r.service_id, r.survey_id) k
				   JOIN custfocus.survey x ON x.survey_id = k.survey_id
				  GROUP BY k.service_id) sv ON sv.service_id = s.service_id
	 WHERE custfocus.sees_all_programs(p_role) OR s.program_id = ANY (custfocus.visible_program_ids(p_role))
	 ORDER BY p.code, s.code
	$$
$q$;
COMMENT ON FUNCTION custfocus.citus_data_coverage_query() IS
'On a distributed custfocus: the query of data_coverage for a role p_role, without correlated sub-queries (which Citus cannot plan)';

-- voc_themes on Citus: computed when read, for the role.  A commit that
-- changed free-text answers would compute its services' themes reading
-- shards that the committing role modified, as the owner, which Citus
-- refuses ("modified in this transaction by a different user"); and the
-- placements' triggers cannot say which services changed.  So the themes
-- are not published on Citus (report_themes_refresh returns at once).
CREATE FUNCTION custfocus.citus_voc_themes_query() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT $q$SELECT p.code AS program_code, s.code AS service_code, f.term, f.documents, f.feedback_documents,
	   f.answer_documents, round(100.0 * f.documents / f.service_documents, 1)::numeric(4,1) AS share_of_documents,
	   f.rank, f.example
  FROM custfocus.voc_themes_compute(CASE WHEN custfocus.sees_all_programs(p_role) THEN NULL
										  ELSE custfocus.visible_service_ids(p_role) END) f
  JOIN custfocus.service s ON s.service_id = f.service_id
  JOIN custfocus.program p ON p.program_id = s.program_id
 WHERE f.documents >= (SELECT custfocus.min_responses())
 ORDER BY 1, 2, 8$q$
$$;
COMMENT ON FUNCTION custfocus.citus_voc_themes_query() IS
'On a distributed custfocus: the query of voc_themes for a role p_role, computed when read (the themes are not published on Citus)';

-- Part of distribute(): the functions, and the views reading them.  Run on
-- the coordinator only (the workers never run the views), without DDL
-- propagation.
CREATE FUNCTION custfocus.citus_redefine_views() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_view regclass;
	v_name name;
	v_sql text;
	v_ddl text := pg_catalog.current_setting('citus.enable_ddl_propagation');
	v_queries text[] := '{}';
	v_views regclass[] := custfocus.citus_redefined_views() || 'custfocus.data_coverage'::regclass
						  || 'custfocus.voc_themes'::regclass;
	i integer;
BEGIN
	PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
	-- every query first, from the views as they are
	FOREACH v_view IN ARRAY custfocus.citus_redefined_views() LOOP
		v_queries := v_queries || custfocus.citus_view_query(v_view);
	END LOOP;
	v_queries := v_queries || custfocus.citus_data_coverage_query() || custfocus.citus_voc_themes_query();
	FOR i IN 1 .. cardinality(v_views) LOOP
		v_view := v_views[i];
		SELECT c.relname INTO v_name FROM pg_catalog.pg_class c WHERE c.oid = v_view;
		EXECUTE format($f$CREATE FUNCTION custfocus.%I(p_role name) RETURNS SETOF %s
						 LANGUAGE plpgsql STABLE SECURITY DEFINER
						 SET search_path = pg_catalog, pg_temp
						 AS %L$f$,
					   'citus_view_' || v_name, v_view,
					   format(E'BEGIN\n\tPERFORM custfocus.citus_view_check_role(p_role);\n\tRETURN QUERY\n%s;\nEND', v_queries[i]));
		EXECUTE format('COMMENT ON FUNCTION custfocus.%I(name) IS %L', 'citus_view_' || v_name,
					   format('On a distributed custfocus: the rows of view %s for the role (made by distribute())', v_view));
		EXECUTE format('REVOKE ALL ON FUNCTION custfocus.%I(name) FROM PUBLIC', 'citus_view_' || v_name);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.%I(name) TO custfocus_citus', 'citus_view_' || v_name);
		EXECUTE format('ALTER EXTENSION custfocus ADD FUNCTION custfocus.%I(name)', 'citus_view_' || v_name);
	END LOOP;
	FOREACH v_view IN ARRAY v_views LOOP
		SELECT c.relname INTO v_name FROM pg_catalog.pg_class c WHERE c.oid = v_view;
		EXECUTE format('CREATE OR REPLACE VIEW %s WITH (security_barrier) AS SELECT * FROM custfocus.%I(CURRENT_USER)',
					   v_view, 'citus_view_' || v_name);
	END LOOP;
	PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', v_ddl, true);
END
$$;
COMMENT ON FUNCTION custfocus.citus_redefine_views() IS
'Part of custfocus.distribute(): makes the reporting views that join the coordinator''s roll-ups to Citus tables read a SECURITY DEFINER function of the caller''s role';
REVOKE ALL ON FUNCTION custfocus.citus_redefine_views() FROM PUBLIC;

-------------------------------------------------------------------------------
-- The one call
-------------------------------------------------------------------------------

CREATE FUNCTION custfocus.distribute(shard_count integer DEFAULT NULL) RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_version text;
	v_rel regclass;
	v_bad text;
	v_role record;
	v_coordinator boolean;
	v_start timestamptz := clock_timestamp();
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
		RAISE EXCEPTION 'custfocus.distribute() needs Citus, which is not installed in this database'
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'On the coordinator and on every worker: shared_preload_libraries = ''citus'', CREATE EXTENSION citus, then CREATE EXTENSION custfocus; add the workers with citus_add_node.';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = CURRENT_USER AND rolsuper) THEN
		RAISE EXCEPTION 'custfocus.distribute() must be run by a superuser'
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF custfocus.citus_distributed() THEN
		RAISE EXCEPTION 'custfocus is already distributed' USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	EXECUTE 'SELECT pg_catalog.citus_is_coordinator()' INTO v_coordinator;
	IF NOT v_coordinator THEN
		RAISE EXCEPTION 'custfocus.distribute() must run on the Citus coordinator'
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_node WHERE groupid = 0)' INTO v_coordinator;
	IF NOT v_coordinator THEN
		RAISE EXCEPTION 'the coordinator is not in the Citus metadata'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'The roll-ups stay on the coordinator, and the views join them with reference tables, which need a placement there.',
				  HINT = 'SELECT citus_set_coordinator_host(''host'', port);';
	END IF;
	PERFORM custfocus.rollup_check_isolation();
	SELECT e.extversion INTO v_version FROM pg_catalog.pg_extension e WHERE e.extname = 'custfocus';
	EXECUTE $q$SELECT string_agg(format('%s:%s (%s)', w.nodename, w.nodeport, w.result), ', ')
				 FROM run_command_on_workers('SELECT extversion FROM pg_catalog.pg_extension WHERE extname = ''custfocus''') w
				WHERE NOT w.success OR w.result IS DISTINCT FROM $1$q$
	   INTO v_bad USING v_version;
	IF v_bad IS NOT NULL THEN
		RAISE EXCEPTION 'custfocus % is not installed on every worker: %', v_version, v_bad
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'CREATE EXTENSION custfocus (or ALTER EXTENSION custfocus UPDATE) on every worker first.';
	END IF;

	-- 1. every node: what Citus refuses goes, the policies without sub-selects come
	EXECUTE $q$SELECT string_agg(format('%s:%s: %s', w.nodename, w.nodeport, w.result), ', ')
				 FROM run_command_on_workers('SELECT custfocus.citus_prepare_node()') w WHERE NOT w.success$q$
	   INTO v_bad;
	IF v_bad IS NOT NULL THEN
		RAISE EXCEPTION 'could not prepare the workers: %', v_bad;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'custfocus_citus') THEN
		CREATE ROLE custfocus_citus NOLOGIN;
	END IF;
	COMMENT ON ROLE custfocus_citus IS 'custfocus on Citus: what a role with an access level needs on the workers (schema USAGE, SELECT on the shards the views read); granted by custfocus.grant_access';
	PERFORM custfocus.citus_prepare_node();

	-- 2. the tables.  Each reference table is made while tables that refer
	-- to it are still local: Citus would turn those into "Citus local
	-- tables", re-creating the views on them, which belong to the extension
	-- and cannot be dropped; with this off it leaves them be (they become
	-- Citus tables in the following steps).
	PERFORM pg_catalog.set_config('citus.enable_local_reference_table_foreign_keys', 'off', true);
	FOREACH v_rel IN ARRAY custfocus.citus_reference_tables() LOOP
		EXECUTE 'SELECT pg_catalog.create_reference_table($1)' USING v_rel;
	END LOOP;
	EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''response_id'', shard_count => $2)'
	   USING 'custfocus.response'::regclass, coalesce(shard_count, current_setting('citus.shard_count')::integer);
	EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''response_id'', colocate_with => ''custfocus.response'')'
	   USING 'custfocus.answer'::regclass;
	EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''response_id'', colocate_with => ''custfocus.response'')'
	   USING 'custfocus.respondent_contact'::regclass;

	-- The roll-up keys a DML on response or answer touched: written by
	-- triggers on the shards (citus_rollup_dirty) into the co-located shard
	-- of this table, read and emptied on the coordinator before the
	-- transaction commits (citus_rollup_sync, run by src/citus.c).  Made
	-- here, not by CREATE EXTENSION: a single node has no use for it.  A
	-- member of the extension (DROP EXTENSION drops it; pg_dump leaves it).
	CREATE TABLE custfocus.rollup_dirty (
		response_id	bigint NOT NULL,
		service_id	integer,
		submitted_at timestamptz NOT NULL
	);
	COMMENT ON TABLE custfocus.rollup_dirty IS
	'On a distributed custfocus: the service and time of the responses a statement changed, whose roll-up keys the coordinator recomputes, and whose respondent ids it checks, before the transaction commits; derived data, not dumped';
	COMMENT ON COLUMN custfocus.rollup_dirty.response_id IS 'A response changed (the distribution column: the row lives beside the response)';
	COMMENT ON COLUMN custfocus.rollup_dirty.service_id IS 'Its service (before or after the change; NULL: none, a row only for the respondent-id check)';
	COMMENT ON COLUMN custfocus.rollup_dirty.submitted_at IS 'Its submission time (before or after the change)';
	EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''response_id'', colocate_with => ''custfocus.response'')'
	   USING 'custfocus.rollup_dirty'::regclass;
	ALTER EXTENSION custfocus ADD TABLE custfocus.rollup_dirty;
	GRANT SELECT, DELETE ON custfocus.rollup_dirty TO custfocus_citus;
	-- the C module's hooks keep the roll-ups after a DML on response or
	-- answer (src/citus.c): loaded when a session starts
	SELECT coalesce(string_agg(x, ', '), '') INTO v_bad
	  FROM (SELECT unnest(string_to_array(replace(d.c, ' ', ''), ',')) AS x
			  FROM (SELECT coalesce((SELECT split_part(c, '=', 2) FROM pg_catalog.pg_db_role_setting s,
										   unnest(s.setconfig) AS c
									 WHERE s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
									   AND s.setrole = 0 AND c LIKE 'session\_preload\_libraries=%'), '') AS c) d) l
	 WHERE x <> '' AND x NOT IN ('custfocus', '$libdir/custfocus');
	EXECUTE format('ALTER DATABASE %I SET session_preload_libraries = %L', current_database(),
				   concat_ws(', ', nullif(v_bad, ''), 'custfocus'));
	v_bad := NULL;

	-- what custfocus_citus may not read on the shards (admins' tables, or
	-- read through SECURITY DEFINER functions only); Citus propagates the
	-- REVOKE to the shards.  On the coordinator, later tables of the schema
	-- get no default privileges.
	REVOKE ALL ON custfocus.respondent_contact, custfocus.role_access, custfocus.program_access,
		custfocus.import_batch, custfocus.import_error FROM custfocus_citus;
	PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
	ALTER DEFAULT PRIVILEGES IN SCHEMA custfocus REVOKE SELECT ON TABLES FROM custfocus_citus;
	PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'on', true);

	-- 3. the triggers Citus runs on shards and placements
	PERFORM custfocus.citus_create_triggers();

	-- the reporting views that join the coordinator's roll-ups to Citus
	-- tables read them through functions of the caller's role
	PERFORM custfocus.citus_redefine_views();

	-- 4. what the roles need on every node
	FOR v_role IN SELECT g.oid::regrole AS r FROM custfocus.role_access a JOIN pg_catalog.pg_roles g ON g.rolname = a.role_name LOOP
		PERFORM custfocus.citus_sync_access(v_role.r);
	END LOOP;

	-- 5. the rows the tables held here: copied to the shards, now dead weight
	-- (Citus leaves them on disk)
	FOREACH v_rel IN ARRAY custfocus.citus_reference_tables() || custfocus.citus_distributed_tables() LOOP
		EXECUTE 'SELECT pg_catalog.truncate_local_data_after_distributing_table($1)' USING v_rel;
	END LOOP;

	-- 6. the roll-ups, from the distributed data
	PERFORM custfocus.rollup_rebuild();
	RETURN format('custfocus distributed: %s reference tables, %s distributed by response_id (%s shards) in %s s',
				  cardinality(custfocus.citus_reference_tables()),
				  array_to_string(custfocus.citus_distributed_tables(), ', '),
				  coalesce(shard_count, current_setting('citus.shard_count')::integer),
				  round(extract(epoch FROM clock_timestamp() - v_start)::numeric, 1));
END
$$;
COMMENT ON FUNCTION custfocus.distribute(integer) IS
'Distributes an installed custfocus on Citus (run once, on the coordinator, as a superuser): response, answer and respondent_contact distributed by response_id and co-located, the small tables as reference tables, the roll-ups kept on the coordinator; see README, Scaling out';
REVOKE ALL ON FUNCTION custfocus.distribute(integer) FROM PUBLIC;
