-- The data model accepts good rows and rejects bad ones with a message that
-- names the offending value.  Everything runs in one transaction that is
-- rolled back at the end; psql's ON_ERROR_ROLLBACK wraps each statement in a
-- savepoint, so a rejected statement leaves the rows before it in place.
-- Built-in constraint messages are shown terse (their DETAIL holds created_at,
-- which changes every run); the extension's own messages are shown in full.
\set ON_ERROR_ROLLBACK on
\set VERBOSITY terse
BEGIN;

-- Step 1: programs (a hierarchy), services, segments and who uses what.
INSERT INTO custfocus.program (program_id, code, name, level) VALUES
	(101, 'MDH', 'Department of Health', 'agency');
INSERT INTO custfocus.program (program_id, parent_id, code, name, level) VALUES
	(102, 101, 'HPCD', 'Health Promotion and Chronic Disease', 'division'),
	(103, 102, 'WIC', 'Women, Infants and Children', 'program');
INSERT INTO custfocus.program (code, name, level) VALUES ('X', 'Bad level', 'bureau');
INSERT INTO custfocus.program (code, name) VALUES ('wic', 'Same code, other case');
INSERT INTO custfocus.program (code, name) VALUES (' WIC2', 'Code with a leading space');
UPDATE custfocus.program SET parent_id = 103 WHERE program_id = 101;   -- a cycle
UPDATE custfocus.program SET parent_id = 103 WHERE program_id = 103;   -- its own parent
INSERT INTO custfocus.program (code, name, parent_id) VALUES ('ORPHAN', 'No such parent', 99);

INSERT INTO custfocus.service (service_id, program_id, code, name) VALUES
	(201, 103, 'WIC-CLINIC', 'WIC clinic visits'),
	(202, 102, 'VITAL-RECORDS', 'Birth and death certificates');
INSERT INTO custfocus.service (program_id, code, name) VALUES (NULL, 'NOPROG', 'Service without a program');

INSERT INTO custfocus.segment (segment_id, code, name, relationship, kind, party) VALUES
	(301, 'CLIENT', 'Clients', 'customer', 'external', 'individual'),
	(302, 'LPH-AGENCY', 'Local public health agencies', 'stakeholder', 'external', 'entity'),
	(303, 'STAFF', 'Agency staff', 'customer', 'internal', 'individual');
INSERT INTO custfocus.segment (code, name, kind) VALUES ('X', 'Bad kind', 'outside');
INSERT INTO custfocus.segment (code, name, relationship) VALUES ('X', 'Bad relationship', 'partner');
INSERT INTO custfocus.segment (code, name, party) VALUES ('X', 'Bad party', 'family');

INSERT INTO custfocus.service_segment (service_id, segment_id, need) VALUES
	(201, 301, 'healthy food and nutrition advice for their family'),
	(202, 301, 'a certified copy of a birth record');
INSERT INTO custfocus.service_segment (service_id, segment_id) VALUES (201, 301);

-- Step 2: requirements and their stated importance.
INSERT INTO custfocus.requirement (requirement_id, code, name, importance) VALUES
	(401, 'timeliness', 'Timeliness', 90),
	(402, 'courtesy', 'Courtesy', NULL);
INSERT INTO custfocus.requirement (code, name, importance) VALUES ('x', 'Zero importance', 0);
INSERT INTO custfocus.requirement (code, name, importance) VALUES ('x', 'Too important', 101);
INSERT INTO custfocus.service_requirement (service_id, requirement_id, importance) VALUES (201, 401, 95);
INSERT INTO custfocus.service_requirement (service_id, requirement_id, importance) VALUES (201, 402, -5);

-- Step 3: scales, labels, surveys and items.
INSERT INTO custfocus.scale (code, name, min_value, max_value) VALUES ('effort5', 'Effort 1..5', 1, 5)
	RETURNING scale_id, builtin;
INSERT INTO custfocus.scale_label (scale_id, label, value)
	SELECT scale_id, 'Very easy', 5 FROM custfocus.scale WHERE code = 'effort5';
INSERT INTO custfocus.scale_label (scale_id, label, value)
	SELECT scale_id, 'Impossible', 0 FROM custfocus.scale WHERE code = 'effort5';
