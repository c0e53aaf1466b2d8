-- Import: options, column recognition, dialect details and errors, on small
-- exports passed as text (the survey cs2026 comes from the import test).
\set datadir `pwd`/test/data/
-- most imports here map only some items: the notices saying so are left out
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.batch(b custfocus.import_batch) RETURNS text LANGUAGE sql AS $$
	SELECT format('%s: status %s, read %s, responses %s, answers %s, skipped %s, duplicates %s',
				  regexp_replace(b.source, '^.*/', ''), b.status, b.rows_read,
				  b.responses_inserted, b.answers_inserted, b.rows_skipped, b.duplicates)
$$;
CREATE FUNCTION pg_temp.answers() RETURNS TABLE (external_id text, service text, segment text,
												 submitted_at timestamptz, channel text, weight float8,
												 answers text)
LANGUAGE sql AS $$
	SELECT r.external_id, s.code, g.code, r.submitted_at, r.channel, r.weight,
		   string_agg(i.code || '=' || coalesce(a.value::text, quote_literal(a.text_value)), ' ' ORDER BY i.code)
	  FROM custfocus.response r
	  LEFT JOIN custfocus.service s USING (service_id)
	  LEFT JOIN custfocus.segment g USING (segment_id)
	  LEFT JOIN custfocus.answer a USING (response_id)
	  LEFT JOIN custfocus.item i USING (item_id)
	 GROUP BY r.response_id, s.code, g.code ORDER BY r.external_id, r.response_id
$$;
DELETE FROM custfocus.response;

-- Delimiters are sniffed from the header line, outside quotes
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'"a,b,c,d,e"|respondent_id|submitted_at|Q1|Q6\n'
'x|A1|2026-01-01|4|"pipe | inside, and ""quotes"""\n'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id\tsubmitted_at\tQ1\tQ6\nT1\t2026-01-02\t5\ttab, separated; text\n'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id;submitted_at;Q1;Q6\r\nS1;2026-01-03;"3";"semi;colon\r\nand a line break"\r\n'));
-- ... or given
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id:submitted_at:Q1:Q6\nG1:2026-01-04:2:a, b, c\n', '{"delimiter": ":"}'));
SELECT * FROM pg_temp.answers();
DELETE FROM custfocus.response;

-- Old Mac line ends (CR alone), a byte-order mark, blank lines, spaces
-- around values, labels in any case and spacing, N/A as a skipped question,
-- rows shorter than the header, empty fields beyond it, a row of empty cells
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'\uFEFFrespondent_id,submitted_at,Q1,Q2,Q3,Q4\r'
' M1 , 2026-02-01 , strongly   AGREE , n/a ,Neutral , very SATISFIED \r'
'\r'
'M2,2026-02-02,1\r'
'M3,2026-02-03,2,2,2,2,,\r'
' , ,,,,\r'));
SELECT * FROM pg_temp.answers();
DELETE FROM custfocus.response;

-- Channel and weight columns; service and segment codes in any case
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,submitted_at,service,segment,channel,weight,Q1\n'
'W1,2026-03-01,vital-records,client,In person,2.5,4\n'
'W2,2026-03-01,WIC-CLINIC,STAFF,web,,5\n'));
SELECT * FROM pg_temp.answers();
DELETE FROM custfocus.response;
-- a code that does not exist, a bad channel or weight fail the row
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,submitted_at,service,Q1\nX1,2026-03-01,VITAL-RECORD,4\n'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,submitted_at,segment,Q1\nX1,2026-03-01,\n\nX2,2026-03-01,PUBLIC,4\n'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,submitted_at,channel,Q1\nX1,2026-03-01,fax,4\n'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,submitted_at,weight,Q1\nX1,2026-03-01,0,4\n'));
-- values: not a whole number on a whole-number scale, a number as text,
-- a reverse-coded item is stored as given (scores flip it)
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,submitted_at,Q1\nX1,2026-03-01,3.5\n'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,submitted_at,Q5\nX1,2026-03-01,ten\n'));
UPDATE custfocus.item SET reverse_coded = true WHERE code = 'Q3';
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,submitted_at,Q3,Q5\nX1,2026-03-01,1,10 - Extremely likely\n'));
SELECT * FROM pg_temp.answers();
UPDATE custfocus.item SET reverse_coded = false WHERE code = 'Q3';
DELETE FROM custfocus.response;

