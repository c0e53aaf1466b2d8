/*
 * import.c
 *		custfocus.import_responses() and custfocus.import_responses_file():
 *		load a survey export into custfocus.response and custfocus.answer.
 *
 * csvmap.c reads the export and maps its columns; this file looks up the
 * survey's items, scales, services and segments, turns each row into a
 * response and its answers, and inserts them in batches through SPI, so
 * that constraints, triggers, row-level security and privileges apply as
 * to any INSERT.  Values are checked here against the item's scale before
 * they are inserted, so that a bad one is reported with its line and column;
 * the answer table's trigger stays the last line of defence.
 *
 * By default the first bad row raises an error and nothing is loaded; with
 * {"on_error": "skip"} each bad row goes to custfocus.import_error instead.
 * All memory, libcsv's included, lives in a memory context of the import,
 * so an error (or a cancel) leaves nothing allocated behind.
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>
#include <sys/stat.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/formatting.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "csvmap.h"
#include "custfocus.h"
#include "pg_compat.h"

/* PostgreSQL 14 renamed the default roles to predefined roles */
#ifndef ROLE_PG_READ_SERVER_FILES
#define ROLE_PG_READ_SERVER_FILES DEFAULT_ROLE_READ_SERVER_FILES
#endif

#define IMPORT_READ_SIZE		(64 * 1024)
#define DEFAULT_BATCH_ROWS		5000
#define MAX_BATCH_ANSWERS		100000
#define MAX_BATCH_BYTES			(32 * 1024 * 1024)
#define MAX_SHOWN_VALUE			100
/* a text answer this long is freed as soon as the batch's array holds it */
#define BIG_TEXT				(1024 * 1024)
/*
 * Bytes an answer takes in the answer trigger's transition table besides
 * its text: the minimal tuple's header and other columns, the memory
 * chunk's header and the tuplestore's pointer to it (with room to grow).
 */
#define TRANSITION_ANSWER_BYTES	96

typedef struct ImportOptions
{
	int			delimiter;		/* 0: sniff */
	bool		encoding_given;
	CmEncoding	cm_encoding;
	int			pg_encoding;	/* for CM_ENC_BYTES */
	CmLayout	layout;
	bool		skip;			/* on_error = skip */
	bool		allow_missing_id;
	bool		allow_empty;
	char	   *submitted_at;
	char	   *service;
	char	   *segment;
	char	   *channel;
	char	   *date_style;
	char	   *timezone;
	char	   *source;
	int			batch_size;
	CmRule	   *rules;
	int			nrules;
} ImportOptions;

/* A small open-addressing hash of normalised keys (labels, codes) */
typedef struct KeyEntry
{
	char	   *key;			/* NULL: free slot */
	int			len;
	uint32		hash;
	double		value;			/* label value, or service/segment id */
	bool		missing;		/* label meaning "not answered" */
	bool		denied;			/* a service the caller may not add
								 * responses about */
} KeyEntry;

typedef struct KeyMap
{
	KeyEntry   *entries;
	int			size;			/* a power of two */
	int			count;
} KeyMap;

typedef struct ScaleInfo
{
	int32		scale_id;
	char	   *code;
	double		min_value;
	double		max_value;
	bool		integral;
	KeyMap		labels;
	bool		numeric_labels; /* some label reads as a number */
	StringInfoData label_list;	/* for messages */
} ScaleInfo;

typedef struct ItemInfo
{
	int32		item_id;
	char	   *code;
	char	   *text;
	ScaleInfo  *scale;			/* NULL: a free-text item */
} ItemInfo;

/* Source of the bytes: the csv argument or a file */
typedef struct ImportSource
{
	const char *data;
	size_t		len;
	size_t		pos;
	FILE	   *file;
	const char *path;
} ImportSource;

typedef struct ImportState
{
	ImportOptions opts;
	const char *source;
	int32		survey_id;
	char	   *survey_code;
	int64		import_id;

	MemoryContext cxt;			/* everything of the import */
	MemoryContext batch_cxt;	/* values of the rows not yet inserted */
	MemoryContext row_cxt;		/* one row's scratch */

	ItemInfo   *items;
	int			nitems;
	ScaleInfo  *scales;
	int			nscales;
	KeyMap		services;
	KeyMap		segments;
	bool		has_default_service;
	int32		default_service;
	bool		serviceless_ok; /* may add responses without a service */
	bool		has_default_segment;
	int32		default_segment;
	bool		has_default_submitted;
	TimestampTz default_submitted;

	ImportSource input;
	CmReader   *reader;
	CmMap	   *map;
	bool		text_input;
	bool		via_utf8;		/* no direct conversion to the database's */

	int64		rows_read;
	int64		responses_inserted;
	int64		answers_inserted;
	int64		rows_skipped;
	int64		duplicates;

	/* rows of the current batch */
	int			nrows;
	int			rows_cap;
	long	   *r_line;
	Datum	   *r_service;
	bool	   *r_service_null;
	Datum	   *r_segment;
	bool	   *r_segment_null;
	Datum	   *r_submitted;
	Datum	   *r_channel;
	bool	   *r_channel_null;
	Datum	   *r_weight;
	Datum	   *r_external;
	bool	   *r_external_null;
	/* contact details, kept only for columns mapped to contact.* */
	Datum	   *r_contact[CM_NUM_META - CM_FIRST_CONTACT];
	bool	   *r_contact_null[CM_NUM_META - CM_FIRST_CONTACT];
	size_t		batch_bytes;

	/* answers of the current batch */
	int			nanswers;
	int			answers_cap;
	int		   *a_row;
	Datum	   *a_item;
	Datum	   *a_value;
	bool	   *a_value_null;
	Datum	   *a_text;
	bool	   *a_text_null;

	SPIPlanPtr	ids_plan;
	SPIPlanPtr	response_plan;
	SPIPlanPtr	answer_plan;
	SPIPlanPtr	error_plan;
	SPIPlanPtr	contact_plan;	/* prepared when an export maps contact data */
	bool		citus;			/* custfocus is distributed (custfocus.distribute()) */
	CfRollupImport *rollup;		/* the roll-up deltas, or NULL: the triggers' */

	/* for the error context callback */
	long		context_line;
	bool		flushing;
	long		flush_first_line;
	long		flush_last_line;
	bool		own_error;

	char	   *keybuf;
	size_t		keybuf_size;
} ImportState;

/* the context libcsv and csvmap allocate in (see ImportRealloc) */
static MemoryContext CmContext = NULL;

static const char *const Channels[] = {
	"web", "email", "phone", "sms", "paper", "in_person", "kiosk", "other"
};

/* ---------------------------------------------------------------------
 * Hooks for csvmap
 * ---------------------------------------------------------------------
 */

/*
 * libcsv and csvmap allocate through these, so their buffers belong to the
 * import's memory context and go away with it, on error too.
 */
static void *
ImportRealloc(void *ptr, size_t size)
{
	if (size == 0)
		size = 1;
	if (ptr == NULL)
		return MemoryContextAlloc(CmContext, size);
	return repalloc(ptr, size);
}

static void
ImportFree(void *ptr)
{
	pfree(ptr);
}

/* The non-ASCII part of label_key(): lower() under the default collation */
static char *
ImportLower(const char *s, size_t len)
{
	MemoryContext old = MemoryContextSwitchTo(CmContext);
	char	   *result = str_tolower(s, len, DEFAULT_COLLATION_OID);

	MemoryContextSwitchTo(old);
	return result;
}

static size_t
ReadSource(void *arg, char *buf, size_t size)
{
	ImportSource *src = (ImportSource *) arg;
	size_t		n;

	/* every block read is a point where a long import can be cancelled */
	CHECK_FOR_INTERRUPTS();
	if (src->file)
	{
		n = fread(buf, 1, size, src->file);
		if (n == 0 && ferror(src->file))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", src->path)));
		return n;
	}
	n = Min(size, src->len - src->pos);
	memcpy(buf, src->data + src->pos, n);
	src->pos += n;
	return n;
}

/* Byte offset of the first invalid character, for an encoding of the server */
static size_t
FirstInvalidByte(int encoding, const char *s, size_t len)
{
	return (size_t) pg_encoding_verifymbstr(encoding, s, (int) len);
}

/*
 * Brings a field into the database encoding.  Input that is invalid in its
 * own encoding is reported back as a bad row; characters that the database
 * encoding cannot hold raise the conversion's own error (with the line in
 * the error context).
 */
static char *
ConvertField(void *arg, char *s, size_t len, size_t *out_len, size_t *bad_offset)
{
	ImportState *st = (ImportState *) arg;
	int			db = GetDatabaseEncoding();
	int			src;
	char	   *conv;

	if (CmReaderEncoding(st->reader) != CM_ENC_BYTES)
		src = PG_UTF8;			/* already checked by the reader */
	else
	{
		src = st->opts.pg_encoding;
		if (!pg_verify_mbstr(src, s, (int) len, true))
		{
			*bad_offset = FirstInvalidByte(src, s, len);
			return NULL;
		}
	}
	*out_len = len;
	if (src == db || db == PG_SQL_ASCII)
		return s;

	/*
	 * PostgreSQL converts some pairs only through UTF-8 (WIN1252 to LATIN1,
	 * for one).
	 */
	if (src != PG_UTF8 && st->via_utf8)
	{
		s = (char *) pg_do_encoding_conversion((unsigned char *) s, (int) len, src, PG_UTF8);
		len = strlen(s);
		src = PG_UTF8;
	}
	conv = pg_any_to_server(s, (int) len, src);
	*out_len = (conv != s) ? strlen(conv) : len;
	return conv;
}

/* ---------------------------------------------------------------------
 * Key maps
 * ---------------------------------------------------------------------
 */

static void
KeyMapInit(KeyMap *m, int expected)
{
	int			size = 8;

	while (size < expected * 2)
		size *= 2;
	m->entries = palloc0(sizeof(KeyEntry) * size);
	m->size = size;
	m->count = 0;
}

static KeyEntry *
KeyMapFind(const KeyMap *m, const char *key, int len, uint32 hash)
{
	int			i = hash & (m->size - 1);

	for (;;)
	{
		KeyEntry   *e = &m->entries[i];

		if (e->key == NULL)
			return e;
		if (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0)
			return e;
		i = (i + 1) & (m->size - 1);
	}
}

static KeyEntry *
KeyMapLookup(const KeyMap *m, const char *key, int len)
{
	KeyEntry   *e = KeyMapFind(m, key, len, hash_bytes((const unsigned char *) key, len));

	return e->key ? e : NULL;
}

/* Adds key (kept, not copied); returns the entry, new or existing */
static KeyEntry *
KeyMapInsert(KeyMap *m, char *key, int len, bool *found)
{
	uint32		hash = hash_bytes((const unsigned char *) key, len);
	KeyEntry   *e;

	if ((m->count + 1) * 2 > m->size)
	{
		KeyMap		bigger;
		int			i;

		KeyMapInit(&bigger, m->size);
		for (i = 0; i < m->size; i++)
			if (m->entries[i].key)
				*KeyMapFind(&bigger, m->entries[i].key, m->entries[i].len,
							m->entries[i].hash) = m->entries[i];
		bigger.count = m->count;
		pfree(m->entries);
		*m = bigger;
	}
	e = KeyMapFind(m, key, len, hash);
	*found = (e->key != NULL);
	if (!*found)
	{
		e->key = key;
		e->len = len;
		e->hash = hash;
		m->count++;
	}
	return e;
}

/* The key of a cell, the way CmKeyDup makes the keys of labels and codes */
static char *
CellKey(ImportState *st, const char *s, size_t len, int *keylen)
{
	size_t		klen;
	size_t		i;

	if (len + 1 > st->keybuf_size)
	{
		st->keybuf_size = Max(len + 1, 2 * st->keybuf_size);
		st->keybuf = MemoryContextAlloc(st->cxt, st->keybuf_size);
	}
	klen = CmKey(s, len, st->keybuf);
	for (i = 0; i < klen; i++)
		if ((unsigned char) st->keybuf[i] >= 0x80)
		{
			char	   *lower = str_tolower(st->keybuf, klen, DEFAULT_COLLATION_OID);

			*keylen = strlen(lower);
			return lower;
		}
	*keylen = (int) klen;
	return st->keybuf;
}