INSERT INTO custfocus.scale_label (scale_id, label, value)
	SELECT scale_id, '  very   EASY ', 5 FROM custfocus.scale WHERE code = 'effort5';
INSERT INTO custfocus.scale_label (scale_id, label, value)
	SELECT scale_id, 'VERY  easy', 5 FROM custfocus.scale WHERE code = 'effort5';
INSERT INTO custfocus.scale (code, name, min_value, max_value) VALUES ('upside', 'Min above max', 5, 1);
INSERT INTO custfocus.scale (code, name, min_value, max_value) VALUES ('AGREE5', 'Same code as built-in', 1, 5);
-- Built-in rows belong to the extension.
UPDATE custfocus.scale SET max_value = 7 WHERE code = 'agree5';
DELETE FROM custfocus.scale_label WHERE scale_id = 1 AND label = 'Agree';
INSERT INTO custfocus.scale (scale_id, code, name, min_value, max_value, builtin) VALUES (50, 'mine', 'Claims built-in', 1, 5, true);
INSERT INTO custfocus.scale (code, name, min_value, max_value, builtin) VALUES ('mine', 'Claims built-in', 1, 5, true);
-- A user may add a label to a built-in scale; it is a user row.
INSERT INTO custfocus.scale_label (scale_id, label, value) VALUES (1, 'Somewhat agree', 4) RETURNING builtin;

INSERT INTO custfocus.survey (survey_id, code, name, program_id) VALUES
	(501, 'cs2026', 'Customer satisfaction survey 2026', 101),
	(502, 'other', 'Another survey', NULL);
INSERT INTO custfocus.item (item_id, survey_id, code, text, scale_id, metric, requirement_id, is_overall, reverse_coded) VALUES
	(601, 501, 'Q1', 'Staff treated me with courtesy and respect', 1, 'rating', 402, false, false),
	(602, 501, 'Q2', 'I received the service in a timely manner', 1, 'rating', 401, false, false),
	(603, 501, 'Q4', 'Overall, how satisfied are you?', 2, 'rating', NULL, true, false),
	(604, 501, 'Q5', 'How likely are you to recommend us?', 3, 'nps', NULL, false, false),
	(605, 501, 'Q6', 'Any other comments?', NULL, 'text', NULL, false, false),
	(606, 501, 'Q7', 'I had to wait too long', 1, 'rating', 401, false, true),
	(607, 502, 'Q1', 'Same code, other survey', 6, 'yes_no', NULL, false, false);
INSERT INTO custfocus.item (survey_id, code, text, scale_id) VALUES (501, 'q1', 'Duplicate code, other case', 1);
INSERT INTO custfocus.item (survey_id, code, text, scale_id, is_overall) VALUES (501, 'Q8', 'A second overall item', 2, true);
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric) VALUES (501, 'Q8', 'Text item with a scale', 1, 'text');
INSERT INTO custfocus.item (survey_id, code, text, metric) VALUES (501, 'Q8', 'Rating without a scale', 'rating');
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric) VALUES (501, 'Q8', 'Unknown metric', 1, 'stars');
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric, reverse_coded) VALUES (501, 'Q8', 'Reverse-coded NPS', 3, 'nps', true);
\set VERBOSITY default
INSERT INTO custfocus.item (survey_id, code, text, scale_id) VALUES (99, 'Q8', 'Missing survey', 1);
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric) VALUES (501, 'Q8', 'NPS on a 5-point scale', 1, 'nps');
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric) VALUES (501, 'Q8', 'Yes/no on a 5-point scale', 1, 'yes_no');
\set VERBOSITY terse

-- Step 4: responses and answers.
INSERT INTO custfocus.response (response_id, survey_id, service_id, segment_id, submitted_at, channel, weight, external_id) VALUES
	(701, 501, 201, 301, '2026-02-12 17:03', 'web', 1, 'R_1'),
	(702, 501, 202, 303, '2026-03-01 09:00', 'paper', 2.5, 'R_2'),
	(703, 502, NULL, NULL, '2026-03-02 10:00', NULL, 1, NULL),
	(704, 502, NULL, NULL, '2026-03-02 11:00', NULL, 1, NULL);