-- Respondent ids: required, unless rows that cannot be deduplicated are wanted
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'submitted_at,Q1\n2026-04-01,4\n'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,submitted_at,Q1\nI1,2026-04-01,4\n,2026-04-01,5\n'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'submitted_at,Q1\n2026-04-01,4\n2026-04-02,5\n', '{"allow_missing_id": true}'));
-- such rows load again on a second import
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'submitted_at,Q1\n2026-04-01,4\n2026-04-02,5\n', '{"allow_missing_id": true}'));
-- a respondent twice in one export is loaded once
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,submitted_at,Q1\nD1,2026-04-01,4\nD1,2026-04-01,4\nD2,2026-04-01,1\n'));
SELECT count(*) FILTER (WHERE external_id IS NULL) AS without_id, count(external_id) AS with_id
  FROM custfocus.response;
DELETE FROM custfocus.response;

-- Dates: a batch date when the export has none, the day order, the time zone
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,Q1\nN1,4\n'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,Q1\nN1,4\n', '{"submitted_at": "2026-05-31 12:00"}'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,Date,Q1\nN2,13/02/2026 09:30,4\nN3,,5\n', '{"date_style": "DMY", "submitted_at": "2026-05-31"}'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,Date,Q1\nN4,2026-02-13 09:30,4\n', '{"timezone": "Europe/Berlin"}'));
SELECT external_id, submitted_at FROM custfocus.response ORDER BY external_id;
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,Date,Q1\nN5,13/02/2026,4\n'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,Date,Q1\nN6,infinity,4\n'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,Q1\nN1,4\n', '{"submitted_at": "soon"}'));
DELETE FROM custfocus.response;

SET client_min_messages = notice;
-- Column recognition: headers that are question texts (Google Forms),
-- common names of the response fields, contact data left out
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'Timestamp,Email address,Staff treated me with courtesy and respect,"Overall, how satisfied are you with the service you received?",Response ID\n'
'2026-06-01 10:00,someone@example.org,Agree,Satisfied,F1\n'));
SELECT * FROM pg_temp.answers();
DELETE FROM custfocus.response;
-- the better-known name wins when two columns could be the date
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'Date,RecordedDate,EndDate,ResponseId,Q1\n2026-01-01,2026-01-02,2026-01-03,E1,4\n'));
SELECT external_id, submitted_at FROM custfocus.response;
DELETE FROM custfocus.response;
-- explicit mapping: to a field, to an item, null to leave a column out
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'Ticket,When,Courtesy,Q1,id\nK1,2026-07-01,5,1,ignored\n',
'{"columns": {"ticket": "external_id", "WHEN": "submitted_at", "Courtesy": "Q1", "id": null}}'));
SELECT * FROM pg_temp.answers();
DELETE FROM custfocus.response;
-- mapping errors
SELECT custfocus.import_responses('cs2026', E'id,Date,Q9\n1,2026-01-01,4\n', '{"columns": {"Q9": "Q99"}}');
SELECT custfocus.import_responses('cs2026', E'id,Date,Q1\n1,2026-01-01,4\n', '{"columns": {"Q9": "Q1"}}');
SELECT custfocus.import_responses('cs2026', E'id,Date,Q1,Q1\n1,2026-01-01,4,5\n');
-- (an explicit entry beats a column found by its code)
SELECT pg_temp.batch(custfocus.import_responses('cs2026', E'id,Date,Q1,Other\n1,2026-01-01,4,5\n', '{"columns": {"Other": "Q1"}}'));
SELECT * FROM pg_temp.answers();
DELETE FROM custfocus.response;
SELECT custfocus.import_responses('cs2026', E'id,Date,Q1,Email\n1,2026-01-01,4,a@b.c\n', '{"columns": {"Email": "Q6"}}');
SELECT custfocus.import_responses('cs2026', E'id,Date,Q1\n1,2026-01-01,4\n', '{"columns": {"q1": "Q1", "Q1": "Q2"}}');
SELECT custfocus.import_responses('cs2026', E'id,Q1\n1,4\n');

