-------------------------------------------------------------------------------
-- Access control: levels, program-level row security, privacy
-------------------------------------------------------------------------------

-- Roles are recorded by name, not oid, so the grants survive pg_dump and a
-- restore into another cluster.  A row for a role that no longer exists
-- grants nothing (every lookup joins pg_roles).
CREATE TABLE custfocus.role_access (
	role_name	name PRIMARY KEY,
	level		text NOT NULL CHECK (level IN ('reader', 'analyst', 'admin')),
	granted_by	name NOT NULL DEFAULT CURRENT_USER,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE custfocus.role_access IS
'Access level of each role granted access with custfocus.grant_access()';
COMMENT ON COLUMN custfocus.role_access.role_name IS 'The role';
COMMENT ON COLUMN custfocus.role_access.level IS 'reader (views only), analyst (reader + import + manage data) or admin (everything, all programs)';
COMMENT ON COLUMN custfocus.role_access.granted_by IS 'Role that granted it';
COMMENT ON COLUMN custfocus.role_access.created_at IS 'When the row was created';

CREATE TABLE custfocus.program_access (
	role_name	name NOT NULL,
	program_id	integer NOT NULL REFERENCES custfocus.program (program_id) ON DELETE CASCADE,
	granted_by	name NOT NULL DEFAULT CURRENT_USER,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (role_name, program_id)
);
CREATE INDEX program_access_program_id_idx ON custfocus.program_access (program_id);
COMMENT ON TABLE custfocus.program_access IS
'Programs whose data a role may see and change; access to a program covers every program below it';
COMMENT ON COLUMN custfocus.program_access.role_name IS 'The role (members of the role have the same access)';
COMMENT ON COLUMN custfocus.program_access.program_id IS 'The program (with everything below it in the hierarchy)';
COMMENT ON COLUMN custfocus.program_access.granted_by IS 'Role that granted it';
COMMENT ON COLUMN custfocus.program_access.created_at IS 'When the row was created';

-- The visibility functions run as the extension owner, so that the
-- policies can consult role_access and program_access without granting them
-- to everyone.  They take the role to answer for because a SECURITY DEFINER
-- function cannot see its caller's role; the policies pass CURRENT_USER, and
-- a role may ask only about roles its session user can become, so nobody
-- learns another role's grants.
CREATE FUNCTION custfocus.check_role_asked(p_role name) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = p_role
					  AND pg_has_role(SESSION_USER, r.oid, 'MEMBER')) THEN
		RAISE EXCEPTION 'permission denied to ask about the access of role "%"', p_role
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('Session user "%s" is not a member of that role.', SESSION_USER);
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.check_role_asked(name) IS
'Raises an error unless the session user is a member of the role (a caller may ask only about itself)';

CREATE FUNCTION custfocus.sees_all_programs(p_role name DEFAULT CURRENT_USER) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_role_asked(p_role);
	RETURN EXISTS (SELECT FROM pg_roles r WHERE r.rolname = p_role AND (r.rolsuper OR r.rolbypassrls))
		OR EXISTS (SELECT FROM custfocus.role_access a
					 JOIN pg_roles g ON g.rolname = a.role_name
					WHERE a.level = 'admin' AND pg_has_role(p_role, g.oid, 'USAGE'));
END
$$;
COMMENT ON FUNCTION custfocus.sees_all_programs(name) IS
'True when the role sees the data of every program: superusers, roles with BYPASSRLS, and admin-level roles (and their members)';