-- respondent ids are unique per survey and service
INSERT INTO custfocus.response (survey_id, service_id, submitted_at, external_id) VALUES (501, 201, now(), 'R_1');
INSERT INTO custfocus.response (survey_id, submitted_at, weight) VALUES (501, now(), 0);
INSERT INTO custfocus.response (survey_id, submitted_at, weight) VALUES (501, now(), -1);
INSERT INTO custfocus.response (survey_id, submitted_at, weight) VALUES (501, now(), 'infinity');
INSERT INTO custfocus.response (survey_id, submitted_at, weight) VALUES (501, now(), 'NaN');
INSERT INTO custfocus.response (survey_id, submitted_at, channel) VALUES (501, now(), 'fax');
\set VERBOSITY default
INSERT INTO custfocus.response (survey_id, submitted_at) VALUES (99, now());
\set VERBOSITY terse
INSERT INTO custfocus.response (survey_id) VALUES (501);
INSERT INTO custfocus.response (survey_id, submitted_at, external_id) VALUES (501, now(), '');

\set VERBOSITY default
INSERT INTO custfocus.answer (response_id, item_id, value, text_value) VALUES
	(701, 601, 5, NULL), (701, 602, 4, NULL), (701, 603, 5, NULL), (701, 604, 10, NULL),
	(701, 605, NULL, 'Very helpful staff, thank you!'), (701, 606, 1, NULL),
	(702, 601, 1, NULL),
	(703, 607, 1, NULL);
SELECT count(*) FROM custfocus.answer;
-- answers off the scale
INSERT INTO custfocus.answer (response_id, item_id, value) VALUES (702, 602, 6);
INSERT INTO custfocus.answer (response_id, item_id, value) VALUES (702, 602, 0);
INSERT INTO custfocus.answer (response_id, item_id, value) VALUES (702, 602, 3.5);
INSERT INTO custfocus.answer (response_id, item_id, value) VALUES (702, 602, 'NaN');
INSERT INTO custfocus.answer (response_id, item_id, value) VALUES (702, 602, '-Infinity');
-- NPS 11 in a multi-row insert: the message names the bad row
INSERT INTO custfocus.answer (response_id, item_id, value) VALUES (702, 602, 3), (702, 603, 4), (702, 606, 2), (704, 607, 0), (702, 604, 11);
UPDATE custfocus.answer SET value = 11 WHERE response_id = 701 AND item_id = 604;
INSERT INTO custfocus.answer (response_id, item_id, value) VALUES (702, 605, 3);     -- a number to a text item
INSERT INTO custfocus.answer (response_id, item_id, value) VALUES (702, 607, 1);     -- an item of another survey
INSERT INTO custfocus.answer (response_id, item_id) VALUES (702, 602);               -- nothing answered
INSERT INTO custfocus.answer (response_id, item_id, value) VALUES (702, 99, 1);      -- unknown item
INSERT INTO custfocus.answer (response_id, item_id, value) VALUES (99, 601, 1);      -- missing response
INSERT INTO custfocus.answer (response_id, item_id, value) VALUES (701, 601, 4);     -- answered twice
INSERT INTO custfocus.answer (response_id, item_id, text_value) VALUES (702, 605, ''); -- empty text
SELECT count(*) FROM custfocus.answer;

-- A scale may not shrink below answers already given, nor an item move to a
-- scale they do not fit, nor a response with answers to another survey.
INSERT INTO custfocus.item (item_id, survey_id, code, text, scale_id) VALUES (608, 501, 'Q8', 'Effort', 1000);
INSERT INTO custfocus.answer (response_id, item_id, value) VALUES (701, 608, 5);
UPDATE custfocus.scale SET max_value = 4 WHERE scale_id = 1000;
UPDATE custfocus.scale SET integral = false, min_value = 0.5 WHERE scale_id = 1000;   -- still fits
UPDATE custfocus.item SET scale_id = 4 WHERE item_id = 608;   -- cahps4 is 1..4
UPDATE custfocus.item SET metric = 'nps' WHERE item_id = 608;   -- not an NPS scale
UPDATE custfocus.response SET survey_id = 502 WHERE response_id = 701;
UPDATE custfocus.response SET survey_id = 501 WHERE response_id = 704;   -- no answers: may move
\set VERBOSITY terse
-- Deleting an item with answers is refused; deleting a response takes its answers.
DELETE FROM custfocus.item WHERE item_id = 601;
DELETE FROM custfocus.survey WHERE survey_id = 501;
DELETE FROM custfocus.response WHERE response_id = 702;
SELECT count(*) FROM custfocus.answer WHERE response_id = 702;