SET client_min_messages = warning;
-- Layouts: forcing one; a Qualtrics export without its ImportId row
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'ResponseId,EndDate,Q1\nResponse ID,End Date,Staff treated me with courtesy and respect\nL1,2026-08-01,Agree\n',
'{"layout": "qualtrics"}'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'ResponseId,EndDate,Q1\nResponse ID,End Date,Staff treated me with courtesy and respect\nL2,2026-08-01,Agree\n'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'id,Date,Q1\n\n"{""ImportId"":""x""}",,\nP1,2026-08-01,4\n', '{"layout": "plain", "on_error": "skip"}'));
DELETE FROM custfocus.response;

SET client_min_messages = notice;
-- REDCap checkbox columns feed yes/no items coded like the column
INSERT INTO custfocus.survey (code, name) VALUES ('contact2026', 'Contact preferences 2026');
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric)
SELECT s.survey_id, c, t, 6, 'yes_no' FROM custfocus.survey s,
	   (VALUES ('contact___1', 'Contact me by phone'), ('contact___2', 'Contact me by e-mail')) AS i (c, t)
 WHERE s.code = 'contact2026';
SELECT pg_temp.batch(custfocus.import_responses_file('CONTACT2026', :'datadir' || 'redcap_raw.csv'));
SELECT i.code, count(*), sum(a.value) FROM custfocus.answer a JOIN custfocus.item i USING (item_id)
 GROUP BY i.code ORDER BY i.code;
DELETE FROM custfocus.response;

-- Non-ASCII labels and question texts match as well
INSERT INTO custfocus.scale (code, name, min_value, max_value) VALUES ('fr5', 'Satisfaction (fr)', 1, 5);
INSERT INTO custfocus.scale_label (scale_id, label, value)
SELECT sc.scale_id, l.label, l.value FROM custfocus.scale sc,
	   (VALUES ('Très insatisfait', 1), ('Très satisfait', 5), ('Ne sais pas', NULL)) AS l (label, value)
 WHERE sc.code = 'fr5';
INSERT INTO custfocus.survey (code, name) VALUES ('fr2026', 'Enquête 2026');
INSERT INTO custfocus.item (survey_id, code, text, scale_id)
SELECT s.survey_id, 'G1', 'Satisfaction générale', sc.scale_id
  FROM custfocus.survey s, custfocus.scale sc WHERE s.code = 'fr2026' AND sc.code = 'fr5';
SELECT pg_temp.batch(custfocus.import_responses('fr2026',
E'id,Date,Satisfaction  générale\nF1,2026-01-01,TRèS   SATISFAIT\nF2,2026-01-01, très insatisfait\nF3,2026-01-01,ne sais PAS\n'));
SELECT * FROM pg_temp.answers();
DELETE FROM custfocus.response;

SET client_min_messages = warning;
-- Encodings: Windows-1252 when asked; its bytes are not UTF-8
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'windows1252.csv',
	'{"encoding": "windows-1252"}'));
SELECT text_value FROM custfocus.answer WHERE text_value IS NOT NULL;
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'windows1252.csv'));
DELETE FROM custfocus.response;
SELECT custfocus.import_responses('cs2026', 'id', '{"encoding": "latin1"}');
-- invalid UTF-16 (an unpaired surrogate) is a bad row too
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'utf16_unpaired_surrogate.txt'));
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'utf16_unpaired_surrogate.txt',
	'{"on_error": "skip"}'));
