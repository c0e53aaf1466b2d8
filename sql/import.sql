-- Import of survey exports: every sample export in test/data loads (and the
-- same answers whatever the tool), every bad one is rejected with its line,
-- on_error = skip records bad rows, re-imports add nothing, contact data is
-- never stored, and the file form needs pg_read_server_files.
CREATE EXTENSION IF NOT EXISTS custfocus;
-- the files are read by the server; psql runs where make installcheck runs
\set datadir `pwd`/test/data/
SET client_min_messages = notice;

-- The sample survey of test/data/README.md
\i test/data/fixture_survey.sql

-- What a load gives, in a form that does not depend on ids: one digest of
-- the coded answers, one of the free-text answers, one of who answered
-- about which service.
CREATE TEMP TABLE loads (dialect text, responses bigint, answers bigint,
						 coded text, texts text, services text, segments text);
CREATE FUNCTION pg_temp.remember(dialect text) RETURNS void LANGUAGE sql AS $$
	INSERT INTO loads
	SELECT dialect,
		   (SELECT count(*) FROM custfocus.response),
		   (SELECT count(*) FROM custfocus.answer),
		   (SELECT md5(string_agg(r.external_id || ' ' || i.code || '=' || a.value, ',' ORDER BY r.external_id, i.code))
			  FROM custfocus.answer a JOIN custfocus.response r USING (response_id)
			  JOIN custfocus.item i USING (item_id) WHERE a.value IS NOT NULL),
		   (SELECT md5(string_agg(r.external_id || ' ' || i.code || '=' || a.text_value, ',' ORDER BY r.external_id, i.code))
			  FROM custfocus.answer a JOIN custfocus.response r USING (response_id)
			  JOIN custfocus.item i USING (item_id) WHERE a.text_value IS NOT NULL),
		   (SELECT md5(string_agg(r.external_id || ' ' || s.code, ',' ORDER BY r.external_id))
			  FROM custfocus.response r JOIN custfocus.service s USING (service_id)),
		   (SELECT md5(string_agg(r.external_id || ' ' || g.code, ',' ORDER BY r.external_id))
			  FROM custfocus.response r JOIN custfocus.segment g USING (segment_id));
	DELETE FROM custfocus.response;
$$;
CREATE FUNCTION pg_temp.batch(b custfocus.import_batch) RETURNS text LANGUAGE sql AS $$
	SELECT format('%s: status %s, read %s, responses %s, answers %s, skipped %s, duplicates %s',
				  regexp_replace(b.source, '^.*/', ''), b.status, b.rows_read,
				  b.responses_inserted, b.answers_inserted, b.rows_skipped, b.duplicates)
$$;

-- Plain codes: one header row of item codes
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'plain_codes.csv'));
-- a coded value is stored as given, a blank cell is a skipped question, text is kept whole
SELECT r.external_id, r.submitted_at, s.code AS service, g.code AS segment, r.weight, r.channel,
	   string_agg(i.code || '=' || coalesce(a.value::text, a.text_value), ' ' ORDER BY i.code) AS answers
  FROM custfocus.response r
  JOIN custfocus.service s USING (service_id)
  JOIN custfocus.segment g USING (segment_id)
  JOIN custfocus.answer a USING (response_id)
  JOIN custfocus.item i USING (item_id)
 WHERE r.external_id IN ('R_700000', 'R_700001', 'R_700005', 'R_700017')
 GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1;
-- importing the first 20 rows again adds nothing and says so
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'plain_codes_again.csv'));
SELECT count(*) AS responses, count(DISTINCT import_id) AS imports FROM custfocus.response;
SELECT pg_temp.remember('plain');

-- Qualtrics: BOM, CRLF, three header rows, labels, contact data
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'qualtrics_labels.csv'));
SELECT pg_temp.remember('qualtrics');

-- SurveyMonkey: question row and sub-header row; items by question text;
-- the service question needs a name, and there is no segment column
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'surveymonkey_two_headers.csv',
	'{"columns": {"Service used": "service"}}'));
SELECT pg_temp.remember('surveymonkey');

-- LimeSurvey: semicolons, every field quoted, array codes mapped explicitly
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'limesurvey_semicolon.csv',
	'{"columns": {"SAT[SQ001]": "Q1", "SAT[SQ002]": "Q2", "SAT[SQ003]": "Q3",
				  "OVERALL": "Q4", "NPS": "Q5", "COMMENT": "Q6"}}'));
SELECT pg_temp.remember('limesurvey');

-- REDCap raw: lower-case codes, checkbox and bookkeeping columns left out
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'redcap_raw.csv',
	'{"columns": {"comments": "Q6"}}'));
SELECT pg_temp.remember('redcap');

-- Excel "Unicode text": UTF-16LE, tabs, labels; its comments end in " café"
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'excel_unicode_text.txt',
	'{"columns": {"Comments": "Q6"}}'));
SELECT a.text_value FROM custfocus.answer a JOIN custfocus.response r USING (response_id)
 WHERE r.external_id IN ('R_700000', 'R_700001') AND a.text_value IS NOT NULL ORDER BY r.external_id;