-- Imports.
INSERT INTO custfocus.import_batch (import_id, survey_id, source) VALUES (801, 501, 'plain_codes.csv');
INSERT INTO custfocus.import_error (import_id, line, column_name, value, message) VALUES (801, 8, 'Q1', '6', 'value 6 is outside scale "agree5"');
INSERT INTO custfocus.import_batch (survey_id, source, status) VALUES (501, 'x.csv', 'done');
INSERT INTO custfocus.import_batch (survey_id, source, rows_read) VALUES (501, 'x.csv', -1);
INSERT INTO custfocus.import_batch (survey_id, source) VALUES (99, 'x.csv');
INSERT INTO custfocus.import_error (import_id, line, message) VALUES (801, 0, 'line zero');
UPDATE custfocus.response SET import_id = 801 WHERE response_id = 701;
DELETE FROM custfocus.import_batch WHERE import_id = 801;   -- it loaded a response: refused
UPDATE custfocus.response SET import_id = NULL WHERE response_id = 701;
DELETE FROM custfocus.import_batch WHERE import_id = 801;   -- its errors go with it
SELECT count(*) FROM custfocus.import_error;

-- Voice of the customer: statuses are a closed set and set their own times.
INSERT INTO custfocus.feedback (feedback_id, kind, body, service_id, received_at, created_at) VALUES
	(901, 'complaint', 'The wait was too long', 201, '2026-03-01 10:00', '2026-03-01 10:05');
INSERT INTO custfocus.feedback (kind, body) VALUES ('rant', 'Unknown kind');
INSERT INTO custfocus.feedback (kind, body) VALUES ('complaint', '');
UPDATE custfocus.feedback SET status = 'resolved' WHERE feedback_id = 901;
\set VERBOSITY default
INSERT INTO custfocus.feedback (kind, body, received_at, acknowledged_at, status, created_at) VALUES
	('question', 'Where is my certificate?', '2026-03-02 09:00', '2026-03-02 10:00', 'resolved', '2026-03-02 09:00');
\set VERBOSITY terse
SELECT status, acknowledged_at IS NOT NULL AS acknowledged, closed_at IS NOT NULL AS closed FROM custfocus.feedback;
UPDATE custfocus.feedback SET status = 'acknowledged' WHERE feedback_id = 901;
SELECT status, acknowledged_at IS NOT NULL AS acknowledged, closed_at IS NOT NULL AS closed FROM custfocus.feedback;
UPDATE custfocus.feedback SET status = 'closed', resolution = 'Added a second clerk' WHERE feedback_id = 901;
SELECT status, acknowledged_at IS NOT NULL AS acknowledged, closed_at IS NOT NULL AS closed FROM custfocus.feedback;
UPDATE custfocus.feedback SET status = 'open' WHERE feedback_id = 901;   -- re-opened
SELECT status, acknowledged_at IS NOT NULL AS acknowledged, closed_at IS NOT NULL AS closed FROM custfocus.feedback;
INSERT INTO custfocus.feedback (kind, body, received_at, acknowledged_at) VALUES ('question', 'Acknowledged before it arrived', '2026-03-01', '2026-02-01');
DELETE FROM custfocus.response WHERE response_id = 704;
INSERT INTO custfocus.feedback (kind, body, response_id) VALUES ('compliment', 'Great!', 701);
DELETE FROM custfocus.response WHERE response_id = 701;   -- the feedback stays, unlinked
SELECT kind, response_id FROM custfocus.feedback ORDER BY feedback_id;

-- Performance measures.
INSERT INTO custfocus.measure (measure_id, code, name, service_id, metric, item_id, target, direction, period) VALUES
	(1001, 'WIC-CSAT', 'WIC overall CSAT', 201, 'csat', 603, 85, 'higher', 'quarter');