-- The walks of the program tree read the tree (a small table) into arrays
-- first and recurse over those, never over the table itself: Citus cannot
-- plan a recursive query over a reference table (custfocus.distribute()),
-- and on one node the result is the same.
CREATE FUNCTION custfocus.programs_below(p_roots integer[]) RETURNS integer[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ids integer[];
	v_parents integer[];
BEGIN
	SELECT array_agg(p.program_id), array_agg(p.parent_id) INTO v_ids, v_parents FROM custfocus.program p;
	RETURN (
		WITH RECURSIVE t (program_id, parent_id) AS (SELECT * FROM unnest(v_ids, v_parents)),
		below (program_id) AS (
			SELECT t.program_id FROM t WHERE t.program_id = ANY (p_roots)
			UNION
			SELECT t.program_id FROM t JOIN below ON t.parent_id = below.program_id
		)
		SELECT coalesce(array_agg(program_id ORDER BY program_id), '{}') FROM below);
END
$$;
COMMENT ON FUNCTION custfocus.programs_below(integer[]) IS
'The given programs and every program below them, in id order (programs that do not exist are left out)';

CREATE FUNCTION custfocus.programs_above(p_roots integer[]) RETURNS integer[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ids integer[];
	v_parents integer[];
BEGIN
	SELECT array_agg(p.program_id), array_agg(p.parent_id) INTO v_ids, v_parents FROM custfocus.program p;
	RETURN (
		WITH RECURSIVE t (program_id, parent_id) AS (SELECT * FROM unnest(v_ids, v_parents)),
		up (program_id, parent_id) AS (
			SELECT t.program_id, t.parent_id FROM t WHERE t.program_id = ANY (p_roots)
			UNION
			SELECT t.program_id, t.parent_id FROM t JOIN up ON t.program_id = up.parent_id
		)
		SELECT coalesce(array_agg(program_id ORDER BY program_id), '{}') FROM up);
END
$$;
COMMENT ON FUNCTION custfocus.programs_above(integer[]) IS
'The given programs and every program above them, in id order (programs that do not exist are left out)';

CREATE FUNCTION custfocus.visible_program_ids(p_role name DEFAULT CURRENT_USER) RETURNS integer[]
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_role_asked(p_role);
	RETURN custfocus.programs_below(ARRAY(
		SELECT a.program_id FROM custfocus.program_access a
		  JOIN pg_roles g ON g.rolname = a.role_name
		 WHERE pg_has_role(p_role, g.oid, 'USAGE')));
END
$$;
COMMENT ON FUNCTION custfocus.visible_program_ids(name) IS
'Programs whose data the role may see: those granted to it or to a role it belongs to, and every program below them';

CREATE FUNCTION custfocus.visible_service_ids(p_role name DEFAULT CURRENT_USER) RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(array_agg(s.service_id ORDER BY s.service_id), '{}')
	  FROM custfocus.service s
	 WHERE s.program_id = ANY (custfocus.visible_program_ids(p_role))
$$;
COMMENT ON FUNCTION custfocus.visible_service_ids(name) IS
'Services of the programs the role may see';

CREATE FUNCTION custfocus.visible_survey_ids(p_role name DEFAULT CURRENT_USER) RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(array_agg(s.survey_id ORDER BY s.survey_id), '{}')
	  FROM custfocus.survey s
	 WHERE s.program_id = ANY (custfocus.visible_program_ids(p_role))
$$;
COMMENT ON FUNCTION custfocus.visible_survey_ids(name) IS
'Surveys owned by the programs the role may see (agency-wide surveys, with no program, are not among them)';

CREATE FUNCTION custfocus.readable_survey_ids(p_role name DEFAULT CURRENT_USER) RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(array_agg(s.survey_id ORDER BY s.survey_id), '{}')
	  FROM custfocus.survey s
	 WHERE s.program_id IS NULL
		OR s.program_id = ANY (custfocus.programs_above(custfocus.visible_program_ids(p_role)))
$$;
COMMENT ON FUNCTION custfocus.readable_survey_ids(name) IS
'Surveys the role may read: those of its programs, of the programs above them, and agency-wide ones';

CREATE FUNCTION custfocus.readable_program_ids(p_role name DEFAULT CURRENT_USER) RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT custfocus.programs_above(custfocus.visible_program_ids(p_role)) $$;
COMMENT ON FUNCTION custfocus.readable_program_ids(name) IS
'Programs whose surveys the role may read: its programs, those below them and those above them';

-- A program's rows (a service's customers and requirements, a survey's
-- items) may use the shared rows owned by that program or by a program
-- above it, and agency-wide ones; never a sibling's or a child's.  The
-- walk up the tree runs as the owner (a role may not see the programs above
-- its own); program_path is not executable by others, and may_use answers
-- only about programs the role sees, so neither reveals the tree.
CREATE FUNCTION custfocus.program_path(p_program integer) RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT custfocus.programs_above(ARRAY[p_program]) $$;
COMMENT ON FUNCTION custfocus.program_path(integer) IS
'The program and every program above it (for the checks that run as the owner; not executable by other roles)';

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

-- Row-level security.  Each policy calls the visibility functions in
-- scalar sub-selects, which PostgreSQL runs once per query (an InitPlan), not
-- once per row; the cast to integer[] makes "= ANY" take the array rather
-- than read the sub-select as a set of rows.  The table owner (normally the superuser who created the
-- extension) is not subject to the policies.  A row that belongs to no
-- program (a response with neither a service nor a program-owned survey,
-- say) is visible to admins only.
-- The structure of a program (its row, services, their customers and
-- requirements, the surveys it owns and their items) is visible to the roles
-- that see the program.  Agency-wide surveys (no program) are shared by all.
ALTER TABLE custfocus.program ENABLE ROW LEVEL SECURITY;
-- The policies test a row's own columns against the arrays, never its new
-- id: the arrays are computed once, when the statement starts, so they hold
-- no row the statement inserts, and a policy that looked for the new id
-- there would reject the row, or refuse to return it to INSERT ... RETURNING
-- (which holds the new row to the SELECT policies too).  A program placed
-- under a visible program is visible, as everything below it is.
CREATE POLICY program_by_program ON custfocus.program
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
		   OR parent_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]));