/* ---------------------------------------------------------------------
 * Small parsers
 * ---------------------------------------------------------------------
 */

static inline bool
IsAsciiSpace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * Trims ASCII white space off both ends (only ASCII: in some encodings a
 * byte that isspace() accepts can be part of a character).
 */
static void
Trim(const char **s, size_t *len)
{
	while (*len > 0 && IsAsciiSpace((*s)[0]))
	{
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && IsAsciiSpace((*s)[*len - 1]))
		(*len)--;
}

/*
 * A plain decimal number ([+-]digits[.digits][e[+-]digits]).  strtod alone
 * would also take "nan", "inf" and hexadecimal, which no survey means.
 */
static bool
ParseNumber(const char *s, size_t len, double *result)
{
	char		buf[64];
	size_t		i = 0;
	int			digits = 0;
	char	   *end;

	if (len == 0 || len >= sizeof(buf))
		return false;
	if (s[i] == '+' || s[i] == '-')
		i++;
	while (i < len && isdigit((unsigned char) s[i]))
		i++, digits++;
	if (i < len && s[i] == '.')
	{
		i++;
		while (i < len && isdigit((unsigned char) s[i]))
			i++, digits++;
	}
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		int			edigits = 0;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < len && isdigit((unsigned char) s[i]))
			i++, edigits++;
		if (edigits == 0)
			return false;
	}
	if (i != len)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*result = strtod(buf, &end);
	return true;
}

/*
 * A timestamp as timestamptz input reads it (ISO, and whatever DateStyle
 * allows), but without raising an error, so that a bad date is a bad row.
 * Special values (epoch, infinity) are no submission times.
 */
static bool
ParseTimestamp(const char *s, TimestampTz *result)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	struct pg_tm tt;
	fsec_t		fsec;
	int			tz;
	int			dtype;
	int			dterr;

	if (strlen(s) >= MAXDATELEN)
		return false;
	dterr = ParseDateTime(s, workbuf, sizeof(workbuf), field, ftype, MAXDATEFIELDS, &nf);
	if (dterr == 0)
		dterr = DecodeDateTime_compat(field, ftype, nf, &dtype, &tt, &fsec, &tz);
	if (dterr != 0 || dtype != DTK_DATE)
		return false;
	if (tm2timestamp(&tt, fsec, &tz, result) != 0)
		return false;
	return true;
}

/* A value fit to show in a message: truncated, invalid bytes escaped */
static char *
ShowValue(const char *s, size_t len, bool valid)
{
	StringInfoData buf;
	size_t		i;

	initStringInfo(&buf);
	if (valid)
	{
		int			cut = len > MAX_SHOWN_VALUE ? pg_mbcliplen(s, (int) len, MAX_SHOWN_VALUE) : (int) len;

		appendBinaryStringInfo(&buf, s, cut);
		if ((size_t) cut < len)
			appendStringInfoString(&buf, "...");
		return buf.data;
	}
	for (i = 0; i < len && i < MAX_SHOWN_VALUE; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c >= 0x20 && c < 0x7F && c != '\\')
			appendStringInfoChar(&buf, (char) c);
		else
			appendStringInfo(&buf, "\\x%02x", c);
	}
	if (i < len)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/* ---------------------------------------------------------------------
 * Options
 * ---------------------------------------------------------------------
 */

static char *
OptionString(const char *key, JsonbValue *v)
{
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("import option \"%s\" must be a string", key)));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static bool
OptionBool(const char *key, JsonbValue *v)
{
	if (v->type != jbvBool)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("import option \"%s\" must be true or false", key)));
	return v->val.boolean;
}

static void
ParseColumnsOption(ImportOptions *opts, JsonbValue *v)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	k;
	int			cap = 8;

	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("import option \"columns\" must be a JSON object"),
				 errhint("Give {\"export column\": \"item code or response field\", ...}; null skips a column.")));
	opts->rules = palloc(sizeof(CmRule) * cap);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		JsonbValue	t;
		CmRule	   *rule;

		if (tok != WJB_KEY)
			continue;
		tok = JsonbIteratorNext(&it, &t, true);
		if (opts->nrules == cap)
		{
			cap *= 2;
			opts->rules = repalloc(opts->rules, sizeof(CmRule) * cap);
		}
		rule = &opts->rules[opts->nrules++];
		rule->column = pnstrdup(k.val.string.val, k.val.string.len);
		if (t.type == jbvNull)
			rule->target = NULL;
		else if (t.type == jbvString)
			rule->target = pnstrdup(t.val.string.val, t.val.string.len);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"%s\" in import option \"columns\" must map to a string or null",
							rule->column)));
	}
}

static void
ParseEncodingOption(ImportOptions *opts, const char *name)
{
	char		key[32];
	char	   *p;
	int			enc;

	/* UTF-16 is no PostgreSQL encoding; the reader transcodes it */
	strlcpy(key, name, sizeof(key));
	for (p = key; *p; p++)
		*p = pg_ascii_tolower((unsigned char) *p);
	opts->encoding_given = true;
	if (strcmp(key, "utf-16") == 0 || strcmp(key, "utf16") == 0 ||
		strcmp(key, "utf-16le") == 0 || strcmp(key, "utf16le") == 0)
	{
		opts->cm_encoding = CM_ENC_UTF16LE;
		return;
	}
	if (strcmp(key, "utf-16be") == 0 || strcmp(key, "utf16be") == 0)
	{
		opts->cm_encoding = CM_ENC_UTF16BE;
		return;
	}
	enc = pg_char_to_encoding(name);
	if (enc < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not a known encoding", name),
				 errhint("Use a PostgreSQL encoding name such as UTF8, WIN1252 or LATIN1, or UTF-16LE.")));
	/* client-only encodings may hide delimiters and quotes in characters */
	if (!PG_VALID_BE_ENCODING(enc))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("encoding \"%s\" is not supported for import", name),
				 errdetail("Its multibyte characters can contain bytes that look like delimiters or quotes."),
				 errhint("Convert the export to UTF-8 first.")));
	opts->pg_encoding = enc;
	opts->cm_encoding = (enc == PG_UTF8) ? CM_ENC_UTF8 : CM_ENC_BYTES;
}

static void
ParseOptions(ImportOptions *opts, Jsonb *jb)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	k;

	memset(opts, 0, sizeof(*opts));
	opts->cm_encoding = CM_ENC_UTF8;
	opts->pg_encoding = PG_UTF8;
	opts->layout = CM_LAYOUT_AUTO;
	opts->batch_size = DEFAULT_BATCH_ROWS;
	if (jb == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("import options must be a JSON object")));

	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		JsonbValue	v;
		char	   *key;
		char	   *s;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(k.val.string.val, k.val.string.len);
		tok = JsonbIteratorNext(&it, &v, true);

		if (strcmp(key, "delimiter") == 0)
		{
			s = OptionString(key, &v);
			if (pg_strcasecmp(s, "tab") == 0 || strcmp(s, "\\t") == 0)
				opts->delimiter = '\t';
			else if (strlen(s) == 1 && (unsigned char) s[0] < 0x80 &&
					 s[0] != '"' && s[0] != '\r' && s[0] != '\n' && s[0] != ' ' && s[0] != '\0')
				opts->delimiter = (unsigned char) s[0];
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("import option \"delimiter\" must be a single ASCII character other than a quote, space or line break, or \"tab\""),
						 errdetail("It was \"%s\".", s)));
		}
		else if (strcmp(key, "encoding") == 0)
			ParseEncodingOption(opts, OptionString(key, &v));
		else if (strcmp(key, "layout") == 0)
		{
			s = OptionString(key, &v);
			if (pg_strcasecmp(s, "auto") == 0)
				opts->layout = CM_LAYOUT_AUTO;
			else if (pg_strcasecmp(s, "plain") == 0)
				opts->layout = CM_LAYOUT_PLAIN;
			else if (pg_strcasecmp(s, "qualtrics") == 0)
				opts->layout = CM_LAYOUT_QUALTRICS;
			else if (pg_strcasecmp(s, "surveymonkey") == 0)
				opts->layout = CM_LAYOUT_SURVEYMONKEY;
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown layout \"%s\"", s),
						 errhint("Use auto, plain, qualtrics or surveymonkey.")));
		}
		else if (strcmp(key, "columns") == 0)
			ParseColumnsOption(opts, &v);
		else if (strcmp(key, "on_error") == 0)
		{
			s = OptionString(key, &v);
			if (strcmp(s, "skip") == 0)
				opts->skip = true;
			else if (strcmp(s, "error") == 0 || strcmp(s, "stop") == 0)
				opts->skip = false;
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("import option \"on_error\" must be \"error\" or \"skip\""),
						 errdetail("It was \"%s\".", s)));
		}
		else if (strcmp(key, "allow_missing_id") == 0)
			opts->allow_missing_id = OptionBool(key, &v);
		else if (strcmp(key, "allow_empty") == 0)
			opts->allow_empty = OptionBool(key, &v);
		else if (strcmp(key, "submitted_at") == 0)
			opts->submitted_at = OptionString(key, &v);
		else if (strcmp(key, "service") == 0)
			opts->service = OptionString(key, &v);
		else if (strcmp(key, "segment") == 0)
			opts->segment = OptionString(key, &v);
		else if (strcmp(key, "channel") == 0)
			opts->channel = OptionString(key, &v);
		else if (strcmp(key, "date_style") == 0)
		{
			s = OptionString(key, &v);
			if (pg_strcasecmp(s, "MDY") != 0 && pg_strcasecmp(s, "DMY") != 0 &&
				pg_strcasecmp(s, "YMD") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("import option \"date_style\" must be MDY, DMY or YMD"),
						 errdetail("It was \"%s\".", s)));
			opts->date_style = s;
		}
		else if (strcmp(key, "timezone") == 0)
			opts->timezone = OptionString(key, &v);
		else if (strcmp(key, "source") == 0)
			opts->source = OptionString(key, &v);
		else if (strcmp(key, "batch_size") == 0)
		{
			if (v.type != jbvNumeric)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("import option \"batch_size\" must be a number")));
			opts->batch_size = DatumGetInt32(DirectFunctionCall1(numeric_int4,
																 NumericGetDatum(v.val.numeric)));
			if (opts->batch_size < 1 || opts->batch_size > 100000)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("import option \"batch_size\" must be between 1 and 100000")));
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown import option \"%s\"", key),
					 errhint("Known options: allow_empty, allow_missing_id, batch_size, channel, columns, date_style, delimiter, encoding, layout, on_error, segment, service, source, submitted_at, timezone.")));
	}
}

/* ---------------------------------------------------------------------
 * Catalogue lookups
 * ---------------------------------------------------------------------
 */

static void
LookupSurvey(ImportState *st, text *survey)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		isnull;

	args[0] = PointerGetDatum(survey);
	if (SPI_execute_with_args("SELECT survey_id, code FROM custfocus.survey "
							  "WHERE custfocus.label_key(code) = custfocus.label_key($1)",
							  1, argtypes, args, NULL, true, 2) != SPI_OK_SELECT)
		elog(ERROR, "could not look up the survey");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("survey \"%s\" does not exist", text_to_cstring(survey)),
				 errhint("Survey codes are matched case-insensitively against custfocus.survey.code.")));
	st->survey_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	st->survey_code = MemoryContextStrdup(st->cxt, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
	SPI_freetuptable(SPI_tuptable);
}

static ScaleInfo *
FindScale(ImportState *st, int32 scale_id)
{
	int			i;

	for (i = 0; i < st->nscales; i++)
		if (st->scales[i].scale_id == scale_id)
			return &st->scales[i];
	return NULL;
}

