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