COMMENT ON POLICY program_by_program ON custfocus.program IS
'A role sees and changes the programs granted to it and the programs below them';

ALTER TABLE custfocus.service ENABLE ROW LEVEL SECURITY;
CREATE POLICY service_by_program ON custfocus.service
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]));
COMMENT ON POLICY service_by_program ON custfocus.service IS
'A role sees and changes the services of its programs';

-- Shared reference rows: segments, requirements and scales (with their
-- labels) belong to a program, whose analysts manage them, or to no program
-- (agency-wide, managed by admins; the built-in scales are among them).  A
-- role reads them as it reads surveys: agency-wide rows, and those of its
-- programs, of the programs below and of the programs above them.  The
-- policies test program_id, never the new row's id (see program_by_program).
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

-- A label follows its scale (whose own read policy applies inside the
-- sub-select).
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

-- A service may use the segments and requirements it may read that are
-- agency-wide or owned by its program or one above it (may_use); the
-- sub-selects see only what the role may read, so a sibling's row, which it
-- cannot read, fails the check without being named.
ALTER TABLE custfocus.service_segment ENABLE ROW LEVEL SECURITY;
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

ALTER TABLE custfocus.service_requirement ENABLE ROW LEVEL SECURITY;
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

-- A survey owned by a program higher up (the agency's customer satisfaction
-- survey, say) is the instrument of every program below it: those programs'
-- roles may read it, but only the owning program's roles change it.
ALTER TABLE custfocus.survey ENABLE ROW LEVEL SECURITY;
-- Both policies test program_id, not survey_id (see program_by_program):
-- a survey an analyst inserts for its program is then one it may read back.
CREATE POLICY survey_read ON custfocus.survey FOR SELECT
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id IS NULL
		   OR program_id = ANY ((SELECT custfocus.readable_program_ids())::integer[]));
COMMENT ON POLICY survey_read ON custfocus.survey IS
'A role reads the surveys of its programs, of the programs above them, and agency-wide surveys without a program';
CREATE POLICY survey_write ON custfocus.survey
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]));
COMMENT ON POLICY survey_write ON custfocus.survey IS
'A role changes only the surveys its own programs own';

ALTER TABLE custfocus.item ENABLE ROW LEVEL SECURITY;
CREATE POLICY item_read ON custfocus.item FOR SELECT
	USING ((SELECT custfocus.sees_all_programs())
		   OR survey_id = ANY ((SELECT custfocus.readable_survey_ids())::integer[]));
COMMENT ON POLICY item_read ON custfocus.item IS
'The items of a survey are readable with the survey';
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

