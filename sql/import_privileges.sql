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

-- The access model of custfocus.grant_access: a reader may not import at
-- all; an analyst may, into the programs it has been granted.
CREATE ROLE regress_cf_reader;
SELECT custfocus.grant_access('regress_cf_reader', 'reader');
SET ROLE regress_cf_reader;
SELECT status FROM custfocus.import_responses('cs2026', :'csv');
SELECT count(*) FROM custfocus.response;
RESET ROLE;

-- Vital Records gets a program of its own, and the analyst access to it only.
INSERT INTO custfocus.program (code, name, parent_id)
SELECT 'VR', 'Vital Records', program_id FROM custfocus.program WHERE code = 'DOH';
UPDATE custfocus.service SET program_id = (SELECT program_id FROM custfocus.program WHERE code = 'VR')
 WHERE code = 'VITAL-RECORDS';
CREATE ROLE regress_cf_analyst;
SELECT custfocus.grant_access('regress_cf_analyst', 'analyst');
SET ROLE regress_cf_analyst;
-- reading a file on the server is not for every analyst
SELECT status FROM custfocus.import_responses_file('cs2026', :'datadir' || 'plain_codes.csv');
-- the rows go in with the analyst's own rights: row-level security hides the
-- services of programs it has no access to, so the export's other services
-- are unknown to it, and the import fails whole
\set VERBOSITY terse
SELECT status FROM custfocus.import_responses('cs2026', :'csv', '{"source": "analyst"}');
\set VERBOSITY default
RESET ROLE;
SELECT custfocus.grant_program_access('regress_cf_analyst', 'VR');
SET ROLE regress_cf_analyst;
\set VERBOSITY terse
SELECT status FROM custfocus.import_responses('cs2026', :'csv', '{"source": "analyst"}');
\set VERBOSITY default
-- all rows to Vital Records: the analyst's own program, so it loads
SELECT status, rows_read, responses_inserted, answers_inserted, imported_by
  FROM custfocus.import_responses('cs2026', :'csv',
	 '{"source": "analyst", "columns": {"service": null}, "service": "VITAL-RECORDS"}');
-- and the analyst sees its import and its rows, nothing else
SELECT count(*) AS batches FROM custfocus.import_batch;
SELECT count(*) AS responses FROM custfocus.response;
RESET ROLE;
DELETE FROM custfocus.response;

-- With the privileges of pg_read_server_files the file form works
GRANT pg_read_server_files TO regress_cf_analyst;
SET ROLE regress_cf_analyst;
SELECT status, rows_read, responses_inserted, answers_inserted, imported_by
  FROM custfocus.import_responses_file('cs2026', :'datadir' || 'plain_codes.csv',
	 '{"columns": {"service": null}, "service": "VITAL-RECORDS"}');
RESET ROLE;

DELETE FROM custfocus.response;

-- Contact data goes only where it is mapped explicitly, into
-- respondent_contact, which is the admins' alone: for an analyst an import
-- that maps it fails whole; mapped to anything else it is refused.
\set qualtrics `cat test/data/qualtrics_labels.csv`
SET ROLE regress_cf_analyst;
\set VERBOSITY terse
SELECT status FROM custfocus.import_responses('cs2026', :'qualtrics',
	'{"columns": {"service": null, "RecipientEmail": "contact.email"}, "service": "VITAL-RECORDS"}');
\set VERBOSITY default
SELECT count(*) AS responses_left FROM custfocus.response;
RESET ROLE;
SELECT status FROM custfocus.import_responses('cs2026', :'qualtrics', '{"columns": {"RecipientEmail": "Q6"}}');
SELECT status, responses_inserted
  FROM custfocus.import_responses('cs2026', :'qualtrics',
	'{"columns": {"RecipientEmail": "contact.email", "IPAddress": "Contact.IP_Address"}}');
SELECT count(*) AS contacts, count(email) AS emails, count(ip_address) AS ips, count(name) AS names,
	   min(email) AS first_email
  FROM custfocus.respondent_contact;
-- a re-import adds no second contact row
SELECT duplicates FROM custfocus.import_responses('cs2026', :'qualtrics',
	'{"columns": {"RecipientEmail": "contact.email", "IPAddress": "contact.ip_address"}}');
SELECT count(*) AS contacts FROM custfocus.respondent_contact;
DELETE FROM custfocus.response;
DELETE FROM custfocus.import_batch;

-- A row the analyst may not add is a bad row like any other, named by its
-- line, column and value, before anything is inserted: cs2026 belongs to no
-- program, so row-level security lets the analyst add responses to it only
-- about the services of its program (Vital Records).  A blank service cell
-- is such a row; a service of another program is unknown to the analyst.
\set rls_csv 'respondent_id,submitted_at,service,Q1\nS1,2026-03-01,VITAL-RECORDS,4\nS2,2026-03-02,,5\nS3,2026-03-03,vital-records,3\nS4,2026-03-04,IMMUNIZATION,2\nS5,2026-03-05\n'
SET ROLE regress_cf_analyst;
SELECT status, rows_read, responses_inserted, rows_skipped
  FROM custfocus.import_responses('cs2026', replace(:'rls_csv', '\n', E'\n'), '{"on_error": "skip"}');
SELECT e.line, e.column_name, e.value, e.message
  FROM custfocus.import_error e JOIN custfocus.import_batch b USING (import_id)
 WHERE b.imported_by = 'regress_cf_analyst' ORDER BY e.line;
SELECT external_id FROM custfocus.response ORDER BY 1;
-- all or nothing: the first such row fails the import, named
SELECT status FROM custfocus.import_responses('cs2026', replace(:'rls_csv', '\n', E'\n'));
-- the "service" option fills the blank cells
SELECT status, responses_inserted, duplicates, rows_skipped
  FROM custfocus.import_responses('cs2026', replace(:'rls_csv', '\n', E'\n'),
	 '{"on_error": "skip", "service": "VITAL-RECORDS"}');
-- without a service column every row would be refused: the import is, whole
SELECT status FROM custfocus.import_responses('cs2026', E'respondent_id,submitted_at,Q1\nT1,2026-03-01,4\n');
SELECT status FROM custfocus.import_responses('cs2026', E'respondent_id,submitted_at,Q1\nT1,2026-03-01,4\n',
	'{"service": "VITAL-RECORDS"}');
RESET ROLE;
DELETE FROM custfocus.response;
DELETE FROM custfocus.import_batch;
SELECT custfocus.revoke_access('regress_cf_analyst'), custfocus.revoke_access('regress_cf_reader'),
	   custfocus.revoke_program_access('regress_cf_analyst', 'VR');
REVOKE pg_read_server_files FROM regress_cf_analyst;
DROP ROLE regress_cf_analyst, regress_cf_reader;
UPDATE custfocus.service SET program_id = (SELECT program_id FROM custfocus.program WHERE code = 'DOH')
 WHERE code = 'VITAL-RECORDS';
DELETE FROM custfocus.program WHERE code = 'VR';
