-- custfocus install script, first part: src/sql/*.sql, concatenated in the
-- order of INSTALL_SQL in the Makefile, make sql/custfocus--<version>.sql.
--
-- Conventions kept throughout (see README, Security):
--   * every table and function name is schema-qualified, and every function
--     pins search_path to pg_catalog, pg_temp, so objects a user creates
--     elsewhere cannot capture a call or an operator used from here;
--   * no CREATE OR REPLACE and no IF NOT EXISTS (CVE-2022-2625): the script
--     must fail rather than adopt an object someone else created first;
--   * every user-data table and sequence is registered with
--     pg_extension_config_dump so pg_dump carries the data;
--   * every object has a COMMENT, which BI tools show as its description.

\echo Use "CREATE EXTENSION custfocus" to load this file. \quit

-- The script makes the schema itself (the control file names pg_catalog), so
-- the schema is a member of the extension: DROP EXTENSION removes it, and
-- CREATE EXTENSION fails instead of moving into a schema someone made first.
CREATE SCHEMA custfocus;
COMMENT ON SCHEMA custfocus IS
'custfocus: the customer-focus program of a public service (customers, needs, surveys, scores, measures, improvement actions)';

-------------------------------------------------------------------------------
-- Settings and support functions
-------------------------------------------------------------------------------

-- The agency's settings: one row, changed by admins (grant_access gives them
-- UPDATE; nobody else gets any privilege on it) and read through functions.
-- The row is created here and dumped with the user data; a restore's COPY
-- of it meets the row CREATE EXTENSION made, and setting_restore turns that
-- INSERT into an UPDATE of the existing row (see rules.sql).
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

-- (The C symbol min_responses stays, for the scripts of 1.0 and 1.1.)
CREATE FUNCTION custfocus.session_min_responses() RETURNS integer
AS 'MODULE_PATHNAME', 'session_min_responses'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.session_min_responses() IS
'Value of the custfocus.min_responses setting of the session: a threshold the session asks for, which can only raise the agency''s floor';

-- Every view reads the threshold through this function in a scalar
-- sub-select, which PostgreSQL runs once per query (an InitPlan), not once
-- per row.  It runs as the owner, so that the floor is
-- readable without a privilege on custfocus.setting; a missing row (which
-- only a superuser can delete) means the default floor.
CREATE FUNCTION custfocus.min_responses() RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT greatest(coalesce((SELECT s.min_responses FROM custfocus.setting s WHERE s.id), 10),
					custfocus.session_min_responses())
$$;
COMMENT ON FUNCTION custfocus.min_responses() IS
'Suppression threshold in force: the agency''s floor (custfocus.setting, set by admins) or the session''s custfocus.min_responses setting, whichever is higher; groups with fewer valid answers have their scores suppressed';

CREATE FUNCTION custfocus.guard_builtin() RETURNS trigger
AS 'MODULE_PATHNAME', 'guard_builtin'
LANGUAGE C;
COMMENT ON FUNCTION custfocus.guard_builtin() IS
'Trigger: only the extension''s own scripts may add, change or delete rows marked builtin';

-- The key under which a scale label or a code is matched on import:
-- case-insensitive, surrounding space trimmed and inner runs of space folded.
CREATE FUNCTION custfocus.label_key(label text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.lower(pg_catalog.regexp_replace(pg_catalog.btrim(label), '\s+', ' ', 'g')) $$;
COMMENT ON FUNCTION custfocus.label_key(text) IS
'Normal form used to match labels and codes: lower case, trimmed, inner white space folded to one space';

-------------------------------------------------------------------------------
-- Step 1: identify customers and stakeholders
-------------------------------------------------------------------------------

CREATE TABLE custfocus.program (
	program_id	serial PRIMARY KEY,
	parent_id	integer REFERENCES custfocus.program (program_id),
	code		text NOT NULL CHECK (code <> '' AND code = pg_catalog.btrim(code)),
	name		text NOT NULL CHECK (name <> ''),
	level		text NOT NULL DEFAULT 'program'
				CHECK (level IN ('agency', 'division', 'program')),
	description	text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT program_not_own_parent CHECK (parent_id IS DISTINCT FROM program_id)
);
CREATE UNIQUE INDEX program_code_key ON custfocus.program (custfocus.label_key(code));
CREATE INDEX program_parent_id_idx ON custfocus.program (parent_id);
COMMENT ON TABLE custfocus.program IS
'Organisational units that deliver services, as a hierarchy: agency > division > program';
COMMENT ON COLUMN custfocus.program.program_id IS 'Surrogate key';
COMMENT ON COLUMN custfocus.program.parent_id IS 'Enclosing unit (NULL at the top of the hierarchy); cycles are rejected';
COMMENT ON COLUMN custfocus.program.code IS 'Short unique code, matched case-insensitively (e.g. WIC)';
COMMENT ON COLUMN custfocus.program.name IS 'Display name';
COMMENT ON COLUMN custfocus.program.level IS 'agency, division or program';
COMMENT ON COLUMN custfocus.program.description IS 'Free-text description';
COMMENT ON COLUMN custfocus.program.created_at IS 'When the row was created';

CREATE TABLE custfocus.service (
	service_id	serial PRIMARY KEY,
	program_id	integer NOT NULL REFERENCES custfocus.program (program_id),
	code		text NOT NULL CHECK (code <> '' AND code = pg_catalog.btrim(code)),
	name		text NOT NULL CHECK (name <> ''),
	description	text,
	active		boolean NOT NULL DEFAULT true,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	-- 0 stands for "no service" in response_external_id_key
	CONSTRAINT service_id_positive CHECK (service_id > 0)
);
CREATE UNIQUE INDEX service_code_key ON custfocus.service (custfocus.label_key(code));
CREATE INDEX service_program_id_idx ON custfocus.service (program_id);
COMMENT ON TABLE custfocus.service IS
'Services (products) that customers receive; each belongs to one program';
COMMENT ON COLUMN custfocus.service.service_id IS 'Surrogate key';
COMMENT ON COLUMN custfocus.service.program_id IS 'Program that delivers the service';
COMMENT ON COLUMN custfocus.service.code IS 'Short unique code, matched case-insensitively on import (e.g. VITAL-RECORDS)';
COMMENT ON COLUMN custfocus.service.name IS 'Display name';
COMMENT ON COLUMN custfocus.service.description IS 'Free-text description';
COMMENT ON COLUMN custfocus.service.active IS 'False once the service is no longer offered (kept for history)';
COMMENT ON COLUMN custfocus.service.created_at IS 'When the row was created';

CREATE TABLE custfocus.segment (
	segment_id	serial PRIMARY KEY,
	code		text NOT NULL CHECK (code <> '' AND code = pg_catalog.btrim(code)),
	name		text NOT NULL CHECK (name <> ''),
	relationship text NOT NULL DEFAULT 'customer'
				CHECK (relationship IN ('customer', 'stakeholder')),
	kind		text NOT NULL DEFAULT 'external'
				CHECK (kind IN ('internal', 'external')),
	party		text NOT NULL DEFAULT 'individual'
				CHECK (party IN ('individual', 'entity')),
	description	text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	program_id	integer REFERENCES custfocus.program (program_id)
);
CREATE UNIQUE INDEX segment_code_key ON custfocus.segment (custfocus.label_key(code));
CREATE INDEX segment_program_id_idx ON custfocus.segment (program_id);
COMMENT ON TABLE custfocus.segment IS
'Customer and stakeholder groups: who receives or has an interest in the services';
COMMENT ON COLUMN custfocus.segment.segment_id IS 'Surrogate key';
COMMENT ON COLUMN custfocus.segment.code IS 'Short unique code, matched case-insensitively on import (e.g. CLIENT)';
COMMENT ON COLUMN custfocus.segment.name IS 'Display name';
COMMENT ON COLUMN custfocus.segment.relationship IS 'customer (receives a service) or stakeholder (has an interest in it)';
COMMENT ON COLUMN custfocus.segment.kind IS 'internal (inside the agency) or external';
COMMENT ON COLUMN custfocus.segment.party IS 'individual (a person) or entity (a business, agency or other organisation)';
COMMENT ON COLUMN custfocus.segment.description IS 'Free-text description';
COMMENT ON COLUMN custfocus.segment.created_at IS 'When the row was created';
COMMENT ON COLUMN custfocus.segment.program_id IS 'Program that owns the segment and whose analysts manage it (NULL: agency-wide, managed by admins); usable by that program and the programs below it';

CREATE TABLE custfocus.service_segment (
	service_id	integer NOT NULL REFERENCES custfocus.service (service_id) ON DELETE CASCADE,
	segment_id	integer NOT NULL REFERENCES custfocus.segment (segment_id) ON DELETE CASCADE,
	need		text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (service_id, segment_id)
);
CREATE INDEX service_segment_segment_id_idx ON custfocus.service_segment (segment_id);
COMMENT ON TABLE custfocus.service_segment IS
'Which segment uses which service, and the need that brings it there';
COMMENT ON COLUMN custfocus.service_segment.service_id IS 'The service used';
COMMENT ON COLUMN custfocus.service_segment.segment_id IS 'The segment that uses it';
COMMENT ON COLUMN custfocus.service_segment.need IS 'Why they come: "comes to us because they need ..."';
COMMENT ON COLUMN custfocus.service_segment.created_at IS 'When the row was created';

-------------------------------------------------------------------------------
-- Step 2: needs and requirements (key drivers)
-------------------------------------------------------------------------------

CREATE TABLE custfocus.requirement (
	requirement_id serial PRIMARY KEY,
	code		text NOT NULL CHECK (code <> '' AND code = pg_catalog.btrim(code)),
	name		text NOT NULL CHECK (name <> ''),
	description	text,
	importance	double precision CHECK (importance > 0 AND importance <= 100),
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	program_id	integer REFERENCES custfocus.program (program_id)
);
CREATE UNIQUE INDEX requirement_code_key ON custfocus.requirement (custfocus.label_key(code));
CREATE INDEX requirement_program_id_idx ON custfocus.requirement (program_id);
COMMENT ON TABLE custfocus.requirement IS
'Customer requirements (key drivers of satisfaction): timeliness, courtesy, accuracy, access, ...';
COMMENT ON COLUMN custfocus.requirement.requirement_id IS 'Surrogate key';
COMMENT ON COLUMN custfocus.requirement.code IS 'Short unique code (e.g. timeliness)';
COMMENT ON COLUMN custfocus.requirement.name IS 'Display name';
COMMENT ON COLUMN custfocus.requirement.description IS 'What meeting the requirement means to the customer';
COMMENT ON COLUMN custfocus.requirement.importance IS 'Stated importance on 0..100 for all services (NULL: not stated); service_requirement may override it';
COMMENT ON COLUMN custfocus.requirement.created_at IS 'When the row was created';
COMMENT ON COLUMN custfocus.requirement.program_id IS 'Program that owns the requirement and whose analysts manage it (NULL: agency-wide, managed by admins); usable by that program and the programs below it';

CREATE TABLE custfocus.service_requirement (
	service_id	integer NOT NULL REFERENCES custfocus.service (service_id) ON DELETE CASCADE,
	requirement_id integer NOT NULL REFERENCES custfocus.requirement (requirement_id) ON DELETE CASCADE,
	importance	double precision CHECK (importance > 0 AND importance <= 100),
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (service_id, requirement_id)
);
CREATE INDEX service_requirement_requirement_id_idx ON custfocus.service_requirement (requirement_id);
COMMENT ON TABLE custfocus.service_requirement IS
'Which requirements matter for which service, with the stated importance for that service';
COMMENT ON COLUMN custfocus.service_requirement.service_id IS 'The service';
COMMENT ON COLUMN custfocus.service_requirement.requirement_id IS 'A requirement customers bring to it';
COMMENT ON COLUMN custfocus.service_requirement.importance IS 'Stated importance on 0..100 for this service (NULL: use requirement.importance)';
COMMENT ON COLUMN custfocus.service_requirement.created_at IS 'When the row was created';

-------------------------------------------------------------------------------
-- Step 3: data sources and instruments
-------------------------------------------------------------------------------

-- Rows with scale_id below 1000 belong to the extension.  They get fixed ids
-- so that a restored database (which re-creates them with CREATE EXTENSION)
-- and the dumped user rows that point at them agree on every id, even after
-- later versions add more built-in scales.
CREATE SEQUENCE custfocus.scale_scale_id_seq AS integer START 1000 MINVALUE 1000;
CREATE TABLE custfocus.scale (
	scale_id	integer PRIMARY KEY DEFAULT pg_catalog.nextval('custfocus.scale_scale_id_seq'),
	code		text NOT NULL CHECK (code <> '' AND code = pg_catalog.btrim(code)),
	name		text NOT NULL CHECK (name <> ''),
	min_value	double precision NOT NULL,
	max_value	double precision NOT NULL,
	integral	boolean NOT NULL DEFAULT true,
	builtin		boolean NOT NULL DEFAULT false,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	program_id	integer REFERENCES custfocus.program (program_id),
	CONSTRAINT scale_min_below_max CHECK (min_value < max_value),
	CONSTRAINT scale_bounds_finite CHECK (min_value > '-infinity' AND max_value < 'infinity'),
	CONSTRAINT scale_builtin_ids_below_1000 CHECK (builtin = (scale_id < 1000)),
	CONSTRAINT scale_builtin_agency_wide CHECK (NOT builtin OR program_id IS NULL)
);
ALTER SEQUENCE custfocus.scale_scale_id_seq OWNED BY custfocus.scale.scale_id;
CREATE UNIQUE INDEX scale_code_key ON custfocus.scale (custfocus.label_key(code));
CREATE INDEX scale_program_id_idx ON custfocus.scale (program_id);
COMMENT ON TABLE custfocus.scale IS
'Response scales: the coded range an item''s answers must fall in';
COMMENT ON COLUMN custfocus.scale.scale_id IS 'Key; ids below 1000 are reserved for built-in scales';
COMMENT ON COLUMN custfocus.scale.code IS 'Short unique code (e.g. agree5, nps11)';
COMMENT ON COLUMN custfocus.scale.name IS 'Display name';
COMMENT ON COLUMN custfocus.scale.min_value IS 'Lowest coded value (the worst answer for a rating)';
COMMENT ON COLUMN custfocus.scale.max_value IS 'Highest coded value (the best answer for a rating)';
COMMENT ON COLUMN custfocus.scale.integral IS 'True when only whole numbers are valid codes';
COMMENT ON COLUMN custfocus.scale.builtin IS 'True for the standard scales the extension installs (not dumped, re-created by CREATE EXTENSION)';
COMMENT ON COLUMN custfocus.scale.created_at IS 'When the row was created';
COMMENT ON COLUMN custfocus.scale.program_id IS 'Program that owns the scale and whose analysts manage it and its labels (NULL: agency-wide, managed by admins; always NULL for built-in scales); usable by that program and the programs below it';

CREATE TABLE custfocus.scale_label (
	scale_id	integer NOT NULL REFERENCES custfocus.scale (scale_id) ON DELETE CASCADE,
	label		text NOT NULL CHECK (label <> '' AND label = pg_catalog.btrim(label)),
	value		double precision,
	builtin		boolean NOT NULL DEFAULT false,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (scale_id, label)
);
CREATE UNIQUE INDEX scale_label_key ON custfocus.scale_label (scale_id, custfocus.label_key(label));
COMMENT ON TABLE custfocus.scale_label IS
'Label text of each scale point, so imports can read labelled exports; a label with NULL value means "missing" (N/A, Don''t know)';
COMMENT ON COLUMN custfocus.scale_label.scale_id IS 'The scale';
COMMENT ON COLUMN custfocus.scale_label.label IS 'Label as it appears in exports; matched case- and space-insensitively';
COMMENT ON COLUMN custfocus.scale_label.value IS 'Coded value on the scale, or NULL when the label means the question was not answered';
COMMENT ON COLUMN custfocus.scale_label.builtin IS 'True for labels the extension installs (not dumped, re-created by CREATE EXTENSION)';
COMMENT ON COLUMN custfocus.scale_label.created_at IS 'When the row was created';

CREATE TABLE custfocus.survey (
	survey_id	serial PRIMARY KEY,
	code		text NOT NULL CHECK (code <> '' AND code = pg_catalog.btrim(code)),
	name		text NOT NULL CHECK (name <> ''),
	version		text NOT NULL DEFAULT '1',
	program_id	integer REFERENCES custfocus.program (program_id),
	description	text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE UNIQUE INDEX survey_code_key ON custfocus.survey (custfocus.label_key(code));
CREATE INDEX survey_program_id_idx ON custfocus.survey (program_id);
COMMENT ON TABLE custfocus.survey IS
'Survey instruments (one row per instrument version)';
COMMENT ON COLUMN custfocus.survey.survey_id IS 'Surrogate key';
COMMENT ON COLUMN custfocus.survey.code IS 'Unique code by which imports name the survey (e.g. cs2026)';
COMMENT ON COLUMN custfocus.survey.name IS 'Display name';
COMMENT ON COLUMN custfocus.survey.version IS 'Instrument version';
COMMENT ON COLUMN custfocus.survey.program_id IS 'Program that owns the survey (NULL: agency-wide)';
COMMENT ON COLUMN custfocus.survey.description IS 'Free-text description (mode, sampling, fielding period)';
COMMENT ON COLUMN custfocus.survey.created_at IS 'When the row was created';

CREATE TABLE custfocus.item (
	item_id		serial PRIMARY KEY,
	survey_id	integer NOT NULL REFERENCES custfocus.survey (survey_id),
	code		text NOT NULL CHECK (code <> '' AND code = pg_catalog.btrim(code)),
	text		text NOT NULL CHECK (text <> ''),
	scale_id	integer REFERENCES custfocus.scale (scale_id),
	metric		text NOT NULL DEFAULT 'rating'
				CHECK (metric IN ('rating', 'nps', 'ces', 'yes_no', 'text', 'category')),
	requirement_id integer REFERENCES custfocus.requirement (requirement_id),
	is_overall	boolean NOT NULL DEFAULT false,
	reverse_coded boolean NOT NULL DEFAULT false,
	position	integer,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT item_scale_unless_text CHECK ((metric = 'text') = (scale_id IS NULL)),
	CONSTRAINT item_overall_is_rating CHECK (NOT is_overall OR metric = 'rating'),
	CONSTRAINT item_reverse_coded_is_rating CHECK (NOT reverse_coded OR metric IN ('rating', 'ces')),
	CONSTRAINT item_requirement_needs_rating CHECK (requirement_id IS NULL OR metric IN ('rating', 'ces', 'yes_no'))
);
CREATE UNIQUE INDEX item_code_key ON custfocus.item (survey_id, custfocus.label_key(code));
CREATE UNIQUE INDEX item_one_overall_key ON custfocus.item (survey_id) WHERE is_overall;
CREATE INDEX item_scale_id_idx ON custfocus.item (scale_id);
CREATE INDEX item_requirement_id_idx ON custfocus.item (requirement_id);
COMMENT ON TABLE custfocus.item IS
'Survey questions; code is the column name in exports';
COMMENT ON COLUMN custfocus.item.item_id IS 'Surrogate key';
COMMENT ON COLUMN custfocus.item.survey_id IS 'Survey the question belongs to';
COMMENT ON COLUMN custfocus.item.code IS 'Column name in exports, unique within the survey, matched case-insensitively (e.g. Q1)';
COMMENT ON COLUMN custfocus.item.text IS 'Question wording';
COMMENT ON COLUMN custfocus.item.scale_id IS 'Scale of the coded answers (NULL for free-text items)';
COMMENT ON COLUMN custfocus.item.metric IS 'How the item is scored: rating, nps, ces, yes_no, text or category';
COMMENT ON COLUMN custfocus.item.requirement_id IS 'Requirement (key driver) the item measures, if any';
COMMENT ON COLUMN custfocus.item.is_overall IS 'True for the survey''s overall-satisfaction item (at most one per survey)';
COMMENT ON COLUMN custfocus.item.reverse_coded IS 'True when a low code is the good answer; scores flip it (min + max - x)';
COMMENT ON COLUMN custfocus.item.position IS 'Order of the question in the instrument';
COMMENT ON COLUMN custfocus.item.created_at IS 'When the row was created';

-------------------------------------------------------------------------------
-- Step 4: collect data
-------------------------------------------------------------------------------

CREATE TABLE custfocus.import_batch (
	import_id	bigserial PRIMARY KEY,
	survey_id	integer NOT NULL REFERENCES custfocus.survey (survey_id),
	source		text NOT NULL,
	options		jsonb NOT NULL DEFAULT '{}',
	status		text NOT NULL DEFAULT 'loading'
				CHECK (status IN ('loading', 'loaded', 'loaded_with_errors')),
	rows_read	bigint NOT NULL DEFAULT 0 CHECK (rows_read >= 0),
	responses_inserted bigint NOT NULL DEFAULT 0 CHECK (responses_inserted >= 0),
	answers_inserted bigint NOT NULL DEFAULT 0 CHECK (answers_inserted >= 0),
	rows_skipped bigint NOT NULL DEFAULT 0 CHECK (rows_skipped >= 0),
	duplicates	bigint NOT NULL DEFAULT 0 CHECK (duplicates >= 0),
	imported_by	name NOT NULL DEFAULT CURRENT_USER,
	started_at	timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	finished_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT import_batch_finished_after_start CHECK (finished_at IS NULL OR finished_at >= started_at)
);
CREATE INDEX import_batch_survey_id_idx ON custfocus.import_batch (survey_id);
COMMENT ON TABLE custfocus.import_batch IS
'One row per survey export loaded, with what the load read, inserted, skipped and found already present';
COMMENT ON COLUMN custfocus.import_batch.import_id IS 'Surrogate key';
COMMENT ON COLUMN custfocus.import_batch.survey_id IS 'Survey the export belongs to';
COMMENT ON COLUMN custfocus.import_batch.source IS 'File path, or a label for an export passed as text';
COMMENT ON COLUMN custfocus.import_batch.options IS 'Options the import ran with';
COMMENT ON COLUMN custfocus.import_batch.status IS 'loading, loaded, or loaded_with_errors (rows skipped, see import_error)';
COMMENT ON COLUMN custfocus.import_batch.rows_read IS 'Data rows read (header rows not counted)';
COMMENT ON COLUMN custfocus.import_batch.responses_inserted IS 'Responses inserted';
COMMENT ON COLUMN custfocus.import_batch.answers_inserted IS 'Answers inserted';
COMMENT ON COLUMN custfocus.import_batch.rows_skipped IS 'Rows skipped as bad (each recorded in import_error)';
COMMENT ON COLUMN custfocus.import_batch.duplicates IS 'Rows whose respondent id was already loaded for the survey, and so were not loaded again';
COMMENT ON COLUMN custfocus.import_batch.imported_by IS 'Role that ran the import';
COMMENT ON COLUMN custfocus.import_batch.started_at IS 'When the import started';
COMMENT ON COLUMN custfocus.import_batch.finished_at IS 'When the import finished';
COMMENT ON COLUMN custfocus.import_batch.created_at IS 'When the row was created';

CREATE TABLE custfocus.import_error (
	import_error_id bigserial PRIMARY KEY,
	import_id	bigint NOT NULL REFERENCES custfocus.import_batch (import_id) ON DELETE CASCADE,
	line		bigint CHECK (line > 0),
	column_name	text,
	value		text,
	message		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX import_error_import_id_idx ON custfocus.import_error (import_id);
COMMENT ON TABLE custfocus.import_error IS
'Rows an import skipped (on_error = skip), with where and why';
COMMENT ON COLUMN custfocus.import_error.import_error_id IS 'Surrogate key';
COMMENT ON COLUMN custfocus.import_error.import_id IS 'The import';
COMMENT ON COLUMN custfocus.import_error.line IS 'Line of the file (1-based, header lines counted) where the bad row starts';
COMMENT ON COLUMN custfocus.import_error.column_name IS 'Header of the offending column, if one';
COMMENT ON COLUMN custfocus.import_error.value IS 'Offending value, if one';
COMMENT ON COLUMN custfocus.import_error.message IS 'Why the row was skipped';
COMMENT ON COLUMN custfocus.import_error.created_at IS 'When the row was created';

CREATE TABLE custfocus.response (
	response_id	bigserial PRIMARY KEY,
	survey_id	integer NOT NULL REFERENCES custfocus.survey (survey_id),
	service_id	integer REFERENCES custfocus.service (service_id),
	segment_id	integer REFERENCES custfocus.segment (segment_id),
	submitted_at timestamptz NOT NULL,
	channel		text CHECK (channel IN ('web', 'email', 'phone', 'sms', 'paper', 'in_person', 'kiosk', 'other')),
	weight		double precision NOT NULL DEFAULT 1 CHECK (weight > 0 AND weight < 'infinity'),
	external_id	text CHECK (external_id <> ''),
	import_id	bigint REFERENCES custfocus.import_batch (import_id),
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
-- Respondent ids are unique per survey and service, not per survey: programs
-- that share a survey (an agency-wide one) each keep their own id space, so
-- one program's import can neither displace another's responses as
-- "duplicates" nor learn from a duplicate count, or from a unique violation,
-- that another program holds an id.  A service belongs to one program, and
-- responses without a service are those of a survey's own program, so no
-- two programs ever share a key.  Re-importing an export with the same
-- service mapping still adds nothing twice.  (service_id 0 never exists:
-- service_id_positive.)
CREATE UNIQUE INDEX response_external_id_key
	ON custfocus.response (survey_id, (COALESCE(service_id, 0)), external_id);
CREATE INDEX response_service_submitted_idx ON custfocus.response (service_id, submitted_at);
CREATE INDEX response_submitted_at_idx ON custfocus.response (submitted_at);
CREATE INDEX response_segment_id_idx ON custfocus.response (segment_id);
CREATE INDEX response_import_id_idx ON custfocus.response (import_id);
COMMENT ON TABLE custfocus.response IS
'One completed (or partial) questionnaire; holds no contact data about the respondent';
COMMENT ON COLUMN custfocus.response.response_id IS 'Surrogate key';
COMMENT ON COLUMN custfocus.response.survey_id IS 'Survey answered';
COMMENT ON COLUMN custfocus.response.service_id IS 'Service the response is about (NULL: not known)';
COMMENT ON COLUMN custfocus.response.segment_id IS 'Segment of the respondent (NULL: not known)';
COMMENT ON COLUMN custfocus.response.submitted_at IS 'When the questionnaire was submitted';
COMMENT ON COLUMN custfocus.response.channel IS 'How it was collected: web, email, phone, sms, paper, in_person, kiosk or other';
COMMENT ON COLUMN custfocus.response.weight IS 'Survey weight (positive, finite; 1 when unweighted)';
COMMENT ON COLUMN custfocus.response.external_id IS 'Respondent or response id from the survey tool, unique per survey and service; makes re-imports idempotent';
COMMENT ON COLUMN custfocus.response.import_id IS 'Import that loaded the response (NULL when entered by hand)';
COMMENT ON COLUMN custfocus.response.created_at IS 'When the row was created';

-- The big table: tens of millions of rows at a state agency, so each row is
-- kept to the key, a 4-byte value and an optional text.  It has no created_at
-- of its own; an answer is created with its response.
CREATE TABLE custfocus.answer (
	response_id	bigint NOT NULL REFERENCES custfocus.response (response_id) ON DELETE CASCADE,
	item_id		integer NOT NULL REFERENCES custfocus.item (item_id),
	value		real CHECK (value > '-infinity' AND value < 'infinity'),
	text_value	text CHECK (text_value <> ''),
	PRIMARY KEY (response_id, item_id),
	CONSTRAINT answer_has_value CHECK (value IS NOT NULL OR text_value IS NOT NULL)
);
CREATE INDEX answer_item_id_idx ON custfocus.answer (item_id);
-- The free-text answers, a small share of all answers, for the themes view
-- (custfocus.voc_themes): it finds them through this partial index instead
-- of reading every answer.  Only an answer with a text has an entry, so
-- coded answers (nearly all of an import) cost it nothing but the test.
CREATE INDEX answer_text_idx ON custfocus.answer (response_id) WHERE text_value IS NOT NULL;
COMMENT ON TABLE custfocus.answer IS
'Answers in long format: one row per response and question answered (a skipped question has no row)';
COMMENT ON COLUMN custfocus.answer.response_id IS 'The response';
COMMENT ON COLUMN custfocus.answer.item_id IS 'The question';
COMMENT ON COLUMN custfocus.answer.value IS 'Coded answer on the item''s scale, as given (reverse-coded items are flipped when scored, not here)';
COMMENT ON COLUMN custfocus.answer.text_value IS 'Free-text answer, or the verbatim text of an "other" option';

-- Contact details are kept apart from responses, in a table only admins can
-- read, and only when an import maps an export's identifying columns to it
-- explicitly: by default they are dropped on import.
CREATE TABLE custfocus.respondent_contact (
	response_id	bigint PRIMARY KEY REFERENCES custfocus.response (response_id) ON DELETE CASCADE,
	name		text,
	email		text,
	phone		text,
	address		text,
	ip_address	text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT respondent_contact_has_data CHECK (num_nonnulls(name, email, phone, address, ip_address) > 0)
);
COMMENT ON TABLE custfocus.respondent_contact IS
'Identifying details of a respondent, kept only when an import maps them explicitly; readable by admins only';
COMMENT ON COLUMN custfocus.respondent_contact.response_id IS 'The response';
COMMENT ON COLUMN custfocus.respondent_contact.name IS 'Respondent name';
COMMENT ON COLUMN custfocus.respondent_contact.email IS 'E-mail address';
COMMENT ON COLUMN custfocus.respondent_contact.phone IS 'Telephone number';
COMMENT ON COLUMN custfocus.respondent_contact.address IS 'Postal address';
COMMENT ON COLUMN custfocus.respondent_contact.ip_address IS 'IP address recorded by the survey tool';
COMMENT ON COLUMN custfocus.respondent_contact.created_at IS 'When the row was created';

-------------------------------------------------------------------------------
-- Voice of the customer
-------------------------------------------------------------------------------

CREATE TABLE custfocus.feedback (
	feedback_id	bigserial PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('complaint', 'compliment', 'suggestion', 'question')),
	body		text NOT NULL CHECK (body <> ''),
	service_id	integer REFERENCES custfocus.service (service_id),
	segment_id	integer REFERENCES custfocus.segment (segment_id),
	channel		text CHECK (channel IN ('web', 'email', 'phone', 'sms', 'paper', 'in_person', 'kiosk', 'social_media', 'other')),
	received_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	status		text NOT NULL DEFAULT 'open'
				CHECK (status IN ('open', 'acknowledged', 'actioned', 'closed')),
	owner		text,
	acknowledged_at timestamptz,
	closed_at	timestamptz,
	resolution	text,
	response_id	bigint REFERENCES custfocus.response (response_id) ON DELETE SET NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT feedback_acknowledged_after_received CHECK (acknowledged_at IS NULL OR acknowledged_at >= received_at),
	CONSTRAINT feedback_closed_after_received CHECK (closed_at IS NULL OR closed_at >= received_at),
	CONSTRAINT feedback_closed_at_when_closed CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX feedback_service_id_idx ON custfocus.feedback (service_id, received_at);
CREATE INDEX feedback_open_idx ON custfocus.feedback (received_at) WHERE status <> 'closed';
CREATE INDEX feedback_segment_id_idx ON custfocus.feedback (segment_id);
CREATE INDEX feedback_response_id_idx ON custfocus.feedback (response_id);
COMMENT ON TABLE custfocus.feedback IS
'Unsolicited feedback (complaints, compliments, suggestions, questions) and its handling: open -> acknowledged -> actioned -> closed';
COMMENT ON COLUMN custfocus.feedback.feedback_id IS 'Surrogate key';
COMMENT ON COLUMN custfocus.feedback.kind IS 'complaint, compliment, suggestion or question';
COMMENT ON COLUMN custfocus.feedback.body IS 'What the customer said';
COMMENT ON COLUMN custfocus.feedback.service_id IS 'Service it is about (NULL: not known)';
COMMENT ON COLUMN custfocus.feedback.segment_id IS 'Segment of the customer (NULL: not known)';
COMMENT ON COLUMN custfocus.feedback.channel IS 'How it arrived';
COMMENT ON COLUMN custfocus.feedback.received_at IS 'When it arrived';
COMMENT ON COLUMN custfocus.feedback.status IS 'open, acknowledged, actioned or closed';
COMMENT ON COLUMN custfocus.feedback.owner IS 'Who is handling it';
COMMENT ON COLUMN custfocus.feedback.acknowledged_at IS 'When it first left status open (set automatically)';
COMMENT ON COLUMN custfocus.feedback.closed_at IS 'When it was closed (set automatically, cleared on re-opening)';
COMMENT ON COLUMN custfocus.feedback.resolution IS 'What was done';
COMMENT ON COLUMN custfocus.feedback.response_id IS 'Survey response it came with, if any';
COMMENT ON COLUMN custfocus.feedback.created_at IS 'When the row was created';

-------------------------------------------------------------------------------
-- Step 5/6: performance measures and improvement
-------------------------------------------------------------------------------

CREATE TABLE custfocus.measure (
	measure_id	serial PRIMARY KEY,
	code		text NOT NULL CHECK (code <> '' AND code = pg_catalog.btrim(code)),
	name		text NOT NULL CHECK (name <> ''),
	program_id	integer REFERENCES custfocus.program (program_id),
	service_id	integer REFERENCES custfocus.service (service_id),
	metric		text NOT NULL
				CHECK (metric IN ('csat', 'top_box', 'bottom_box', 'nps', 'linear_mean', 'mean',
								  'ces', 'response_count')),
	item_id		integer REFERENCES custfocus.item (item_id),
	requirement_id integer REFERENCES custfocus.requirement (requirement_id),
	target		double precision NOT NULL CHECK (target > '-infinity' AND target < 'infinity'),
	direction	text NOT NULL DEFAULT 'higher' CHECK (direction IN ('higher', 'lower')),
	period		text NOT NULL DEFAULT 'quarter' CHECK (period IN ('month', 'quarter', 'year')),
	baseline	double precision CHECK (baseline > '-infinity' AND baseline < 'infinity'),
	baseline_period date,
	description	text,
	active		boolean NOT NULL DEFAULT true,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT measure_of_program_or_service CHECK (num_nonnulls(program_id, service_id) = 1),
	CONSTRAINT measure_of_item_or_requirement CHECK (num_nonnulls(item_id, requirement_id) <= 1),
	CONSTRAINT measure_scores_something CHECK ((metric = 'response_count') = (item_id IS NULL AND requirement_id IS NULL)),
	CONSTRAINT measure_percent_target CHECK (metric NOT IN ('csat', 'top_box', 'bottom_box', 'nps') OR target BETWEEN -100 AND 100)
);
CREATE UNIQUE INDEX measure_code_key ON custfocus.measure (custfocus.label_key(code));
CREATE INDEX measure_service_id_idx ON custfocus.measure (service_id);
CREATE INDEX measure_program_id_idx ON custfocus.measure (program_id);
CREATE INDEX measure_item_id_idx ON custfocus.measure (item_id);
CREATE INDEX measure_requirement_id_idx ON custfocus.measure (requirement_id);
COMMENT ON TABLE custfocus.measure IS
'Performance measures: a score of a service or program, its target and the period it is judged over';
COMMENT ON COLUMN custfocus.measure.measure_id IS 'Surrogate key';
COMMENT ON COLUMN custfocus.measure.code IS 'Short unique code';
COMMENT ON COLUMN custfocus.measure.name IS 'Display name';
COMMENT ON COLUMN custfocus.measure.program_id IS 'Program measured (exactly one of program_id, service_id)';
COMMENT ON COLUMN custfocus.measure.service_id IS 'Service measured (exactly one of program_id, service_id)';
COMMENT ON COLUMN custfocus.measure.metric IS 'Score computed: csat, top_box, bottom_box, nps (percent or NPS points), linear_mean (0..100), mean, ces (mean), response_count';
COMMENT ON COLUMN custfocus.measure.item_id IS 'Item scored (or requirement_id; neither for response_count)';
COMMENT ON COLUMN custfocus.measure.requirement_id IS 'Requirement whose items are scored (or item_id)';
COMMENT ON COLUMN custfocus.measure.target IS 'Target value, in the metric''s units';
COMMENT ON COLUMN custfocus.measure.direction IS 'higher or lower: which side of the target is good';
COMMENT ON COLUMN custfocus.measure.period IS 'Period the measure is reported over: month, quarter or year';
COMMENT ON COLUMN custfocus.measure.baseline IS 'Value before improvement work began';
COMMENT ON COLUMN custfocus.measure.baseline_period IS 'First day of the period the baseline was measured in';
COMMENT ON COLUMN custfocus.measure.description IS 'Free-text description';
COMMENT ON COLUMN custfocus.measure.active IS 'False for measures no longer tracked';
COMMENT ON COLUMN custfocus.measure.created_at IS 'When the row was created';

CREATE TABLE custfocus.improvement_action (
	action_id	bigserial PRIMARY KEY,
	title		text NOT NULL CHECK (title <> ''),
	description	text,
	program_id	integer REFERENCES custfocus.program (program_id),
	service_id	integer REFERENCES custfocus.service (service_id),
	requirement_id integer REFERENCES custfocus.requirement (requirement_id),
	measure_id	integer REFERENCES custfocus.measure (measure_id),
	owner		text,
	status		text NOT NULL DEFAULT 'planned'
				CHECK (status IN ('planned', 'in_progress', 'completed', 'cancelled')),
	opened_on	date NOT NULL DEFAULT CURRENT_DATE,
	due_on		date,
	closed_on	date,
	baseline_value double precision CHECK (baseline_value > '-infinity' AND baseline_value < 'infinity'),
	result_value double precision CHECK (result_value > '-infinity' AND result_value < 'infinity'),
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT improvement_action_has_subject CHECK (num_nonnulls(program_id, service_id, measure_id) >= 1),
	CONSTRAINT improvement_action_due_after_opened CHECK (due_on IS NULL OR due_on >= opened_on),
	CONSTRAINT improvement_action_closed_after_opened CHECK (closed_on IS NULL OR closed_on >= opened_on),
	CONSTRAINT improvement_action_closed_on_when_closed CHECK ((status IN ('completed', 'cancelled')) = (closed_on IS NOT NULL))
);
CREATE INDEX improvement_action_service_id_idx ON custfocus.improvement_action (service_id, requirement_id);
CREATE INDEX improvement_action_program_id_idx ON custfocus.improvement_action (program_id);
CREATE INDEX improvement_action_requirement_id_idx ON custfocus.improvement_action (requirement_id);
CREATE INDEX improvement_action_measure_id_idx ON custfocus.improvement_action (measure_id);
COMMENT ON TABLE custfocus.improvement_action IS
'Improvement actions taken on what the data showed, with their status and measured effect';
COMMENT ON COLUMN custfocus.improvement_action.action_id IS 'Surrogate key';
COMMENT ON COLUMN custfocus.improvement_action.title IS 'Short title';
COMMENT ON COLUMN custfocus.improvement_action.description IS 'What will be done';
COMMENT ON COLUMN custfocus.improvement_action.program_id IS 'Program concerned (at least one of program_id, service_id, measure_id)';
COMMENT ON COLUMN custfocus.improvement_action.service_id IS 'Service concerned';
COMMENT ON COLUMN custfocus.improvement_action.requirement_id IS 'Requirement (key driver) the action addresses';
COMMENT ON COLUMN custfocus.improvement_action.measure_id IS 'Measure expected to move';
COMMENT ON COLUMN custfocus.improvement_action.owner IS 'Who is responsible';
COMMENT ON COLUMN custfocus.improvement_action.status IS 'planned, in_progress, completed or cancelled';
COMMENT ON COLUMN custfocus.improvement_action.opened_on IS 'When the action was opened';
COMMENT ON COLUMN custfocus.improvement_action.due_on IS 'When it is due';
COMMENT ON COLUMN custfocus.improvement_action.closed_on IS 'When it was completed or cancelled (defaults to today when the status says so)';
COMMENT ON COLUMN custfocus.improvement_action.baseline_value IS 'Value of the measure before the action';
COMMENT ON COLUMN custfocus.improvement_action.result_value IS 'Value of the measure after the action';
COMMENT ON COLUMN custfocus.improvement_action.created_at IS 'When the row was created';

CREATE TABLE custfocus.engagement (
	engagement_id serial PRIMARY KEY,
	kind		text NOT NULL
				CHECK (kind IN ('advisory_council', 'focus_group', 'interview', 'listening_session',
								'public_meeting', 'other')),
	title		text NOT NULL CHECK (title <> ''),
	held_on		date NOT NULL,
	program_id	integer REFERENCES custfocus.program (program_id),
	service_id	integer REFERENCES custfocus.service (service_id),
	segment_id	integer REFERENCES custfocus.segment (segment_id),
	participants integer CHECK (participants >= 0),
	notes		text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX engagement_program_id_idx ON custfocus.engagement (program_id);
CREATE INDEX engagement_service_id_idx ON custfocus.engagement (service_id);
CREATE INDEX engagement_segment_id_idx ON custfocus.engagement (segment_id);
COMMENT ON TABLE custfocus.engagement IS
'Qualitative engagement with customers and stakeholders: advisory councils, focus groups, interviews, listening sessions';
COMMENT ON COLUMN custfocus.engagement.engagement_id IS 'Surrogate key';
COMMENT ON COLUMN custfocus.engagement.kind IS 'advisory_council, focus_group, interview, listening_session, public_meeting or other';
COMMENT ON COLUMN custfocus.engagement.title IS 'Short title';
COMMENT ON COLUMN custfocus.engagement.held_on IS 'Date held';
COMMENT ON COLUMN custfocus.engagement.program_id IS 'Program concerned, if one';
COMMENT ON COLUMN custfocus.engagement.service_id IS 'Service concerned, if one';
COMMENT ON COLUMN custfocus.engagement.segment_id IS 'Segment engaged, if one';
COMMENT ON COLUMN custfocus.engagement.participants IS 'Number of participants';
COMMENT ON COLUMN custfocus.engagement.notes IS 'What was learnt';
COMMENT ON COLUMN custfocus.engagement.created_at IS 'When the row was created';

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

CREATE FUNCTION custfocus.visible_program_ids(p_role name DEFAULT CURRENT_USER) RETURNS integer[]
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_role_asked(p_role);
	RETURN (
		WITH RECURSIVE granted (program_id) AS (
			SELECT a.program_id FROM custfocus.program_access a
			  JOIN pg_roles g ON g.rolname = a.role_name
			 WHERE pg_has_role(p_role, g.oid, 'USAGE')
			UNION
			SELECT p.program_id FROM custfocus.program p
			  JOIN granted ON p.parent_id = granted.program_id
		)
		SELECT coalesce(array_agg(program_id ORDER BY program_id), '{}') FROM granted);
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
	WITH RECURSIVE up (program_id, parent_id) AS (
		SELECT p.program_id, p.parent_id FROM custfocus.program p
		 WHERE p.program_id = ANY (custfocus.visible_program_ids(p_role))
		UNION
		SELECT p.program_id, p.parent_id FROM custfocus.program p
		  JOIN up ON p.program_id = up.parent_id
	)
	SELECT coalesce(array_agg(s.survey_id ORDER BY s.survey_id), '{}')
	  FROM custfocus.survey s
	 WHERE s.program_id IS NULL OR s.program_id IN (SELECT program_id FROM up)
$$;
COMMENT ON FUNCTION custfocus.readable_survey_ids(name) IS
'Surveys the role may read: those of its programs, of the programs above them, and agency-wide ones';

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

-- A program's rows (a service's customers and requirements, a survey's
-- items) may use the shared rows owned by that program or by a program
-- above it, and agency-wide ones; never a sibling's or a child's.  The
-- walk up the tree runs as the owner (a role may not see the programs above
-- its own); program_path is not executable by others, and may_use answers
-- only about programs the role sees, so neither reveals the tree.
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
			   AND c.relname NOT LIKE 'rollup\_%' AND c.relname <> 'report_unit'
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
			   AND c.relname <> 'setting' AND c.relname NOT LIKE 'rollup\_%' AND c.relname <> 'report_unit'
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
	RETURN v_count;
END
$$;
COMMENT ON FUNCTION custfocus.apply_retention(text, interval, text) IS
'Deletes, or anonymises (contact details, free text and respondent ids removed), the responses to a survey older than the given age; returns how many';

-- Administrative functions are for the roles they are granted to.
REVOKE ALL ON FUNCTION custfocus.check_role_asked(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.program_path(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.grant_access(regrole, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.revoke_access(regrole) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.grant_program_access(regrole, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.revoke_program_access(regrole, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.apply_retention(text, interval, text) FROM PUBLIC;

-------------------------------------------------------------------------------
-- Standard scales, installed as built-in rows
-------------------------------------------------------------------------------

INSERT INTO custfocus.scale (scale_id, code, name, min_value, max_value, integral, builtin) VALUES
	(1, 'agree5', 'Agreement, 1 (Strongly disagree) to 5 (Strongly agree)', 1, 5, true, true),
	(2, 'satisfied5', 'Satisfaction, 1 (Very dissatisfied) to 5 (Very satisfied)', 1, 5, true, true),
	(3, 'nps11', 'Likelihood to recommend, 0 (Not at all likely) to 10 (Extremely likely)', 0, 10, true, true),
	(4, 'cahps4', 'CAHPS frequency, 1 (Never) to 4 (Always)', 1, 4, true, true),
	(5, 'ces7', 'Customer effort, 1 (Strongly disagree) to 7 (Strongly agree) that it was easy', 1, 7, true, true),
	(6, 'yes_no', 'Yes or no, 0 (No) or 1 (Yes)', 0, 1, true, true);

INSERT INTO custfocus.scale_label (scale_id, label, value, builtin) VALUES
	(1, 'Strongly disagree', 1, true),
	(1, 'Disagree', 2, true),
	(1, 'Neither agree nor disagree', 3, true),
	(1, 'Neutral', 3, true),
	(1, 'Agree', 4, true),
	(1, 'Strongly agree', 5, true),
	(2, 'Very dissatisfied', 1, true),
	(2, 'Dissatisfied', 2, true),
	(2, 'Neutral', 3, true),
	(2, 'Neither satisfied nor dissatisfied', 3, true),
	(2, 'Satisfied', 4, true),
	(2, 'Very satisfied', 5, true),
	(3, '0 - Not at all likely', 0, true),
	(3, 'Not at all likely', 0, true),
	(3, '10 - Extremely likely', 10, true),
	(3, 'Extremely likely', 10, true),
	(4, 'Never', 1, true),
	(4, 'Sometimes', 2, true),
	(4, 'Usually', 3, true),
	(4, 'Always', 4, true),
	(5, 'Strongly disagree', 1, true),
	(5, 'Disagree', 2, true),
	(5, 'Somewhat disagree', 3, true),
	(5, 'Neither agree nor disagree', 4, true),
	(5, 'Somewhat agree', 5, true),
	(5, 'Agree', 6, true),
	(5, 'Strongly agree', 7, true),
	(6, 'No', 0, true),
	(6, 'Yes', 1, true);

-- Labels that survey tools put in a cell for "no answer".
INSERT INTO custfocus.scale_label (scale_id, label, value, builtin)
SELECT s.scale_id, m.label, NULL, true
  FROM custfocus.scale s
 CROSS JOIN (VALUES ('N/A'), ('NA'), ('Not applicable'), ('Don''t know'), ('Prefer not to answer')) AS m (label);

-------------------------------------------------------------------------------
-- Import of survey exports
-------------------------------------------------------------------------------

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

-------------------------------------------------------------------------------
-- Backups: pg_dump must carry the user data of every table
-------------------------------------------------------------------------------

SELECT pg_catalog.pg_extension_config_dump('custfocus.setting', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.program', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.program_program_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.service', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.service_service_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.segment', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.segment_segment_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.service_segment', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.requirement', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.requirement_requirement_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.service_requirement', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.scale', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('custfocus.scale_scale_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.scale_label', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('custfocus.survey', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.survey_survey_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.item', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.item_item_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.import_batch', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.import_batch_import_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.import_error', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.import_error_import_error_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.response', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.response_response_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.answer', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.respondent_contact', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.role_access', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.program_access', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.feedback', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.feedback_feedback_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.measure', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.measure_measure_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.improvement_action', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.improvement_action_action_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.engagement', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.engagement_engagement_id_seq', '');

-- Functions are executable by PUBLIC unless revoked; the trigger functions
-- and helpers are only for the tables' own use.
REVOKE ALL ON FUNCTION custfocus.guard_builtin() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.program_check_cycle() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.scale_label_check() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.item_check_scale() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.check_items_fit_scale(integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.scale_check_items() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.answer_check() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.response_check_survey() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.feedback_track_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.improvement_action_track_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.error_viewer() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.setting_stamp() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.setting_restore() FROM PUBLIC;
-------------------------------------------------------------------------------
-- Scoring aggregates and statistics
-------------------------------------------------------------------------------

-- Every aggregate is PARALLEL SAFE with a combine function, and its state is
-- an ordinary bigint[] or double precision[]: partial states cross process
-- and server boundaries (parallel workers, Citus, postgres_fdw) by plain
-- array I/O, so no serialize/deserialize functions exist.  The transition
-- functions update the array in place when called as an aggregate.
-- Conventions: NULL scores are skipped and a NULL weight skips its row; no
-- valid row gives NULL; scores off their scale and weights that are not
-- positive and finite are errors.  Percentages are on 0..100 (NPS on
-- -100..100); the intervals of the _stats forms are 95 % intervals.

CREATE TYPE custfocus.nps_result AS (
	n			bigint,
	n_eff		double precision,
	promoters	double precision,
	passives	double precision,
	detractors	double precision,
	nps			double precision,
	se			double precision,
	ci_low		double precision,
	ci_high		double precision
);
COMMENT ON TYPE custfocus.nps_result IS
'Result of custfocus.nps_stats: Net Promoter Score with its counts, standard error and 95 % interval';
COMMENT ON COLUMN custfocus.nps_result.n IS 'Number of valid answers (rows)';
COMMENT ON COLUMN custfocus.nps_result.n_eff IS 'Effective number of answers: n unweighted, Kish''s (sum w)^2 / sum w^2 weighted';
COMMENT ON COLUMN custfocus.nps_result.promoters IS 'Answers 9 or 10: a count, or the sum of their weights when weighted';
COMMENT ON COLUMN custfocus.nps_result.passives IS 'Answers 7 or 8: a count, or the sum of their weights when weighted';
COMMENT ON COLUMN custfocus.nps_result.detractors IS 'Answers 0 to 6: a count, or the sum of their weights when weighted';
COMMENT ON COLUMN custfocus.nps_result.nps IS 'Net Promoter Score, 100 * (share of promoters - share of detractors), on -100..100';
COMMENT ON COLUMN custfocus.nps_result.se IS 'Standard error of the NPS, 100 * sqrt((p + d - (p - d)^2) / n_eff)';
COMMENT ON COLUMN custfocus.nps_result.ci_low IS 'Lower limit of the 95 % normal interval of the NPS, at least -100';
COMMENT ON COLUMN custfocus.nps_result.ci_high IS 'Upper limit of the 95 % normal interval of the NPS, at most 100';

CREATE TYPE custfocus.box_result AS (
	n			bigint,
	n_eff		double precision,
	in_box		double precision,
	percent		double precision,
	ci_low		double precision,
	ci_high		double precision
);
COMMENT ON TYPE custfocus.box_result IS
'Result of custfocus.top_box_stats, bottom_box_stats and csat_stats: percentage in the box with n and its 95 % Wilson interval';
COMMENT ON COLUMN custfocus.box_result.n IS 'Number of valid answers (rows)';
COMMENT ON COLUMN custfocus.box_result.n_eff IS 'Effective number of answers: n unweighted, Kish''s (sum w)^2 / sum w^2 weighted; the interval uses it';
COMMENT ON COLUMN custfocus.box_result.in_box IS 'Answers in the box: a count, or the sum of their weights when weighted';
COMMENT ON COLUMN custfocus.box_result.percent IS 'Percentage of answers in the box, on 0..100';
COMMENT ON COLUMN custfocus.box_result.ci_low IS 'Lower limit of the 95 % Wilson score interval, on 0..100';
COMMENT ON COLUMN custfocus.box_result.ci_high IS 'Upper limit of the 95 % Wilson score interval, on 0..100';

CREATE TYPE custfocus.mean_ci_result AS (
	n			bigint,
	mean		double precision,
	sd			double precision,
	ci_low		double precision,
	ci_high		double precision
);
COMMENT ON TYPE custfocus.mean_ci_result IS
'Result of custfocus.mean_ci: mean with its Student t interval';
COMMENT ON COLUMN custfocus.mean_ci_result.n IS 'Number of values';
COMMENT ON COLUMN custfocus.mean_ci_result.mean IS 'Arithmetic mean';
COMMENT ON COLUMN custfocus.mean_ci_result.sd IS 'Sample standard deviation (n - 1 divisor); NULL for one value';
COMMENT ON COLUMN custfocus.mean_ci_result.ci_low IS 'mean - t(1 - (1 - level) / 2, n - 1) * sd / sqrt(n); NULL for one value';
COMMENT ON COLUMN custfocus.mean_ci_result.ci_high IS 'mean + t(1 - (1 - level) / 2, n - 1) * sd / sqrt(n); NULL for one value';

CREATE TYPE custfocus.ces_result AS (
	n			bigint,
	n_eff		double precision,
	mean		double precision,
	percent_agree double precision
);
COMMENT ON TYPE custfocus.ces_result IS
'Result of custfocus.ces_stats: Customer Effort Score as its mean on the 1..7 scale and the percentage answering 5 or more';
COMMENT ON COLUMN custfocus.ces_result.n IS 'Number of valid answers (rows)';
COMMENT ON COLUMN custfocus.ces_result.n_eff IS 'Effective number of answers: n unweighted, Kish''s (sum w)^2 / sum w^2 weighted';
COMMENT ON COLUMN custfocus.ces_result.mean IS 'Mean (weighted mean) on the 1..7 scale';
COMMENT ON COLUMN custfocus.ces_result.percent_agree IS 'Percentage answering 5 (somewhat agree) or more, on 0..100';

CREATE TYPE custfocus.alpha_result AS (
	k			integer,
	n			bigint,
	alpha		double precision,
	std_alpha	double precision
);
COMMENT ON TYPE custfocus.alpha_result IS
'Result of custfocus.cronbach_alpha: internal consistency of a multi-item scale';
COMMENT ON COLUMN custfocus.alpha_result.k IS 'Number of items';
COMMENT ON COLUMN custfocus.alpha_result.n IS 'Number of complete rows (rows with a NULL item are left out)';
COMMENT ON COLUMN custfocus.alpha_result.alpha IS 'Raw alpha, k / (k - 1) * (1 - sum of item variances / variance of the total); NULL when k < 2, n < 2 or the total does not vary';
COMMENT ON COLUMN custfocus.alpha_result.std_alpha IS 'Standardized alpha, k r / (1 + (k - 1) r) with r the mean inter-item correlation; NULL when an item does not vary';

CREATE TYPE custfocus.relative_weights_result AS (
	n			bigint,
	k			integer,
	r2			double precision,
	weights		double precision[],
	shares		double precision[]
);
COMMENT ON TYPE custfocus.relative_weights_result IS
'Result of custfocus.relative_weights: Johnson''s relative weights of the drivers, in the order of the drivers array';
COMMENT ON COLUMN custfocus.relative_weights_result.n IS 'Number of complete rows (rows with a NULL outcome or driver are left out)';
COMMENT ON COLUMN custfocus.relative_weights_result.k IS 'Number of drivers';
COMMENT ON COLUMN custfocus.relative_weights_result.r2 IS 'R squared of the linear regression of the outcome on all drivers; NULL when undetermined (n <= k + 1, a variable that does not vary, collinear drivers)';
COMMENT ON COLUMN custfocus.relative_weights_result.weights IS 'Raw relative weight of each driver; they sum to r2';
COMMENT ON COLUMN custfocus.relative_weights_result.shares IS 'Each driver''s share of r2 (weight / r2); they sum to 1';

CREATE TYPE custfocus.proportion_ci AS (
	p			double precision,
	ci_low		double precision,
	ci_high		double precision
);
COMMENT ON TYPE custfocus.proportion_ci IS
'Result of custfocus.wilson_ci: a proportion and its interval, on 0..1';
COMMENT ON COLUMN custfocus.proportion_ci.p IS 'Observed proportion, successes / n';
COMMENT ON COLUMN custfocus.proportion_ci.ci_low IS 'Lower limit of the interval, on 0..1';
COMMENT ON COLUMN custfocus.proportion_ci.ci_high IS 'Upper limit of the interval, on 0..1';

CREATE TYPE custfocus.ztest_result AS (
	z			double precision,
	p_value		double precision
);
COMMENT ON TYPE custfocus.ztest_result IS
'Result of custfocus.prop_ztest and nps_ztest: z statistic of group 1 minus group 2 and its two-sided p-value';
COMMENT ON COLUMN custfocus.ztest_result.z IS 'z statistic, positive when group 1 scores higher';
COMMENT ON COLUMN custfocus.ztest_result.p_value IS 'Two-sided p-value from the standard normal distribution';

-- Combine functions shared by the additive states

CREATE FUNCTION custfocus.counts_combine(bigint[], bigint[]) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'counts_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.counts_combine(bigint[], bigint[]) IS
'Aggregate support: combines two count states by adding them element by element';

CREATE FUNCTION custfocus.sums_combine(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'sums_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.sums_combine(double precision[], double precision[]) IS
'Aggregate support: combines two weighted-sum states by adding them element by element';

-- NPS

CREATE FUNCTION custfocus.nps_accum(bigint[], double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'nps_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_accum(bigint[], double precision) IS
'Aggregate support for custfocus.nps: counts one 0..10 answer as promoter, passive or detractor';

CREATE FUNCTION custfocus.nps_accum_inv(bigint[], double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'nps_accum_inv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_accum_inv(bigint[], double precision) IS
'Aggregate support for custfocus.nps: removes one answer from the counts (window frames)';

CREATE FUNCTION custfocus.nps_final(bigint[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'nps_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_final(bigint[]) IS
'Aggregate support for custfocus.nps: NPS from the counts';

CREATE FUNCTION custfocus.nps_stats_final(bigint[]) RETURNS custfocus.nps_result
AS 'MODULE_PATHNAME', 'nps_stats_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_stats_final(bigint[]) IS
'Aggregate support for custfocus.nps_stats: NPS, standard error and interval from the counts';

CREATE FUNCTION custfocus.nps_weighted_accum(double precision[], double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'nps_weighted_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_weighted_accum(double precision[], double precision, double precision) IS
'Aggregate support for weighted custfocus.nps: adds one weighted 0..10 answer';

CREATE FUNCTION custfocus.nps_weighted_final(double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'nps_weighted_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_weighted_final(double precision[]) IS
'Aggregate support for weighted custfocus.nps: NPS from the weighted sums';

CREATE FUNCTION custfocus.nps_weighted_stats_final(double precision[]) RETURNS custfocus.nps_result
AS 'MODULE_PATHNAME', 'nps_weighted_stats_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_weighted_stats_final(double precision[]) IS
'Aggregate support for weighted custfocus.nps_stats: NPS, standard error with Kish''s effective n, and interval';

CREATE AGGREGATE custfocus.nps(score double precision) (
	SFUNC = custfocus.nps_accum,
	STYPE = bigint[],
	INITCOND = '{0,0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.nps_final,
	MSFUNC = custfocus.nps_accum,
	MINVFUNC = custfocus.nps_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0,0}',
	MFINALFUNC = custfocus.nps_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.nps(double precision) IS
'Net Promoter Score of 0..10 answers: 100 * (share of 9-10 - share of 0-6), on -100..100';

CREATE AGGREGATE custfocus.nps(score double precision, weight double precision) (
	SFUNC = custfocus.nps_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.nps_weighted_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.nps(double precision, double precision) IS
'Weighted Net Promoter Score: shares of promoters and detractors are shares of the total weight';

CREATE AGGREGATE custfocus.nps_stats(score double precision) (
	SFUNC = custfocus.nps_accum,
	STYPE = bigint[],
	INITCOND = '{0,0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.nps_stats_final,
	MSFUNC = custfocus.nps_accum,
	MINVFUNC = custfocus.nps_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0,0}',
	MFINALFUNC = custfocus.nps_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.nps_stats(double precision) IS
'Net Promoter Score with n, category counts, standard error and 95 % interval';

CREATE AGGREGATE custfocus.nps_stats(score double precision, weight double precision) (
	SFUNC = custfocus.nps_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.nps_weighted_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.nps_stats(double precision, double precision) IS
'Weighted Net Promoter Score with n, Kish''s effective n, weighted category sums, standard error and 95 % interval';

-- Top box, bottom box, CSAT

CREATE FUNCTION custfocus.box_final(bigint[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'box_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.box_final(bigint[]) IS
'Aggregate support for top_box, bottom_box and csat: percentage in the box';

CREATE FUNCTION custfocus.box_stats_final(bigint[]) RETURNS custfocus.box_result
AS 'MODULE_PATHNAME', 'box_stats_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.box_stats_final(bigint[]) IS
'Aggregate support for top_box_stats, bottom_box_stats and csat_stats: percentage with n and Wilson interval';

CREATE FUNCTION custfocus.box_weighted_final(double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'box_weighted_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.box_weighted_final(double precision[]) IS
'Aggregate support for weighted top_box, bottom_box and csat: weighted percentage in the box';

CREATE FUNCTION custfocus.box_weighted_stats_final(double precision[]) RETURNS custfocus.box_result
AS 'MODULE_PATHNAME', 'box_weighted_stats_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.box_weighted_stats_final(double precision[]) IS
'Aggregate support for weighted top_box_stats, bottom_box_stats and csat_stats: Wilson interval with Kish''s effective n';

CREATE FUNCTION custfocus.top_box_accum(bigint[], double precision, double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'top_box_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.top_box_accum(bigint[], double precision, double precision) IS
'Aggregate support for custfocus.top_box: counts one answer, in the box when score >= threshold';

CREATE FUNCTION custfocus.top_box_accum_inv(bigint[], double precision, double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'top_box_accum_inv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.top_box_accum_inv(bigint[], double precision, double precision) IS
'Aggregate support for custfocus.top_box: removes one answer from the counts (window frames)';

CREATE FUNCTION custfocus.top_box_weighted_accum(double precision[], double precision, double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'top_box_weighted_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.top_box_weighted_accum(double precision[], double precision, double precision, double precision) IS
'Aggregate support for weighted custfocus.top_box: adds one weighted answer';

CREATE FUNCTION custfocus.bottom_box_accum(bigint[], double precision, double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'bottom_box_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.bottom_box_accum(bigint[], double precision, double precision) IS
'Aggregate support for custfocus.bottom_box: counts one answer, in the box when score <= threshold';

CREATE FUNCTION custfocus.bottom_box_accum_inv(bigint[], double precision, double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'bottom_box_accum_inv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.bottom_box_accum_inv(bigint[], double precision, double precision) IS
'Aggregate support for custfocus.bottom_box: removes one answer from the counts (window frames)';

CREATE FUNCTION custfocus.bottom_box_weighted_accum(double precision[], double precision, double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'bottom_box_weighted_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.bottom_box_weighted_accum(double precision[], double precision, double precision, double precision) IS
'Aggregate support for weighted custfocus.bottom_box: adds one weighted answer';

CREATE FUNCTION custfocus.csat_accum(bigint[], double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'csat_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.csat_accum(bigint[], double precision) IS
'Aggregate support for custfocus.csat: counts one 1..5 answer, in the box when 4 or 5';

CREATE FUNCTION custfocus.csat_accum(bigint[], double precision, integer) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'csat_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.csat_accum(bigint[], double precision, integer) IS
'Aggregate support for custfocus.csat: counts one 1..scale_max answer, in the box when >= scale_max - 1';

CREATE FUNCTION custfocus.csat_accum_inv(bigint[], double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'csat_accum_inv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.csat_accum_inv(bigint[], double precision) IS
'Aggregate support for custfocus.csat: removes one answer from the counts (window frames)';

CREATE FUNCTION custfocus.csat_accum_inv(bigint[], double precision, integer) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'csat_accum_inv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.csat_accum_inv(bigint[], double precision, integer) IS
'Aggregate support for custfocus.csat: removes one answer from the counts (window frames)';

CREATE FUNCTION custfocus.csat_weighted_accum(double precision[], double precision, integer, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'csat_weighted_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.csat_weighted_accum(double precision[], double precision, integer, double precision) IS
'Aggregate support for weighted custfocus.csat: adds one weighted answer';

CREATE AGGREGATE custfocus.top_box(score double precision, threshold double precision) (
	SFUNC = custfocus.top_box_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_final,
	MSFUNC = custfocus.top_box_accum,
	MINVFUNC = custfocus.top_box_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.top_box(double precision, double precision) IS
'Top box: percentage of answers with score >= threshold, on 0..100';

CREATE AGGREGATE custfocus.top_box(score double precision, threshold double precision, weight double precision) (
	SFUNC = custfocus.top_box_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.box_weighted_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.top_box(double precision, double precision, double precision) IS
'Weighted top box: percentage of the total weight with score >= threshold, on 0..100';

CREATE AGGREGATE custfocus.top_box_stats(score double precision, threshold double precision) (
	SFUNC = custfocus.top_box_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_stats_final,
	MSFUNC = custfocus.top_box_accum,
	MINVFUNC = custfocus.top_box_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.top_box_stats(double precision, double precision) IS
'Top box (score >= threshold) with n and 95 % Wilson interval';

CREATE AGGREGATE custfocus.top_box_stats(score double precision, threshold double precision, weight double precision) (
	SFUNC = custfocus.top_box_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.box_weighted_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.top_box_stats(double precision, double precision, double precision) IS
'Weighted top box with n, Kish''s effective n and 95 % Wilson interval';

CREATE AGGREGATE custfocus.bottom_box(score double precision, threshold double precision) (
	SFUNC = custfocus.bottom_box_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_final,
	MSFUNC = custfocus.bottom_box_accum,
	MINVFUNC = custfocus.bottom_box_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.bottom_box(double precision, double precision) IS
'Bottom box: percentage of answers with score <= threshold, on 0..100';

CREATE AGGREGATE custfocus.bottom_box(score double precision, threshold double precision, weight double precision) (
	SFUNC = custfocus.bottom_box_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.box_weighted_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.bottom_box(double precision, double precision, double precision) IS
'Weighted bottom box: percentage of the total weight with score <= threshold, on 0..100';

CREATE AGGREGATE custfocus.bottom_box_stats(score double precision, threshold double precision) (
	SFUNC = custfocus.bottom_box_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_stats_final,
	MSFUNC = custfocus.bottom_box_accum,
	MINVFUNC = custfocus.bottom_box_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.bottom_box_stats(double precision, double precision) IS
'Bottom box (score <= threshold) with n and 95 % Wilson interval';

CREATE AGGREGATE custfocus.bottom_box_stats(score double precision, threshold double precision, weight double precision) (
	SFUNC = custfocus.bottom_box_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.box_weighted_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.bottom_box_stats(double precision, double precision, double precision) IS
'Weighted bottom box with n, Kish''s effective n and 95 % Wilson interval';

CREATE AGGREGATE custfocus.csat(score double precision) (
	SFUNC = custfocus.csat_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_final,
	MSFUNC = custfocus.csat_accum,
	MINVFUNC = custfocus.csat_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.csat(double precision) IS
'CSAT: percentage of 1..5 answers that are 4 or 5, on 0..100';

CREATE AGGREGATE custfocus.csat(score double precision, scale_max integer) (
	SFUNC = custfocus.csat_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_final,
	MSFUNC = custfocus.csat_accum,
	MINVFUNC = custfocus.csat_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.csat(double precision, integer) IS
'CSAT on a 1..scale_max scale: percentage of answers in the top two categories (>= scale_max - 1), on 0..100';

CREATE AGGREGATE custfocus.csat(score double precision, scale_max integer, weight double precision) (
	SFUNC = custfocus.csat_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.box_weighted_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.csat(double precision, integer, double precision) IS
'Weighted CSAT on a 1..scale_max scale: percentage of the total weight in the top two categories, on 0..100';

CREATE AGGREGATE custfocus.csat_stats(score double precision) (
	SFUNC = custfocus.csat_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_stats_final,
	MSFUNC = custfocus.csat_accum,
	MINVFUNC = custfocus.csat_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.csat_stats(double precision) IS
'CSAT on a 1..5 scale with n and 95 % Wilson interval';

CREATE AGGREGATE custfocus.csat_stats(score double precision, scale_max integer) (
	SFUNC = custfocus.csat_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_stats_final,
	MSFUNC = custfocus.csat_accum,
	MINVFUNC = custfocus.csat_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.csat_stats(double precision, integer) IS
'CSAT on a 1..scale_max scale with n and 95 % Wilson interval';

CREATE AGGREGATE custfocus.csat_stats(score double precision, scale_max integer, weight double precision) (
	SFUNC = custfocus.csat_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.box_weighted_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.csat_stats(double precision, integer, double precision) IS
'Weighted CSAT on a 1..scale_max scale with n, Kish''s effective n and 95 % Wilson interval';

-- Means

CREATE FUNCTION custfocus.linear_mean_accum(double precision[], double precision, double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'linear_mean_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.linear_mean_accum(double precision[], double precision, double precision, double precision) IS
'Aggregate support for custfocus.linear_mean: adds one answer mapped to 0..100';

CREATE FUNCTION custfocus.linear_mean_accum(double precision[], double precision, double precision, double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'linear_mean_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.linear_mean_accum(double precision[], double precision, double precision, double precision, double precision) IS
'Aggregate support for weighted custfocus.linear_mean: adds one weighted answer mapped to 0..100';

CREATE FUNCTION custfocus.linear_mean_final(double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'linear_mean_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.linear_mean_final(double precision[]) IS
'Aggregate support for custfocus.linear_mean: the (weighted) mean of the 0..100 scores';

CREATE AGGREGATE custfocus.linear_mean(score double precision, scale_min double precision, scale_max double precision) (
	SFUNC = custfocus.linear_mean_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.linear_mean_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.linear_mean(double precision, double precision, double precision) IS
'CAHPS linear mean score: mean of 100 * (score - scale_min) / (scale_max - scale_min), on 0..100';

CREATE AGGREGATE custfocus.linear_mean(score double precision, scale_min double precision, scale_max double precision, weight double precision) (
	SFUNC = custfocus.linear_mean_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.linear_mean_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.linear_mean(double precision, double precision, double precision, double precision) IS
'Weighted CAHPS linear mean score, on 0..100';

CREATE FUNCTION custfocus.linear_mean_stats_accum(double precision[], double precision, double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'linear_mean_stats_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.linear_mean_stats_accum(double precision[], double precision, double precision, double precision) IS
'Aggregate support for custfocus.linear_mean_stats: adds one answer mapped to 0..100 (West''s update)';

CREATE FUNCTION custfocus.linear_mean_stats_accum(double precision[], double precision, double precision, double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'linear_mean_stats_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.linear_mean_stats_accum(double precision[], double precision, double precision, double precision, double precision) IS
'Aggregate support for weighted custfocus.linear_mean_stats: adds one weighted answer mapped to 0..100';

CREATE FUNCTION custfocus.linear_mean_stats_combine(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'linear_mean_stats_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.linear_mean_stats_combine(double precision[], double precision[]) IS
'Aggregate support for custfocus.linear_mean_stats: merges two states (weighted Chan formula)';

CREATE FUNCTION custfocus.linear_mean_stats_final(double precision[]) RETURNS custfocus.mean_ci_result
AS 'MODULE_PATHNAME', 'linear_mean_stats_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.linear_mean_stats_final(double precision[]) IS
'Aggregate support for custfocus.linear_mean_stats: mean, standard deviation and 95 % interval on 0..100';

CREATE AGGREGATE custfocus.linear_mean_stats(score double precision, scale_min double precision, scale_max double precision) (
	SFUNC = custfocus.linear_mean_stats_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0}',
	COMBINEFUNC = custfocus.linear_mean_stats_combine,
	FINALFUNC = custfocus.linear_mean_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.linear_mean_stats(double precision, double precision, double precision) IS
'CAHPS linear mean score on 0..100 with n, standard deviation and 95 % Student t interval';

CREATE AGGREGATE custfocus.linear_mean_stats(score double precision, scale_min double precision, scale_max double precision, weight double precision) (
	SFUNC = custfocus.linear_mean_stats_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0}',
	COMBINEFUNC = custfocus.linear_mean_stats_combine,
	FINALFUNC = custfocus.linear_mean_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.linear_mean_stats(double precision, double precision, double precision, double precision) IS
'Weighted CAHPS linear mean score on 0..100 with n, standard deviation and a 95 % interval on Kish''s effective n';

CREATE FUNCTION custfocus.mean_ci_accum(double precision[], double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'mean_ci_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.mean_ci_accum(double precision[], double precision) IS
'Aggregate support for custfocus.mean_ci: adds one value (Youngs-Cramer update)';

CREATE FUNCTION custfocus.mean_ci_accum(double precision[], double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'mean_ci_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.mean_ci_accum(double precision[], double precision, double precision) IS
'Aggregate support for custfocus.mean_ci with a level: adds one value and checks the level is the same on every row';

CREATE FUNCTION custfocus.mean_ci_combine(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'mean_ci_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.mean_ci_combine(double precision[], double precision[]) IS
'Aggregate support for custfocus.mean_ci: merges two states (Chan''s formula)';

CREATE FUNCTION custfocus.mean_ci_final(double precision[]) RETURNS custfocus.mean_ci_result
AS 'MODULE_PATHNAME', 'mean_ci_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.mean_ci_final(double precision[]) IS
'Aggregate support for custfocus.mean_ci: mean, standard deviation and Student t interval';

CREATE AGGREGATE custfocus.mean_ci(value double precision) (
	SFUNC = custfocus.mean_ci_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.mean_ci_combine,
	FINALFUNC = custfocus.mean_ci_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.mean_ci(double precision) IS
'Mean with n, standard deviation and 95 % Student t interval';

CREATE AGGREGATE custfocus.mean_ci(value double precision, level double precision) (
	SFUNC = custfocus.mean_ci_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.mean_ci_combine,
	FINALFUNC = custfocus.mean_ci_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.mean_ci(double precision, double precision) IS
'Mean with n, standard deviation and Student t interval at the given confidence level (e.g. 0.9), the same on every row';

CREATE FUNCTION custfocus.ces_accum(double precision[], double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'ces_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.ces_accum(double precision[], double precision) IS
'Aggregate support for custfocus.ces_stats: adds one 1..7 answer';

CREATE FUNCTION custfocus.ces_accum(double precision[], double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'ces_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.ces_accum(double precision[], double precision, double precision) IS
'Aggregate support for weighted custfocus.ces_stats: adds one weighted 1..7 answer';

CREATE FUNCTION custfocus.ces_final(double precision[]) RETURNS custfocus.ces_result
AS 'MODULE_PATHNAME', 'ces_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.ces_final(double precision[]) IS
'Aggregate support for custfocus.ces_stats: mean and percentage answering 5 or more';

CREATE AGGREGATE custfocus.ces_stats(score double precision) (
	SFUNC = custfocus.ces_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.ces_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.ces_stats(double precision) IS
'Customer Effort Score on its 1..7 scale: n, mean and percentage answering 5 or more';

CREATE AGGREGATE custfocus.ces_stats(score double precision, weight double precision) (
	SFUNC = custfocus.ces_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.ces_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.ces_stats(double precision, double precision) IS
'Weighted Customer Effort Score: n, Kish''s effective n, weighted mean and weighted percentage answering 5 or more';

CREATE FUNCTION custfocus.satisfaction_index(item_means double precision[], scale_min double precision, scale_max double precision) RETURNS double precision
AS 'MODULE_PATHNAME', 'satisfaction_index'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.satisfaction_index(double precision[], double precision, double precision) IS
'ACSI-style satisfaction index on 0..100 from item means on one scale, items weighted equally';

CREATE FUNCTION custfocus.satisfaction_index(item_means double precision[], scale_min double precision, scale_max double precision, weights double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'satisfaction_index'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.satisfaction_index(double precision[], double precision, double precision, double precision[]) IS
'ACSI-style satisfaction index on 0..100: 100 * sum(w_i * (mean_i - min)) / (max - min), weights rescaled to sum to 1';

-- Weights

CREATE FUNCTION custfocus.weights_accum(double precision[], double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'weights_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.weights_accum(double precision[], double precision) IS
'Aggregate support for custfocus.effective_n and design_effect: adds one weight';

CREATE FUNCTION custfocus.effective_n_final(double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'effective_n_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.effective_n_final(double precision[]) IS
'Aggregate support for custfocus.effective_n: Kish''s effective n';

CREATE FUNCTION custfocus.design_effect_final(double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'design_effect_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.design_effect_final(double precision[]) IS
'Aggregate support for custfocus.design_effect: n / Kish''s effective n';

CREATE AGGREGATE custfocus.effective_n(weight double precision) (
	SFUNC = custfocus.weights_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.effective_n_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.effective_n(double precision) IS
'Kish''s effective sample size of a weight column, (sum w)^2 / sum w^2';

CREATE AGGREGATE custfocus.design_effect(weight double precision) (
	SFUNC = custfocus.weights_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.design_effect_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.design_effect(double precision) IS
'Kish''s design effect of a weight column, n * sum w^2 / (sum w)^2';

CREATE FUNCTION custfocus.effective_n(weights double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'effective_n_array'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.effective_n(double precision[]) IS
'Kish''s effective sample size of an array of weights, (sum w)^2 / sum w^2; NULL elements are skipped';

CREATE FUNCTION custfocus.design_effect(weights double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'design_effect_array'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.design_effect(double precision[]) IS
'Kish''s design effect of an array of weights, n * sum w^2 / (sum w)^2; NULL elements are skipped';

-- Intervals and tests

CREATE FUNCTION custfocus.wilson_ci(successes double precision, n double precision,
									level double precision DEFAULT 0.95,
									method text DEFAULT 'wilson')
RETURNS custfocus.proportion_ci
AS 'MODULE_PATHNAME', 'wilson_ci'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.wilson_ci(double precision, double precision, double precision, text) IS
'Interval for the proportion successes / n on 0..1: Wilson score interval, or Agresti-Coull with method => ''agresti-coull''; NULL when n = 0';

CREATE FUNCTION custfocus.prop_ztest(x1 double precision, n1 double precision,
									 x2 double precision, n2 double precision)
RETURNS custfocus.ztest_result
AS 'MODULE_PATHNAME', 'prop_ztest'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.prop_ztest(double precision, double precision, double precision, double precision) IS
'Pooled two-proportion z-test of x1/n1 against x2/n2: z of p1 - p2 and two-sided p; NULL when undefined';

CREATE FUNCTION custfocus.nps_ztest(nps1 double precision, se1 double precision,
									nps2 double precision, se2 double precision)
RETURNS custfocus.ztest_result
AS 'MODULE_PATHNAME', 'nps_ztest'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_ztest(double precision, double precision, double precision, double precision) IS
'z-test of two independent NPS from their standard errors: z = (nps1 - nps2) / sqrt(se1^2 + se2^2), two-sided p';

CREATE FUNCTION custfocus.nps_ztest(promoters1 bigint, passives1 bigint, detractors1 bigint,
									promoters2 bigint, passives2 bigint, detractors2 bigint)
RETURNS custfocus.ztest_result
AS 'MODULE_PATHNAME', 'nps_ztest_counts'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_ztest(bigint, bigint, bigint, bigint, bigint, bigint) IS
'z-test of two independent NPS from their category counts: z = (nps1 - nps2) / sqrt(se1^2 + se2^2), two-sided p';

-- Reliability and key drivers

CREATE FUNCTION custfocus.cronbach_alpha_accum(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'cronbach_alpha_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.cronbach_alpha_accum(double precision[], double precision[]) IS
'Aggregate support for custfocus.cronbach_alpha: adds one complete row of item scores to the co-moments';

CREATE FUNCTION custfocus.relative_weights_accum(double precision[], double precision, double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'relative_weights_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.relative_weights_accum(double precision[], double precision, double precision[]) IS
'Aggregate support for custfocus.relative_weights: adds one complete row of outcome and drivers to the co-moments';

CREATE FUNCTION custfocus.comoment_combine(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'comoment_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.comoment_combine(double precision[], double precision[]) IS
'Aggregate support for cronbach_alpha and relative_weights: merges two co-moment states (Chan''s formula)';

CREATE FUNCTION custfocus.cronbach_alpha_final(double precision[]) RETURNS custfocus.alpha_result
AS 'MODULE_PATHNAME', 'cronbach_alpha_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.cronbach_alpha_final(double precision[]) IS
'Aggregate support for custfocus.cronbach_alpha: raw and standardized alpha from the co-moments';

CREATE FUNCTION custfocus.relative_weights_final(double precision[]) RETURNS custfocus.relative_weights_result
AS 'MODULE_PATHNAME', 'relative_weights_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.relative_weights_final(double precision[]) IS
'Aggregate support for custfocus.relative_weights: R squared and relative weights from the co-moments';

CREATE AGGREGATE custfocus.cronbach_alpha(items double precision[]) (
	SFUNC = custfocus.cronbach_alpha_accum,
	STYPE = double precision[],
	INITCOND = '{}',
	COMBINEFUNC = custfocus.comoment_combine,
	FINALFUNC = custfocus.cronbach_alpha_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.cronbach_alpha(double precision[]) IS
'Cronbach''s alpha, raw and standardized, of the item scores in each row''s array; rows with a NULL item are left out';

CREATE AGGREGATE custfocus.relative_weights(outcome double precision, drivers double precision[]) (
	SFUNC = custfocus.relative_weights_accum,
	STYPE = double precision[],
	INITCOND = '{}',
	COMBINEFUNC = custfocus.comoment_combine,
	FINALFUNC = custfocus.relative_weights_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.relative_weights(double precision, double precision[]) IS
'Johnson''s relative weights of the drivers for the outcome: R squared, raw weights summing to it and shares of it; NULL fields when undetermined';

-- Two-stage aggregation: an aggregate's transition state computed over small
-- groups (a service in a month) and merged into bigger ones (a program in a
-- year) gives exactly the one-stage result, because the states are additive
-- (or merged by the same combine function parallel query uses).  The views
-- roll up this way, reading each answer once; the same states are what
-- Citus or postgres_fdw would ship from the workers.
CREATE AGGREGATE custfocus.top_box_state(score double precision, threshold double precision) (
	SFUNC = custfocus.top_box_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.top_box_state(double precision, double precision) IS
'Transition state of custfocus.top_box_stats (answers, answers in the box), to be merged with custfocus.box_stats_merge';

CREATE AGGREGATE custfocus.top_box_state(score double precision, threshold double precision, weight double precision) (
	SFUNC = custfocus.top_box_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.top_box_state(double precision, double precision, double precision) IS
'Transition state of weighted custfocus.top_box_stats, to be merged with custfocus.box_stats_merge';

CREATE AGGREGATE custfocus.box_stats_merge(state bigint[]) (
	SFUNC = custfocus.counts_combine,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.box_stats_merge(bigint[]) IS
'Merges top_box_state results into the top_box_stats result of all their answers';

CREATE AGGREGATE custfocus.box_stats_merge(state double precision[]) (
	SFUNC = custfocus.sums_combine,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.box_weighted_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.box_stats_merge(double precision[]) IS
'Merges weighted top_box_state results into the weighted top_box_stats result of all their answers';

CREATE AGGREGATE custfocus.nps_state(score double precision, weight double precision) (
	SFUNC = custfocus.nps_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.nps_state(double precision, double precision) IS
'Transition state of weighted custfocus.nps_stats, to be merged with custfocus.nps_stats_merge';

CREATE AGGREGATE custfocus.nps_stats_merge(state double precision[]) (
	SFUNC = custfocus.sums_combine,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.nps_weighted_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.nps_stats_merge(double precision[]) IS
'Merges nps_state results into the weighted nps_stats result of all their answers';

CREATE AGGREGATE custfocus.linear_mean_state(score double precision, scale_min double precision,
											 scale_max double precision, weight double precision) (
	SFUNC = custfocus.linear_mean_stats_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0}',
	COMBINEFUNC = custfocus.linear_mean_stats_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.linear_mean_state(double precision, double precision, double precision, double precision) IS
'Transition state of weighted custfocus.linear_mean_stats, to be merged with custfocus.linear_mean_stats_merge';

CREATE AGGREGATE custfocus.linear_mean_stats_merge(state double precision[]) (
	SFUNC = custfocus.linear_mean_stats_combine,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0}',
	COMBINEFUNC = custfocus.linear_mean_stats_combine,
	FINALFUNC = custfocus.linear_mean_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.linear_mean_stats_merge(double precision[]) IS
'Merges linear_mean_state results into the weighted linear_mean_stats result of all their answers';

-------------------------------------------------------------------------------
-- Roll-ups: aggregate states per service and month, kept current in the
-- same transaction as every change, so that the scorecard and the trend read
-- a few thousand small rows instead of every answer ever collected
-------------------------------------------------------------------------------

-- The design, after TimescaleDB's continuous aggregates and Citus' rollup
-- tables:
--
--   * rollup_service_month holds, per service and month of the reporting
--     time zone, the number of responses and the transition states of the
--     scores (top_box_state, nps_state, linear_mean_state: the same states
--     the aggregates merge, so merging them gives exactly what the aggregates
--     give over the raw answers).
--   * Inserts only append: each statement that inserts responses or answers
--     appends one row of states per service and month it touched (a delta),
--     with no unique key and so no row lock that two imports could wait on
--     in opposite orders: concurrent imports never deadlock here.  Readers
--     merge every row of a key.
--   * Updates and deletes recompute: the keys they touched are recomputed
--     from the raw data, in one statement that deletes the key's rows and
--     inserts the recomputed row under one snapshot, so a concurrent insert
--     whose answers that snapshot does not see keeps its own delta, and one
--     it sees is counted once.  Float states do not invert exactly, which is
--     why deletes recompute rather than subtract.  Recomputes of one key are
--     serialized by a transaction advisory lock on the key.
--     Recomputes run only under READ COMMITTED (rollup_check_isolation):
--     an older snapshot could miss what another session committed.
--   * Compaction merges a key's rows into one (rollup_compact), skipping keys
--     another transaction holds; when a transaction that appended commits,
--     the keys it touched that hold more than 4 rows are compacted
--     (rollup_commit_compact, via rollup_pending).
--   * The roll-ups are derived data: pg_dump does not carry them, and the
--     triggers rebuild them as a restore loads the answers.  rollup_rebuild()
--     recomputes everything (after a restore with the triggers off, see
--     Backups), rollup_verify() lists every key that differs from a
--     recomputation (it should list none).

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
-- append their service-month deltas merged per unit (rollup_units_delta);
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

-- The item roll-up: per service, month and item, what the key drivers and
-- the performance measures need of its answers, so that any window of
-- months merges a few rows instead of reading the answers again:
--   * counts and sums: answers with a value (n), their weights (sum_w,
--     sum_w2), scores (sum_x, and weighted, sum_wx), and for the boxes a
--     measure may ask for, the answers and weights in the top two (score
--     >= scale maximum - 1) and top one (>= maximum) categories and the
--     bottom two (<= minimum + 1) and one (<= minimum), and the weights of
--     NPS promoters (score >= 9) and detractors (<= 6);
--   * perf, the weighted linear_mean_state (the performance of a key driver,
--     the linear mean of a measure);
--   * pairs, the state corr() keeps (count, sums, centred sums of squares
--     and cross-products, Youngs-Cramer; and whether the scores were all
--     equal, as PostgreSQL 19 keeps it), merged by pairs_sum and finished by
--     pairs_corr, of each answer with the same respondent's answer to the
--     survey's overall item, unweighted; only respondents who
--     answered both count (pairwise deletion: a driver's r uses every
--     respondent who answered it and the overall item, whatever they did
--     with the other items).  Empty for the overall item itself.
-- Scores are oriented (reverse-coded items flipped) on the item's scale.
-- Which requirement an item measures is read when a view reads the roll-up,
-- so a change of it recomputes nothing.  A survey has one overall item at
-- most (item_one_overall_key), so each answer has one partner at most.
-- Kept like rollup_service_month: inserts append deltas, changes recompute
-- keys (service, month), under the same key locks.
CREATE TABLE custfocus.rollup_item_month (
	service_id	integer NOT NULL,
	month		date NOT NULL,
	item_id		integer NOT NULL,
	n			bigint NOT NULL,
	sum_w		double precision NOT NULL,
	sum_w2		double precision NOT NULL,
	sum_x		double precision NOT NULL,
	sum_wx		double precision NOT NULL,
	n_top2		bigint NOT NULL,
	n_top1		bigint NOT NULL,
	n_bottom2	bigint NOT NULL,
	n_bottom1	bigint NOT NULL,
	w_top2		double precision NOT NULL,
	w_top1		double precision NOT NULL,
	w_bottom2	double precision NOT NULL,
	w_bottom1	double precision NOT NULL,
	w_promoters	double precision NOT NULL,
	w_detractors double precision NOT NULL,
	perf		double precision[] NOT NULL,
	pairs		double precision[] NOT NULL
);
CREATE INDEX rollup_item_month_key_idx ON custfocus.rollup_item_month (service_id, month, item_id);
-- the measures read an item's months of a service
CREATE INDEX rollup_item_month_item_idx ON custfocus.rollup_item_month (service_id, item_id, month);
COMMENT ON TABLE custfocus.rollup_item_month IS
'Roll-up of the answers per service, month of the reporting time zone and item: counts, sums and states for key drivers and performance measures, possibly several rows per key until compacted (sum or merge them); derived data, kept by triggers, not dumped';
COMMENT ON COLUMN custfocus.rollup_item_month.service_id IS 'Service of the responses';
COMMENT ON COLUMN custfocus.rollup_item_month.month IS 'First day of the month, in the reporting time zone';
COMMENT ON COLUMN custfocus.rollup_item_month.item_id IS 'The item answered';
COMMENT ON COLUMN custfocus.rollup_item_month.n IS 'Answers with a value';
COMMENT ON COLUMN custfocus.rollup_item_month.sum_w IS 'Sum of their weights';
COMMENT ON COLUMN custfocus.rollup_item_month.sum_w2 IS 'Sum of their squared weights';
COMMENT ON COLUMN custfocus.rollup_item_month.sum_x IS 'Sum of their oriented scores';
COMMENT ON COLUMN custfocus.rollup_item_month.sum_wx IS 'Sum of weight times oriented score';
COMMENT ON COLUMN custfocus.rollup_item_month.n_top2 IS 'Answers with an oriented score >= the scale''s maximum - 1';
COMMENT ON COLUMN custfocus.rollup_item_month.n_top1 IS 'Answers with an oriented score >= the scale''s maximum';
COMMENT ON COLUMN custfocus.rollup_item_month.n_bottom2 IS 'Answers with an oriented score <= the scale''s minimum + 1';
COMMENT ON COLUMN custfocus.rollup_item_month.n_bottom1 IS 'Answers with an oriented score <= the scale''s minimum';
COMMENT ON COLUMN custfocus.rollup_item_month.w_top2 IS 'Their weights (as n_top2)';
COMMENT ON COLUMN custfocus.rollup_item_month.w_top1 IS 'Their weights (as n_top1)';
COMMENT ON COLUMN custfocus.rollup_item_month.w_bottom2 IS 'Their weights (as n_bottom2)';
COMMENT ON COLUMN custfocus.rollup_item_month.w_bottom1 IS 'Their weights (as n_bottom1)';
COMMENT ON COLUMN custfocus.rollup_item_month.w_promoters IS 'Weights of answers with an oriented score >= 9 (NPS promoters)';
COMMENT ON COLUMN custfocus.rollup_item_month.w_detractors IS 'Weights of answers with an oriented score <= 6 (NPS detractors)';
COMMENT ON COLUMN custfocus.rollup_item_month.perf IS 'linear_mean_state of the oriented answers, weighted';
COMMENT ON COLUMN custfocus.rollup_item_month.pairs IS 'State of the correlation of (overall answer, this answer) of the same respondent, oriented, unweighted: n, sum x, centred Sxx, sum y, Syy, Sxy, the x and the y all pairs share (NaN once two differ); merge with pairs_sum, finish with pairs_corr';

-- Whether a statement is the transaction's first to append since it last
-- compacted (src/rollup.c): its rollup_pending row fires the compaction at
-- commit; the others only add their keys, so that commit compacts once, not
-- once per statement (which scanned rollup_pending each time: quadratic).
CREATE FUNCTION custfocus.rollup_pending_signal() RETURNS boolean
AS 'MODULE_PATHNAME', 'rollup_pending_signal'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION custfocus.rollup_pending_signal() IS
'Roll-up triggers only: true for the first statement of the transaction (since it last compacted) that appends to the roll-ups';
CREATE FUNCTION custfocus.rollup_pending_consumed() RETURNS void
AS 'MODULE_PATHNAME', 'rollup_pending_consumed'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION custfocus.rollup_pending_consumed() IS
'Roll-up triggers only: the transaction''s compaction ran; its next appending statement signals again';

-- The keys each statement of a transaction appended deltas to: every
-- statement adds a row to each key it touches (an import, a row per key per
-- batch), and a deferred trigger looks at them when the transaction commits
-- (rollup_commit_compact): a key that holds more than 4 rows is merged into
-- one.  Looking costs an index probe per key; merging every key at every
-- commit would cost as much again as appending.  Empty outside
-- transactions that are appending.
CREATE TABLE custfocus.rollup_pending (
	xact		xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
	services	integer[] NOT NULL,
	months		date[] NOT NULL,
	signal		boolean NOT NULL DEFAULT custfocus.rollup_pending_signal()
);
COMMENT ON TABLE custfocus.rollup_pending IS
'The (service, month) keys the statements of transactions in progress appended roll-up deltas to, compacted when each commits; derived data, not dumped';
COMMENT ON COLUMN custfocus.rollup_pending.xact IS 'The transaction';
COMMENT ON COLUMN custfocus.rollup_pending.services IS 'Services of the keys';
COMMENT ON COLUMN custfocus.rollup_pending.months IS 'Months of the keys (with services, element by element)';
COMMENT ON COLUMN custfocus.rollup_pending.signal IS 'True on the first row of the transaction (since it last compacted): the one that fires the compaction at commit';

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
-- The item roll-up's pairs: merged as corr() merges its states, finished
-- as corr() finishes them (src/rollup.c: PostgreSQL's own functions take an
-- internal layout, which PostgreSQL 19 changed).
CREATE FUNCTION custfocus.pairs_combine(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pairs_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairs_combine(double precision[], double precision[]) IS
'Merges two states of rollup_item_month.pairs';
CREATE FUNCTION custfocus.pairs_corr(double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'pairs_corr'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairs_corr(double precision[]) IS
'Pearson''s r of a state of rollup_item_month.pairs, as corr() gives it over the pairs (NULL without pairs, or when either side''s scores are all equal)';
CREATE AGGREGATE custfocus.pairs_sum(double precision[]) (
	SFUNC = custfocus.pairs_combine,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0,0,0,0}',
	COMBINEFUNC = custfocus.pairs_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.pairs_sum(double precision[]) IS
'Merges states of rollup_item_month.pairs into one state (finish it with pairs_corr)';

-- Every column of the item roll-up from one state, in one pass (see
-- src/rollup.c): the answer trigger and rollup_item_compute both aggregate
-- with it, so they cannot count differently.
CREATE FUNCTION custfocus.item_stats_accum(double precision[], double precision, double precision,
										   double precision, double precision, double precision)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'item_stats_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.item_stats_accum(double precision[], double precision, double precision, double precision, double precision, double precision) IS
'Transition function of item_state';
CREATE FUNCTION custfocus.item_stats_combine(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'item_stats_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.item_stats_combine(double precision[], double precision[]) IS
'Combine function of item_state';
CREATE AGGREGATE custfocus.item_state(score double precision, scale_min double precision, scale_max double precision,
									  weight double precision, overall double precision) (
	SFUNC = custfocus.item_stats_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}',
	COMBINEFUNC = custfocus.item_stats_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.item_state(double precision, double precision, double precision, double precision, double precision) IS
'The item roll-up''s statistics of answers to one item (oriented scores on the scale scale_min..scale_max, survey weights, the same respondent''s overall score or NULL): 28 numbers, the columns of rollup_item_month in order';

-- Responses this transaction inserted that have no answers yet (see
-- src/rollup.c): the answer trigger's cue that the transition table holds
-- every answer of its responses.
CREATE FUNCTION custfocus.rollup_fresh_add(bigint[]) RETURNS void
AS 'MODULE_PATHNAME', 'rollup_fresh_add'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION custfocus.rollup_fresh_add(bigint[]) IS
'Roll-up triggers only: records responses this transaction has just inserted';
CREATE FUNCTION custfocus.rollup_fresh_take(bigint[]) RETURNS boolean
AS 'MODULE_PATHNAME', 'rollup_fresh_take'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION custfocus.rollup_fresh_take(bigint[]) IS
'Roll-up triggers only: true when every given response was recorded by rollup_fresh_add (none had answers); forgets them';

-- The item roll-up of the given (service, month) keys computed from the
-- raw data: what every row of a key merges to.  (The answer trigger
-- aggregates its transition table with the same item_state.)  Each answer
-- meets its respondent's overall answer through a window over the
-- response, not a join of the answers with themselves: with the answer
-- trigger's planner settings (no merge joins, no sequential scans) a
-- self-join of 500,000 answers became a nested loop that ran for minutes.
CREATE FUNCTION custfocus.rollup_item_compute(p_services integer[], p_months date[])
RETURNS SETOF custfocus.rollup_item_month
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH k AS (
		SELECT DISTINCT k.service_id, k.month, (SELECT custfocus.reporting_time_zone()) AS tz
		  FROM unnest(p_services, p_months) AS k (service_id, month)
	),
	ans AS (
		SELECT k.service_id, k.month, r.response_id, r.weight, a.item_id, i.is_overall,
			   custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value) AS score,
			   sc.min_value, sc.max_value
		  FROM k
		  JOIN custfocus.response r ON r.service_id = k.service_id
			   AND r.submitted_at >= pg_catalog.timezone(k.tz, k.month::timestamp)
			   AND r.submitted_at < pg_catalog.timezone(k.tz, k.month + interval '1 month')
		  JOIN custfocus.answer a ON a.response_id = r.response_id
		  JOIN custfocus.item i ON i.item_id = a.item_id
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
		 WHERE a.value IS NOT NULL
	)
	SELECT g.service_id, g.month, g.item_id, g.s[1]::bigint, g.s[2], g.s[3], g.s[4], g.s[5], g.s[6]::bigint,
		   g.s[7]::bigint, g.s[8]::bigint, g.s[9]::bigint, g.s[10], g.s[11], g.s[12], g.s[13], g.s[14], g.s[15],
		   g.s[16:20], g.s[21:28]
	  FROM (SELECT x.service_id, x.month, x.item_id,
				   custfocus.item_state(x.score, x.min_value, x.max_value, x.weight,
										CASE WHEN NOT x.is_overall THEN x.overall END) AS s
			  FROM (SELECT a.*, max(a.score) FILTER (WHERE a.is_overall) OVER (PARTITION BY a.response_id) AS overall
					  FROM ans a) x
			 GROUP BY 1, 2, 3) g
$$;
COMMENT ON FUNCTION custfocus.rollup_item_compute(integer[], date[]) IS
'The item roll-up of the given (service, month) keys computed from the raw responses and answers';

-- Recompute the item rows of keys, as rollup_refresh does its own.
CREATE FUNCTION custfocus.rollup_item_refresh(p_services integer[], p_months date[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.rollup_check_isolation();
	PERFORM pg_advisory_xact_lock(pg_catalog.hashtextextended('custfocus.rollup ' || k.service_id || ' ' || k.month, 0))
	   FROM (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)
			  WHERE service_id IS NOT NULL ORDER BY 1, 2) k;
	WITH k AS (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_item_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
	)
	INSERT INTO custfocus.rollup_item_month
	SELECT * FROM custfocus.rollup_item_compute(p_services, p_months);
END
$$;
COMMENT ON FUNCTION custfocus.rollup_item_refresh(integer[], date[]) IS
'Recomputes the item roll-up of the given (service, month) keys from the raw data';

-- Merge each item key's rows into one, skipping keys others hold (the
-- locks of the service-month keys).
CREATE FUNCTION custfocus.rollup_item_compact(p_services integer[] DEFAULT NULL, p_months date[] DEFAULT NULL)
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
	  FROM (SELECT r.service_id, r.month FROM custfocus.rollup_item_month r
			 WHERE p_services IS NULL
				OR (r.service_id, r.month) IN (SELECT * FROM unnest(p_services, p_months))
			 GROUP BY 1, 2 HAVING count(*) > count(DISTINCT r.item_id)) k
	 WHERE pg_try_advisory_xact_lock(pg_catalog.hashtextextended('custfocus.rollup ' || k.service_id || ' ' || k.month, 0));
	IF v_services IS NULL THEN
		RETURN 0;
	END IF;
	WITH k AS (SELECT * FROM unnest(v_services, v_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_item_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
		RETURNING r.*
	)
	INSERT INTO custfocus.rollup_item_month
	SELECT g.service_id, g.month, g.item_id, sum(g.n), sum(g.sum_w), sum(g.sum_w2), sum(g.sum_x), sum(g.sum_wx),
		   sum(g.n_top2), sum(g.n_top1), sum(g.n_bottom2), sum(g.n_bottom1),
		   sum(g.w_top2), sum(g.w_top1), sum(g.w_bottom2), sum(g.w_bottom1), sum(g.w_promoters), sum(g.w_detractors),
		   custfocus.moments_sum(g.perf), custfocus.pairs_sum(g.pairs)
	  FROM gone g GROUP BY 1, 2, 3;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_item_compact(integer[], date[]) IS
'Merges the item roll-up rows of each key (of the given service-month keys, or of all) into one per item; returns how many rows it wrote';

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
-- A recompute reads the raw data under its statement's snapshot: under
-- READ COMMITTED a new one, taken after the key's lock, which sees every
-- change committed before; under REPEATABLE READ or SERIALIZABLE the
-- transaction's, which may miss a change another session committed since
-- (its answers would be left counted with old values, or not at all), and
-- nothing would fail.  Recomputes therefore refuse to run there.
CREATE FUNCTION custfocus.rollup_check_isolation() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE EXCEPTION 'custfocus recomputes its roll-ups only under READ COMMITTED'
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = format('This change (of responses or answers already stored, of items, scales, programs or services, or the reporting time zone) runs under %s, whose snapshot may miss what other sessions committed since.',
								  upper(pg_catalog.current_setting('transaction_isolation'))),
				  HINT = 'Make it in a READ COMMITTED transaction (BEGIN ISOLATION LEVEL READ COMMITTED). Imports, and new responses with their answers, may run at any level.';
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_check_isolation() IS
'Raises an error unless the transaction is READ COMMITTED, where the roll-ups'' recomputes see every committed change';
REVOKE ALL ON FUNCTION custfocus.rollup_check_isolation() FROM PUBLIC;

CREATE FUNCTION custfocus.rollup_refresh(p_services integer[], p_months date[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.rollup_check_isolation();
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
	PERFORM custfocus.rollup_item_refresh(p_services, p_months);
END
$$;
COMMENT ON FUNCTION custfocus.rollup_refresh(integer[], date[]) IS
'Recomputes the roll-ups (service-month, units, items) of the given (service, month) keys from the raw data';

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
		RETURN CASE WHEN p_services IS NULL
					THEN custfocus.rollup_units_compact() + custfocus.rollup_item_compact() ELSE 0 END;
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
		v_n := v_n + custfocus.rollup_units_compact() + custfocus.rollup_item_compact();
	END IF;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_compact(integer[], date[]) IS
'Merges the roll-up rows of each key (of the given service-month keys; or of all keys, the unit and item roll-ups'' too) into one; returns how many keys it compacted';

CREATE FUNCTION custfocus.rollup_rebuild() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
BEGIN
	PERFORM custfocus.rollup_check_isolation();
	-- nobody appends while the table is rebuilt
	LOCK TABLE custfocus.rollup_service_month IN EXCLUSIVE MODE;
	LOCK TABLE custfocus.rollup_item_month IN EXCLUSIVE MODE;
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
	DELETE FROM custfocus.rollup_item_month;
	INSERT INTO custfocus.rollup_item_month
	SELECT c.* FROM (
		SELECT array_agg(k.service_id) AS s, array_agg(k.month) AS m
		  FROM (SELECT DISTINCT r.service_id, date_trunc('month', timezone((SELECT custfocus.reporting_time_zone()), r.submitted_at))::date AS month
				  FROM custfocus.response r WHERE r.service_id IS NOT NULL) k
	) keys
	CROSS JOIN LATERAL custfocus.rollup_item_compute(keys.s, keys.m) c;
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
	UNION ALL
	-- and every item key that differs from a recomputation: counts equal,
	-- sums and states to 1e-12 relative
	SELECT c.service_id, c.month, format('item %s: %s', c.item_id, p.problem)
	  FROM (
		SELECT coalesce(s.service_id, f.service_id) AS service_id, coalesce(s.month, f.month) AS month,
			   coalesce(s.item_id, f.item_id) AS item_id,
			   ARRAY[s.n, s.n_top2, s.n_top1, s.n_bottom2, s.n_bottom1] AS s_n,
			   ARRAY[f.n, f.n_top2, f.n_top1, f.n_bottom2, f.n_bottom1] AS f_n,
			   ARRAY[s.sum_w, s.sum_w2, s.sum_x, s.sum_wx, s.w_top2, s.w_top1, s.w_bottom2, s.w_bottom1, s.w_promoters,
					 s.w_detractors] || coalesce(s.perf, '{0,0,0,0,0}') || coalesce(s.pairs, '{0,0,0,0,0,0,0,0}') AS s_st,
			   ARRAY[f.sum_w, f.sum_w2, f.sum_x, f.sum_wx, f.w_top2, f.w_top1, f.w_bottom2, f.w_bottom1, f.w_promoters,
					 f.w_detractors] || coalesce(f.perf, '{0,0,0,0,0}') || coalesce(f.pairs, '{0,0,0,0,0,0,0,0}') AS f_st
		  FROM (SELECT r.service_id, r.month, r.item_id, sum(r.n)::bigint AS n, sum(r.sum_w) AS sum_w, sum(r.sum_w2) AS sum_w2,
					   sum(r.sum_x) AS sum_x, sum(r.sum_wx) AS sum_wx, sum(r.n_top2)::bigint AS n_top2,
					   sum(r.n_top1)::bigint AS n_top1, sum(r.n_bottom2)::bigint AS n_bottom2,
					   sum(r.n_bottom1)::bigint AS n_bottom1, sum(r.w_top2) AS w_top2,
					   sum(r.w_top1) AS w_top1, sum(r.w_bottom2) AS w_bottom2, sum(r.w_bottom1) AS w_bottom1,
					   sum(r.w_promoters) AS w_promoters, sum(r.w_detractors) AS w_detractors,
					   custfocus.moments_sum(r.perf) AS perf, custfocus.pairs_sum(r.pairs) AS pairs
				  FROM custfocus.rollup_item_month r GROUP BY 1, 2, 3) s
		  FULL JOIN (
				SELECT c.* FROM (
					SELECT array_agg(k.service_id) AS s, array_agg(k.month) AS m
					  FROM (SELECT DISTINCT r.service_id,
								   date_trunc('month', timezone((SELECT custfocus.reporting_time_zone()), r.submitted_at))::date AS month
							  FROM custfocus.response r WHERE r.service_id IS NOT NULL) k
				) keys
				CROSS JOIN LATERAL custfocus.rollup_item_compute(keys.s, keys.m) c) f
			ON f.service_id = s.service_id AND f.month = s.month AND f.item_id = s.item_id
	  ) c
	 -- centred sums (perf's weighted sum of squared deviations, element 15;
	 -- the pairs' Sxx, Syy, Sxy, elements 18, 20, 21) may be zero, or cancel
	 -- to near zero, where another order of summation leaves a rounding
	 -- error: they are compared to 1e-12 of the largest they could be (the
	 -- weight or the count times 100 squared, scores being on 0..100)
	 CROSS JOIN LATERAL (
		SELECT CASE WHEN c.s_n IS DISTINCT FROM c.f_n THEN format('counts %s, recomputed %s', c.s_n, c.f_n)
					WHEN EXISTS (SELECT FROM unnest(c.s_st, c.f_st) WITH ORDINALITY AS x (a, b, i)
								  WHERE x.a <> x.b   -- (NaN equals NaN here: the pairs' "all equal" marks)
									AND abs(x.a - x.b) > 1e-12 * greatest(abs(x.a), abs(x.b), 1e-300,
																		  CASE WHEN x.i = 15 THEN c.f_st[1] * 1e4
																			   WHEN x.i IN (18, 20, 21) THEN c.f_st[16] * 1e4 END))
					THEN format('states %s, recomputed %s', c.s_st, c.f_st)
			   END AS problem) p
	 WHERE p.problem IS NOT NULL
$$;
COMMENT ON FUNCTION custfocus.rollup_verify() IS
'Lists every (service, month) whose roll-up (service-month or item) differs from a recomputation from the raw data, and every unit key whose roll-up differs from the merge of its service-months (none when all is well)';

-------------------------------------------------------------------------------
-- Keeping the roll-ups current
-------------------------------------------------------------------------------

-- Inserted responses: one delta row of counts per service and month.
-- (The test that the responses have no answers yet probes answer by
-- primary key with an array of their ids: as an anti-join with the
-- transition table it read the whole of answer's index for every batch.)
CREATE FUNCTION custfocus.rollup_response_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET jit = off
AS $$
DECLARE
	v_tz text := custfocus.reporting_time_zone();
	v_ids bigint[];
BEGIN
	WITH d AS (
		INSERT INTO custfocus.rollup_service_month (service_id, month, responses)
		SELECT n.service_id, date_trunc('month', timezone(v_tz, n.submitted_at))::date, count(*)
		  FROM new_response n
		 WHERE n.service_id IS NOT NULL
		 GROUP BY 1, 2
		RETURNING *
	),
	du AS (
		INSERT INTO custfocus.rollup_unit_period
		SELECT x.* FROM custfocus.rollup_units_delta((SELECT array_agg(ROW(d.*)::custfocus.rollup_service_month) FROM d)) x
	)
	INSERT INTO custfocus.rollup_pending (services, months)
	SELECT array_agg(d.service_id), array_agg(d.month) FROM d HAVING count(*) > 0;
	-- they have no answers yet (rollup_answer_insert), unless a trigger of
	-- the user's gave them some as they were inserted
	SELECT array_agg(n.response_id) INTO v_ids FROM new_response n;
	PERFORM custfocus.rollup_fresh_add(v_ids);
	PERFORM custfocus.rollup_fresh_take(array_agg(DISTINCT a.response_id))
	   FROM custfocus.answer a WHERE a.response_id = ANY (v_ids)
	 HAVING count(*) > 0;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_response_insert() IS
'Trigger: appends the counts of inserted responses to the roll-ups (service-month and units), and records them as having no answers yet';
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
	-- an id that changed or went away may come back as someone else's
	PERFORM custfocus.rollup_fresh_take(array_agg(o.response_id)) FROM old_response o;
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

-- Inserted answers: one delta row of states per service and month, of the
-- unit roll-up per unit, grain and period, and of the item roll-up per
-- service, month and item (the keys are compacted when the transaction
-- commits).  The item roll-up pairs answers of one
-- respondent: the transition table alone gives the pairs only when it holds
-- every answer its responses have, i.e. when every response is one this
-- transaction inserted without answers (rollup_fresh_take: every import,
-- and any load of responses then answers); otherwise the item keys are
-- recomputed from the raw data.
-- Answers are matched to their responses by primary key, whatever the
-- statistics say halfway through a long load (as in answer_check); with
-- sequential scans priced out, JIT would compile every statement, so it is
-- off here.  The planner cannot know how many rows the transition table's
-- filters keep (it guesses far too many overall answers), and chose merge
-- joins that sort every new answer twice: hash joins it is.
CREATE FUNCTION custfocus.rollup_answer_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET enable_mergejoin = off
SET jit = off
AS $$
DECLARE
	v_item_services integer[];
	v_item_months date[];
	v_responses bigint[];
	v_items integer[];
	v_fresh boolean;
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
	v_fresh := custfocus.rollup_fresh_take(v_responses);
	-- one pass over the new answers feeds every roll-up (each response read
	-- once, by primary key, not once per answer; the test of its service
	-- comes after, since as an index condition it made the planner, once
	-- statistics arrived, walk the whole (service_id, submitted_at) index
	-- for every batch)
	WITH resp AS MATERIALIZED (
		SELECT r.response_id, r.service_id, date_trunc('month', timezone(v_tz, r.submitted_at))::date AS month,
			   r.weight
		  FROM custfocus.response r
		 WHERE r.response_id = ANY (v_responses)
	),
	ans AS MATERIALIZED (
		SELECT r.service_id, r.month, n.response_id, n.item_id, r.weight, n.value, i.is_overall, i.metric,
			   custfocus.oriented_score(n.value, i.reverse_coded, sc.min_value, sc.max_value) AS score,
			   sc.min_value, sc.max_value
		  FROM new_answer n
		  JOIN resp r ON r.response_id = n.response_id
		  JOIN custfocus.item i ON i.item_id = n.item_id
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
		 WHERE n.value IS NOT NULL AND r.service_id IS NOT NULL
	),
	d AS (
		INSERT INTO custfocus.rollup_service_month
		SELECT a.service_id, a.month, 0,
			   custfocus.top_box_state(a.score, a.max_value - 1, a.weight)
				   FILTER (WHERE a.is_overall AND a.metric IN ('rating', 'nps')),
			   custfocus.top_box_state(a.score, a.max_value - 1) FILTER (WHERE a.is_overall),
			   custfocus.nps_state(a.value, a.weight) FILTER (WHERE a.metric = 'nps'),
			   custfocus.linear_mean_state(a.score, a.min_value, a.max_value, a.weight) FILTER (WHERE a.metric = 'rating')
		  FROM ans a
		 GROUP BY 1, 2
		RETURNING *
	),
	du AS (
		INSERT INTO custfocus.rollup_unit_period
		SELECT x.* FROM custfocus.rollup_units_delta((SELECT array_agg(ROW(d.*)::custfocus.rollup_service_month) FROM d)) x
	),
	-- as rollup_item_compute
	dd AS (
		INSERT INTO custfocus.rollup_item_month
		SELECT g.service_id, g.month, g.item_id, g.s[1]::bigint, g.s[2], g.s[3], g.s[4], g.s[5], g.s[6]::bigint,
			   g.s[7]::bigint, g.s[8]::bigint, g.s[9]::bigint, g.s[10], g.s[11], g.s[12], g.s[13], g.s[14], g.s[15],
			   g.s[16:20], g.s[21:28]
		  FROM (SELECT x.service_id, x.month, x.item_id,
					   custfocus.item_state(x.score, x.min_value, x.max_value, x.weight,
											CASE WHEN NOT x.is_overall THEN x.overall END) AS s
				  FROM (SELECT a.*, max(a.score) FILTER (WHERE a.is_overall) OVER (PARTITION BY a.response_id) AS overall
						  FROM ans a WHERE v_fresh) x
				 GROUP BY 1, 2, 3) g
	),
	-- the keys to recompute when the responses had answers before
	dk AS (
		SELECT DISTINCT a.service_id, a.month FROM ans a WHERE NOT v_fresh
	),
	-- the keys this statement appended to, compacted when the transaction
	-- commits (rollup_commit_compact)
	pending AS (
		INSERT INTO custfocus.rollup_pending (services, months)
		SELECT array_agg(d.service_id), array_agg(d.month) FROM d HAVING count(*) > 0
	)
	SELECT array_agg(dk.service_id ORDER BY dk.service_id, dk.month), array_agg(dk.month ORDER BY dk.service_id, dk.month)
	  INTO v_item_services, v_item_months FROM dk;
	IF v_item_services IS NOT NULL THEN
		PERFORM custfocus.rollup_item_refresh(v_item_services, v_item_months);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_answer_insert() IS
'Trigger: appends the states of inserted answers to the roll-ups (or recomputes the item keys of answers to responses that had answers)';
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
		-- the responses now have answers (moved there, perhaps)
		PERFORM custfocus.rollup_fresh_take(array_agg(n.response_id)) FROM new_answer n;
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
	  WHERE (o.is_overall, o.metric, o.reverse_coded, o.scale_id, o.survey_id)
			IS DISTINCT FROM (n.is_overall, n.metric, n.reverse_coded, n.scale_id, n.survey_id)
	 HAVING count(*) > 0;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_item_update() IS
'Trigger: recomputes the roll-up keys of items whose overall flag, metric, reverse coding, scale or survey changed';
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

-- The unit deltas of service-month delta rows, merged per unit key: what
-- the insert triggers append to the unit roll-up in the statement that
-- appends the service-month rows.
CREATE FUNCTION custfocus.rollup_units_delta(p_rows custfocus.rollup_service_month[])
RETURNS SETOF custfocus.rollup_unit_period
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT u.program_id, u.unit_service_id, g.grain, date_trunc(g.grain, b.month)::date, sum(b.responses),
		   custfocus.sums_sum(b.csat), custfocus.counts_sum(b.csat_counts), custfocus.sums_sum(b.nps),
		   custfocus.moments_sum(b.lm)
	  FROM unnest(p_rows) AS b
	  JOIN custfocus.report_unit u ON u.service_id = b.service_id
	 CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) AS g (grain)
	 GROUP BY 1, 2, 3, 4
$$;
COMMENT ON FUNCTION custfocus.rollup_units_delta(custfocus.rollup_service_month[]) IS
'The unit roll-up rows that the given service-month delta rows add, merged per unit key';

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
	PERFORM custfocus.rollup_check_isolation();
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

-- When a transaction that appended commits: merge the rows of every key it
-- appended to that holds more than 4 rows, in the service-month, item and
-- unit roll-ups.  Compaction takes try-locks, so it never waits (a key
-- another transaction holds is left for later: it stays exact, only less
-- compact).  One event per transaction (rollup_pending.signal).  Under
-- REPEATABLE READ or SERIALIZABLE, rows another transaction compacted since
-- the snapshot cannot be deleted again: the compaction is then given up
-- (in a subtransaction, so that the commit goes on) and left to the next.
CREATE FUNCTION custfocus.rollup_commit_compact() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_services integer[];
	v_months date[];
	v_keys record;
BEGIN
	PERFORM custfocus.rollup_pending_consumed();
	WITH gone AS (
		DELETE FROM custfocus.rollup_pending p WHERE p.xact = pg_catalog.pg_current_xact_id()
		RETURNING p.services, p.months
	)
	SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month)
	  INTO v_services, v_months
	  FROM (SELECT DISTINCT x.service_id, x.month FROM gone g
			 CROSS JOIN LATERAL unnest(g.services, g.months) AS x (service_id, month)) k;
	IF v_services IS NULL THEN
		RETURN NULL;
	END IF;
	BEGIN
	-- service-month keys with many rows
	SELECT array_agg(x.service_id) AS s, array_agg(x.month) AS m INTO v_keys
	  FROM unnest(v_services, v_months) AS x (service_id, month)
	 WHERE (SELECT count(*) FROM custfocus.rollup_service_month r
			 WHERE r.service_id = x.service_id AND r.month = x.month) > 4;
	IF v_keys.s IS NOT NULL THEN
		PERFORM custfocus.rollup_compact(v_keys.s, v_keys.m);
	END IF;
	-- service-months with an item key of many rows
	SELECT array_agg(x.service_id) AS s, array_agg(x.month) AS m INTO v_keys
	  FROM unnest(v_services, v_months) AS x (service_id, month)
	 WHERE EXISTS (SELECT FROM custfocus.rollup_item_month r
					WHERE r.service_id = x.service_id AND r.month = x.month
					GROUP BY r.item_id HAVING count(*) > 4);
	IF v_keys.s IS NOT NULL THEN
		PERFORM custfocus.rollup_item_compact(v_keys.s, v_keys.m);
	END IF;
	-- the unit keys they count for, with many rows
	SELECT array_agg(x.program_id) AS p, array_agg(x.unit_service_id) AS s, array_agg(x.grain) AS g,
		   array_agg(x.period_start) AS t
	  INTO v_keys
	  FROM (SELECT DISTINCT r.program_id, r.unit_service_id, g.grain, date_trunc(g.grain, y.month)::date AS period_start
			  FROM unnest(v_services, v_months) AS y (service_id, month)
			  JOIN custfocus.report_unit r ON r.service_id = y.service_id
			 CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) AS g (grain)) x
	 WHERE (SELECT count(*) FROM custfocus.rollup_unit_period u
			 WHERE u.program_id = x.program_id AND u.unit_service_id = x.unit_service_id
			   AND u.grain = x.grain AND u.period_start = x.period_start) > 4;
	IF v_keys.p IS NOT NULL THEN
		PERFORM custfocus.rollup_units_compact(v_keys.p, v_keys.s, v_keys.g, v_keys.t);
	END IF;
	EXCEPTION WHEN serialization_failure THEN
		NULL;	-- left as it is: exact, less compact
	END;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_commit_compact() IS
'Trigger, deferred to commit: compacts the roll-up keys the committing transaction appended to that hold more than 4 rows';
CREATE CONSTRAINT TRIGGER rollup_commit_compact AFTER INSERT ON custfocus.rollup_pending
	DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW WHEN (NEW.signal) EXECUTE FUNCTION custfocus.rollup_commit_compact();

REVOKE ALL ON FUNCTION custfocus.rollup_commit_compact() FROM PUBLIC;
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
REVOKE ALL ON FUNCTION custfocus.rollup_units_delta(custfocus.rollup_service_month[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_units_compact(integer[], integer[], text[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_units_refresh(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_units_rebuild() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_fresh_add(bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_pending_signal() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_pending_consumed() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_fresh_take(bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_item_compute(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_item_refresh(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_item_compact(integer[], date[]) FROM PUBLIC;

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

-- The queue: the feedback not yet closed, each with the closed-loop figures
-- of its service, computed over all the service's feedback the role sees
-- (one group per service, where a filter on the service's or the program's
-- code passes into the grouping; a filter on the feedback itself reads the
-- figures of every service, over the feedback table only).  Feedback about
-- no service is, as in the table's policy, for the roles that see every
-- program; its figures are those of all feedback about no service.
-- A median of days is shown to one decimal: numeric(8,1) tells a client the
-- scale (a bare numeric arrives as a Decimal of unknown scale).
CREATE VIEW custfocus.feedback_queue WITH (security_barrier) AS
SELECT q.feedback_id, q.kind, q.status, q.owner, q.received_at,
	   (pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())::date
		- pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), q.received_at)::date) AS age_days,
	   q.acknowledged_at, q.program_code, q.service_code, q.channel, q.body,
	   q.service_open, q.service_closed_last_90_days,
	   q.service_median_days_to_close::numeric(8,1) AS service_median_days_to_close
  FROM (
	SELECT f.feedback_id, f.kind, f.status, f.owner, f.received_at, f.acknowledged_at,
		   l.program_code, l.service_code, f.channel, f.body,
		   l.open_count AS service_open, l.closed_recent AS service_closed_last_90_days,
		   l.median_days AS service_median_days_to_close
	  FROM (SELECT s.service_id, p.code AS program_code, s.code AS service_code,
				   count(*) FILTER (WHERE g.status <> 'closed') AS open_count,
				   count(*) FILTER (WHERE g.closed_at >= pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
								pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
								- interval '90 days')) AS closed_recent,
				   round(percentile_cont(0.5) WITHIN GROUP (
						ORDER BY extract(epoch FROM g.closed_at - g.received_at) / 86400)::numeric, 1) AS median_days
			  FROM custfocus.service s
			  JOIN custfocus.program p ON p.program_id = s.program_id
			  JOIN custfocus.feedback g ON g.service_id = s.service_id
			 WHERE (SELECT custfocus.sees_all_programs())
				OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
			 GROUP BY s.service_id, p.code, s.code) l
	  JOIN custfocus.feedback f ON f.service_id = l.service_id
	 WHERE f.status <> 'closed'
	UNION ALL
	SELECT f.feedback_id, f.kind, f.status, f.owner, f.received_at, f.acknowledged_at,
		   NULL::text, NULL::text, f.channel, f.body,
		   l.open_count, l.closed_recent, l.median_days
	  FROM (SELECT count(*) FILTER (WHERE g.status <> 'closed') AS open_count,
				   count(*) FILTER (WHERE g.closed_at >= pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
								pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
								- interval '90 days')) AS closed_recent,
				   round(percentile_cont(0.5) WITHIN GROUP (
						ORDER BY extract(epoch FROM g.closed_at - g.received_at) / 86400)::numeric, 1) AS median_days
			  FROM custfocus.feedback g
			 WHERE g.service_id IS NULL) l
	 CROSS JOIN custfocus.feedback f
	 WHERE f.service_id IS NULL AND f.status <> 'closed'
	   AND (SELECT custfocus.sees_all_programs())
  ) q
 ORDER BY q.received_at, q.feedback_id;
COMMENT ON VIEW custfocus.feedback_queue IS
'Feedback not yet closed about the services of the role''s programs (about no service: for roles that see every program), oldest first, with its age and, for its service, the closed-loop figures; days of the reporting time zone';
COMMENT ON COLUMN custfocus.feedback_queue.feedback_id IS 'Feedback key';
COMMENT ON COLUMN custfocus.feedback_queue.kind IS 'complaint, compliment, suggestion or question';
COMMENT ON COLUMN custfocus.feedback_queue.status IS 'open, acknowledged or actioned';
COMMENT ON COLUMN custfocus.feedback_queue.owner IS 'Who is handling it';
COMMENT ON COLUMN custfocus.feedback_queue.received_at IS 'When it arrived';
COMMENT ON COLUMN custfocus.feedback_queue.age_days IS 'Days from the date it arrived to today (dates in the reporting time zone)';
COMMENT ON COLUMN custfocus.feedback_queue.acknowledged_at IS 'When it was acknowledged (NULL: not yet)';
COMMENT ON COLUMN custfocus.feedback_queue.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.feedback_queue.service_code IS 'Service it is about';
COMMENT ON COLUMN custfocus.feedback_queue.channel IS 'How it arrived';
COMMENT ON COLUMN custfocus.feedback_queue.body IS 'What the customer said';
COMMENT ON COLUMN custfocus.feedback_queue.service_open IS 'Feedback about the same service not yet closed';
COMMENT ON COLUMN custfocus.feedback_queue.service_closed_last_90_days IS 'Feedback about the same service closed in the last 90 days (at or after the same time of day 90 days ago, days of the reporting time zone)';
COMMENT ON COLUMN custfocus.feedback_queue.service_median_days_to_close IS 'Median days from arrival to closing, over the service''s closed feedback, to one decimal (numeric(8,1))';

-- Themes: the lexemes (English stemming, stop words removed) that occur in
-- the most feedback bodies and free-text answers of a service.  A term is
-- shown only when it occurs in custfocus.min_responses() documents or more,
-- so a rare word cannot point at one respondent; the floor is applied in
-- the view, before the ranking, so nothing below it leaves.  Ties in
-- documents rank in term order.  The free-text answers are found through
-- answer_text_idx, a partial index of the answers that have a text (a small
-- share of them), rather than by reading every answer: per service, its
-- responses (response index by service) and their text answers; read whole,
-- the partial index.  The windows are partitioned by the service's id and
-- codes, so a filter on service_code or program_code reaches the tables.
-- A percent is shown to one decimal, 0.0 to 100.0: numeric(4,1).
CREATE VIEW custfocus.voc_themes WITH (security_barrier) AS
SELECT x.program_code, x.service_code, x.lexeme AS term, x.documents, x.feedback_documents, x.answer_documents,
	   round(100.0 * x.documents / x.service_documents, 1)::numeric(4,1) AS share_of_documents,
	   x.rnk AS rank, x.example
  FROM (
	SELECT c.*, rank() OVER (PARTITION BY c.service_id, c.program_code, c.service_code
							 ORDER BY c.documents DESC, c.lexeme)::integer AS rnk
	  FROM (
		SELECT d.service_id, d.program_code, d.service_code, t.lexeme, count(*) AS documents,
			   count(*) FILTER (WHERE d.source = 'feedback') AS feedback_documents,
			   count(*) FILTER (WHERE d.source = 'answer') AS answer_documents,
			   min(d.txt) AS example, max(d.service_documents) AS service_documents
		  FROM (
			SELECT doc.*, count(*) OVER (PARTITION BY doc.service_id, doc.program_code, doc.service_code)
						  AS service_documents
			  FROM (
				SELECT s.service_id, p.code AS program_code, s.code AS service_code,
					   'feedback' AS source, f.body AS txt
				  FROM custfocus.service s
				  JOIN custfocus.program p ON p.program_id = s.program_id
				  JOIN custfocus.feedback f ON f.service_id = s.service_id
				 WHERE (SELECT custfocus.sees_all_programs())
					OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
				UNION ALL
				SELECT s.service_id, p.code, s.code, 'answer', a.text_value
				  FROM custfocus.service s
				  JOIN custfocus.program p ON p.program_id = s.program_id
				  JOIN custfocus.response r ON r.service_id = s.service_id
				  JOIN custfocus.answer a ON a.response_id = r.response_id
				 WHERE a.text_value IS NOT NULL
				   AND ((SELECT custfocus.sees_all_programs())
						OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
			  ) doc
		  ) d
		 CROSS JOIN LATERAL unnest(pg_catalog.tsvector_to_array(
				pg_catalog.to_tsvector('pg_catalog.english'::regconfig, d.txt))) AS t (lexeme)
		 GROUP BY d.service_id, d.program_code, d.service_code, t.lexeme
		HAVING count(*) >= (SELECT custfocus.min_responses())
	  ) c
  ) x
 WHERE x.rnk <= 20
 ORDER BY x.program_code, x.service_code, x.rnk;
COMMENT ON VIEW custfocus.voc_themes IS
'Voice of the customer: for each service of the role''s programs, the 20 terms (full-text lexemes) found in the most feedback bodies and free-text answers (ties in term order); terms in fewer than custfocus.min_responses() documents are not shown';
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
-------------------------------------------------------------------------------
-- Scoring views: scorecard, trends and control charts, measures, key drivers
-- and improvement opportunities
-------------------------------------------------------------------------------

CREATE FUNCTION custfocus.oriented_score(value double precision, reverse_coded boolean,
										 scale_min double precision, scale_max double precision)
RETURNS double precision
AS 'MODULE_PATHNAME', 'oriented_score'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.oriented_score(double precision, boolean, double precision, double precision) IS
'An answer turned so that a higher code is better: scale_min + scale_max - value for a reverse-coded item';

-- Periods: the label a period is shown with, and the start of the period
-- before it, for the grains the views use (month, quarter, year).  SQL-
-- standard bodies, bound when created (no search_path is looked up when they
-- run), and not STRICT, so that the planner inlines them into the views: a
-- function with its own search_path is a call with a configuration change
-- for every row, which dominated reading the whole scorecard.
CREATE FUNCTION custfocus.period_label(grain text, period_start date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE grain WHEN 'month' THEN pg_catalog.to_char(period_start, 'YYYY-MM')
				  WHEN 'quarter' THEN pg_catalog.to_char(period_start, 'YYYY-"Q"Q')
				  WHEN 'year' THEN pg_catalog.to_char(period_start, 'YYYY') END;
COMMENT ON FUNCTION custfocus.period_label(text, date) IS
'A period as text: 2026-03 (month), 2026-Q1 (quarter) or 2026 (year)';

CREATE FUNCTION custfocus.previous_period(grain text, period_start date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (period_start OPERATOR(pg_catalog.-) CASE grain WHEN 'month' THEN interval '1 month'
													  WHEN 'quarter' THEN interval '3 months'
													  WHEN 'year' THEN interval '1 year' END)::date;
COMMENT ON FUNCTION custfocus.previous_period(text, date) IS
'First day of the period before the one starting on period_start, at the given grain';

-- The p-chart of one series, in one place for every view that draws one.
-- Points with fewer than p_min_n answers are not shown (p NULL) and take no
-- part in the centre line or the run rules: a centre line that counted them
-- would give their successes away (the centre of a series whose only point
-- is suppressed is that point's percent).  With no point shown there is no
-- centre line and no limits.
CREATE FUNCTION custfocus.p_chart(p_x double precision[], p_n double precision[], p_min_n integer DEFAULT 0)
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

-- The units a service's answers count for: the service itself, and every
-- program it is under that the role may see (a roll-up of a program the role
-- cannot see would show part of another program under its name).
CREATE FUNCTION custfocus.scoring_units(p_role name)
RETURNS TABLE (service_id integer, level text, program_id integer, unit_service_id integer)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH RECURSIVE v AS (
		SELECT custfocus.sees_all_programs(p_role) AS sees_all,
			   custfocus.visible_program_ids(p_role) AS programs,
			   custfocus.visible_service_ids(p_role) AS services
	),
	svc AS (
		SELECT s.service_id, s.program_id FROM v
		  JOIN custfocus.service s ON v.sees_all OR s.service_id = ANY (v.services)
	),
	up (service_id, program_id) AS (
		SELECT svc.service_id, svc.program_id FROM svc
		UNION ALL
		SELECT up.service_id, p.parent_id FROM up
		  JOIN custfocus.program p ON p.program_id = up.program_id
		 WHERE p.parent_id IS NOT NULL
	)
	SELECT svc.service_id, 'service'::text, svc.program_id, svc.service_id FROM svc
	UNION ALL
	SELECT up.service_id, 'program', up.program_id, NULL::integer
	  FROM up, v WHERE v.sees_all OR up.program_id = ANY (v.programs)
$$;
COMMENT ON FUNCTION custfocus.scoring_units(name) IS
'For each service the role may see: the service itself and every program above it that the role may see (the units its answers count for)';
REVOKE ALL ON FUNCTION custfocus.scoring_units(name) FROM PUBLIC;

-- Scorecard.  Every answer counts for its service, for the service's program
-- and for every program above it (the roll-ups), at three grains.  It reads
-- the roll-up per unit and period (rollup_unit_period, see
-- src/sql/rollup.sql), never the answers: its cost follows the number of
-- units and periods, not of answers, and a filter on a unit's code, the
-- grain or the level reaches the roll-up's index.
--
-- The view runs with its owner's rights over tables the reader cannot read
-- (the roll-ups hold unsuppressed small groups), so it keeps to the
-- caller's programs itself, and it is a security_barrier view: a caller's
-- WHERE with a function that is not leakproof cannot see a row before that
-- rule has removed it.  CURRENT_USER inside is the caller.
--
-- Rules a reader can recompute from the raw data:
--   * periods are months, quarters and years of the reporting time zone
--     (custfocus.reporting_time_zone());
--   * a score is suppressed (NULL, with its weighted sums) when it has
--     answers, but fewer than custfocus.min_responses(); a score with no
--     answers at all is NULL and not suppressed (nothing is hidden);
--   * the change columns compare with the period just before, at the same
--     grain, only when both scores are shown.
CREATE VIEW custfocus.scorecard WITH (security_barrier) AS
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

-- Satisfaction trend: the p-chart of CSAT (overall-satisfaction answers in
-- the top two categories) per service and program, at each grain, from the
-- roll-up's unweighted counts (a p-chart's limits assume counts).  Same
-- access rule and security_barrier as the scorecard.
CREATE VIEW custfocus.satisfaction_trend WITH (security_barrier) AS
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

-- Performance measures, read from the roll-ups: a measure of an item or a
-- requirement merges the item roll-up of its items (the item, or every item
-- measuring the requirement) over the services in its scope (the service,
-- or every service under the program) and the months of each period of the
-- reporting time zone; response_count sums rollup_service_month.  Only
-- active measures of programs the role may see are shown.
--
-- Rules a reader can recompute from the raw data:
--   * csat is the weighted percent of answers in the top two categories of
--     their scale (score >= maximum - 1); top_box the same on scales of 5
--     points or more, the top category on smaller ones; bottom_box the
--     bottom two categories (<= minimum + 1) on scales of 5 points or more,
--     the bottom one on smaller ones; nps 100 x (promoters - detractors) /
--     all, weighted (scores >= 9 and <= 6); linear_mean the weighted mean on
--     0..100; mean the unweighted mean score; ces the weighted mean score;
--     scores oriented (reverse-coded items flipped);
--   * n is the number of answers (of responses for response_count); a
--     period with fewer than custfocus.min_responses() answers is suppressed
--     (actual and in_box NULL; response_count never is);
--   * previous_actual, change and trend compare with the period just before,
--     when both are shown; trend_slope is the least-squares slope over the
--     last 4 periods with data, suppressed ones counted as gaps.
-- The window columns partition by the measure's codes as well as its id, so
-- that a filter on measure_code, program_code or service_code reaches the
-- roll-ups' indexes.
CREATE VIEW custfocus.measure_status WITH (security_barrier) AS
SELECT z.code AS measure_code, z.name AS measure_name, z.program_code, z.service_code, z.metric, z.period,
	   z.period_start, custfocus.period_label(z.period, z.period_start) AS period_label,
	   z.n, z.shown AS actual, z.target, z.direction,
	   CASE WHEN z.direction = 'higher' THEN z.shown >= z.target ELSE z.shown <= z.target END AS met,
	   z.shown - z.target AS distance_to_target,
	   CASE WHEN z.adjacent THEN z.prev END AS previous_actual,
	   CASE WHEN z.adjacent THEN z.shown - z.prev END AS change,
	   CASE WHEN NOT z.adjacent OR z.shown IS NULL OR z.prev IS NULL THEN NULL
			WHEN z.shown = z.prev THEN 'steady'
			WHEN (z.shown > z.prev) = (z.direction = 'higher') THEN 'improving'
			ELSE 'worsening' END AS trend,
	   z.slope AS trend_slope, z.baseline, z.supp AS suppressed,
	   CASE WHEN NOT z.supp AND z.metric IN ('csat', 'top_box', 'bottom_box') THEN z.n_box END AS in_box
  FROM (
	SELECT y.*,
		   lag(y.period_start) OVER w = custfocus.previous_period(y.period, y.period_start) AS adjacent,
		   lag(y.shown) OVER w AS prev,
		   regr_slope(y.shown, y.k) OVER (w ROWS 3 PRECEDING) AS slope
	  FROM (
		SELECT x.*, CASE WHEN NOT x.supp THEN x.actual END AS shown,
			   row_number() OVER (PARTITION BY x.measure_id, x.code, x.program_code, x.service_code
								  ORDER BY x.period_start) AS k
		  FROM (
			SELECT g.*, g.metric <> 'response_count' AND g.n < v.min_n AS supp,
				   CASE g.metric
					 WHEN 'csat' THEN 100 * g.w_box / nullif(g.sum_w, 0)
					 WHEN 'top_box' THEN 100 * g.w_box / nullif(g.sum_w, 0)
					 WHEN 'bottom_box' THEN 100 * g.w_box / nullif(g.sum_w, 0)
					 WHEN 'nps' THEN 100 * (g.w_promoters - g.w_detractors) / nullif(g.sum_w, 0)
					 WHEN 'linear_mean' THEN (lm_r).mean
					 WHEN 'mean' THEN g.sum_x / nullif(g.n, 0)
					 WHEN 'ces' THEN g.sum_wx / nullif(g.sum_w, 0)
					 WHEN 'response_count' THEN g.n END AS actual
			  FROM (
				-- each measure's figures per period, merged over its items,
				-- services and months
				SELECT m.measure_id, m.code, m.name, m.metric, m.period, m.target, m.direction, m.baseline,
					   coalesce(mp.code, sp.code) AS program_code, ms.code AS service_code,
					   date_trunc(m.period, r.month)::date AS period_start,
					   sum(r.n)::bigint AS n, sum(r.sum_w) AS sum_w, sum(r.sum_x) AS sum_x, sum(r.sum_wx) AS sum_wx,
					   sum(CASE WHEN m.metric = 'bottom_box'
								THEN CASE WHEN sc.max_value - sc.min_value >= 4 THEN r.w_bottom2 ELSE r.w_bottom1 END
								WHEN m.metric = 'csat' OR sc.max_value - sc.min_value >= 4 THEN r.w_top2
								ELSE r.w_top1 END) AS w_box,
					   sum(CASE WHEN m.metric = 'bottom_box'
								THEN CASE WHEN sc.max_value - sc.min_value >= 4 THEN r.n_bottom2 ELSE r.n_bottom1 END
								WHEN m.metric = 'csat' OR sc.max_value - sc.min_value >= 4 THEN r.n_top2
								ELSE r.n_top1 END)::bigint AS n_box,
					   sum(r.w_promoters) AS w_promoters, sum(r.w_detractors) AS w_detractors,
					   custfocus.moments_sum(r.perf) AS perf
				  FROM custfocus.measure m
				  LEFT JOIN custfocus.program mp ON mp.program_id = m.program_id
				  LEFT JOIN custfocus.service ms ON ms.service_id = m.service_id
				  LEFT JOIN custfocus.program sp ON sp.program_id = ms.program_id
				  JOIN (SELECT u.program_id, NULL::integer AS scope_service_id, u.service_id
						  FROM custfocus.report_unit u WHERE u.level = 'program'
						UNION ALL
						SELECT NULL, s.service_id, s.service_id FROM custfocus.service s) sc_
					ON sc_.program_id = m.program_id OR sc_.scope_service_id = m.service_id
				  JOIN custfocus.item i ON i.item_id = m.item_id OR i.requirement_id = m.requirement_id
				  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
				  -- a lateral probe of the roll-up per service and item (the
				  -- fence keeps both as index conditions: joined, the planner
				  -- read all of a service's rows and filtered on the item)
				 CROSS JOIN LATERAL (SELECT r.* FROM custfocus.rollup_item_month r
									  WHERE r.service_id = sc_.service_id AND r.item_id = i.item_id OFFSET 0) r
				 WHERE m.active AND m.metric <> 'response_count'
				   AND ((SELECT custfocus.sees_all_programs())
						OR coalesce(m.program_id, ms.program_id) = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
				 GROUP BY m.measure_id, m.code, m.name, m.metric, m.period, m.target, m.direction, m.baseline,
						  coalesce(mp.code, sp.code), ms.code, date_trunc(m.period, r.month)::date
				UNION ALL
				SELECT m.measure_id, m.code, m.name, m.metric, m.period, m.target, m.direction, m.baseline,
					   coalesce(mp.code, sp.code), ms.code, date_trunc(m.period, r.month)::date,
					   sum(r.responses)::bigint, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
				  FROM custfocus.measure m
				  LEFT JOIN custfocus.program mp ON mp.program_id = m.program_id
				  LEFT JOIN custfocus.service ms ON ms.service_id = m.service_id
				  LEFT JOIN custfocus.program sp ON sp.program_id = ms.program_id
				  JOIN (SELECT u.program_id, NULL::integer AS scope_service_id, u.service_id
						  FROM custfocus.report_unit u WHERE u.level = 'program'
						UNION ALL
						SELECT NULL, s.service_id, s.service_id FROM custfocus.service s) sc_
					ON sc_.program_id = m.program_id OR sc_.scope_service_id = m.service_id
				  JOIN custfocus.rollup_service_month r ON r.service_id = sc_.service_id
				 WHERE m.active AND m.metric = 'response_count'
				   AND ((SELECT custfocus.sees_all_programs())
						OR coalesce(m.program_id, ms.program_id) = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
				 GROUP BY m.measure_id, m.code, m.name, m.metric, m.period, m.target, m.direction, m.baseline,
						  coalesce(mp.code, sp.code), ms.code, date_trunc(m.period, r.month)::date
			  ) g
			 -- each result computed once (see the scorecard)
			 CROSS JOIN LATERAL custfocus.linear_mean_stats_final(g.perf) AS lm_r
			 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
		  ) x
	  ) y
	WINDOW w AS (PARTITION BY y.measure_id, y.code, y.program_code, y.service_code ORDER BY y.period_start)
  ) z
 ORDER BY z.code, z.period_start;
COMMENT ON VIEW custfocus.measure_status IS
'Each active performance measure in each of its periods (of the reporting time zone) with data: the actual value computed from the answers (weighted), the target, whether it was met, and the trend; read from the roll-ups';
COMMENT ON COLUMN custfocus.measure_status.measure_code IS 'Measure code';
COMMENT ON COLUMN custfocus.measure_status.measure_name IS 'Measure name';
COMMENT ON COLUMN custfocus.measure_status.program_code IS 'Program measured, or the program of the service measured';
COMMENT ON COLUMN custfocus.measure_status.service_code IS 'Service measured (NULL for a program measure)';
COMMENT ON COLUMN custfocus.measure_status.metric IS 'csat, top_box, bottom_box, nps, linear_mean, mean, ces or response_count';
COMMENT ON COLUMN custfocus.measure_status.period IS 'The measure''s period: month, quarter or year';
COMMENT ON COLUMN custfocus.measure_status.period_start IS 'First day of the period';
COMMENT ON COLUMN custfocus.measure_status.period_label IS 'Period as text';
COMMENT ON COLUMN custfocus.measure_status.n IS 'Answers (responses for response_count) in the period';
COMMENT ON COLUMN custfocus.measure_status.actual IS 'Value of the metric in the period (NULL when suppressed): percent for box metrics, -100..100 for nps, 0..100 for linear_mean, the scale for mean and ces';
COMMENT ON COLUMN custfocus.measure_status.target IS 'Target';
COMMENT ON COLUMN custfocus.measure_status.direction IS 'higher or lower is better';
COMMENT ON COLUMN custfocus.measure_status.met IS 'The actual value is on the good side of the target (or equal to it)';
COMMENT ON COLUMN custfocus.measure_status.distance_to_target IS 'Actual minus target';
COMMENT ON COLUMN custfocus.measure_status.previous_actual IS 'Actual value of the period just before (NULL if none shown)';
COMMENT ON COLUMN custfocus.measure_status.change IS 'Actual minus previous actual';
COMMENT ON COLUMN custfocus.measure_status.trend IS 'improving, worsening or steady against the period just before, in the measure''s direction';
COMMENT ON COLUMN custfocus.measure_status.trend_slope IS 'Least-squares slope of the actual value per period over the last 4 periods with data';
COMMENT ON COLUMN custfocus.measure_status.baseline IS 'The measure''s baseline value';
COMMENT ON COLUMN custfocus.measure_status.suppressed IS 'True when the period has fewer than custfocus.min_responses answers (response_count is never suppressed)';
COMMENT ON COLUMN custfocus.measure_status.in_box IS 'For csat, top_box and bottom_box: answers in the box, unweighted (NULL when suppressed): the control chart''s successes of n';

-- The p-chart of every proportion measure, from measure_status's unweighted
-- counts (a p-chart's limits assume counts): suppressed periods are drawn
-- without a point and take no part in the centre line (p_chart).
CREATE VIEW custfocus.control_chart WITH (security_barrier) AS
SELECT x.measure_code, x.measure_name, x.metric, x.period, x.periods[c.point] AS period_start,
	   custfocus.period_label(x.period, x.periods[c.point]) AS period_label,
	   c.n::bigint AS n, 100 * c.p AS p, 100 * c.centre AS centre, 100 * c.lcl AS lcl, 100 * c.ucl AS ucl,
	   c.outside, c.run_of_8, c.trend_of_6, c.signal, c.p IS NULL AS suppressed
  FROM (
	SELECT s.measure_code, s.measure_name, s.metric, s.period,
		   array_agg(s.period_start ORDER BY s.period_start) AS periods,
		   -- a suppressed period's successes are not shown, and p_chart
		   -- does not use them (n < min_n): 0 stands in
		   array_agg(coalesce(s.in_box, 0)::double precision ORDER BY s.period_start) AS xs,
		   array_agg(s.n::double precision ORDER BY s.period_start) AS ns
	  FROM custfocus.measure_status s
	 WHERE s.metric IN ('csat', 'top_box', 'bottom_box') AND s.n > 0
	 GROUP BY s.measure_code, s.measure_name, s.metric, s.period
  ) x
 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
 CROSS JOIN LATERAL custfocus.p_chart(x.xs, x.ns, v.min_n) c
 ORDER BY x.measure_code, c.point;
COMMENT ON VIEW custfocus.control_chart IS
'p-chart of every active proportion measure (csat, top_box, bottom_box) over its periods with answers: percent, centre line, 3-sigma limits and run signals; unweighted counts (those of measure_status)';
COMMENT ON COLUMN custfocus.control_chart.measure_code IS 'Measure code';
COMMENT ON COLUMN custfocus.control_chart.measure_name IS 'Measure name';
COMMENT ON COLUMN custfocus.control_chart.metric IS 'csat, top_box or bottom_box';
COMMENT ON COLUMN custfocus.control_chart.period IS 'The measure''s period';
COMMENT ON COLUMN custfocus.control_chart.period_start IS 'First day of the period';
COMMENT ON COLUMN custfocus.control_chart.period_label IS 'Period as text';
COMMENT ON COLUMN custfocus.control_chart.n IS 'Answers in the period';
COMMENT ON COLUMN custfocus.control_chart.p IS 'Percent in the box (NULL when suppressed)';
COMMENT ON COLUMN custfocus.control_chart.centre IS 'Centre line: percent in the box over all periods';
COMMENT ON COLUMN custfocus.control_chart.lcl IS 'Lower control limit for this period''s n (percent)';
COMMENT ON COLUMN custfocus.control_chart.ucl IS 'Upper control limit for this period''s n (percent)';
COMMENT ON COLUMN custfocus.control_chart.outside IS 'The point is outside the control limits';
COMMENT ON COLUMN custfocus.control_chart.run_of_8 IS 'The point ends a run of 8 or more on one side of the centre line';
COMMENT ON COLUMN custfocus.control_chart.trend_of_6 IS 'The point ends 6 or more points steadily rising or falling';
COMMENT ON COLUMN custfocus.control_chart.signal IS 'The signals of the point in words (NULL: none)';
COMMENT ON COLUMN custfocus.control_chart.suppressed IS 'True when the period has fewer than custfocus.min_responses answers';

-- Key drivers and importance-performance analysis, over a window of the
-- latest 12 months of each service's data in each survey, read from the
-- item roll-up (rollup_item_month) rather than from the answers.
--
-- Rules a reader can recompute from the raw data:
--   * the window is the 12 months of the reporting time zone ending with the
--     latest month in which respondents of the service answered one of the
--     survey's requirement items (window_start is the first day of its first
--     month, window_end the last day of its last);
--   * performance is the weighted linear mean (0..100, reverse-coded items
--     flipped) of every answer to the requirement's items in the window;
--   * derived importance is 100 times Pearson's r (unweighted) between those
--     answers and the same respondent's answer to the survey's overall item,
--     over every respondent who answered both (pairwise deletion), negative
--     r counting as 0; with fewer than custfocus.min_responses() pairs it is
--     not shown and the stated importance (service_requirement, else
--     requirement) stands in;
--   * the crosshairs are the means of the importance and performance of the
--     service's plotted requirements (both shown) in the survey, and a value
--     equal to a crosshair (to 1e-9 relative) counts as high.
-- Same access rule and security_barrier as the scorecard.  The window
-- columns partition by the codes as well as the ids, so that a filter on
-- program_code, service_code or survey_code reaches the roll-up's index.
CREATE VIEW custfocus.key_drivers WITH (security_barrier) AS
SELECT x.program_code, x.service_code, x.survey_code, x.requirement_code, x.requirement_name,
	   x.window_start, x.window_end, x.n,
	   CASE WHEN x.pairs_n >= x.min_n THEN x.r END AS correlation,
	   x.derived AS derived_importance, x.stated AS stated_importance, x.importance,
	   CASE WHEN x.derived IS NOT NULL THEN 'derived' WHEN x.stated IS NOT NULL THEN 'stated' END AS importance_source,
	   x.performance, x.importance - x.performance AS gap, x.importance * (x.importance - x.performance) AS priority,
	   CASE WHEN x.importance IS NULL OR x.performance IS NULL THEN NULL
			WHEN x.importance >= x.imp_low AND x.performance < x.perf_low THEN 'Concentrate here'
			WHEN x.importance >= x.imp_low THEN 'Keep up the good work'
			WHEN x.performance < x.perf_low THEN 'Low priority'
			ELSE 'Possible overkill' END AS quadrant,
	   x.n < x.min_n OR (x.pairs_n > 0 AND x.pairs_n < x.min_n) AS suppressed
  FROM (
	-- a value on a crosshair counts as high, and "on" means within 1e-9 of
	-- it (relative): a mean equal to one of the values it averages may come
	-- out a rounding error above or below it, depending on the order the
	-- roll-up merged its states in
	SELECT c.*, c.imp_mid - 1e-9 * greatest(abs(c.imp_mid), 1) AS imp_low,
		   c.perf_mid - 1e-9 * greatest(abs(c.perf_mid), 1) AS perf_low
	  FROM (
	SELECT b.*,
		   avg(b.importance) FILTER (WHERE b.importance IS NOT NULL AND b.performance IS NOT NULL) OVER w AS imp_mid,
		   avg(b.performance) FILTER (WHERE b.importance IS NOT NULL AND b.performance IS NOT NULL) OVER w AS perf_mid
	  FROM (
		SELECT m.program_code, m.service_id, m.service_code, m.survey_id, m.survey_code,
			   rq.code AS requirement_code, rq.name AS requirement_name, m.window_start, m.window_end,
			   (lm_r).n, c.pairs_n, c.r, v.min_n,
			   CASE WHEN c.pairs_n >= v.min_n AND c.r IS NOT NULL THEN 100 * greatest(c.r, 0) END AS derived,
			   coalesce(sr.importance, rq.importance) AS stated,
			   coalesce(CASE WHEN c.pairs_n >= v.min_n AND c.r IS NOT NULL THEN 100 * greatest(c.r, 0) END,
						sr.importance, rq.importance) AS importance,
			   CASE WHEN (lm_r).n >= v.min_n THEN (lm_r).mean END AS performance
		  FROM (
			-- each service's window in each survey (its requirement items,
			-- the overall item excepted), and the states merged over it
			SELECT p.code AS program_code, s.service_id, s.code AS service_code, sv.survey_id, sv.code AS survey_code,
				   i.requirement_id, w.window_start, w.window_end,
				   custfocus.moments_sum(d.perf) AS perf, custfocus.pairs_sum(d.pairs) AS pairs
			  FROM custfocus.service s
			  JOIN custfocus.program p ON p.program_id = s.program_id
			 CROSS JOIN LATERAL (
					SELECT li.survey_id, (max(l.month) - interval '11 months')::date AS window_start,
						   (max(l.month) + interval '1 month' - interval '1 day')::date AS window_end
					  FROM custfocus.rollup_item_month l
					  JOIN custfocus.item li ON li.item_id = l.item_id AND li.requirement_id IS NOT NULL AND NOT li.is_overall
					 WHERE l.service_id = s.service_id
					 GROUP BY li.survey_id) w
			  JOIN custfocus.survey sv ON sv.survey_id = w.survey_id
			  JOIN custfocus.item i ON i.survey_id = w.survey_id AND i.requirement_id IS NOT NULL AND NOT i.is_overall
			  JOIN custfocus.rollup_item_month d ON d.service_id = s.service_id AND d.item_id = i.item_id
				   AND d.month >= w.window_start AND d.month <= w.window_end
			 WHERE (SELECT custfocus.sees_all_programs())
				OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
			 GROUP BY p.code, s.service_id, s.code, sv.survey_id, sv.code, i.requirement_id, w.window_start, w.window_end
		  ) m
		 -- each result computed once (see the scorecard)
		 CROSS JOIN LATERAL custfocus.linear_mean_stats_final(m.perf) AS lm_r
		 CROSS JOIN LATERAL (SELECT m.pairs[1]::bigint AS pairs_n, custfocus.pairs_corr(m.pairs) AS r OFFSET 0) c
		  JOIN custfocus.requirement rq ON rq.requirement_id = m.requirement_id
		  LEFT JOIN custfocus.service_requirement sr ON sr.service_id = m.service_id AND sr.requirement_id = m.requirement_id
		 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
	  ) b
	WINDOW w AS (PARTITION BY b.program_code, b.service_id, b.service_code, b.survey_id, b.survey_code)
	  ) c
  ) x
 ORDER BY x.program_code, x.service_code, x.survey_code, x.requirement_code;
COMMENT ON VIEW custfocus.key_drivers IS
'Importance-performance analysis per service and survey over its latest 12 months of the reporting time zone: each requirement''s importance (derived: 100 x Pearson r with the overall item, pairwise; else stated), performance (linear mean 0..100), gap, priority and quadrant; read from the item roll-up';
COMMENT ON COLUMN custfocus.key_drivers.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.key_drivers.service_code IS 'Service';
COMMENT ON COLUMN custfocus.key_drivers.survey_code IS 'Survey whose items measure the requirement';
COMMENT ON COLUMN custfocus.key_drivers.requirement_code IS 'Requirement (key driver)';
COMMENT ON COLUMN custfocus.key_drivers.requirement_name IS 'Requirement name';
COMMENT ON COLUMN custfocus.key_drivers.window_start IS 'First day of the 12 months analysed (months of the reporting time zone)';
COMMENT ON COLUMN custfocus.key_drivers.window_end IS 'Last day of the 12 months analysed: the end of the latest month with answers to the survey''s requirement items about the service';
COMMENT ON COLUMN custfocus.key_drivers.n IS 'Answers to the requirement''s items in the window';
COMMENT ON COLUMN custfocus.key_drivers.correlation IS 'Pearson r between the requirement''s items and the overall-satisfaction item (same respondent, every respondent who answered both; unweighted; NULL when fewer than custfocus.min_responses() pairs)';
COMMENT ON COLUMN custfocus.key_drivers.derived_importance IS '100 x r, negative r as 0 (NULL when fewer than custfocus.min_responses pairs)';
COMMENT ON COLUMN custfocus.key_drivers.stated_importance IS 'Stated importance of the requirement for the service (service_requirement, else requirement)';
COMMENT ON COLUMN custfocus.key_drivers.importance IS 'Importance used: derived if available, else stated (0..100)';
COMMENT ON COLUMN custfocus.key_drivers.importance_source IS 'derived or stated';
COMMENT ON COLUMN custfocus.key_drivers.performance IS 'Linear mean of the requirement''s items on 0..100, weighted (NULL when suppressed)';
COMMENT ON COLUMN custfocus.key_drivers.gap IS 'Importance minus performance';
COMMENT ON COLUMN custfocus.key_drivers.priority IS 'Importance x gap';
COMMENT ON COLUMN custfocus.key_drivers.quadrant IS 'Concentrate here, Keep up the good work, Low priority or Possible overkill, around crosshairs at the mean importance and performance of the service''s plotted requirements (a value on a crosshair, to 1e-9 relative, counts as high)';
COMMENT ON COLUMN custfocus.key_drivers.suppressed IS 'True when the performance (fewer than custfocus.min_responses answers) or the derived importance (fewer pairs with the overall item, but some) is not shown';

-- The headline view: every (service, requirement) of key_drivers with a
-- priority, ranked over all the role sees (so a filter cannot reach below
-- the rank: it is computed from the key-driver rows, a few per service).
-- Ties in priority rank by the larger gap, then service and requirement
-- code; priorities and gaps equal to 6 decimals tie (they are merged from
-- float states, and the order of merging moves their last bits).  Open actions are those planned or in progress for the same
-- service and requirement.
CREATE VIEW custfocus.improvement_opportunities WITH (security_barrier) AS
SELECT x.rnk AS rank, x.program_code, x.service_code, x.survey_code, x.requirement_code, x.requirement_name,
	   x.importance, x.importance_source, x.performance, x.gap, x.priority, x.quadrant, x.n,
	   x.open_n AS open_actions, x.titles AS open_action_titles,
	   format('%s at %s (survey %s): importance %s (%s) against performance %s on 0..100, a gap of %s, so priority %s (importance x gap); %s; %s',
			  x.requirement_name, x.service_code, x.survey_code, round(x.importance::numeric),
			  x.importance_source || CASE WHEN x.importance_source = 'derived'
										  THEN format(', r = %s', round((x.importance / 100)::numeric, 2)) ELSE '' END,
			  round(x.performance::numeric), round(x.gap::numeric), round(x.priority::numeric),
			  x.quadrant,
			  CASE WHEN x.open_n = 0 THEN 'no open improvement action'
				   ELSE format('%s open action(s): %s', x.open_n, x.titles) END) AS reason
  FROM (
	SELECT rank() OVER (ORDER BY round(k.priority::numeric, 6) DESC, round(k.gap::numeric, 6) DESC,
							k.service_code, k.requirement_code)::integer AS rnk,
		   k.*, coalesce(act.n, 0) AS open_n, act.titles
	  FROM custfocus.key_drivers k
	  LEFT JOIN (
			SELECT s.code AS service_code, rq.code AS requirement_code, count(*) AS n,
				   string_agg(a.title, '; ' ORDER BY a.opened_on, a.action_id) AS titles
			  FROM custfocus.improvement_action a
			  JOIN custfocus.service s ON s.service_id = a.service_id
			  JOIN custfocus.requirement rq ON rq.requirement_id = a.requirement_id
			 WHERE a.status IN ('planned', 'in_progress')
			 GROUP BY s.code, rq.code) act
		ON act.service_code = k.service_code AND act.requirement_code = k.requirement_code
	 WHERE k.priority IS NOT NULL
  ) x
 ORDER BY x.rnk, x.service_code, x.requirement_code;
COMMENT ON VIEW custfocus.improvement_opportunities IS
'The headline view: every (service, requirement) ranked by priority = importance x (importance - performance), with its quadrant, n, the open improvement actions and the reason it ranks where it does';
COMMENT ON COLUMN custfocus.improvement_opportunities.rank IS 'Rank, 1 = improve first (by priority, then gap, both to 6 decimals; then service and requirement code)';
COMMENT ON COLUMN custfocus.improvement_opportunities.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.improvement_opportunities.service_code IS 'Service';
COMMENT ON COLUMN custfocus.improvement_opportunities.survey_code IS 'Survey the figures come from';
COMMENT ON COLUMN custfocus.improvement_opportunities.requirement_code IS 'Requirement (key driver)';
COMMENT ON COLUMN custfocus.improvement_opportunities.requirement_name IS 'Requirement name';
COMMENT ON COLUMN custfocus.improvement_opportunities.importance IS 'Importance on 0..100 (see importance_source)';
COMMENT ON COLUMN custfocus.improvement_opportunities.importance_source IS 'derived (from the correlation with overall satisfaction) or stated';
COMMENT ON COLUMN custfocus.improvement_opportunities.performance IS 'Performance: linear mean of the requirement''s items on 0..100';
COMMENT ON COLUMN custfocus.improvement_opportunities.gap IS 'Importance minus performance';
COMMENT ON COLUMN custfocus.improvement_opportunities.priority IS 'Importance x gap: the ranking key';
COMMENT ON COLUMN custfocus.improvement_opportunities.quadrant IS 'Importance-performance quadrant';
COMMENT ON COLUMN custfocus.improvement_opportunities.n IS 'Answers behind the performance figure';
COMMENT ON COLUMN custfocus.improvement_opportunities.open_actions IS 'Improvement actions planned or in progress for this service and requirement';
COMMENT ON COLUMN custfocus.improvement_opportunities.open_action_titles IS 'Their titles';
COMMENT ON COLUMN custfocus.improvement_opportunities.reason IS 'Why the row ranks where it does, in words';
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