ALTER TABLE custfocus.response ENABLE ROW LEVEL SECURITY;
-- A response a role writes must also be to a survey it may read: without
-- that, an analyst who guessed the id of another program's survey could
-- file answers to its items under one of its own services.
CREATE POLICY response_by_program ON custfocus.response
	USING ((SELECT custfocus.sees_all_programs())
		   OR service_id = ANY ((SELECT custfocus.visible_service_ids())::integer[])
		   OR (service_id IS NULL AND survey_id = ANY ((SELECT custfocus.visible_survey_ids())::integer[])))
	WITH CHECK ((SELECT custfocus.sees_all_programs())
				OR (service_id = ANY ((SELECT custfocus.visible_service_ids())::integer[])
					AND survey_id = ANY ((SELECT custfocus.readable_survey_ids())::integer[]))
				OR (service_id IS NULL AND survey_id = ANY ((SELECT custfocus.visible_survey_ids())::integer[])));
COMMENT ON POLICY response_by_program ON custfocus.response IS
'A role sees and changes the responses about services of its programs (or, without a service, to surveys of its programs), and writes them only to surveys it may read';

-- An answer is visible with its response (whose own policy applies inside).
ALTER TABLE custfocus.answer ENABLE ROW LEVEL SECURITY;
CREATE POLICY answer_by_program ON custfocus.answer
	USING ((SELECT custfocus.sees_all_programs())
		   OR EXISTS (SELECT FROM custfocus.response r WHERE r.response_id = answer.response_id));
COMMENT ON POLICY answer_by_program ON custfocus.answer IS
'A role sees and changes the answers of the responses it can see';

ALTER TABLE custfocus.respondent_contact ENABLE ROW LEVEL SECURITY;
CREATE POLICY respondent_contact_by_program ON custfocus.respondent_contact
	USING ((SELECT custfocus.sees_all_programs())
		   OR EXISTS (SELECT FROM custfocus.response r WHERE r.response_id = respondent_contact.response_id));
COMMENT ON POLICY respondent_contact_by_program ON custfocus.respondent_contact IS
'Contact details follow their response (the table itself is granted to admins only)';

ALTER TABLE custfocus.feedback ENABLE ROW LEVEL SECURITY;
CREATE POLICY feedback_by_program ON custfocus.feedback
	USING ((SELECT custfocus.sees_all_programs())
		   OR service_id = ANY ((SELECT custfocus.visible_service_ids())::integer[]));
COMMENT ON POLICY feedback_by_program ON custfocus.feedback IS
'A role sees and changes the feedback about services of its programs';

ALTER TABLE custfocus.measure ENABLE ROW LEVEL SECURITY;
CREATE POLICY measure_by_program ON custfocus.measure
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
		   OR service_id = ANY ((SELECT custfocus.visible_service_ids())::integer[]));
COMMENT ON POLICY measure_by_program ON custfocus.measure IS
'A role sees and changes the measures of its programs and their services';

ALTER TABLE custfocus.improvement_action ENABLE ROW LEVEL SECURITY;
CREATE POLICY improvement_action_by_program ON custfocus.improvement_action
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
		   OR service_id = ANY ((SELECT custfocus.visible_service_ids())::integer[])
		   OR (program_id IS NULL AND service_id IS NULL
			   AND EXISTS (SELECT FROM custfocus.measure m WHERE m.measure_id = improvement_action.measure_id)));
COMMENT ON POLICY improvement_action_by_program ON custfocus.improvement_action IS
'A role sees and changes the improvement actions of its programs, their services and their measures';

ALTER TABLE custfocus.engagement ENABLE ROW LEVEL SECURITY;
CREATE POLICY engagement_by_program ON custfocus.engagement
	USING ((SELECT custfocus.sees_all_programs())
		   OR program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
		   OR service_id = ANY ((SELECT custfocus.visible_service_ids())::integer[]));
COMMENT ON POLICY engagement_by_program ON custfocus.engagement IS
'A role sees and changes the engagement records of its programs and their services';

-- An import's counts say how much a program collected, so a batch is
-- visible to whoever ran it and to roles that see its survey's program.
ALTER TABLE custfocus.import_batch ENABLE ROW LEVEL SECURITY;
CREATE POLICY import_batch_by_program ON custfocus.import_batch
	USING ((SELECT custfocus.sees_all_programs())
		   OR imported_by = CURRENT_USER
		   OR survey_id = ANY ((SELECT custfocus.visible_survey_ids())::integer[]));
COMMENT ON POLICY import_batch_by_program ON custfocus.import_batch IS
'A role sees the imports it ran and those of surveys owned by its programs';

