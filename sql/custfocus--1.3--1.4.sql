-- custfocus 1.3 -> 1.4
--
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION custfocus UPDATE TO '1.4'" to load this file. \quit
