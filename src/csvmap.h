/*
 * csvmap.h
 *		Reading survey exports with libcsv, and mapping their columns to the
 *		items and response fields of a survey.
 *
 * Nothing here calls into the server: csvmap.c is also compiled on its own
 * for the fuzz harness in test/fuzz.  The server supplies what it must
 * through hooks: an allocator (palloc-family, so that an error cleans up),
 * a function that converts field text to the database encoding, and one
 * that lower-cases non-ASCII text the way lower() does.
 */
#ifndef CSVMAP_H
#define CSVMAP_H

#include <stdbool.h>
#include <stddef.h>

/* How the input bytes are encoded when no byte-order mark says otherwise */
typedef enum CmEncoding
{
	CM_ENC_UTF8,				/* checked as UTF-8 by the reader */
	CM_ENC_UTF16LE,				/* transcoded to UTF-8, then checked */
	CM_ENC_UTF16BE,
	CM_ENC_BYTES				/* passed through: the convert hook checks */
} CmEncoding;

/*
 * Converts one field to the caller's encoding.  Returns the converted text
 * (NUL-terminated, may be the input itself) and its length, or NULL when the
 * input is not valid, with *bad_offset set to the offending byte.
 */
typedef char *(*CmConvertFn) (void *arg, char *s, size_t len,
							  size_t *out_len, size_t *bad_offset);

/* Fills buf with up to size bytes of input; returns 0 at the end of input */
typedef size_t (*CmReadFn) (void *arg, char *buf, size_t size);

typedef struct CmReaderOptions
{
	int			delimiter;		/* field delimiter; 0: sniff it from the
								 * header line */
	CmEncoding	encoding;		/* encoding when there is no byte-order mark */
	bool		detect_bom;		/* honour a UTF-8 or UTF-16 byte-order mark */
	size_t		max_field;		/* longest field accepted, in bytes */
	size_t		max_row;		/* longest row (its raw text), in bytes */
	size_t		chunk_size;		/* bytes asked of the read callback at once */
	CmConvertFn convert;		/* NULL: fields are kept as read */
	void	   *convert_arg;
} CmReaderOptions;

#define CM_DEFAULT_MAX_FIELD	((size_t) 64 * 1024 * 1024)
#define CM_DEFAULT_MAX_ROW		((size_t) 128 * 1024 * 1024)
#define CM_DEFAULT_CHUNK_SIZE	((size_t) 64 * 1024)

typedef enum CmErrorCode
{
	CM_ERR_NONE = 0,
	/* a bad row: the row is lost, reading goes on with the next one */
	CM_ERR_BAD_QUOTE,			/* malformed quoting */
	CM_ERR_UNTERMINATED,		/* quoted field still open at end of input */
	CM_ERR_ENCODING,			/* invalid byte sequence */
	/* fatal: nothing more can be read */
	CM_ERR_FIELD_TOO_LONG,
	CM_ERR_ROW_TOO_LONG,
	CM_ERR_NO_MEMORY,
	CM_ERR_NO_HEADER,			/* the input has no header row */
	CM_ERR_BAD_HEADER,			/* a header row could not be read */
	CM_ERR_UNKNOWN_COLUMN,		/* a mapping names a column not in the file */
	CM_ERR_UNKNOWN_TARGET,		/* a mapping names an unknown item or field */
	CM_ERR_DUPLICATE_TARGET,	/* two columns map to the same target */
	CM_ERR_DUPLICATE_RULE,		/* two mapping entries name the same column */
	CM_ERR_IDENTIFYING			/* a mapping would store contact data */
} CmErrorCode;

typedef struct CmError
{
	CmErrorCode code;
	long		line;			/* line where the row starts (1-based), or 0 */
	long		at_line;		/* line of the offending byte, or 0 */
	long		at_byte;		/* 1-based byte within at_line (quoting) or
								 * within the field (encoding), or 0 */
	int			field;			/* 0-based field (column), or -1 */
	int			other_field;	/* second column of a duplicate, or -1 */
	const char *name;			/* mapping key or target concerned, or NULL */
	char		message[160];	/* what went wrong, lower case */
} CmError;

typedef enum CmStatus
{
	CM_RECORD,					/* a record was read */
	CM_EOF,						/* no more input */
	CM_BAD_ROW,					/* a row was lost (see the error); go on */
	CM_FATAL					/* nothing more can be read */
} CmStatus;

