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