/*
 * Concurrent imports of one survey run one after the other.
 *
 * Two imports that insert the same respondents in different orders deadlock
 * on the unique index of respondent ids: each waits for a key the
 * other inserted first.  Sorting each batch would not be enough, because a
 * session keeps the keys of its earlier batches while it inserts the next
 * one, and sorting the whole file before inserting would mean holding all
 * of it.  So an import first takes a transaction-scoped advisory lock on its
 * survey: imports of one survey queue, the later ones then find the earlier
 * ones' committed rows and count them as duplicates (as INSERT ... ON
 * CONFLICT DO NOTHING would), and imports of different surveys, which share
 * no keys, still run side by side.  The lock is the two-key form, keyed by
 * the OID of custfocus.response and the survey id, and shows in pg_locks as
 * such.
 */
static void
LockSurvey(ImportState *st)
{
	Oid			response = get_relname_relid("response", get_namespace_oid("custfocus", false));

	if (!OidIsValid(response))
		elog(ERROR, "table custfocus.response does not exist");
	DirectFunctionCall2(pg_advisory_xact_lock_int4,
						Int32GetDatum((int32) response),
						Int32GetDatum(st->survey_id));
}

/* Items with their scales, and every label of those scales */
static void
LoadItems(ImportState *st)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1];
	uint64		i;
	MemoryContext old;

	args[0] = Int32GetDatum(st->survey_id);
	if (SPI_execute_with_args("SELECT i.item_id, i.code, i.text, s.scale_id, s.code, "
							  "       s.min_value, s.max_value, s.integral, "
							  "       i.is_overall, i.metric, i.reverse_coded "
							  "  FROM custfocus.item i "
							  "  LEFT JOIN custfocus.scale s ON s.scale_id = i.scale_id "
							  " WHERE i.survey_id = $1 "
							  " ORDER BY i.position NULLS LAST, i.item_id",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the items of the survey");

	old = MemoryContextSwitchTo(st->cxt);
	st->nitems = (int) SPI_processed;
	st->items = palloc0(sizeof(ItemInfo) * (st->nitems + 1));
	st->scales = palloc0(sizeof(ScaleInfo) * (st->nitems + 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		ItemInfo   *item = &st->items[i];
		bool		isnull;
		int32		scale_id;

		item->item_id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		item->code = SPI_getvalue(tup, desc, 2);
		item->text = SPI_getvalue(tup, desc, 3);
		scale_id = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
		if (isnull)
			continue;
		item->scale = FindScale(st, scale_id);
		if (item->scale == NULL)
		{
			ScaleInfo  *sc = &st->scales[st->nscales++];

			sc->scale_id = scale_id;
			sc->code = SPI_getvalue(tup, desc, 5);
			sc->min_value = DatumGetFloat8(SPI_getbinval(tup, desc, 6, &isnull));
			sc->max_value = DatumGetFloat8(SPI_getbinval(tup, desc, 7, &isnull));
			sc->integral = DatumGetBool(SPI_getbinval(tup, desc, 8, &isnull));
			KeyMapInit(&sc->labels, 16);
			initStringInfo(&sc->label_list);
			item->scale = sc;
		}
		if (st->rollup != NULL)
			CfRollupImportItem(st->rollup, item->item_id,
							   DatumGetBool(SPI_getbinval(tup, desc, 9, &isnull)),
							   SPI_getvalue(tup, desc, 10),
							   DatumGetBool(SPI_getbinval(tup, desc, 11, &isnull)),
							   item->scale->min_value, item->scale->max_value);
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);

	if (SPI_execute_with_args("SELECT l.scale_id, l.label, l.value "
							  "  FROM custfocus.scale_label l "
							  " WHERE l.scale_id IN (SELECT i.scale_id FROM custfocus.item i "
							  "                       WHERE i.survey_id = $1) "
							  " ORDER BY l.scale_id, l.value NULLS LAST, l.label",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the scale labels of the survey");
	old = MemoryContextSwitchTo(st->cxt);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		ScaleInfo  *sc = FindScale(st, DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull)));
		char	   *label = SPI_getvalue(tup, desc, 2);
		char	   *key = CmKeyDup(label, strlen(label));
		double		value = DatumGetFloat8(SPI_getbinval(tup, desc, 3, &isnull));
		double		dummy;
		bool		found;
		KeyEntry   *e;

		if (sc == NULL)
			continue;
		e = KeyMapInsert(&sc->labels, key, strlen(key), &found);
		e->value = isnull ? 0 : value;
		e->missing = isnull;
		if (ParseNumber(key, strlen(key), &dummy))
			sc->numeric_labels = true;
		if (!isnull)
			appendStringInfo(&sc->label_list, "%s%s", sc->label_list.len ? ", " : "", label);
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
}

/* service or segment codes -> ids */
static void
LoadCodes(ImportState *st, KeyMap *map, const char *query)
{
	uint64		i;
	MemoryContext old;

	if (SPI_execute(query, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run \"%s\"", query);
	old = MemoryContextSwitchTo(st->cxt);
	KeyMapInit(map, (int) SPI_processed + 1);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		bool		found;
		int32		id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		char	   *code = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		char	   *key = CmKeyDup(code, strlen(code));

		KeyMapInsert(map, key, strlen(key), &found)->value = id;
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Which responses the caller may add, under the row-level security policy
 * of custfocus.response (response_by_program in custfocus.sql): about a
 * service of its programs, or without a service to a survey of its
 * programs; anything when it sees all programs or the policy does not apply
 * to it.  The services it cannot see at all are not in st->services, and
 * read as unknown codes.  Checking here, row by row, lets a refused row be
 * reported with its line, column and value (and skipped with on_error =
 * skip) instead of failing the batch's INSERT; the policy itself stays the
 * last line of defence, should it ever grant less than this check assumes.
 */
static void
LoadWritable(ImportState *st)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		args[1];
	bool		isnull;
	bool		all;
	Datum	   *ids;
	int			nids;
	int			i;

	args[0] = Int32GetDatum(st->survey_id);
	if (SPI_execute_with_args("SELECT NOT pg_catalog.row_security_active('custfocus.response'::pg_catalog.regclass) "
							  "       OR custfocus.sees_all_programs(), "
							  "       $1 = ANY (custfocus.visible_survey_ids()), "
							  "       custfocus.visible_service_ids()",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not look up the programs of the importing role");
	all = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	st->serviceless_ok = all ||
		DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (!all)
	{
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc, 3, &isnull)),
						  INT4OID, sizeof(int32), true, TYPALIGN_INT, &ids, NULL, &nids);
		for (i = 0; i < st->services.size; i++)
		{
			KeyEntry   *e = &st->services.entries[i];
			int			k;

			if (e->key == NULL)
				continue;
			e->denied = true;
			for (k = 0; k < nids; k++)
				if (DatumGetInt32(ids[k]) == (int32) e->value)
				{
					e->denied = false;
					break;
				}
		}
	}
	SPI_freetuptable(SPI_tuptable);
}

/* The entry of a code, or NULL; *id is set when there is one */
static KeyEntry *
LookupCode(ImportState *st, KeyMap *map, const char *s, size_t len, int32 *id)
{
	int			klen;
	char	   *key = CellKey(st, s, len, &klen);
	KeyEntry   *e = KeyMapLookup(map, key, klen);

	if (e != NULL)
		*id = (int32) e->value;
	return e;
}

/* "In person" -> in_person; NULL when not one of response.channel's values */
static const char *
NormalizeChannel(const char *s, size_t len)
{
	char		buf[32];
	size_t		i;
	int			k;

	if (len >= sizeof(buf))
		return NULL;
	for (i = 0; i < len; i++)
	{
		char		c = pg_ascii_tolower((unsigned char) s[i]);

		buf[i] = (c == ' ' || c == '-') ? '_' : c;
	}
	buf[len] = '\0';
	for (k = 0; k < (int) lengthof(Channels); k++)
		if (strcmp(buf, Channels[k]) == 0)
			return Channels[k];
	return NULL;
}

/* ---------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------
 */

static void
ImportErrorContext(void *arg)
{
	ImportState *st = (ImportState *) arg;

	if (st->own_error)
		return;
	if (st->flushing)
		errcontext("custfocus import of \"%s\", inserting the rows of lines %ld to %ld",
				   st->source, st->flush_first_line, st->flush_last_line);
	else if (st->context_line > 0)
		errcontext("custfocus import of \"%s\", line %ld", st->source, st->context_line);
	else if (st->reader)
		errcontext("custfocus import of \"%s\", line %ld", st->source, CmReaderLine(st->reader));
}

static const char *
ColumnName(ImportState *st, int field)
{
	if (st->map && field >= 0 && field < st->map->ncolumns)
		return st->map->columns[field].name;
	if (field >= 0)
		return psprintf("(column %d)", field + 1);
	return NULL;
}

/*
 * A bad row: an error, or with on_error = skip a row of import_error.
 * message is the errmsg; detail (optional) follows the sentence that names
 * the line, column and value.
 */
static void
RowError(ImportState *st, long line, const char *column, const char *value,
		 int sqlerrcode, const char *message, const char *detail, const char *hint)
{
	StringInfoData where;

	initStringInfo(&where);
	appendStringInfo(&where, "Line %ld", line);
	if (column)
		appendStringInfo(&where, ", column \"%s\"", column);
	if (value)
		appendStringInfo(&where, ", value \"%s\"", value);
	appendStringInfoChar(&where, '.');
	if (detail)
		appendStringInfo(&where, " %s", detail);

	if (!st->opts.skip)
	{
		st->own_error = true;
		ereport(ERROR,
				(errcode(sqlerrcode),
				 errmsg_internal("%s", message),
				 errdetail_internal("%s", where.data),
				 errhint("%s", hint ? hint :
								  "Correct the export, or import with {\"on_error\": \"skip\"} to load the other rows and record this one in custfocus.import_error.")));
	}
	else
	{
		Datum		args[5];
		char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
		StringInfoData msg;
		MemoryContext old;

		/* "why": the message, and the detail as its continuation */
		initStringInfo(&msg);
		appendStringInfoString(&msg, message);
		if (detail)
		{
			appendStringInfoString(&msg, ": ");
			if (detail[0] >= 'A' && detail[0] <= 'Z' &&
				((detail[1] >= 'a' && detail[1] <= 'z') || detail[1] == ' '))
				appendStringInfoChar(&msg, pg_ascii_tolower((unsigned char) detail[0]));
			else
				appendStringInfoChar(&msg, detail[0]);
			appendStringInfoString(&msg, detail + 1);
		}
		args[0] = Int64GetDatum(st->import_id);
		args[1] = Int64GetDatum(line);
		args[2] = column ? CStringGetTextDatum(column) : (Datum) 0;
		nulls[2] = column ? ' ' : 'n';
		args[3] = value ? CStringGetTextDatum(value) : (Datum) 0;
		nulls[3] = value ? ' ' : 'n';
		args[4] = CStringGetTextDatum(msg.data);
		old = CurrentMemoryContext;
		if (SPI_execute_plan(st->error_plan, args, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not record an import error");
		MemoryContextSwitchTo(old);
		st->rows_skipped++;
	}
}

/* A bad row reported by the reader (quoting, encoding) */
static void
ReaderRowError(ImportState *st, const CmError *err, const CmRecord *rec)
{
	const char *column = ColumnName(st, err->field);
	char	   *detail;

	switch (err->code)
	{
		case CM_ERR_BAD_QUOTE:
			detail = psprintf("The row has %s at line %ld, byte %ld.",
							  err->message, err->at_line, err->at_byte);
			RowError(st, err->line, column, NULL, ERRCODE_BAD_COPY_FILE_FORMAT,
					 psprintf("malformed quoting in column \"%s\"", column), detail,
					 "A field that starts with a quote must end with a quote followed by a delimiter or a line break; a quote inside a quoted field is written twice.");
			break;
		case CM_ERR_UNTERMINATED:
			RowError(st, err->line, column, NULL, ERRCODE_BAD_COPY_FILE_FORMAT,
					 psprintf("unterminated quoted field in column \"%s\"", column),
					 psprintf("%c%s.", pg_ascii_toupper(err->message[0]), err->message + 1),
					 "A quote opens a field that runs to the next quote; look for a stray quote on that line.");
			break;
		case CM_ERR_ENCODING:
			{
				const char *encname;
				char	   *value = NULL;
				bool		utf16 = (CmReaderEncoding(st->reader) == CM_ENC_UTF16LE ||
									 CmReaderEncoding(st->reader) == CM_ENC_UTF16BE);
				long		position = err->at_byte;

				if (CmReaderEncoding(st->reader) == CM_ENC_BYTES)
					encname = pg_encoding_to_char(st->opts.pg_encoding);
				else if (CmReaderEncoding(st->reader) == CM_ENC_UTF8)
					encname = "UTF8";
				else
					encname = CmReaderEncoding(st->reader) == CM_ENC_UTF16LE ? "UTF-16LE" : "UTF-16BE";
				if (rec && err->field >= 0 && err->field < rec->nfields)
				{
					const char *f = rec->fields[err->field];
					long		i;

					value = ShowValue(f, rec->lengths[err->field], false);
					/* UTF-16 was read as characters: count them, not bytes */
					if (utf16)
						for (i = 0, position = 1; i < err->at_byte - 1; i++)
							if (((unsigned char) f[i] & 0xC0) != 0x80)
								position++;
				}
				RowError(st, err->line, column, value, ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
						 utf16 ?
						 psprintf("invalid %s in column \"%s\": an unpaired surrogate or a lone byte",
								  encname, column) :
						 psprintf("%s for encoding \"%s\" in column \"%s\"",
								  err->message, encname, column),
						 psprintf("The invalid %s is on line %ld, %s %ld of the value.",
								  utf16 ? "character" : "byte", err->at_line,
								  utf16 ? "character" : "byte", position),
						 st->text_input || utf16 ? NULL :
						 "Give the file's encoding with the \"encoding\" option (for example {\"encoding\": \"windows-1252\"}), or save the export as UTF-8.");
				break;
			}
		default:
			elog(ERROR, "unexpected csvmap row error %d", (int) err->code);
	}
}

/* Errors after which nothing more can be read */
static void
ReaderFatal(ImportState *st, const CmError *err)
{
	const char *column = ColumnName(st, err->field);

	st->own_error = true;
	switch (err->code)
	{
		case CM_ERR_FIELD_TOO_LONG:
		case CM_ERR_ROW_TOO_LONG:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s %s in the row starting on line %ld",
							err->code == CM_ERR_FIELD_TOO_LONG ? "field" : "row",
							err->code == CM_ERR_FIELD_TOO_LONG ?
							psprintf("longer than %zu bytes", CM_DEFAULT_MAX_FIELD) :
							psprintf("longer than %zu bytes", CM_DEFAULT_MAX_ROW),
							err->line),
					 errhint("A quote that is never closed makes the rest of the file one field.")));
			break;
		case CM_ERR_NO_MEMORY:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory while reading the export")));
			break;
		case CM_ERR_NO_HEADER:
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("the export is empty"),
					 errdetail("Not even a header row was found.")));
			break;
		case CM_ERR_UNKNOWN_TARGET:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("item \"%s\" named in import option \"columns\" does not exist in survey \"%s\"",
							err->name, st->survey_code),
					 errhint("Map a column to the code of an item of the survey, to one of the response fields external_id, submitted_at, service, segment, channel and weight, to a contact field (contact.name, contact.email, contact.phone, contact.address, contact.ip_address), or to null to leave it out.")));
			break;
		case CM_ERR_UNKNOWN_COLUMN:
			{
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("column \"%s\" named in import option \"columns\" is not in the export",
								err->name),
						 errhint("Columns are named by their header, matched case-insensitively; in a Qualtrics export by the field id or the question text, in a SurveyMonkey export by the question text or \"question - sub-header\".")));
				break;
			}
		case CM_ERR_DUPLICATE_TARGET:
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("columns %d (\"%s\") and %d (\"%s\") both map to \"%s\"",
							err->field + 1, column, err->other_field + 1,
							ColumnName(st, err->other_field), err->name),
					 errhint("Leave one out with the \"columns\" option, e.g. {\"columns\": {\"%s\": null}}.",
							 ColumnName(st, err->other_field))));
			break;
		case CM_ERR_DUPLICATE_RULE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"%s\" is named by more than one entry of import option \"columns\"",
							column)));
			break;
		case CM_ERR_IDENTIFYING:
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("column \"%s\" holds contact data and can be imported only into respondent_contact", column),
					 errdetail("custfocus keeps contact data (e-mail addresses, IP addresses, names, phone numbers, addresses) only in custfocus.respondent_contact, which admins alone can read."),
					 errhint("Map the column to contact.name, contact.email, contact.phone, contact.address or contact.ip_address, or to null to leave it out.")));
			break;
		case CM_ERR_BAD_QUOTE:
		case CM_ERR_UNTERMINATED:
		case CM_ERR_ENCODING:
		case CM_ERR_BAD_HEADER:
			/* a bad header row: report it as a bad row, but always fail */
			st->opts.skip = false;
			st->own_error = false;
			if (err->code == CM_ERR_BAD_HEADER)
				ereport(ERROR,
						(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
						 errmsg("could not read the header row of the export: %s", err->message)));
			ReaderRowError(st, err, NULL);
			break;
		default:
			elog(ERROR, "unexpected csvmap error %d: %s", (int) err->code, err->message);
	}
}

