-- Import and privileges: the functions are not PUBLIC's, the file form needs
-- pg_read_server_files, and rows go in with the caller's own rights (table
-- privileges, row-level security), as with any INSERT.
\set datadir `pwd`/test/data/
\set csv `cat test/data/plain_codes.csv`
SET client_min_messages = warning;
DELETE FROM custfocus.response;

SELECT p.oid::regprocedure AS function, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_run,
	   p.provolatile, p.proparallel, p.proconfig
  FROM pg_proc p
 WHERE p.pronamespace = 'custfocus'::regnamespace AND p.proname LIKE 'import_responses%'
 ORDER BY 1;

-- An analyst: may run the import and read and write what it touches
CREATE ROLE regress_cf_analyst;
GRANT USAGE ON SCHEMA custfocus TO regress_cf_analyst;
GRANT EXECUTE ON FUNCTION custfocus.import_responses(text, text, jsonb),
	custfocus.import_responses_file(text, text, jsonb) TO regress_cf_analyst;
GRANT SELECT ON custfocus.survey, custfocus.item, custfocus.scale, custfocus.scale_label,
	custfocus.service, custfocus.segment TO regress_cf_analyst;
GRANT SELECT, INSERT ON custfocus.response, custfocus.import_error TO regress_cf_analyst;
GRANT SELECT, INSERT, UPDATE ON custfocus.import_batch TO regress_cf_analyst;
GRANT USAGE ON SEQUENCE custfocus.response_response_id_seq, custfocus.import_batch_import_id_seq,
	custfocus.import_error_import_error_id_seq TO regress_cf_analyst;

SET ROLE regress_cf_analyst;
-- reading a file on the server is not for everyone
SELECT status FROM custfocus.import_responses_file('cs2026', :'datadir' || 'plain_codes.csv');
-- the text form is, within the role's table privileges (none on answer yet)
\set VERBOSITY terse
SELECT status FROM custfocus.import_responses('cs2026', :'csv', '{"source": "analyst"}');
\set VERBOSITY default
RESET ROLE;
GRANT SELECT, INSERT ON custfocus.answer TO regress_cf_analyst;

-- Row-level security applies: this analyst may only add VITAL-RECORDS responses
ALTER TABLE custfocus.response ENABLE ROW LEVEL SECURITY;
CREATE POLICY regress_vital_records_only ON custfocus.response TO regress_cf_analyst
	USING (true)
	WITH CHECK (service_id = (SELECT s.service_id FROM custfocus.service s WHERE s.code = 'VITAL-RECORDS'));
SET ROLE regress_cf_analyst;
\set VERBOSITY terse
SELECT status FROM custfocus.import_responses('cs2026', :'csv', '{"source": "analyst"}');
\set VERBOSITY default
SELECT status, rows_read, responses_inserted, answers_inserted, imported_by
  FROM custfocus.import_responses('cs2026', :'csv',
	 '{"source": "analyst", "columns": {"service": null}, "service": "VITAL-RECORDS"}');
RESET ROLE;
DROP POLICY regress_vital_records_only ON custfocus.response;
ALTER TABLE custfocus.response DISABLE ROW LEVEL SECURITY;
DELETE FROM custfocus.response;

-- With the privileges of pg_read_server_files the file form works
GRANT pg_read_server_files TO regress_cf_analyst;
SET ROLE regress_cf_analyst;
SELECT status, rows_read, responses_inserted, answers_inserted, imported_by
  FROM custfocus.import_responses_file('cs2026', :'datadir' || 'plain_codes.csv');
RESET ROLE;

DELETE FROM custfocus.response;
DROP OWNED BY regress_cf_analyst;
DROP ROLE regress_cf_analyst;