ALTER TABLE custfocus.import_error ENABLE ROW LEVEL SECURITY;
CREATE POLICY import_error_by_program ON custfocus.import_error
	USING ((SELECT custfocus.sees_all_programs())
		   OR EXISTS (SELECT FROM custfocus.import_batch b WHERE b.import_id = import_error.import_id));
COMMENT ON POLICY import_error_by_program ON custfocus.import_error IS
'The errors of an import are visible with the import';

-- Granting access.  The levels are cumulative; each call first revokes what
-- an earlier call granted, so changing a role's level is one call.
CREATE FUNCTION custfocus.revoke_access(p_role regrole) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	obj record;
BEGIN
	-- on Citus, grants one table at a time (does nothing on one node)
	PERFORM custfocus.citus_before_grants();
	FOR obj IN
		SELECT c.oid::regclass AS rel FROM pg_class c
		 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'S')
	LOOP
		EXECUTE format('REVOKE ALL ON %s FROM %s', obj.rel, p_role);
	END LOOP;
	FOR obj IN
		SELECT p.oid::regprocedure AS fn FROM pg_proc p
		 WHERE p.pronamespace = 'custfocus'::regnamespace AND p.prokind IN ('f', 'a')
	LOOP
		EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %s', obj.fn, p_role);
	END LOOP;
	EXECUTE format('REVOKE ALL ON SCHEMA custfocus FROM %s', p_role);
	FOR obj IN
		SELECT c.oid::regclass AS rel FROM pg_class c
		 WHERE c.relnamespace = 'custfocus_reports'::regnamespace AND c.relkind = 'v'
	LOOP
		EXECUTE format('REVOKE ALL ON %s FROM %s', obj.rel, p_role);
	END LOOP;
	EXECUTE format('REVOKE ALL ON SCHEMA custfocus_reports FROM %s', p_role);
	DELETE FROM custfocus.role_access WHERE role_name = p_role::text::name;
	-- on Citus, the workers too (does nothing on one node)
	PERFORM custfocus.citus_sync_access(p_role);
END
$$;
COMMENT ON FUNCTION custfocus.revoke_access(regrole) IS
'Revokes every custfocus privilege from the role and forgets its access level (its program grants are kept)';

CREATE FUNCTION custfocus.grant_access(p_role regrole, p_level text) RETURNS void
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

	-- every level reads the views, in custfocus and in custfocus_reports
	-- (the same views, in a schema of nothing else, for BI tools)
	EXECUTE format('GRANT USAGE ON SCHEMA custfocus_reports TO %s', p_role);
	FOR obj IN
		SELECT c.oid::regclass AS rel FROM pg_class c
		 WHERE c.relnamespace IN ('custfocus'::regnamespace, 'custfocus_reports'::regnamespace)
		   AND c.relkind IN ('v', 'm')
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
			   AND c.relname NOT LIKE 'rollup\_%' AND c.relname NOT LIKE 'report\_%'
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
			   AND c.relname <> 'setting' AND c.relname NOT LIKE 'rollup\_%' AND c.relname NOT LIKE 'report\_%'
		LOOP
			EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s', obj.rel, p_role);
		END LOOP;
		-- the settings are one row, changed in place
		EXECUTE format('GRANT SELECT, UPDATE ON custfocus.setting TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.apply_retention(text, interval, text) TO %s', p_role);
		-- the roll-ups' maintenance (see src/sql/rollup.sql)
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.rollup_verify() TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.report_verify() TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.rollup_rebuild() TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.rollup_compact(integer[], date[]) TO %s', p_role);
	END IF;

	INSERT INTO custfocus.role_access (role_name, level) VALUES (p_role::text::name, p_level);
	-- on Citus, the workers too (does nothing on one node)
	PERFORM custfocus.citus_sync_access(p_role);
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
COMMENT ON FUNCTION custfocus.grant_access(regrole, text) IS
'Grants a role reader (views only), analyst (reader + import + manage data) or admin (everything, all programs) access';