/* ---------------------------------------------------------------------
 * Batches
 * ---------------------------------------------------------------------
 */

static void
GrowRows(ImportState *st)
{
	int			cap = st->rows_cap ? st->rows_cap * 2 : 1024;
	MemoryContext old = MemoryContextSwitchTo(st->cxt);

#define GROW(field, type) \
	st->field = st->rows_cap ? repalloc(st->field, sizeof(type) * cap) : palloc(sizeof(type) * cap)
	GROW(r_line, long);
	GROW(r_service, Datum);
	GROW(r_service_null, bool);
	GROW(r_segment, Datum);
	GROW(r_segment_null, bool);
	GROW(r_submitted, Datum);
	GROW(r_channel, Datum);
	GROW(r_channel_null, bool);
	GROW(r_weight, Datum);
	GROW(r_external, Datum);
	GROW(r_external_null, bool);
	for (int c = 0; c < CM_NUM_META - CM_FIRST_CONTACT; c++)
	{
		GROW(r_contact[c], Datum);
		GROW(r_contact_null[c], bool);
	}
#undef GROW
	st->rows_cap = cap;
	MemoryContextSwitchTo(old);
}

static void
GrowAnswers(ImportState *st)
{
	int			cap = st->answers_cap ? st->answers_cap * 2 : 8192;
	MemoryContext old = MemoryContextSwitchTo(st->cxt);

#define GROW(field, type) \
	st->field = st->answers_cap ? repalloc(st->field, sizeof(type) * cap) : palloc(sizeof(type) * cap)
	GROW(a_row, int);
	GROW(a_item, Datum);
	GROW(a_value, Datum);
	GROW(a_value_null, bool);
	GROW(a_text, Datum);
	GROW(a_text_null, bool);
#undef GROW
	st->answers_cap = cap;
	MemoryContextSwitchTo(old);
}

static ArrayType *
MakeArray(Datum *values, bool *nulls, int n, Oid elemtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return construct_md_array(values, nulls, 1, dims, lbs, elemtype, typlen, typbyval, typalign);
}

typedef struct IdIndex
{
	int64		id;
	int			row;
} IdIndex;

static int
CompareIdIndex(const void *a, const void *b)
{
	int64		x = ((const IdIndex *) a)->id;
	int64		y = ((const IdIndex *) b)->id;

	return (x > y) - (x < y);
}

/*
 * INSERT ... VALUES on a distributed custfocus.  Citus runs an INSERT ...
 * SELECT whose rows come from the coordinator as a COPY into the shards, and
 * PostgreSQL refuses COPY FROM into a table with row-level security for
 * every role it applies to (analysts, admins): the rows go in as multi-row
 * VALUES instead, which Citus sends to each shard as an INSERT.  A constant
 * column takes one parameter per statement, the others one per row; rows
 * with skip[k] set are left out.  Returns the number of rows inserted.
 */
typedef struct ValuesColumn
{
	Oid			type;
	const Datum *values;		/* one per row, or values[0] if constant */
	const bool *nulls;			/* NULL: none is null */
	bool		constant;
} ValuesColumn;

#define VALUES_MAX_ROWS		1000