/* One row of the file; valid until the next read */
typedef struct CmRecord
{
	long		line;			/* line where the row starts (1-based) */
	int			nfields;
	char	  **fields;			/* NUL-terminated field texts */
	size_t	   *lengths;
	long	   *end_lines;		/* line on which each field ends */
} CmRecord;

typedef struct CmReader CmReader;

/* Survey layouts: how many header rows there are and what they hold */
typedef enum CmLayout
{
	CM_LAYOUT_AUTO,				/* detect one of the below */
	CM_LAYOUT_PLAIN,			/* one header row */
	CM_LAYOUT_QUALTRICS,		/* field ids, question texts, ImportId row */
	CM_LAYOUT_SURVEYMONKEY		/* question texts, sub-headers */
} CmLayout;

/* Response fields that columns can carry besides answers */
typedef enum CmMeta
{
	CM_META_EXTERNAL_ID,
	CM_META_SUBMITTED_AT,
	CM_META_SERVICE,
	CM_META_SEGMENT,
	CM_META_CHANNEL,
	CM_META_WEIGHT,
	/* respondent_contact, only by an explicit mapping (see CmIsContact) */
	CM_META_CONTACT_NAME,
	CM_META_CONTACT_EMAIL,
	CM_META_CONTACT_PHONE,
	CM_META_CONTACT_ADDRESS,
	CM_META_CONTACT_IP,
	CM_NUM_META
} CmMeta;

#define CM_FIRST_CONTACT	CM_META_CONTACT_NAME
#define CmIsContact(meta)	((meta) >= CM_META_CONTACT_NAME && (meta) <= CM_META_CONTACT_IP)

typedef enum CmTarget
{
	CM_TARGET_NONE,				/* not imported */
	CM_TARGET_ITEM,
	CM_TARGET_META
} CmTarget;

/* A survey item as far as mapping is concerned */
typedef struct CmItem
{
	const char *code;
	const char *text;
} CmItem;

/* An entry of the "columns" option: column -> target (NULL: not imported) */
typedef struct CmRule
{
	const char *column;
	const char *target;
} CmRule;

typedef struct CmMapSpec
{
	CmLayout	layout;
	const CmItem *items;
	int			nitems;
	const CmRule *rules;
	int			nrules;
} CmMapSpec;

typedef struct CmColumn
{
	char	   *name;			/* how messages name the column */
	char	   *code;			/* field id / header cell, or NULL */
	char	   *text;			/* question text, or NULL */
	char	   *sub;			/* SurveyMonkey sub-header, or NULL */
	CmTarget	target;
	int			index;			/* item index or CmMeta */
	bool		identifying;	/* looks like contact data: never stored */
	bool		by_rule;		/* mapped by the "columns" option */
} CmColumn;

typedef struct CmMap
{
	CmLayout	layout;			/* as detected */
	int			header_rows;
	int			ncolumns;
	CmColumn   *columns;
	int			meta[CM_NUM_META];	/* column of each field, or -1 */
	int			nitems;
	int		   *item_column;	/* column of each item, or -1 */
} CmMap;

/* memory hooks; realloc_fn(NULL, n) allocates */
extern void CmSetAllocator(void *(*realloc_fn) (void *, size_t),
						   void (*free_fn) (void *));

/* lower-cases text holding non-ASCII bytes (NULL: ASCII rules only) */
extern void CmSetLowerHook(char *(*lower_fn) (const char *, size_t));

extern void CmReaderDefaults(CmReaderOptions *opts);
extern CmReader *CmReaderCreate(const CmReaderOptions *opts,
								CmReadFn read_fn, void *read_arg);
extern void CmReaderFree(CmReader *r);
extern CmStatus CmReadRecord(CmReader *r, const CmRecord **rec, CmError *err);
extern void CmReaderRelease(CmReader *r);
extern CmStatus CmReadHeader(CmReader *r, const CmMapSpec *spec,
							 CmMap **map, CmError *err);
extern void CmMapFree(CmMap *map);
extern int	CmReaderDelimiter(const CmReader *r);
extern CmEncoding CmReaderEncoding(const CmReader *r);
extern long CmReaderLine(const CmReader *r);

extern long CmFieldLine(const CmRecord *rec, int field, size_t offset);
extern size_t CmKey(const char *s, size_t len, char *out);
extern char *CmKeyDup(const char *s, size_t len);
extern const char *CmMetaName(CmMeta meta);
extern bool CmValidUtf8(const char *s, size_t len, size_t *bad_offset);

#endif							/* CSVMAP_H */