SELECT pg_temp.remember('excel');

-- The same file as UTF-16BE, and the plain file passed as text
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'excel_unicode_text_be.txt',
	'{"columns": {"Comments": "Q6"}}'));
SELECT pg_temp.remember('excel big-endian');
\set csv `cat test/data/plain_codes.csv`
SELECT pg_temp.batch(custfocus.import_responses('cs2026', :'csv', '{"source": "plain_codes.csv as text"}'));
SELECT pg_temp.remember('plain as text');

-- Every tool gives the same answers; only Excel's comments differ (they
-- carry " café"), REDCap has no times and SurveyMonkey no segments.
SELECT dialect, responses, answers,
	   coded = (SELECT coded FROM loads WHERE dialect = 'plain') AS same_coded,
	   texts = (SELECT texts FROM loads WHERE dialect = 'plain') AS same_texts,
	   services = (SELECT services FROM loads WHERE dialect = 'plain') AS same_services,
	   segments = (SELECT segments FROM loads WHERE dialect = 'plain') AS same_segments
  FROM loads ORDER BY dialect;

-- No contact data anywhere: no e-mail address, IP address or name was stored
SELECT count(*) AS contact_data_found
  FROM custfocus.answer a
 WHERE a.text_value ~ '@|198\.51\.100\.|\mPat\M|\mDoe\M';
SELECT count(*) AS contact_data_found
  FROM custfocus.response r
 WHERE r.external_id ~ '@|198\.51\.100\.' OR r.channel IS NOT NULL;

-- Bad files: each fails with the line that holds the defect, and leaves nothing
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'bad_out_of_range.csv'));
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'bad_nps_11.csv'));
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'bad_unknown_label.csv'));
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'bad_date.csv'));
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'bad_unterminated_quote.csv'));
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'bad_invalid_utf8.csv'));
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'bad_ragged_row.csv'));
-- a header without rows is an error (usually the wrong export) ...
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'bad_no_data_rows.csv'));
SELECT count(*) AS responses, (SELECT count(*) FROM custfocus.import_batch WHERE source ~ 'bad_') AS batches
  FROM custfocus.response;
-- ... unless an empty import is expected
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'bad_no_data_rows.csv',
	'{"allow_empty": true}'));

-- With on_error = skip the bad row alone is skipped and recorded
CREATE FUNCTION pg_temp.load_skipping(f text) RETURNS custfocus.import_batch LANGUAGE plpgsql AS $$
DECLARE
	b custfocus.import_batch;
BEGIN
	b := custfocus.import_responses_file('cs2026', current_setting('cf.datadir') || f, '{"on_error": "skip"}');
	DELETE FROM custfocus.response;
	RETURN b;
END
$$;
SELECT set_config('cf.datadir', :'datadir', false) IS NOT NULL AS ok;
CREATE TEMP TABLE skipped AS
SELECT f, pg_temp.load_skipping(f) AS b
  FROM unnest('{bad_out_of_range.csv,bad_nps_11.csv,bad_unknown_label.csv,bad_date.csv,bad_unterminated_quote.csv,bad_invalid_utf8.csv,bad_ragged_row.csv}'::text[]) f;
SELECT pg_temp.batch(b) FROM skipped ORDER BY f;
-- the line each error names is the line BAD_LINES.tsv gives
SELECT s.f, e.line, e.column_name, e.value, e.message
  FROM skipped s JOIN custfocus.import_error e ON e.import_id = (s.b).import_id
 ORDER BY s.f;
\set bad_lines `cat test/data/BAD_LINES.tsv`
SELECT l.f, l.line AS expected_line, e.line AS reported_line
  FROM regexp_split_to_table(:'bad_lines', '\n') WITH ORDINALITY AS t (row, n)
 CROSS JOIN LATERAL (SELECT split_part(t.row, E'\t', 1) AS f, split_part(t.row, E'\t', 2) AS line) l
  LEFT JOIN skipped s ON s.f = l.f
  LEFT JOIN custfocus.import_error e ON e.import_id = (s.b).import_id
 WHERE t.n > 1
 ORDER BY l.f;

-- Byte-order marks at the start of data rows, as exports joined end to end
-- (cat a.csv b.csv) have them, are dropped: B2 comes twice and loads once,
-- "B3" is a quoted id.  U+FEFF inside a field is text (a zero-width no-break
-- space), and so is one on a later line of a quoted field: both stay.
SELECT pg_temp.batch(custfocus.import_responses_file('cs2026', :'datadir' || 'bom_data_rows.csv'));
SELECT r.external_id, octet_length(r.external_id) AS id_bytes,
	   replace(a.text_value, U&'\FEFF', '<U+FEFF>') AS q6
  FROM custfocus.response r
  LEFT JOIN custfocus.answer a ON a.response_id = r.response_id AND a.text_value IS NOT NULL
 WHERE r.import_id = (SELECT max(import_id) FROM custfocus.import_batch)
 ORDER BY r.external_id;
DELETE FROM custfocus.response WHERE import_id = (SELECT max(import_id) FROM custfocus.import_batch);