CREATE FUNCTION custfocus.grant_program_access(p_role regrole, p_program text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_program_id integer;
BEGIN
	SELECT p.program_id INTO v_program_id FROM custfocus.program p
	 WHERE custfocus.label_key(p.code) = custfocus.label_key(p_program);
	IF NOT FOUND THEN
		RAISE EXCEPTION 'program "%" does not exist', p_program
			USING ERRCODE = 'undefined_object';
	END IF;
	INSERT INTO custfocus.program_access (role_name, program_id)
	VALUES (p_role::text::name, v_program_id)
	ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION custfocus.grant_program_access(regrole, text) IS
'Lets a role (and its members) see and change the data of a program (by code) and of every program below it';

CREATE FUNCTION custfocus.revoke_program_access(p_role regrole, p_program text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM custfocus.program_access a
	 USING custfocus.program p
	 WHERE a.program_id = p.program_id
	   AND a.role_name = p_role::text::name
	   AND custfocus.label_key(p.code) = custfocus.label_key(p_program);
END
$$;
COMMENT ON FUNCTION custfocus.revoke_program_access(regrole, text) IS
'Takes back a program grant made with grant_program_access';

-- Retention: responses older than a given age are deleted, or anonymised
-- (contact details and free text removed, the respondent id cleared, the
-- coded answers kept for trends).
CREATE FUNCTION custfocus.apply_retention(p_survey text, p_older_than interval, p_action text DEFAULT 'anonymise')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_survey_id integer;
	v_count bigint;
BEGIN
	IF p_action IS NULL OR p_action NOT IN ('anonymise', 'delete') THEN
		RAISE EXCEPTION 'unknown retention action "%"', p_action
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use anonymise or delete.';
	END IF;
	IF p_older_than IS NULL OR p_older_than < interval '0' THEN
		RAISE EXCEPTION 'retention age must be a positive interval, got %', p_older_than
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT s.survey_id INTO v_survey_id FROM custfocus.survey s
	 WHERE custfocus.label_key(s.code) = custfocus.label_key(p_survey);
	IF NOT FOUND THEN
		RAISE EXCEPTION 'survey "%" does not exist', p_survey
			USING ERRCODE = 'undefined_object';
	END IF;

	IF p_action = 'delete' THEN
		DELETE FROM custfocus.response r
		 WHERE r.survey_id = v_survey_id AND r.submitted_at < pg_catalog.now() - p_older_than;
		GET DIAGNOSTICS v_count = ROW_COUNT;
		-- on Citus, what triggers and a foreign key do here (nothing on one node)
		PERFORM custfocus.citus_after_retention(pg_catalog.now() - p_older_than);
		RETURN v_count;
	END IF;

	DELETE FROM custfocus.respondent_contact c
	 USING custfocus.response r
	 WHERE c.response_id = r.response_id
	   AND r.survey_id = v_survey_id AND r.submitted_at < pg_catalog.now() - p_older_than;
	DELETE FROM custfocus.answer a
	 USING custfocus.response r
	 WHERE a.response_id = r.response_id AND a.value IS NULL
	   AND r.survey_id = v_survey_id AND r.submitted_at < pg_catalog.now() - p_older_than;
	UPDATE custfocus.answer a SET text_value = NULL
	  FROM custfocus.response r
	 WHERE a.response_id = r.response_id AND a.text_value IS NOT NULL
	   AND r.survey_id = v_survey_id AND r.submitted_at < pg_catalog.now() - p_older_than;
	UPDATE custfocus.response r SET external_id = NULL
	 WHERE r.survey_id = v_survey_id AND r.submitted_at < pg_catalog.now() - p_older_than
	   AND r.external_id IS NOT NULL;
	GET DIAGNOSTICS v_count = ROW_COUNT;
	PERFORM custfocus.citus_after_retention(pg_catalog.now() - p_older_than);
	RETURN v_count;
END
$$;
COMMENT ON FUNCTION custfocus.apply_retention(text, interval, text) IS
'Deletes, or anonymises (contact details, free text and respondent ids removed), the responses to a survey older than the given age; returns how many';

-- Administrative functions are for the roles they are granted to.
REVOKE ALL ON FUNCTION custfocus.check_role_asked(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.program_path(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.programs_below(integer[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.programs_above(integer[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.grant_access(regrole, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.revoke_access(regrole) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.grant_program_access(regrole, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.revoke_program_access(regrole, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.apply_retention(text, interval, text) FROM PUBLIC;