SELECT line, column_name, value FROM custfocus.import_error
 WHERE import_id = (SELECT max(import_id) FROM custfocus.import_batch);
DELETE FROM custfocus.response;

-- Malformed quoting: the row is named, and skipping goes on with the next line
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,submitted_at,Q1,Q6\nQ1,2026-09-01,4,"fine"\nQ2,2026-09-01,4,"said "hi" twice"\nQ3,2026-09-01,5,ok\n'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,submitted_at,Q1,Q6\nQ1,2026-09-01,4,"fine"\nQ2,2026-09-01,4,bad"quote\nQ3,2026-09-01,5,ok\n'));
SELECT pg_temp.batch(custfocus.import_responses('cs2026',
E'respondent_id,submitted_at,Q1,Q6\nQ1,2026-09-01,4,"fine"\nQ2,2026-09-01,4,"said "hi" twice"\nQ3,2026-09-01,5,"two\nlines"\nQ4,2026-09-01,2,x\n',
'{"on_error": "skip", "source": "quotes"}'));
SELECT e.line, e.column_name, e.message FROM custfocus.import_error e
  JOIN custfocus.import_batch b USING (import_id) WHERE b.source = 'quotes' ORDER BY e.line;
SELECT * FROM pg_temp.answers();
DELETE FROM custfocus.response;

-- Batches: a small batch size gives the same result as one batch
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'qualtrics_labels.csv',
	'{"batch_size": 7}'));
DELETE FROM custfocus.response;
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'plain_codes.csv',
	'{"batch_size": 3}'));
DELETE FROM custfocus.response;

-- Bad arguments and options
SELECT custfocus.import_responses('no such survey', E'id\n1\n');
SELECT custfocus.import_responses(NULL, E'id\n1\n');
SELECT custfocus.import_responses('cs2026', NULL);
SELECT options, status FROM custfocus.import_responses('cs2026', E'id,Date\n1,2026-01-01\n', NULL);
DELETE FROM custfocus.response;
SELECT custfocus.import_responses('cs2026', '');
SELECT custfocus.import_responses('cs2026', E'id\n1\n', '{"on_eror": "skip"}');
SELECT custfocus.import_responses('cs2026', E'id\n1\n', '[1]');
SELECT custfocus.import_responses('cs2026', E'id\n1\n', '{"on_error": "ignore"}');
SELECT custfocus.import_responses('cs2026', E'id\n1\n', '{"delimiter": ",,"}');
SELECT custfocus.import_responses('cs2026', E'id\n1\n', '{"allow_empty": "yes"}');
SELECT custfocus.import_responses('cs2026', E'id\n1\n', '{"layout": "typeform"}');
SELECT custfocus.import_responses('cs2026', E'id\n1\n', '{"columns": ["id"]}');
SELECT custfocus.import_responses('cs2026', E'id\n1\n', '{"date_style": "DDMMYY"}');
SELECT custfocus.import_responses('cs2026', E'id\n1\n', '{"service": "NOPE", "submitted_at": "2026-01-01"}');
SELECT custfocus.import_responses_file('cs2026', 'no/such/file.csv');
SELECT custfocus.import_responses_file('cs2026', 'base');
SELECT count(*) AS responses FROM custfocus.response;

-- A very wide export (here 100,000 columns the survey does not know): the
-- NOTICE names the first 20 columns not imported and counts the others,
-- rather than sending every name
SET client_min_messages = notice;
SELECT status, rows_read, responses_inserted
  FROM custfocus.import_responses('cs2026',
	   'respondent_id,submitted_at,Q1,'
	   || (SELECT string_agg('extra_' || g, ',' ORDER BY g) FROM generate_series(1, 100000) g)
	   || E'\nW1,2026-01-01,4\n');
SET client_min_messages = warning;
DELETE FROM custfocus.response WHERE external_id = 'W1';