static uint64
InsertValues(const char *into, const ValuesColumn *cols, int ncols, const bool *skip, int n)
{
	uint64		total = 0;
	int			k = 0;
	int			maxparams = ncols * VALUES_MAX_ROWS;
	Oid		   *types = palloc(sizeof(Oid) * maxparams);
	Datum	   *values = palloc(sizeof(Datum) * maxparams);
	char	   *nulls = palloc(sizeof(char) * maxparams);
	int		   *constparam = palloc(sizeof(int) * ncols);

	while (k < n)
	{
		StringInfoData sql;
		int			nparams = 0;
		int			rows = 0;

		initStringInfo(&sql);
		appendStringInfo(&sql, "%s VALUES ", into);
		for (int c = 0; c < ncols; c++)
		{
			if (!cols[c].constant)
				continue;
			types[nparams] = cols[c].type;
			values[nparams] = cols[c].values[0];
			nulls[nparams] = (cols[c].nulls && cols[c].nulls[0]) ? 'n' : ' ';
			constparam[c] = ++nparams;
		}
		for (; k < n && rows < VALUES_MAX_ROWS; k++)
		{
			if (skip && skip[k])
				continue;
			appendStringInfoString(&sql, rows > 0 ? ", (" : "(");
			for (int c = 0; c < ncols; c++)
			{
				if (c > 0)
					appendStringInfoString(&sql, ", ");
				if (cols[c].constant)
				{
					appendStringInfo(&sql, "$%d", constparam[c]);
					continue;
				}
				types[nparams] = cols[c].type;
				values[nparams] = cols[c].values[k];
				nulls[nparams] = (cols[c].nulls && cols[c].nulls[k]) ? 'n' : ' ';
				appendStringInfo(&sql, "$%d::%s", ++nparams, format_type_be(cols[c].type));
			}
			appendStringInfoChar(&sql, ')');
			rows++;
		}
		if (rows == 0)
			break;
		if (SPI_execute_with_args(sql.data, nparams, types, values, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not insert into %s", into);
		total += SPI_processed;
		pfree(sql.data);
	}
	return total;
}

/*
 * Inserts the batch: response ids are drawn first so that the answers can
 * be built without a round trip per row; ON CONFLICT skips respondents
 * already loaded, and RETURNING says which rows went in, so that only their
 * answers follow.
 */
static bool HasContactColumns(ImportState *st);
static void InsertContacts(ImportState *st, const bool *inserted, const Datum *ids, int n);
static bool *InsertResponsesDistributed(ImportState *st, Datum *args, const Datum *ids, int n);
static void SetImportGuc(const char *name, const char *value);

static void
FlushBatch(ImportState *st)
{
	int			n = st->nrows;
	IdIndex    *ids;
	bool	   *inserted;
	Datum		args[9];
	Datum	   *ids_datum;
	uint64		i;
	int			k;
	int			na;
	MemoryContext old;

	if (n == 0)
		return;
	st->flushing = true;
	st->flush_first_line = st->r_line[0];
	st->flush_last_line = st->r_line[n - 1];
	old = MemoryContextSwitchTo(st->batch_cxt);

	args[0] = Int32GetDatum(n);
	if (SPI_execute_plan(st->ids_plan, args, NULL, false, 0) != SPI_OK_SELECT ||
		SPI_processed != (uint64) n)
		elog(ERROR, "could not draw response ids");
	MemoryContextSwitchTo(st->batch_cxt);
	ids = palloc(sizeof(IdIndex) * n);
	ids_datum = palloc(sizeof(Datum) * n);
	for (k = 0; k < n; k++)
	{
		bool		isnull;

		ids[k].id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 1, &isnull));
		ids[k].row = k;
		ids_datum[k] = Int64GetDatum(ids[k].id);
	}
	SPI_freetuptable(SPI_tuptable);

	MemoryContextSwitchTo(st->batch_cxt);
	args[0] = Int32GetDatum(st->survey_id);
	args[1] = Int64GetDatum(st->import_id);
	args[2] = PointerGetDatum(MakeArray(ids_datum, NULL, n, INT8OID));
	args[3] = PointerGetDatum(MakeArray(st->r_service, st->r_service_null, n, INT4OID));
	args[4] = PointerGetDatum(MakeArray(st->r_segment, st->r_segment_null, n, INT4OID));
	args[5] = PointerGetDatum(MakeArray(st->r_submitted, NULL, n, TIMESTAMPTZOID));
	args[6] = PointerGetDatum(MakeArray(st->r_channel, st->r_channel_null, n, TEXTOID));
	args[7] = PointerGetDatum(MakeArray(st->r_weight, NULL, n, FLOAT8OID));
	args[8] = PointerGetDatum(MakeArray(st->r_external, st->r_external_null, n, TEXTOID));
	if (st->citus)
		inserted = InsertResponsesDistributed(st, args, ids_datum, n);
	else
	{
		if (st->rollup != NULL)
			CfRollupImportClaim("response");
		if (SPI_execute_plan(st->response_plan, args, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "could not insert responses");
		CfRollupImportUnclaim();

		MemoryContextSwitchTo(st->batch_cxt);
		qsort(ids, n, sizeof(IdIndex), CompareIdIndex);
		inserted = palloc0(sizeof(bool) * n);
		for (i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			IdIndex		key;
			IdIndex    *hit;

			key.id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
			hit = bsearch(&key, ids, n, sizeof(IdIndex), CompareIdIndex);
			if (hit == NULL)
				elog(ERROR, "response id " INT64_FORMAT " was not drawn for this batch", key.id);
			inserted[hit->row] = true;
		}
		st->responses_inserted += SPI_processed;
		st->duplicates += n - SPI_processed;
		SPI_freetuptable(SPI_tuptable);
	}

	if (HasContactColumns(st))
		InsertContacts(st, inserted, ids_datum, n);
	MemoryContextSwitchTo(st->batch_cxt);

	/* answers of the responses inserted, compacted in place */
	MemoryContextSwitchTo(st->batch_cxt);
	na = 0;
	for (k = 0; k < st->nanswers; k++)
	{
		if (!inserted[st->a_row[k]])
			continue;
		st->a_row[na] = st->a_row[k];
		st->a_item[na] = st->a_item[k];
		st->a_value[na] = st->a_value[k];
		st->a_value_null[na] = st->a_value_null[k];
		st->a_text[na] = st->a_text[k];
		st->a_text_null[na] = st->a_text_null[k];
		na++;
	}
	if (na > 0)
	{
		Datum	   *resp = palloc(sizeof(Datum) * na);
		double		transition_bytes = 0;
		bool		big = false;
		int			nestlevel = -1;
		uint64		done;

		for (k = 0; k < na; k++)
		{
			resp[k] = ids_datum[st->a_row[k]];
			transition_bytes += TRANSITION_ANSWER_BYTES;
			if (!st->a_text_null[k])
			{
				Size		len = VARSIZE_ANY(DatumGetPointer(st->a_text[k]));

				transition_bytes += len;
				big |= len > BIG_TEXT;
			}
		}
		args[0] = PointerGetDatum(MakeArray(resp, NULL, na, INT8OID));
		args[1] = PointerGetDatum(MakeArray(st->a_item, NULL, na, INT4OID));
		args[2] = PointerGetDatum(MakeArray(st->a_value, st->a_value_null, na, FLOAT4OID));
		args[3] = PointerGetDatum(MakeArray(st->a_text, st->a_text_null, na, TEXTOID));
		/*
		 * the array holds a copy: one huge comment need not be kept twice
		 * (on Citus the rows go in from the batch, not from the array)
		 */
		for (k = 0; k < na && !st->citus; k++)
			if (!st->a_text_null[k] && VARSIZE(DatumGetPointer(st->a_text[k])) > BIG_TEXT)
				pfree(DatumGetPointer(st->a_text[k]));

		/*
		 * A batch with a huge text answer keeps the answer trigger's
		 * transition table in memory: work_mem is raised, for this INSERT
		 * only, by what the batch's answers take there.  Spilled to a temp
		 * file, the table would cost that huge text twice more: the
		 * trigger's query reads each tuple back into a new copy, and since
		 * PostgreSQL 18 (tuplestore tuples in a generation context) the
		 * spilled in-memory tuple is not given back either, its block being
		 * kept for reuse until the table is dropped.  That made four copies
		 * at once on 18+ (batch array, heap tuple, the kept tuple, the
		 * one read back).  Kept in memory, the table is read in place and
		 * holds no more than the tuples it takes before spilling anyway;
		 * batches of ordinary answers spill as work_mem says.
		 */
		if (big)
		{
			double		kb = (double) work_mem + transition_bytes / 1024.0 + 1024.0;
			char		buf[32];

			snprintf(buf, sizeof(buf), "%d", (int) Min(kb, (double) MAX_KILOBYTES));
			nestlevel = NewGUCNestLevel();
			SetImportGuc("work_mem", buf);
		}
		if (st->citus)
		{
			ValuesColumn ac[4] = {
				{INT8OID, resp, NULL, false},
				{INT4OID, st->a_item, NULL, false},
				{FLOAT4OID, st->a_value, st->a_value_null, false},
				{TEXTOID, st->a_text, st->a_text_null, false},
			};

			done = InsertValues("INSERT INTO custfocus.answer (response_id, item_id, value, text_value)",
								ac, 4, NULL, na);
		}
		else
		{
			if (st->rollup != NULL)
				CfRollupImportClaim("answer");
			if (SPI_execute_plan(st->answer_plan, args, NULL, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "could not insert answers");
			CfRollupImportUnclaim();
			done = SPI_processed;
		}
		if (big)
			AtEOXact_GUC(true, nestlevel);
		st->answers_inserted += done;
	}
	if (st->rollup != NULL)
		CfRollupImportBatch(st->rollup, n, inserted, st->r_service, st->r_service_null,
							st->r_submitted, st->r_weight, na, st->a_row, st->a_item,
							st->a_value, st->a_value_null);

	MemoryContextSwitchTo(old);
	MemoryContextReset(st->batch_cxt);
	st->nrows = 0;
	st->nanswers = 0;
	st->batch_bytes = 0;
	st->flushing = false;
}

/*
 * The responses of a batch on a distributed custfocus (custfocus.distribute(),
 * src/sql/distribute.sql).  Respondent ids cannot have a unique index there
 * (Citus allows unique keys only with the distribution column, response_id),
 * so there is no ON CONFLICT: the batch's ids already in the table (this
 * survey and service), and those repeated within the batch after their first
 * row, are looked up first and left out, as ON CONFLICT DO NOTHING would
 * leave them.  Imports of one survey run one after the other (LockSurvey),
 * so no other import can add an id in between.  Returns which rows went in.
 * One-shot plans: Citus plans these statements only with the parameters'
 * values.
 */
static bool *
InsertResponsesDistributed(ImportState *st, Datum *args, const Datum *ids, int n)
{
	Oid			dup_types[3] = {INT4OID, INT4ARRAYOID, TEXTARRAYOID};
	Datum		dup_args[3];
	bool	   *inserted;
	int			ndup;
	uint64		i;

	dup_args[0] = args[0];
	dup_args[1] = args[3];
	dup_args[2] = args[8];
	if (SPI_execute_with_args("SELECT u.ord::integer "
							  "  FROM (SELECT u.*, pg_catalog.row_number() OVER "
							  "               (PARTITION BY COALESCE(u.service_id, 0), u.external_id ORDER BY u.ord) AS rn "
							  "          FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3)) "
							  "               WITH ORDINALITY AS u (service_id, external_id, ord)) u "
							  " WHERE u.external_id IS NOT NULL "
							  "   AND (u.rn > 1 OR (COALESCE(u.service_id, 0), u.external_id) IN "
							  "        (SELECT COALESCE(r.service_id, 0), r.external_id FROM custfocus.response r "
							  "          WHERE r.survey_id = $1 AND r.external_id = ANY ($3)))",
							  3, dup_types, dup_args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not look up the batch's respondent ids");
	MemoryContextSwitchTo(st->batch_cxt);
	inserted = palloc(sizeof(bool) * n);
	for (int k = 0; k < n; k++)
		inserted[k] = true;
	ndup = (int) SPI_processed;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int32		ord = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));

		if (isnull || ord < 1 || ord > n)
			elog(ERROR, "respondent id lookup returned row %d of a batch of %d", ord, n);
		inserted[ord - 1] = false;
	}
	SPI_freetuptable(SPI_tuptable);

	{
		ValuesColumn rc[9] = {
			{INT8OID, ids, NULL, false},
			{INT4OID, &args[0], NULL, true},
			{INT4OID, st->r_service, st->r_service_null, false},
			{INT4OID, st->r_segment, st->r_segment_null, false},
			{TIMESTAMPTZOID, st->r_submitted, NULL, false},
			{TEXTOID, st->r_channel, st->r_channel_null, false},
			{FLOAT8OID, st->r_weight, NULL, false},
			{TEXTOID, st->r_external, st->r_external_null, false},
			{INT8OID, &args[1], NULL, true},
		};
		bool	   *skip = palloc(sizeof(bool) * n);

		for (int k = 0; k < n; k++)
			skip[k] = !inserted[k];
		if (InsertValues("INSERT INTO custfocus.response (response_id, survey_id, service_id, segment_id, "
						 "submitted_at, channel, weight, external_id, import_id)",
						 rc, 9, skip, n) != (uint64) (n - ndup))
			elog(ERROR, "could not insert responses");
	}
	MemoryContextSwitchTo(st->batch_cxt);
	st->responses_inserted += n - ndup;
	st->duplicates += ndup;
	return inserted;
}

static bool
HasContactColumns(ImportState *st)
{
	for (int m = CM_FIRST_CONTACT; m < CM_NUM_META; m++)
		if (st->map->meta[m] >= 0)
			return true;
	return false;
}

/*
 * Contact details of the responses just inserted, into respondent_contact.
 * That table is the admins' alone, so an import that maps contact columns
 * fails, whole, for any other role.
 */
static void
InsertContacts(ImportState *st, const bool *inserted, const Datum *ids, int n)
{
	const int	nc = CM_NUM_META - CM_FIRST_CONTACT;
	Datum		args[1 + CM_NUM_META - CM_FIRST_CONTACT];
	Datum	   *resp = palloc(sizeof(Datum) * n);
	Datum	   *vals[CM_NUM_META - CM_FIRST_CONTACT];
	bool	   *nulls[CM_NUM_META - CM_FIRST_CONTACT];
	int			m = 0;

	if (st->contact_plan == NULL)
	{
		Oid			types[1 + CM_NUM_META - CM_FIRST_CONTACT] =
		{INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};

		st->contact_plan = SPI_prepare("INSERT INTO custfocus.respondent_contact "
									   "  (response_id, name, email, phone, address, ip_address) "
									   "SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
									   "  pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5), "
									   "  pg_catalog.unnest($6))",
									   1 + nc, types);
		if (st->contact_plan == NULL)
			elog(ERROR, "could not prepare the contact insert: %s", SPI_result_code_string(SPI_result));
		/* SPI returns in the context it was connected from */
		MemoryContextSwitchTo(st->batch_cxt);
	}
	for (int c = 0; c < nc; c++)
	{
		vals[c] = palloc(sizeof(Datum) * n);
		nulls[c] = palloc(sizeof(bool) * n);
	}
	for (int k = 0; k < n; k++)
	{
		bool		any = false;

		if (!inserted[k])
			continue;
		for (int c = 0; c < nc; c++)
			any |= !st->r_contact_null[c][k];
		if (!any)
			continue;
		resp[m] = ids[k];
		for (int c = 0; c < nc; c++)
		{
			vals[c][m] = st->r_contact[c][k];
			nulls[c][m] = st->r_contact_null[c][k];
		}
		m++;
	}
	if (m == 0)
		return;
	if (st->citus)
	{
		/* as InsertResponsesDistributed: no COPY into a table with row security */
		ValuesColumn cc[1 + CM_NUM_META - CM_FIRST_CONTACT];

		cc[0] = (ValuesColumn) {INT8OID, resp, NULL, false};
		for (int c = 0; c < nc; c++)
			cc[1 + c] = (ValuesColumn) {TEXTOID, vals[c], nulls[c], false};
		if (InsertValues("INSERT INTO custfocus.respondent_contact (response_id, name, email, phone, address, ip_address)",
						 cc, 1 + nc, NULL, m) != (uint64) m)
			elog(ERROR, "could not insert contact details");
		return;
	}
	args[0] = PointerGetDatum(MakeArray(resp, NULL, m, INT8OID));
	for (int c = 0; c < nc; c++)
		args[1 + c] = PointerGetDatum(MakeArray(vals[c], nulls[c], m, TEXTOID));
	if (SPI_execute_plan(st->contact_plan, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not insert contact details");
}

/*
 * The conflict target of the respondent id.  From 1.2 on ids are unique per
 * survey and service (response_external_id_key); this library also serves
 * a database whose extension has not been updated yet (ALTER EXTENSION ...
 * UPDATE), where they are unique per survey.
 */
static const char *
RespondentIdKey(void)
{
	if (OidIsValid(get_relname_relid("response_external_id_key",
									 get_namespace_oid("custfocus", false))))
		return "(survey_id, (COALESCE(service_id, 0)), external_id)";
	return "(survey_id, external_id)";
}

/*
 * Whether custfocus is distributed on Citus (src/sql/distribute.sql).  The
 * function that says so is looked up first: this library also serves
 * databases whose extension predates it.
 */
static bool
ImportIsDistributed(void)
{
	bool		isnull;
	bool		result;

	if (SPI_execute("SELECT pg_catalog.to_regprocedure('custfocus.citus_distributed()') IS NOT NULL",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not look up custfocus.citus_distributed()");
	result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	if (!result)
		return false;
	if (SPI_execute("SELECT custfocus.citus_distributed()", true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not call custfocus.citus_distributed()");
	result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return result && !isnull;
}

static void
PreparePlans(ImportState *st)
{
	Oid			ids_types[1] = {INT4OID};
	Oid			response_types[9] = {INT4OID, INT8OID, INT8ARRAYOID, INT4ARRAYOID, INT4ARRAYOID,
	TIMESTAMPTZARRAYOID, TEXTARRAYOID, FLOAT8ARRAYOID, TEXTARRAYOID};
	Oid			answer_types[4] = {INT8ARRAYOID, INT4ARRAYOID, FLOAT4ARRAYOID, TEXTARRAYOID};
	Oid			error_types[5] = {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID};

	st->ids_plan = SPI_prepare("SELECT pg_catalog.nextval('custfocus.response_response_id_seq'::pg_catalog.regclass) "
							   "  FROM pg_catalog.generate_series(1, $1)",
							   1, ids_types);
	/*
	 * Generic plans: a custom plan would fold the batch's arrays into
	 * constants of the plan, a copy of the batch for every plan built.  (On
	 * Citus: InsertResponsesDistributed and one-shot plans instead.)
	 */
	if (!st->citus)
	{
		st->response_plan = SPI_prepare_cursor(psprintf("INSERT INTO custfocus.response AS r "
														 "  (response_id, survey_id, service_id, segment_id, submitted_at, "
														 "   channel, weight, external_id, import_id) "
														 "SELECT u.id, $1, u.service_id, u.segment_id, u.submitted_at, "
														 "       u.channel, u.weight, u.external_id, $2 "
														 "  FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5), "
														 "                 pg_catalog.unnest($6), pg_catalog.unnest($7), pg_catalog.unnest($8), "
														 "                 pg_catalog.unnest($9)) "
														 "       AS u (id, service_id, segment_id, submitted_at, channel, weight, external_id) "
														 "ON CONFLICT %s DO NOTHING "
														 "RETURNING r.response_id",
														 RespondentIdKey()),
											   9, response_types, CURSOR_OPT_GENERIC_PLAN);
		/*
		 * unnest() in the select list (a ProjectSet, in lockstep as the arrays
		 * have one length) hands each element on as it is; in FROM it would be
		 * materialised first, a copy of every text answer.
		 */
		st->answer_plan = SPI_prepare_cursor("INSERT INTO custfocus.answer (response_id, item_id, value, text_value) "
											 "SELECT pg_catalog.unnest($1), pg_catalog.unnest($2), "
											 "       pg_catalog.unnest($3), pg_catalog.unnest($4)",
											 4, answer_types, CURSOR_OPT_GENERIC_PLAN);
	}
	st->error_plan = SPI_prepare("INSERT INTO custfocus.import_error (import_id, line, column_name, value, message) "
								 "VALUES ($1, $2, $3, $4, $5)",
								 5, error_types);
	if (st->ids_plan == NULL || st->error_plan == NULL ||
		(!st->citus && (st->response_plan == NULL || st->answer_plan == NULL)))
		elog(ERROR, "could not prepare the import statements: %s",
			 SPI_result_code_string(SPI_result));
}

/* ---------------------------------------------------------------------
 * Rows
 * ---------------------------------------------------------------------
 */

/* Text of an answer: trimmed, CR LF folded to LF as most exports write it */
static Datum
AnswerText(const char *s, size_t len)
{
	text	   *t = (text *) palloc(len + VARHDRSZ);
	char	   *o = VARDATA(t);
	size_t		i;

	for (i = 0; i < len; i++)
	{
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
			continue;
		*o++ = s[i];
	}
	SET_VARSIZE(t, o - (char *) t);
	return PointerGetDatum(t);
}

/*
 * One answer: a code or a label on the item's scale, or free text.  Returns
 * false after reporting a bad value.
 */
static bool
AddAnswer(ImportState *st, const CmRecord *rec, int field, ItemInfo *item,
		  const char *s, size_t len)
{
	ScaleInfo  *sc = item->scale;
	double		value;
	int			k = st->nanswers;
	const char *column = st->map->columns[field].name;

	Trim(&s, &len);
	if (len == 0)
		return true;			/* a skipped question has no row */

	if (st->nanswers == st->answers_cap)
		GrowAnswers(st);
	st->a_row[k] = st->nrows;
	st->a_item[k] = Int32GetDatum(item->item_id);

	if (sc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(st->batch_cxt);

		st->a_value[k] = (Datum) 0;
		st->a_value_null[k] = true;
		st->a_text[k] = AnswerText(s, len);
		st->a_text_null[k] = false;
		st->batch_bytes += len;
		MemoryContextSwitchTo(old);
		st->nanswers++;
		return true;
	}

	/* labels first when some label looks like a number, else numbers first */
	if (sc->numeric_labels || !ParseNumber(s, len, &value))
	{
		int			klen;
		char	   *key = CellKey(st, s, len, &klen);
		KeyEntry   *e = KeyMapLookup(&sc->labels, key, klen);

		if (e && e->missing)
			return true;		/* N/A and the like */
		if (e)
			value = e->value;
		else if (!ParseNumber(s, len, &value))
		{
			RowError(st, rec->line, column, ShowValue(s, len, true),
					 ERRCODE_INVALID_TEXT_REPRESENTATION,
					 psprintf("\"%s\" is not a label of scale \"%s\" (item \"%s\")",
							  ShowValue(s, len, true), sc->code, item->code),
					 psprintf("Scale \"%s\" takes %s from %g to %g%s%s.",
							  sc->code, sc->integral ? "whole numbers" : "numbers",
							  sc->min_value, sc->max_value,
							  sc->label_list.len ? " or the labels " : "",
							  sc->label_list.data),
					 "Add the label to custfocus.scale_label, or correct the export.");
			return false;
		}
	}
	/* checked as stored (answer.value is real), as the answer trigger will */
	value = (float4) value;
	if (value < sc->min_value || value > sc->max_value ||
		(sc->integral && value != floor(value)))
	{
		bool		outside = (value < sc->min_value || value > sc->max_value);

		RowError(st, rec->line, column, ShowValue(s, len, true),
				 ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
				 outside ?
				 psprintf("value \"%s\" is outside scale \"%s\" of item \"%s\"",
						  ShowValue(s, len, true), sc->code, item->code) :
				 psprintf("value \"%s\" is not a whole number, as scale \"%s\" of item \"%s\" requires",
						  ShowValue(s, len, true), sc->code, item->code),
				 psprintf("Scale \"%s\" takes %s from %g to %g.",
						  sc->code, sc->integral ? "whole numbers" : "numbers",
						  sc->min_value, sc->max_value),
				 NULL);
		return false;
	}
	st->a_value[k] = Float4GetDatum((float4) value);
	st->a_value_null[k] = false;
	st->a_text[k] = (Datum) 0;
	st->a_text_null[k] = true;
	st->nanswers++;
	return true;
}

/*
 * A row of empty cells only (",,,,"), which spreadsheets write below the
 * data, is no response: it is passed over like a blank line.
 */
static bool
RecordIsBlank(const CmRecord *rec)
{
	int			i;

	for (i = 0; i < rec->nfields; i++)
	{
		const char *s = rec->fields[i];
		size_t		len = rec->lengths[i];

		Trim(&s, &len);
		if (len > 0)
			return false;
	}
	return true;
}

/* One row of the export; returns false if it was bad */
static bool
ProcessRecord(ImportState *st, const CmRecord *rec)
{
	CmMap	   *map = st->map;
	int			row = st->nrows;
	int			first_answer = st->nanswers;
	int			i;
	const char *external = NULL;
	size_t		external_len = 0;
	bool		has_submitted = false;
	TimestampTz submitted = 0;
	bool		has_service = st->has_default_service;
	int32		service = st->default_service;
	bool		has_segment = st->has_default_segment;
	int32		segment = st->default_segment;
	const char *channel = st->opts.channel;
	double		weight = 1.0;
	Datum		contact[CM_NUM_META - CM_FIRST_CONTACT];
	bool		contact_null[CM_NUM_META - CM_FIRST_CONTACT];

	for (i = 0; i < CM_NUM_META - CM_FIRST_CONTACT; i++)
		contact_null[i] = true;

	/* a row longer than the header is misaligned: refuse to guess */
	for (i = map->ncolumns; i < rec->nfields; i++)
	{
		const char *s = rec->fields[i];
		size_t		len = rec->lengths[i];

		Trim(&s, &len);
		if (len > 0)
		{
			RowError(st, rec->line, NULL, ShowValue(s, len, true), ERRCODE_BAD_COPY_FILE_FORMAT,
					 psprintf("row has %d fields but the header has %d columns",
							  rec->nfields, map->ncolumns),
					 psprintf("Field %d is beyond the last column.", i + 1),
					 NULL);
			return false;
		}
	}

	if (st->nrows == st->rows_cap)
		GrowRows(st);

	for (i = 0; i < map->ncolumns && i < rec->nfields; i++)
	{
		CmColumn   *col = &map->columns[i];
		const char *s = rec->fields[i];
		size_t		len = rec->lengths[i];

		if (col->target == CM_TARGET_NONE)
			continue;
		if (col->target == CM_TARGET_ITEM)
		{
			if (!AddAnswer(st, rec, i, &st->items[col->index], s, len))
				goto bad;
			continue;
		}
		Trim(&s, &len);
		if (len == 0)
			continue;
		switch ((CmMeta) col->index)
		{
			case CM_META_EXTERNAL_ID:
				external = s;
				external_len = len;
				break;
			case CM_META_SUBMITTED_AT:
				{
					char	   *str = pnstrdup(s, len);

					if (!ParseTimestamp(str, &submitted))
					{
						RowError(st, rec->line, col->name, ShowValue(s, len, true),
								 ERRCODE_INVALID_DATETIME_FORMAT,
								 psprintf("invalid submission date \"%s\"", ShowValue(s, len, true)),
								 "Dates are read as timestamp with time zone input: ISO 8601 (YYYY-MM-DD HH:MM:SS) always works, others follow DateStyle.",
								 "Correct the date, or give the day order with the \"date_style\" option (MDY, DMY or YMD).");
						goto bad;
					}
					has_submitted = true;
					break;
				}
			case CM_META_SERVICE:
			case CM_META_SEGMENT:
				{
					bool		is_service = (col->index == CM_META_SERVICE);
					int32		id;
					KeyEntry   *e = LookupCode(st, is_service ? &st->services : &st->segments,
											   s, len, &id);

					if (e == NULL)
					{
						RowError(st, rec->line, col->name, ShowValue(s, len, true),
								 ERRCODE_FOREIGN_KEY_VIOLATION,
								 psprintf("%s \"%s\" does not exist",
										  is_service ? "service" : "segment", ShowValue(s, len, true)),
								 psprintf("Codes are matched case-insensitively against custfocus.%s.code.",
										  is_service ? "service" : "segment"),
								 psprintf("Add the %s to custfocus.%s, or correct the export.",
										  is_service ? "service" : "segment",
										  is_service ? "service" : "segment"));
						goto bad;
					}
					if (is_service && e->denied)
					{
						RowError(st, rec->line, col->name, ShowValue(s, len, true),
								 ERRCODE_INSUFFICIENT_PRIVILEGE,
								 psprintf("permission denied to import responses about service \"%s\"",
										  ShowValue(s, len, true)),
								 "Row-level security lets this role add responses only about the services of its own programs.",
								 NULL);
						goto bad;
					}
					if (is_service)
					{
						service = id;
						has_service = true;
					}
					else
					{
						segment = id;
						has_segment = true;
					}
					break;
				}
			case CM_META_CHANNEL:
				channel = NormalizeChannel(s, len);
				if (channel == NULL)
				{
					RowError(st, rec->line, col->name, ShowValue(s, len, true),
							 ERRCODE_INVALID_TEXT_REPRESENTATION,
							 psprintf("unknown channel \"%s\"", ShowValue(s, len, true)),
							 "Channels are web, email, phone, sms, paper, in_person, kiosk and other.",
							 NULL);
					goto bad;
				}
				break;
			case CM_META_CONTACT_NAME:
			case CM_META_CONTACT_EMAIL:
			case CM_META_CONTACT_PHONE:
			case CM_META_CONTACT_ADDRESS:
			case CM_META_CONTACT_IP:
				{
					MemoryContext old = MemoryContextSwitchTo(st->batch_cxt);

					contact[col->index - CM_FIRST_CONTACT] = AnswerText(s, len);
					contact_null[col->index - CM_FIRST_CONTACT] = false;
					st->batch_bytes += len;
					MemoryContextSwitchTo(old);
					break;
				}
			case CM_META_WEIGHT:
				if (!ParseNumber(s, len, &weight) || !(weight > 0) || isinf(weight))
				{
					RowError(st, rec->line, col->name, ShowValue(s, len, true),
							 ERRCODE_INVALID_TEXT_REPRESENTATION,
							 psprintf("invalid weight \"%s\"", ShowValue(s, len, true)),
							 "A weight is a positive finite number.", NULL);
					goto bad;
				}
				break;
			default:
				break;
		}
	}

	if (external == NULL && !st->opts.allow_missing_id)
	{
		RowError(st, rec->line, ColumnName(st, map->meta[CM_META_EXTERNAL_ID]), NULL,
				 ERRCODE_NOT_NULL_VIOLATION, "row has no respondent id",
				 "Without one a later import of the same row could not be recognised as a duplicate.",
				 "Correct the export, or import with {\"allow_missing_id\": true}.");
		goto bad;
	}
	if (!has_service && !st->serviceless_ok)
	{
		/* a blank cell, or a row shorter than the header */
		RowError(st, rec->line, ColumnName(st, map->meta[CM_META_SERVICE]), "",
				 ERRCODE_INSUFFICIENT_PRIVILEGE, "row has no service",
				 psprintf("Row-level security lets this role add a response without a service only to a survey of its own programs, and survey \"%s\" is not one.",
						  st->survey_code),
				 "Fill in the service, or give one for such rows with the \"service\" option.");
		goto bad;
	}
	if (!has_submitted)
	{
		if (!st->has_default_submitted)
		{
			RowError(st, rec->line, ColumnName(st, map->meta[CM_META_SUBMITTED_AT]), NULL,
					 ERRCODE_NOT_NULL_VIOLATION, "row has no submission date", NULL,
					 "Correct the export, or give a date for such rows with the \"submitted_at\" option.");
			goto bad;
		}
		submitted = st->default_submitted;
	}

	/* the row is good: it joins the batch */
	{
		MemoryContext old = MemoryContextSwitchTo(st->batch_cxt);

		st->r_line[row] = rec->line;
		st->r_service[row] = Int32GetDatum(service);
		st->r_service_null[row] = !has_service;
		st->r_segment[row] = Int32GetDatum(segment);
		st->r_segment_null[row] = !has_segment;
		st->r_submitted[row] = TimestampTzGetDatum(submitted);
		st->r_channel_null[row] = (channel == NULL);
		st->r_channel[row] = channel ? CStringGetTextDatum(channel) : (Datum) 0;
		st->r_weight[row] = Float8GetDatum(weight);
		st->r_external_null[row] = (external == NULL);
		st->r_external[row] = external ?
			PointerGetDatum(cstring_to_text_with_len(external, (int) external_len)) : (Datum) 0;
		st->batch_bytes += external_len + 64;
		for (i = 0; i < CM_NUM_META - CM_FIRST_CONTACT; i++)
		{
			st->r_contact[i][row] = contact[i];
			st->r_contact_null[i][row] = contact_null[i];
		}
		MemoryContextSwitchTo(old);
	}
	st->nrows++;
	return true;

bad:
	st->nanswers = first_answer;
	return false;
}

/* ---------------------------------------------------------------------
 * The import
 * ---------------------------------------------------------------------
 */

/*
 * Names shown in one NOTICE's list: an export with a million columns would
 * otherwise send a message of megabytes, which no one reads to the end.
 */
#define MAX_LISTED_NAMES		20

/* Adds a name to a list of n names so far, up to MAX_LISTED_NAMES of them */
static void
ListName(StringInfo list, int n, const char *name, const char *note)
{
	if (n < MAX_LISTED_NAMES)
		appendStringInfo(list, "%s\"%s\"%s", n ? ", " : "", name, note);
}

/* Ends a list of n names: how many were left out */
static void
EndList(StringInfo list, int n)
{
	if (n > MAX_LISTED_NAMES)
		appendStringInfo(list, ", and %d more", n - MAX_LISTED_NAMES);
}

static void
NoticeUnmapped(ImportState *st)
{
	StringInfoData cols;
	StringInfoData items;
	int			ncols = 0;
	int			nmissing = 0;
	int			i;

	initStringInfo(&cols);
	initStringInfo(&items);
	for (i = 0; i < st->map->ncolumns; i++)
	{
		CmColumn   *col = &st->map->columns[i];

		if (col->target != CM_TARGET_NONE)
			continue;
		ListName(&cols, ncols, col->name, col->identifying ? " (contact data)" : "");
		ncols++;
	}
	for (i = 0; i < st->nitems; i++)
	{
		if (st->map->item_column[i] >= 0)
			continue;
		ListName(&items, nmissing, st->items[i].code, "");
		nmissing++;
	}
	EndList(&cols, ncols);
	EndList(&items, nmissing);
	if (ncols > 0)
		ereport(NOTICE,
				(errmsg_plural("%d of %d columns of the export is not imported",
							   "%d of %d columns of the export are not imported",
							   ncols, ncols, st->map->ncolumns),
				 errdetail_internal("Not imported: %s.", cols.data)));
	if (nmissing > 0)
		ereport(NOTICE,
				(errmsg_plural("%d item of survey \"%s\" has no column in the export",
							   "%d items of survey \"%s\" have no column in the export",
							   nmissing, nmissing, st->survey_code),
				 errdetail_internal("Without a column: %s.", items.data),
				 errhint("Map columns to items with the \"columns\" option, e.g. {\"columns\": {\"column header\": \"item code\"}}.")));
}

/* Checks that the header gives what every response needs */
static void
CheckRequiredColumns(ImportState *st)
{
	st->own_error = true;
	if (st->map->meta[CM_META_EXTERNAL_ID] < 0 && !st->opts.allow_missing_id)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("the export has no respondent id column"),
				 errdetail("Respondent ids make a second import of the same export add nothing; a column is taken as the id by the names respondent_id, ResponseId, Respondent ID, record_id, id, Respondent or external_id."),
				 errhint("Name the column with {\"columns\": {\"header\": \"external_id\"}}, or import with {\"allow_missing_id\": true}.")));
	if (st->map->meta[CM_META_SUBMITTED_AT] < 0 && !st->has_default_submitted)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("the export has no submission date column"),
				 errdetail("A column is taken as the submission date by the names submitted_at, EndDate, RecordedDate, End Date, submitdate, Date submitted, Completion time, Timestamp, visit_date or Date."),
				 errhint("Name the column with {\"columns\": {\"header\": \"submitted_at\"}}, or give one date for all rows with {\"submitted_at\": \"2026-03-31\"}.")));
	/* every row would be refused (see LoadWritable): say so once */
	if (st->map->meta[CM_META_SERVICE] < 0 && !st->has_default_service && !st->serviceless_ok)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the export has no service column, and this role may not import responses without a service into survey \"%s\"",
						st->survey_code),
				 errdetail("Row-level security lets this role add a response without a service only to a survey of its own programs."),
				 errhint("Name the service column with {\"columns\": {\"header\": \"service\"}}, or give one service for all rows with {\"service\": \"code\"}.")));
	st->own_error = false;
}

