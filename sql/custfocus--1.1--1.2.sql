-- custfocus 1.1 -> 1.2
--
-- (changes listed below as they are made)

\echo Use "ALTER EXTENSION custfocus UPDATE TO '1.2'" to load this file. \quit
