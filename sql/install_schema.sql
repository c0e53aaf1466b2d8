-- The install script refuses to adopt a schema it did not create: a schema
-- made beforehand by someone else could hold objects that shadow ours.
-- PostgreSQL 18 and later also name the line of the install script in a
-- CONTEXT (expected/install_schema_1.out).
DROP EXTENSION custfocus;
CREATE SCHEMA custfocus;
CREATE EXTENSION custfocus;
DROP SCHEMA custfocus CASCADE;
CREATE EXTENSION custfocus;
SELECT extversion FROM pg_extension WHERE extname = 'custfocus';