static void
ResolveDefaults(ImportState *st)
{
	st->own_error = true;
	if (st->opts.submitted_at)
	{
		if (!ParseTimestamp(st->opts.submitted_at, &st->default_submitted))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
					 errmsg("invalid date \"%s\" in import option \"submitted_at\"",
							st->opts.submitted_at)));
		st->has_default_submitted = true;
	}
	if (st->opts.service)
	{
		KeyEntry   *e = LookupCode(st, &st->services, st->opts.service,
								   strlen(st->opts.service), &st->default_service);

		if (e == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("service \"%s\" in import option \"service\" does not exist",
							st->opts.service)));
		if (e->denied)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to import responses about service \"%s\" in import option \"service\"",
							st->opts.service),
					 errdetail("Row-level security lets this role add responses only about the services of its own programs.")));
		st->has_default_service = true;
	}
	if (st->opts.segment)
	{
		if (!LookupCode(st, &st->segments, st->opts.segment, strlen(st->opts.segment),
						&st->default_segment))
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("segment \"%s\" in import option \"segment\" does not exist",
							st->opts.segment)));
		st->has_default_segment = true;
	}
	if (st->opts.channel)
	{
		const char *c = NormalizeChannel(st->opts.channel, strlen(st->opts.channel));

		if (c == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown channel \"%s\" in import option \"channel\"", st->opts.channel),
					 errhint("Channels are web, email, phone, sms, paper, in_person, kiosk and other.")));
		st->opts.channel = (char *) c;
	}
	st->own_error = false;
}

