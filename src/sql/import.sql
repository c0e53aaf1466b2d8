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