INSERT INTO custfocus.measure (code, name, program_id, metric, target) VALUES ('N', 'Responses per month', 103, 'response_count', 30);
INSERT INTO custfocus.measure (code, name, program_id, service_id, metric, item_id, target) VALUES ('X', 'Both program and service', 103, 201, 'csat', 603, 80);
INSERT INTO custfocus.measure (code, name, metric, item_id, target) VALUES ('X', 'Neither program nor service', 'csat', 603, 80);
INSERT INTO custfocus.measure (code, name, service_id, metric, target) VALUES ('X', 'CSAT of nothing', 201, 'csat', 80);
INSERT INTO custfocus.measure (code, name, service_id, metric, item_id, target) VALUES ('X', 'CSAT above 100', 201, 'csat', 603, 120);
INSERT INTO custfocus.measure (code, name, service_id, metric, item_id, target, period) VALUES ('X', 'Weekly', 201, 'csat', 603, 80, 'week');
INSERT INTO custfocus.measure (code, name, service_id, metric, item_id, target, direction) VALUES ('X', 'Sideways', 201, 'csat', 603, 80, 'sideways');
INSERT INTO custfocus.measure (code, name, service_id, metric, item_id, target) VALUES ('X', 'Unknown metric', 201, 'happiness', 603, 80);

-- Improvement actions and engagement.
INSERT INTO custfocus.improvement_action (action_id, title, service_id, requirement_id, measure_id, opened_on, due_on) VALUES
	(1101, 'Add a second clerk at peak hours', 201, 401, 1001, '2026-03-01', '2026-06-30');
UPDATE custfocus.improvement_action SET status = 'completed', closed_on = '2026-05-15' WHERE action_id = 1101;
SELECT status, closed_on FROM custfocus.improvement_action;
UPDATE custfocus.improvement_action SET status = 'in_progress' WHERE action_id = 1101;
SELECT status, closed_on FROM custfocus.improvement_action;
UPDATE custfocus.improvement_action SET status = 'cancelled' WHERE action_id = 1101;
SELECT status, closed_on = CURRENT_DATE AS closed_today FROM custfocus.improvement_action;
UPDATE custfocus.improvement_action SET status = 'abandoned' WHERE action_id = 1101;
INSERT INTO custfocus.improvement_action (title, service_id, opened_on, due_on) VALUES ('Due before opened', 201, '2026-03-01', '2026-02-01');
INSERT INTO custfocus.improvement_action (title) VALUES ('About nothing');
INSERT INTO custfocus.engagement (kind, title, held_on, segment_id, participants) VALUES
	('advisory_council', 'WIC parent advisory council', '2026-04-02', 301, 12);
INSERT INTO custfocus.engagement (kind, title, held_on, participants) VALUES ('focus_group', 'Negative turnout', '2026-04-02', -1);
INSERT INTO custfocus.engagement (kind, title, held_on) VALUES ('party', 'Unknown kind', '2026-04-02');
INSERT INTO custfocus.engagement (kind, title) VALUES ('interview', 'No date');

SELECT 'program' AS t, count(*) FROM custfocus.program UNION ALL
SELECT 'service', count(*) FROM custfocus.service UNION ALL
SELECT 'segment', count(*) FROM custfocus.segment UNION ALL
SELECT 'service_segment', count(*) FROM custfocus.service_segment UNION ALL
SELECT 'requirement', count(*) FROM custfocus.requirement UNION ALL
SELECT 'service_requirement', count(*) FROM custfocus.service_requirement UNION ALL
SELECT 'scale (user)', count(*) FROM custfocus.scale WHERE NOT builtin UNION ALL
SELECT 'scale_label (user)', count(*) FROM custfocus.scale_label WHERE NOT builtin UNION ALL
SELECT 'survey', count(*) FROM custfocus.survey UNION ALL
SELECT 'item', count(*) FROM custfocus.item UNION ALL
SELECT 'response', count(*) FROM custfocus.response UNION ALL
SELECT 'answer', count(*) FROM custfocus.answer UNION ALL
SELECT 'feedback', count(*) FROM custfocus.feedback UNION ALL
SELECT 'measure', count(*) FROM custfocus.measure UNION ALL
SELECT 'improvement_action', count(*) FROM custfocus.improvement_action UNION ALL
SELECT 'engagement', count(*) FROM custfocus.engagement;

ROLLBACK;
\unset ON_ERROR_ROLLBACK
SELECT count(*) AS left_behind FROM custfocus.program;