static int64
InsertBatchRow(ImportState *st, Jsonb *options)
{
	Oid			argtypes[3] = {INT4OID, TEXTOID, JSONBOID};
	Datum		args[3];
	bool		isnull;
	int64		id;

	args[0] = Int32GetDatum(st->survey_id);
	args[1] = CStringGetTextDatum(st->source);
	args[2] = JsonbPGetDatum(options);
	if (SPI_execute_with_args("INSERT INTO custfocus.import_batch (survey_id, source, options) "
							  "VALUES ($1, $2, $3) RETURNING import_id",
							  3, argtypes, args, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert the import batch");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return id;
}

static Datum
FinishBatchRow(ImportState *st)
{
	Oid			argtypes[8] = {INT8OID, TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID};
	Datum		args[8];

	/*
	 * On Citus the roll-up triggers do not fire: the keys this import
	 * touched are recomputed here (custfocus.citus_import_done).
	 */
	if (st->citus)
	{
		Oid			done_types[1] = {INT8OID};
		Datum		done_args[1];

		done_args[0] = Int64GetDatum(st->import_id);
		custfocus_storing_rollups = true;
		PG_TRY();
		{
			if (SPI_execute_with_args("SELECT custfocus.citus_import_done($1)", 1, done_types, done_args,
									  NULL, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "could not update the roll-ups of import " INT64_FORMAT, st->import_id);
		}
		PG_FINALLY();
		{
			custfocus_storing_rollups = false;
		}
		PG_END_TRY();
	}

	args[0] = Int64GetDatum(st->import_id);
	args[1] = CStringGetTextDatum(st->rows_skipped > 0 ? "loaded_with_errors" : "loaded");
	args[2] = Int64GetDatum(st->rows_read);
	args[3] = Int64GetDatum(st->responses_inserted);
	args[4] = Int64GetDatum(st->answers_inserted);
	args[5] = Int64GetDatum(st->rows_skipped);
	args[6] = Int64GetDatum(st->duplicates);
	/* the clock read here, not in the UPDATE: Citus refuses a VOLATILE function there */
	args[7] = TimestampTzGetDatum(GetCurrentTimestamp());
	if (SPI_execute_with_args("UPDATE custfocus.import_batch "
							  "   SET status = $2, rows_read = $3, responses_inserted = $4, "
							  "       answers_inserted = $5, rows_skipped = $6, duplicates = $7, "
							  "       finished_at = $8 "
							  " WHERE import_id = $1 RETURNING *",
							  8, argtypes, args, NULL, false, 1) != SPI_OK_UPDATE_RETURNING ||
		SPI_processed != 1)
		elog(ERROR, "could not update import batch " INT64_FORMAT, st->import_id);
	return PointerGetDatum(SPI_returntuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc));
}

/* Sets a GUC for the rest of the import (undone by AtEOXact_GUC) */
static void
SetImportGuc(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/*
 * The body of both entry points: src says where the bytes come from.
 */
static Datum
RunImport(text *survey, ImportSource *src, Jsonb *options, const char *source_name,
		  bool text_input)
{
	ImportState *st;
	MemoryContext cxt;
	MemoryContext old;
	MemoryContext prev_cm_context = CmContext;
	CmReaderOptions ropts;
	CmMapSpec	spec;
	CmItem	   *cmitems;
	CmError		err;
	CmStatus	status;
	const CmRecord *rec;
	ErrorContextCallback errcallback;
	int			save_nestlevel;
	Datum		result;
	int			i;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "custfocus import",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	st = palloc0(sizeof(ImportState));
	st->cxt = cxt;
	st->batch_cxt = AllocSetContextCreate(cxt, "custfocus import batch", ALLOCSET_DEFAULT_SIZES);
	st->row_cxt = AllocSetContextCreate(cxt, "custfocus import row", ALLOCSET_DEFAULT_SIZES);
	st->input = *src;
	st->text_input = text_input;
	ParseOptions(&st->opts, options);
	if (text_input && st->opts.encoding_given)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("import option \"encoding\" applies to files only"),
				 errdetail("Text passed to import_responses() is already in the database encoding.")));
	st->source = st->opts.source ? st->opts.source : source_name;

	CmContext = cxt;
	CmSetAllocator(ImportRealloc, ImportFree);
	CmSetLowerHook(ImportLower);

	errcallback.callback = ImportErrorContext;
	errcallback.arg = st;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	save_nestlevel = NewGUCNestLevel();
	if (st->opts.date_style)
		SetImportGuc("datestyle", st->opts.date_style);
	if (st->opts.timezone)
		SetImportGuc("timezone", st->opts.timezone);

	/* SPI_returntuple() copies the result into the caller's context */
	MemoryContextSwitchTo(old);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(cxt);
	LookupSurvey(st, survey);
	LockSurvey(st);
	st->citus = ImportIsDistributed();
	/* before the items are read: it locks them (rollup_import.c) */
	if (!st->citus)
		st->rollup = CfRollupImportBegin(st->survey_id, cxt);
	LoadItems(st);
	LoadCodes(st, &st->services, "SELECT service_id, code FROM custfocus.service");
	LoadCodes(st, &st->segments, "SELECT segment_id, code FROM custfocus.segment");
	LoadWritable(st);
	MemoryContextSwitchTo(cxt);
	ResolveDefaults(st);

	PreparePlans(st);
	st->import_id = InsertBatchRow(st, options);

	/* the reader */
	MemoryContextSwitchTo(cxt);
	CmReaderDefaults(&ropts);
	ropts.delimiter = st->opts.delimiter;
	if (text_input)
	{
		/* text is in the database encoding already, and valid */
		ropts.encoding = GetDatabaseEncoding() == PG_UTF8 ? CM_ENC_UTF8 : CM_ENC_BYTES;
		ropts.detect_bom = (GetDatabaseEncoding() == PG_UTF8);
		st->opts.pg_encoding = GetDatabaseEncoding();
	}
	else
	{
		ropts.encoding = st->opts.cm_encoding;
		ropts.detect_bom = true;
		if (st->opts.cm_encoding != CM_ENC_BYTES)
			st->opts.pg_encoding = PG_UTF8;
	}
	st->via_utf8 = (st->opts.pg_encoding != PG_UTF8 &&
					GetDatabaseEncoding() != PG_UTF8 &&
					GetDatabaseEncoding() != PG_SQL_ASCII &&
					st->opts.pg_encoding != GetDatabaseEncoding() &&
					!OidIsValid(FindDefaultConversionProc(st->opts.pg_encoding,
														  GetDatabaseEncoding())));
	ropts.convert = ConvertField;
	ropts.convert_arg = st;
	st->reader = CmReaderCreate(&ropts, ReadSource, &st->input);
	if (st->reader == NULL)
		elog(ERROR, "out of memory");

	cmitems = palloc(sizeof(CmItem) * (st->nitems + 1));
	for (i = 0; i < st->nitems; i++)
	{
		cmitems[i].code = st->items[i].code;
		cmitems[i].text = st->items[i].text;
	}
	memset(&spec, 0, sizeof(spec));
	spec.layout = st->opts.layout;
	spec.items = cmitems;
	spec.nitems = st->nitems;
	spec.rules = st->opts.rules;
	spec.nrules = st->opts.nrules;
	status = CmReadHeader(st->reader, &spec, &st->map, &err);
	if (status != CM_RECORD)
		ReaderFatal(st, &err);
	CheckRequiredColumns(st);
	NoticeUnmapped(st);

	/* the rows */
	for (;;)
	{
		MemoryContextReset(st->row_cxt);
		MemoryContextSwitchTo(st->row_cxt);
		st->context_line = 0;
		status = CmReadRecord(st->reader, &rec, &err);
		if (status == CM_EOF)
			break;
		if (status == CM_FATAL)
			ReaderFatal(st, &err);
		if (status == CM_RECORD && RecordIsBlank(rec))
			continue;
		st->rows_read++;
		if (status == CM_BAD_ROW)
		{
			ReaderRowError(st, &err, rec);
			continue;
		}
		st->context_line = rec->line;
		CHECK_FOR_INTERRUPTS();
		ProcessRecord(st, rec);
		/* what the row needs is copied: the reader may let its buffers go */
		CmReaderRelease(st->reader);
		if (st->nrows >= st->opts.batch_size || st->nanswers >= MAX_BATCH_ANSWERS ||
			st->batch_bytes >= MAX_BATCH_BYTES)
			FlushBatch(st);
	}
	MemoryContextSwitchTo(cxt);
	FlushBatch(st);
	st->context_line = 0;
	if (st->rollup != NULL)
		CfRollupImportApply(st->rollup);

	if (st->rows_read == 0 && !st->opts.allow_empty)
	{
		st->own_error = true;
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("the export has no data rows"),
				 errdetail("Only the header (%d %s) was found.", st->map->header_rows,
						   st->map->header_rows == 1 ? "row" : "rows"),
				 errhint("Check that the right export was chosen, or import with {\"allow_empty\": true} to record an empty import.")));
	}

	result = FinishBatchRow(st);
	SPI_finish();
	MemoryContextSwitchTo(cxt);

	AtEOXact_GUC(true, save_nestlevel);
	error_context_stack = errcallback.previous;
	CmMapFree(st->map);
	CmReaderFree(st->reader);
	CmContext = prev_cm_context;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return result;
}

