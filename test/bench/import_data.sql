-- The benchmark's import input (used by run.sh and views.sh): a wide
-- export of the first :nimport responses of the cs survey, as a survey tool
-- writes it, in :'wide' (a server-side path), and a copy of the survey,
-- cs_import, to import it into.
--   psql -v nimport=N -v wide=/path/wide.csv -f test/bench/import_data.sql
CREATE TABLE bench_wide AS
SELECT 'X' || r.response_id AS respondent_id, to_char(r.submitted_at, 'YYYY-MM-DD HH24:MI:SS') AS submitted_at,
	   s.code AS service, g.code AS segment,
	   max(a.value) FILTER (WHERE i.code = 'Q1') AS "Q1", max(a.value) FILTER (WHERE i.code = 'Q2') AS "Q2",
	   max(a.value) FILTER (WHERE i.code = 'Q3') AS "Q3", max(a.value) FILTER (WHERE i.code = 'Q4') AS "Q4",
	   max(a.value) FILTER (WHERE i.code = 'Q5') AS "Q5", max(a.value) FILTER (WHERE i.code = 'Q7') AS "Q7",
	   max(a.value) FILTER (WHERE i.code = 'Q8') AS "Q8", max(a.value) FILTER (WHERE i.code = 'Q9') AS "Q9",
	   max(a.value) FILTER (WHERE i.code = 'Q10') AS "Q10", max(a.value) FILTER (WHERE i.code = 'Q11') AS "Q11",
	   max(a.value) FILTER (WHERE i.code = 'Q12') AS "Q12"
  FROM (SELECT * FROM custfocus.response WHERE survey_id = (SELECT survey_id FROM custfocus.survey WHERE code = 'cs')
		 ORDER BY response_id LIMIT :nimport) r
  JOIN custfocus.service s USING (service_id)
  JOIN custfocus.segment g USING (segment_id)
  JOIN custfocus.answer a USING (response_id)
  JOIN custfocus.item i USING (item_id)
 GROUP BY r.response_id, r.submitted_at, s.code, g.code;
COPY bench_wide TO :'wide' WITH (FORMAT csv, HEADER);
INSERT INTO custfocus.survey (code, name) VALUES ('cs_import', 'Import target');
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric, requirement_id, is_overall, position)
SELECT t.survey_id, i.code, i.text, i.scale_id, i.metric, i.requirement_id, i.is_overall, i.position
  FROM custfocus.item i JOIN custfocus.survey s ON s.survey_id = i.survey_id AND s.code = 'cs'
 CROSS JOIN custfocus.survey t WHERE t.code = 'cs_import' AND i.metric <> 'text';