/* options, with NULL taken as no options (as the batch row will record) */
static Jsonb *
OptionsArg(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(2))
		return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	return PG_GETARG_JSONB_P(2);
}

static void
RequireArg(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

/*
 * custfocus.import_responses(survey text, csv text, options jsonb)
 *		Loads an export passed as text; returns its import_batch row.
 */
PG_FUNCTION_INFO_V1(import_responses);
Datum
import_responses(PG_FUNCTION_ARGS)
{
	text	   *csv;
	ImportSource src;

	RequireArg(fcinfo, 0, "survey");
	RequireArg(fcinfo, 1, "csv");
	csv = PG_GETARG_TEXT_PP(1);
	memset(&src, 0, sizeof(src));
	src.data = VARDATA_ANY(csv);
	src.len = VARSIZE_ANY_EXHDR(csv);
	return RunImport(PG_GETARG_TEXT_PP(0), &src, OptionsArg(fcinfo), "(text)", true);
}

/*
 * custfocus.import_responses_file(survey text, path text, options jsonb)
 *		Loads an export from a file on the database server, which only
 *		roles with the privileges of pg_read_server_files may read (as for
 *		COPY FROM a file and file_fdw).
 */
PG_FUNCTION_INFO_V1(import_responses_file);
Datum
import_responses_file(PG_FUNCTION_ARGS)
{
	char	   *path;
	ImportSource src;
	struct stat stbuf;
	Datum		result;

	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to import a file on the server"),
				 errdetail("Only roles with privileges of the \"%s\" role may read files on the server.",
						   "pg_read_server_files"),
				 errhint("Pass the contents to custfocus.import_responses() instead, e.g. from psql with \\set csv `cat export.csv`.")));
	RequireArg(fcinfo, 0, "survey");
	RequireArg(fcinfo, 1, "path");
	path = text_to_cstring(PG_GETARG_TEXT_PP(1));

	memset(&src, 0, sizeof(src));
	src.path = path;
	src.file = AllocateFile(path, PG_BINARY_R);
	if (src.file == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));
	if (fstat(fileno(src.file), &stbuf) == 0 && S_ISDIR(stbuf.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a directory", path)));
	result = RunImport(PG_GETARG_TEXT_PP(0), &src, OptionsArg(fcinfo), path, false);
	FreeFile(src.file);
	return result;
}
