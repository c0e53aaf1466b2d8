/*
 * csvmap.c
 *		Reading survey exports with libcsv, and mapping their columns.
 *
 * The reader turns a byte stream into records: it strips a byte-order mark,
 * transcodes UTF-16 to UTF-8, sniffs the delimiter from the header line,
 * feeds libcsv, checks the encoding of every field and knows on which line
 * each record starts.  libcsv reports neither lines nor positions, so the
 * input is fed to it one physical line at a time (a long line in pieces):
 * then the line being fed when a callback fires is the line a field ends
 * on, and the line of the first non-blank byte after a record ended is the
 * line the next record starts on.  The raw text of the record being read is
 * kept, so that after a malformed row (typically a stray quote that would
 * swallow the rest of the file) reading can start again on the line after
 * the one the row started on, with a new parser.
 *
 * The mapper reads the header rows, recognises the layouts of the common
 * survey tools and decides for every column which item or response field it
 * feeds, or that it is not imported.
 *
 * This file must not use server facilities (see csvmap.h): it is compiled
 * outside the server for fuzzing, and memory comes from the allocator hooks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "csvmap.h"

/* smallest growth step of libcsv's field buffer (its default is 128 bytes) */
#define CM_MIN_BLOCK	((size_t) 64 * 1024)
/*
 * A field at least this long is not copied out of libcsv's buffer: the
 * record takes the buffer over (see FieldCallback).  Buffers of the reader
 * above this size are given back once the record is done (FinishRecord,
 * CmReaderRelease), so that one huge field is not held on to, in several
 * copies, for the rest of the import.
 */
#define CM_BIG_FIELD	((size_t) 1024 * 1024)
/* the header line is looked for in at most this much input */
#define CM_SNIFF_LIMIT	((size_t) 1024 * 1024)

struct CmReader
{
	CmReaderOptions opts;
	CmReadFn	read_fn;
	void	   *read_arg;

	/* input before transcoding; used while looking for a byte-order mark */
	unsigned char *raw;
	size_t		raw_len;
	size_t		raw_cap;
	bool		at_eof;			/* read_fn has reported the end */
	bool		started;		/* byte-order mark looked for */
	CmEncoding	encoding;		/* in effect after the byte-order mark */
	unsigned int high_surrogate;	/* UTF-16 pair cut by a chunk boundary */

	/* input (as UTF-8 or as read) not yet fed to libcsv */
	char	   *buf;
	size_t		buf_start;
	size_t		buf_end;
	size_t		buf_cap;
	size_t		buf_scanned;	/* no line break in buf_start..buf_scanned */

	struct csv_parser parser;
	bool		parser_live;
	int			delimiter;

	long		line;			/* line of the next byte fed */
	size_t		line_offset;	/* bytes of that line fed so far */
	bool		skip_to_eol;	/* dropping the rest of a malformed line */

	/* record being read */
	bool		in_record;
	bool		record_done;
	long		record_line;
	int			nfields;
	int			fields_cap;
	size_t	   *field_off;
	size_t	   *field_len;
	char	  **field_own;		/* a long field's own buffer, or NULL */
	size_t		own_len;		/* bytes in those buffers */
	long	   *field_line;
	char	   *data;
	size_t		data_len;
	size_t		data_cap;
	bool		overflow;		/* the record outgrew max_row */
	bool		nomem;

	/* raw text of the record being read, from its first line on */
	char	   *row;
	size_t		row_len;
	size_t		row_cap;

	/* the record handed out */
	CmRecord	out;
	int			out_cap;

	/* records read ahead while looking at the header rows */
	int			npending;
	int			next_pending;
	CmStatus	pending_status[2];
	CmRecord   *pending_rec[2];
	CmError		pending_err[2];

	bool		fatal;
	CmError		fatal_err;
};

static void *(*CmReallocHook) (void *, size_t) = realloc;
static void (*CmFreeHook) (void *) = free;
static char *(*CmLowerHook) (const char *, size_t) = NULL;

static void FieldCallback(void *s, size_t len, void *arg);
static void RowCallback(int c, void *arg);

void
CmSetAllocator(void *(*realloc_fn) (void *, size_t), void (*free_fn) (void *))
{
	CmReallocHook = realloc_fn;
	CmFreeHook = free_fn;
}

void
CmSetLowerHook(char *(*lower_fn) (const char *, size_t))
{
	CmLowerHook = lower_fn;
}

static void *
CmAlloc(size_t size)
{
	return CmReallocHook(NULL, size);
}

static void
CmFree(void *p)
{
	if (p)
		CmFreeHook(p);
}

static char *
CmStrndup(const char *s, size_t len)
{
	char	   *p = CmAlloc(len + 1);

	if (p)
	{
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/*
 * Grows *arr (of elements of elemsize bytes) to hold at least need elements,
 * doubling so that appending stays linear.
 */
static bool
GrowArray(void **arr, size_t *cap, size_t need, size_t elemsize)
{
	size_t		newcap;
	void	   *p;

	if (need <= *cap)
		return true;
	newcap = *cap ? *cap : 16;
	while (newcap < need)
	{
		if (newcap > SIZE_MAX / 4 / elemsize)
			return false;
		newcap *= 2;
	}
	p = CmReallocHook(*arr, newcap * elemsize);
	if (p == NULL)
		return false;
	*arr = p;
	*cap = newcap;
	return true;
}

static bool
GrowBytes(char **buf, size_t *cap, size_t need)
{
	return GrowArray((void **) buf, cap, need, 1);
}

static void
ClearError(CmError *err)
{
	memset(err, 0, sizeof(*err));
	err->field = -1;
	err->other_field = -1;
}

static void
SetError(CmError *err, CmErrorCode code, long line, int field, const char *msg)
{
	ClearError(err);
	err->code = code;
	err->line = line;
	err->field = field;
	snprintf(err->message, sizeof(err->message), "%s", msg);
}

void
CmReaderDefaults(CmReaderOptions *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->delimiter = 0;
	opts->encoding = CM_ENC_UTF8;
	opts->detect_bom = true;
	opts->max_field = CM_DEFAULT_MAX_FIELD;
	opts->max_row = CM_DEFAULT_MAX_ROW;
	opts->chunk_size = CM_DEFAULT_CHUNK_SIZE;
}

CmReader *
CmReaderCreate(const CmReaderOptions *opts, CmReadFn read_fn, void *read_arg)
{
	CmReader   *r = CmAlloc(sizeof(CmReader));

	if (r == NULL)
		return NULL;
	memset(r, 0, sizeof(CmReader));
	r->opts = *opts;
	if (r->opts.chunk_size < 16)
		r->opts.chunk_size = 16;
	r->read_fn = read_fn;
	r->read_arg = read_arg;
	r->encoding = opts->encoding;
	r->line = 1;
	return r;
}

static void
FreeRecordCopy(CmRecord *rec)
{
	CmFree(rec);
}

void
CmReaderFree(CmReader *r)
{
	int			i;

	if (r == NULL)
		return;
	if (r->parser_live)
		csv_free(&r->parser);
	for (i = 0; i < r->npending; i++)
		FreeRecordCopy(r->pending_rec[i]);
	CmFree(r->raw);
	CmFree(r->buf);
	CmFree(r->field_off);
	CmFree(r->field_len);
	if (r->field_own)
		for (i = 0; i < r->nfields; i++)
			CmFree(r->field_own[i]);
	CmFree(r->field_own);
	CmFree(r->field_line);
	CmFree(r->data);
	CmFree(r->row);
	CmFree(r->out.fields);
	CmFree(r->out.lengths);
	CmFree(r->out.end_lines);
	CmFree(r);
}

int
CmReaderDelimiter(const CmReader *r)
{
	return r->delimiter;
}

CmEncoding
CmReaderEncoding(const CmReader *r)
{
	return r->encoding;
}

/*
 * The line where the row being read (or the last one read) starts: what an
 * error raised while converting its fields should name.
 */
long
CmReaderLine(const CmReader *r)
{
	return r->record_line > 0 ? r->record_line : r->line;
}

/* ---------------------------------------------------------------------
 * Input: byte-order mark, UTF-16, buffering
 * ---------------------------------------------------------------------
 */

static void
EmitUtf8(CmReader *r, unsigned int cp)
{
	char	   *o = r->buf + r->buf_end;

	if (cp < 0x80)
		*o++ = (char) cp;
	else if (cp < 0x800)
	{
		*o++ = (char) (0xC0 | (cp >> 6));
		*o++ = (char) (0x80 | (cp & 0x3F));
	}
	else if (cp < 0x10000)
	{
		*o++ = (char) (0xE0 | (cp >> 12));
		*o++ = (char) (0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char) (0x80 | (cp & 0x3F));
	}
	else
	{
		*o++ = (char) (0xF0 | (cp >> 18));
		*o++ = (char) (0x80 | ((cp >> 12) & 0x3F));
		*o++ = (char) (0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char) (0x80 | (cp & 0x3F));
	}
	r->buf_end = o - r->buf;
}

/*
 * An unpaired surrogate or a lone trailing byte becomes the byte 0xFF, which
 * is never valid UTF-8: the field check then reports it with its line and
 * column like any other invalid input, and parsing is not disturbed.
 */
static void
EmitInvalid(CmReader *r)
{
	r->buf[r->buf_end++] = (char) 0xFF;
}

/* Transcodes the UTF-16 in raw to UTF-8 at the end of buf */
static bool
DecodeUtf16(CmReader *r)
{
	bool		le = (r->encoding == CM_ENC_UTF16LE);
	size_t		i = 0;

	/* each 2 input bytes give at most 3 output bytes; a pair 4 for 4 */
	if (!GrowBytes(&r->buf, &r->buf_cap, r->buf_end + r->raw_len * 2 + 8))
		return false;
	while (i + 1 < r->raw_len)
	{
		unsigned int u;

		if (le)
			u = r->raw[i] | (r->raw[i + 1] << 8);
		else
			u = (r->raw[i] << 8) | r->raw[i + 1];
		i += 2;
		if (r->high_surrogate)
		{
			unsigned int hs = r->high_surrogate;

			r->high_surrogate = 0;
			if (u >= 0xDC00 && u <= 0xDFFF)
			{
				EmitUtf8(r, 0x10000 + ((hs - 0xD800) << 10) + (u - 0xDC00));
				continue;
			}
			EmitInvalid(r);
		}
		if (u >= 0xD800 && u <= 0xDBFF)
			r->high_surrogate = u;
		else if (u >= 0xDC00 && u <= 0xDFFF)
			EmitInvalid(r);
		else
			EmitUtf8(r, u);
	}
	/* keep an odd byte for the next chunk */
	if (i < r->raw_len)
	{
		r->raw[0] = r->raw[i];
		r->raw_len = 1;
	}
	else
		r->raw_len = 0;
	if (r->at_eof)
	{
		if (r->raw_len || r->high_surrogate)
			EmitInvalid(r);
		r->raw_len = 0;
		r->high_surrogate = 0;
	}
	return true;
}

static void
CompactBuffer(CmReader *r)
{
	if (r->buf_start == 0)
		return;
	memmove(r->buf, r->buf + r->buf_start, r->buf_end - r->buf_start);
	r->buf_end -= r->buf_start;
	r->buf_scanned -= r->buf_start;
	r->buf_start = 0;
}

/* Reads into raw (the UTF-16 path and the first bytes) */
static bool
ReadRaw(CmReader *r)
{
	size_t		n;

	if (!GrowArray((void **) &r->raw, &r->raw_cap, r->raw_len + r->opts.chunk_size, 1))
		return false;
	n = r->read_fn(r->read_arg, (char *) r->raw + r->raw_len, r->opts.chunk_size);
	if (n == 0)
		r->at_eof = true;
	r->raw_len += n;
	return true;
}

/*
 * Appends more input to buf.  The first call looks for a byte-order mark,
 * which decides the encoding whatever the options said: a file that says
 * what it is is believed.
 */
static bool
Fill(CmReader *r)
{
	CompactBuffer(r);
	if (!r->started)
	{
		size_t		skip = 0;

		while (r->raw_len < 3 && !r->at_eof)
			if (!ReadRaw(r))
				return false;
		if (r->opts.detect_bom && r->raw_len >= 3 &&
			r->raw[0] == 0xEF && r->raw[1] == 0xBB && r->raw[2] == 0xBF)
		{
			r->encoding = CM_ENC_UTF8;
			skip = 3;
		}
		else if (r->opts.detect_bom && r->raw_len >= 2 &&
				 r->raw[0] == 0xFF && r->raw[1] == 0xFE)
		{
			r->encoding = CM_ENC_UTF16LE;
			skip = 2;
		}
		else if (r->opts.detect_bom && r->raw_len >= 2 &&
				 r->raw[0] == 0xFE && r->raw[1] == 0xFF)
		{
			r->encoding = CM_ENC_UTF16BE;
			skip = 2;
		}
		memmove(r->raw, r->raw + skip, r->raw_len - skip);
		r->raw_len -= skip;
		r->started = true;
		if (r->encoding != CM_ENC_UTF16LE && r->encoding != CM_ENC_UTF16BE)
		{
			if (!GrowBytes(&r->buf, &r->buf_cap, r->buf_end + r->raw_len + 1))
				return false;
			memcpy(r->buf + r->buf_end, r->raw, r->raw_len);
			r->buf_end += r->raw_len;
			r->raw_len = 0;
			return true;
		}
		return DecodeUtf16(r);
	}
	if (r->at_eof)
		return true;
	if (r->encoding == CM_ENC_UTF16LE || r->encoding == CM_ENC_UTF16BE)
	{
		if (!ReadRaw(r))
			return false;
		return DecodeUtf16(r);
	}
	else
	{
		size_t		n;

		if (!GrowBytes(&r->buf, &r->buf_cap, r->buf_end + r->opts.chunk_size))
			return false;
		n = r->read_fn(r->read_arg, r->buf + r->buf_end, r->opts.chunk_size);
		if (n == 0)
			r->at_eof = true;
		r->buf_end += n;
		return true;
	}
}

/* Puts text back in front of the unread input */
static bool
Pushback(CmReader *r, const char *s, size_t len)
{
	size_t		pending;

	CompactBuffer(r);
	pending = r->buf_end;
	if (!GrowBytes(&r->buf, &r->buf_cap, pending + len + 1))
		return false;
	memmove(r->buf + len, r->buf, pending);
	memcpy(r->buf, s, len);
	r->buf_start = 0;
	r->buf_end = pending + len;
	r->buf_scanned = 0;
	return true;
}

/*
 * Cuts the next piece of input to feed: up to and including the next line
 * break (CR LF, LF or a lone CR), or a long piece of a line without one.
 * Returns 1 with a piece, 0 at the end of input, -1 when out of memory.
 */
static int
NextSegment(CmReader *r, size_t *start, size_t *len, bool *ends_line)
{
	for (;;)
	{
		char	   *b = r->buf;
		size_t		i;

		for (i = r->buf_scanned; i < r->buf_end; i++)
			if (b[i] == '\n' || b[i] == '\r')
				break;
		r->buf_scanned = i;
		if (i < r->buf_end)
		{
			size_t		stop = i + 1;

			if (b[i] == '\r')
			{
				/* a CR at the end of the buffer may be half of CR LF */
				if (i + 1 == r->buf_end && !r->at_eof)
				{
					if (!Fill(r))
						return -1;
					continue;
				}
				if (i + 1 < r->buf_end && b[i + 1] == '\n')
					stop++;
			}
			*start = r->buf_start;
			*len = stop - r->buf_start;
			*ends_line = true;
			r->buf_start = r->buf_scanned = stop;
			return 1;
		}
		if (r->buf_start < r->buf_end &&
			(r->at_eof || r->buf_end - r->buf_start >= r->opts.chunk_size))
		{
			*start = r->buf_start;
			*len = r->buf_end - r->buf_start;
			*ends_line = false;
			r->buf_start = r->buf_scanned = r->buf_end;
			return 1;
		}
		if (r->at_eof)
			return 0;
		if (!Fill(r))
			return -1;
	}
}

/* ---------------------------------------------------------------------
 * Delimiter sniffing and parser set-up
 * ---------------------------------------------------------------------
 */

static const char SniffCandidates[] = {',', ';', '\t', '|'};

/*
 * Picks the delimiter that occurs most often outside quotes in the first
 * non-blank line; comma when none does (a one-column file), earlier
 * candidates win ties.
 */
static bool
SniffDelimiter(CmReader *r)
{
	for (;;)
	{
		size_t		i = r->buf_start;
		size_t		end = r->buf_end;
		const char *b = r->buf;
		long		counts[sizeof(SniffCandidates)] = {0};
		bool		in_quotes = false;
		bool		field_start = true;
		bool		complete = false;
		int			best;
		int			k;

		/* leading blank lines */
		while (i < end && (b[i] == '\r' || b[i] == '\n' || b[i] == ' ' || b[i] == '\t'))
			i++;
		for (; i < end; i++)
		{
			char		c = b[i];

			if (in_quotes)
			{
				if (c == '"')
				{
					if (i + 1 < end && b[i + 1] == '"')
						i++;
					else
						in_quotes = false;
				}
				continue;
			}
			if (c == '\r' || c == '\n')
			{
				complete = true;
				break;
			}
			if (c == '"' && field_start)
			{
				in_quotes = true;
				continue;
			}
			field_start = (c == ' ');
			for (k = 0; k < (int) sizeof(SniffCandidates); k++)
				if (c == SniffCandidates[k])
				{
					counts[k]++;
					field_start = true;
				}
		}
		if (complete || r->at_eof || end - r->buf_start >= CM_SNIFF_LIMIT)
		{
			best = 0;
			for (k = 1; k < (int) sizeof(SniffCandidates); k++)
				if (counts[k] > counts[best])
					best = k;
			r->delimiter = (unsigned char) SniffCandidates[best];
			return true;
		}
		if (!Fill(r))
			return false;
	}
}

static void
ParserInit(CmReader *r)
{
	/*
	 * Strict mode: a quote inside an unquoted field, text after a closing
	 * quote and a quoted field open at the end are errors, not data.
	 */
	csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI);
	csv_set_delim(&r->parser, (unsigned char) r->delimiter);
	csv_set_realloc_func(&r->parser, CmReallocHook);
	csv_set_free_func(&r->parser, CmFreeHook);
	csv_set_blk_size(&r->parser, CM_MIN_BLOCK);
	r->parser_live = true;
}

static bool
Start(CmReader *r)
{
	while (!r->started)
		if (!Fill(r))
			return false;
	if (r->opts.delimiter)
		r->delimiter = (unsigned char) r->opts.delimiter;
	else if (!SniffDelimiter(r))
		return false;
	ParserInit(r);
	return true;
}

/* ---------------------------------------------------------------------
 * Feeding libcsv
 * ---------------------------------------------------------------------
 */

static void
FieldCallback(void *s, size_t len, void *arg)
{
	CmReader   *r = (CmReader *) arg;
	size_t		cap;

	if (r->overflow || r->nomem)
		return;
	if (r->data_len + r->own_len + len + 1 > r->opts.max_row)
	{
		r->overflow = true;
		return;
	}
	if (r->nfields == r->fields_cap)
	{
		cap = r->fields_cap;
		if (!GrowArray((void **) &r->field_off, &cap, r->nfields + 1, sizeof(size_t)))
			goto nomem;
		cap = r->fields_cap;
		if (!GrowArray((void **) &r->field_len, &cap, r->nfields + 1, sizeof(size_t)))
			goto nomem;
		cap = r->fields_cap;
		if (!GrowArray((void **) &r->field_line, &cap, r->nfields + 1, sizeof(long)))
			goto nomem;
		cap = r->fields_cap;
		if (!GrowArray((void **) &r->field_own, &cap, r->nfields + 1, sizeof(char *)))
			goto nomem;
		r->fields_cap = (int) cap;
	}
	r->field_own[r->nfields] = NULL;

	/*
	 * A long field takes libcsv's buffer over instead of being copied: a
	 * copy would double what one huge field costs.  libcsv reads entry_buf
	 * and entry_size (public members of struct csv_parser) afresh for every
	 * byte, and allocates a new buffer when entry_pos reaches entry_size, so
	 * leaving it none is as good as a fresh parser's state.
	 */
	if (len >= CM_BIG_FIELD && s == (void *) r->parser.entry_buf)
	{
		char	   *own = s;

		if (r->parser.entry_size <= len)
		{
			own = CmReallocHook(own, len + 1);
			if (own == NULL)
				goto nomem;
		}
		own[len] = '\0';
		r->parser.entry_buf = NULL;
		r->parser.entry_size = 0;
		csv_set_blk_size(&r->parser, CM_MIN_BLOCK);
		r->field_own[r->nfields] = own;
		r->field_off[r->nfields] = 0;
		r->field_len[r->nfields] = len;
		r->field_line[r->nfields] = r->line;
		r->own_len += len + 1;
		r->nfields++;
		return;
	}
	if (!GrowBytes(&r->data, &r->data_cap, r->data_len + len + 1))
		goto nomem;
	if (len)
		memcpy(r->data + r->data_len, s, len);
	r->data[r->data_len + len] = '\0';
	r->field_off[r->nfields] = r->data_len;
	r->field_len[r->nfields] = len;
	r->field_line[r->nfields] = r->line;
	r->data_len += len + 1;
	r->nfields++;
	return;

nomem:
	r->nomem = true;
}

static void
RowCallback(int c, void *arg)
{
	CmReader   *r = (CmReader *) arg;

	(void) c;
	r->record_done = true;
	r->in_record = false;
}

static void
AdvanceLine(CmReader *r, size_t len, bool ends_line)
{
	if (ends_line)
	{
		r->line++;
		r->line_offset = 0;
	}
	else
		r->line_offset += len;
}

/* Gives back the buffers of the long fields of the record */
static void
FreeOwnedFields(CmReader *r)
{
	int			i;

	if (r->own_len == 0)
		return;
	for (i = 0; i < r->nfields; i++)
	{
		CmFree(r->field_own[i]);
		r->field_own[i] = NULL;
	}
	r->own_len = 0;
}

static void
ResetRecord(CmReader *r)
{
	FreeOwnedFields(r);
	r->in_record = false;
	r->record_done = false;
	r->nfields = 0;
	r->data_len = 0;
	r->row_len = 0;
	r->overflow = false;
}

/*
 * After a malformed row: a new parser (libcsv's state after an error is of
 * no further use) and the row's text from its second line on back into the
 * input.  A stray quote usually swallows the lines after it; they are read
 * again, and only the line the row started on is lost.  When the row's
 * first line is not over yet, the rest of it is dropped.
 */
static bool
Resync(CmReader *r, size_t seg_len, bool ends_line)
{
	size_t		k;
	bool		found = false;

	csv_free(&r->parser);
	ParserInit(r);
	for (k = 0; k < r->row_len; k++)
	{
		if (r->row[k] == '\n' || r->row[k] == '\r')
		{
			if (r->row[k] == '\r' && k + 1 < r->row_len && r->row[k + 1] == '\n')
				k++;
			k++;
			found = true;
			break;
		}
	}
	if (found)
	{
		if (!Pushback(r, r->row + k, r->row_len - k))
			return false;
		r->line = r->record_line + 1;
		r->line_offset = 0;
		r->skip_to_eol = false;
	}
	else if (ends_line)
		AdvanceLine(r, seg_len, true);
	else
	{
		AdvanceLine(r, seg_len, false);
		r->skip_to_eol = true;
	}
	ResetRecord(r);
	return true;
}

/* Line on which the field being read opened */
static long
OpenFieldLine(const CmReader *r)
{
	return r->nfields > 0 ? r->field_line[r->nfields - 1] : r->record_line;
}

static CmStatus
Fatal(CmReader *r, CmError *err, CmErrorCode code, long line, int field, const char *msg)
{
	SetError(err, code, line, field, msg);
	r->fatal = true;
	r->fatal_err = *err;
	return CM_FATAL;
}

static bool
IsBlankByte(const CmReader *r, char c)
{
	if (c == '\r' || c == '\n')
		return true;
	return (c == ' ' || c == '\t') && (unsigned char) c != r->delimiter;
}

/* Feeds one piece of input; CM_RECORD means "carry on" */
static CmStatus
FeedSegment(CmReader *r, const char *seg, size_t len, bool ends_line, CmError *err)
{
	size_t		n;

	if (r->skip_to_eol)
	{
		AdvanceLine(r, len, ends_line);
		if (ends_line)
			r->skip_to_eol = false;
		return CM_RECORD;
	}
	if (!r->in_record)
	{
		size_t		i;

		/*
		 * A byte-order mark at the start of a record is an artefact of
		 * exports joined end to end (cat a.csv b.csv): left in, it would
		 * become part of the respondent id and load the respondent twice.
		 * Elsewhere U+FEFF is a character of the text (a zero-width
		 * no-break space) and stays, in later fields and on the later lines
		 * of a quoted field alike.  Only UTF-8 input (UTF-16 is UTF-8 by
		 * now) is looked at: in other encodings the bytes are characters.
		 */
		if (r->line_offset == 0 && r->encoding != CM_ENC_BYTES && len >= 3 &&
			(unsigned char) seg[0] == 0xEF && (unsigned char) seg[1] == 0xBB &&
			(unsigned char) seg[2] == 0xBF)
		{
			seg += 3;
			len -= 3;
			r->line_offset += 3;
		}
		for (i = 0; i < len; i++)
			if (!IsBlankByte(r, seg[i]))
				break;
		if (i < len)
		{
			ResetRecord(r);
			r->in_record = true;
			r->record_line = r->line;
		}
	}
	if (r->in_record)
	{
		if (r->row_len + len > r->opts.max_row)
			return Fatal(r, err, CM_ERR_ROW_TOO_LONG, r->record_line, -1,
						 "row is too long");
		if (!GrowBytes(&r->row, &r->row_cap, r->row_len + len))
			return Fatal(r, err, CM_ERR_NO_MEMORY, r->record_line, -1, "out of memory");
		memcpy(r->row + r->row_len, seg, len);
		r->row_len += len;
	}

	n = csv_parse(&r->parser, seg, len, FieldCallback, RowCallback, r);

	if (r->nomem)
		return Fatal(r, err, CM_ERR_NO_MEMORY, r->record_line, -1, "out of memory");
	if (r->overflow)
		return Fatal(r, err, CM_ERR_ROW_TOO_LONG, r->record_line, -1, "row is too long");
	if (n < len)
	{
		char		msg[sizeof(err->message)];
		long		open_line = OpenFieldLine(r);
		int			field = r->nfields;

		if (csv_error(&r->parser) != CSV_EPARSE)
			return Fatal(r, err, CM_ERR_FIELD_TOO_LONG, r->record_line, field,
						 "field is too long");
		if (!r->parser.quoted)
			snprintf(msg, sizeof(msg), "a quote inside an unquoted field");
		else if (open_line != r->line)
			snprintf(msg, sizeof(msg),
					 "text after the closing quote of a quoted field that opened on line %ld",
					 open_line);
		else
			snprintf(msg, sizeof(msg), "text after the closing quote of a quoted field");
		SetError(err, CM_ERR_BAD_QUOTE, r->record_line, field, msg);
		err->at_line = r->line;
		err->at_byte = (long) (r->line_offset + n + 1);
		if (!Resync(r, len, ends_line))
			return Fatal(r, err, CM_ERR_NO_MEMORY, r->record_line, -1, "out of memory");
		return CM_BAD_ROW;
	}
	/* entry_pos: the length of the field being read (csv.h's struct) */
	if (r->parser.entry_pos > r->opts.max_field)
		return Fatal(r, err, CM_ERR_FIELD_TOO_LONG, r->record_line, r->nfields,
					 "field is too long");

	/*
	 * Grow libcsv's buffer geometrically: with a fixed step, a long comment
	 * costs time quadratic in its length.
	 */
	if (csv_get_buffer_size(&r->parser) > CM_MIN_BLOCK)
		csv_set_blk_size(&r->parser, csv_get_buffer_size(&r->parser));
	AdvanceLine(r, len, ends_line);
	return CM_RECORD;
}

/* ---------------------------------------------------------------------
 * Records
 * ---------------------------------------------------------------------
 */

bool
CmValidUtf8(const char *s, size_t len, size_t *bad_offset)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = p[i];
		size_t		n;
		size_t		j;
		unsigned char lo = 0x80;
		unsigned char hi = 0xBF;

		if (c < 0x80)
		{
			if (c == 0)
				goto bad;
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			n = 1;
		else if (c >= 0xE0 && c <= 0xEF)
		{
			n = 2;
			if (c == 0xE0)
				lo = 0xA0;		/* overlong */
			else if (c == 0xED)
				hi = 0x9F;		/* surrogates */
		}
		else if (c >= 0xF0 && c <= 0xF4)
		{
			n = 3;
			if (c == 0xF0)
				lo = 0x90;		/* overlong */
			else if (c == 0xF4)
				hi = 0x8F;		/* beyond U+10FFFF */
		}
		else
			goto bad;
		if (len - i <= n)
			goto bad;
		if (p[i + 1] < lo || p[i + 1] > hi)
			goto bad;
		for (j = 2; j <= n; j++)
			if (p[i + j] < 0x80 || p[i + j] > 0xBF)
				goto bad;
		i += n + 1;
	}
	return true;

bad:
	*bad_offset = i;
	return false;
}

long
CmFieldLine(const CmRecord *rec, int field, size_t offset)
{
	const char *s = rec->fields[field];
	size_t		len = rec->lengths[field];
	long		line = rec->end_lines[field];
	size_t		i;

	for (i = offset; i < len; i++)
		if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n')))
			line--;
	return line;
}

/* Hands out the record just completed, after checking its encoding */
static CmStatus
FinishRecord(CmReader *r, const CmRecord **rec, CmError *err)
{
	int			i;
	bool		utf8 = (r->encoding != CM_ENC_BYTES);

	if (r->nfields > r->out_cap)
	{
		size_t		cap = r->out_cap;

		if (!GrowArray((void **) &r->out.fields, &cap, r->nfields, sizeof(char *)))
			goto nomem;
		cap = r->out_cap;
		if (!GrowArray((void **) &r->out.lengths, &cap, r->nfields, sizeof(size_t)))
			goto nomem;
		cap = r->out_cap;
		if (!GrowArray((void **) &r->out.end_lines, &cap, r->nfields, sizeof(long)))
			goto nomem;
		r->out_cap = (int) cap;
	}
	r->out.line = r->record_line;
	r->out.nfields = r->nfields;
	for (i = 0; i < r->nfields; i++)
	{
		r->out.fields[i] = r->field_own[i] ? r->field_own[i] : r->data + r->field_off[i];
		r->out.lengths[i] = r->field_len[i];
		r->out.end_lines[i] = r->field_line[i];
	}
	*rec = &r->out;

	/* the raw text is kept only to read a malformed record again */
	if (r->row_cap > CM_BIG_FIELD)
	{
		CmFree(r->row);
		r->row = NULL;
		r->row_cap = 0;
		r->row_len = 0;
	}

	for (i = 0; i < r->nfields; i++)
	{
		size_t		bad = 0;
		bool		ok = true;

		if (utf8)
			ok = CmValidUtf8(r->out.fields[i], r->out.lengths[i], &bad);
		if (ok && r->opts.convert)
		{
			size_t		out_len;
			char	   *conv;

			conv = r->opts.convert(r->opts.convert_arg, r->out.fields[i],
								   r->out.lengths[i], &out_len, &bad);
			if (conv == NULL)
				ok = false;
			else
			{
				r->out.fields[i] = conv;
				r->out.lengths[i] = out_len;
			}
		}
		if (!ok)
		{
			const unsigned char *f = (const unsigned char *) r->out.fields[i];
			size_t		left = r->out.lengths[i] - bad;
			char		hex[24] = "";
			size_t		k;

			/* the offending byte and the continuation bytes after it */
			for (k = 0; k < left && k < 4; k++)
			{
				if (k > 0 && (f[bad + k] < 0x80 || f[bad + k] > 0xBF))
					break;
				snprintf(hex + strlen(hex), sizeof(hex) - strlen(hex),
						 k ? " 0x%02x" : "0x%02x", f[bad + k]);
			}
			if (r->encoding == CM_ENC_UTF16LE || r->encoding == CM_ENC_UTF16BE)
				SetError(err, CM_ERR_ENCODING, r->record_line, i,
						 "invalid UTF-16 (an unpaired surrogate or an odd byte)");
			else
			{
				SetError(err, CM_ERR_ENCODING, r->record_line, i, "");
				snprintf(err->message, sizeof(err->message),
						 "invalid byte sequence %s", hex);
			}
			err->at_line = CmFieldLine(&r->out, i, bad);
			err->at_byte = (long) bad + 1;
			return CM_BAD_ROW;
		}
	}
	return CM_RECORD;

nomem:
	return Fatal(r, err, CM_ERR_NO_MEMORY, r->record_line, -1, "out of memory");
}

/* Read-ahead records already handed out: no longer valid, so freed */
static void
FreeHandedOut(CmReader *r)
{
	int			k;

	for (k = 0; k < r->next_pending; k++)
	{
		FreeRecordCopy(r->pending_rec[k]);
		r->pending_rec[k] = NULL;
	}
}

/*
 * The caller is done with the record CmReadRecord handed out (it is no
 * longer valid): large buffers go back to the allocator now rather than at
 * the next read, so that what the caller does next (the inserts, in the
 * server) does not run with a huge field still held here.
 */
void
CmReaderRelease(CmReader *r)
{
	FreeHandedOut(r);
	if (r->in_record)
		return;
	FreeOwnedFields(r);
	if (r->data_cap > CM_BIG_FIELD)
	{
		CmFree(r->data);
		r->data = NULL;
		r->data_cap = 0;
		r->data_len = 0;
	}
}

CmStatus
CmReadRecord(CmReader *r, const CmRecord **rec, CmError *err)
{
	*rec = NULL;
	ClearError(err);
	FreeHandedOut(r);
	if (r->fatal)
	{
		*err = r->fatal_err;
		return CM_FATAL;
	}
	if (r->next_pending < r->npending)
	{
		int			k = r->next_pending++;

		*rec = r->pending_rec[k];
		*err = r->pending_err[k];
		return r->pending_status[k];
	}
	if (!r->parser_live && !Start(r))
		return Fatal(r, err, CM_ERR_NO_MEMORY, 0, -1, "out of memory");

	r->record_done = false;
	for (;;)
	{
		size_t		start;
		size_t		len;
		bool		ends_line;
		int			got;
		CmStatus	st;

		got = NextSegment(r, &start, &len, &ends_line);
		if (got < 0)
			return Fatal(r, err, CM_ERR_NO_MEMORY, r->line, -1, "out of memory");
		if (got == 0)
		{
			long		open_line = OpenFieldLine(r);
			int			field = r->nfields;

			if (csv_fini(&r->parser, FieldCallback, RowCallback, r) != 0)
			{
				char		msg[sizeof(err->message)];

				snprintf(msg, sizeof(msg),
						 "a quoted field opened on line %ld is not closed before the end of the input",
						 open_line);
				SetError(err, CM_ERR_UNTERMINATED, r->record_line, field, msg);
				err->at_line = open_line;
				if (!Resync(r, 0, false))
					return Fatal(r, err, CM_ERR_NO_MEMORY, r->line, -1, "out of memory");
				return CM_BAD_ROW;
			}
			if (r->nomem)
				return Fatal(r, err, CM_ERR_NO_MEMORY, r->record_line, -1, "out of memory");
			if (r->overflow)
				return Fatal(r, err, CM_ERR_ROW_TOO_LONG, r->record_line, -1, "row is too long");
			if (r->record_done)
			{
				r->record_done = false;
				return FinishRecord(r, rec, err);
			}
			return CM_EOF;
		}
		st = FeedSegment(r, r->buf + start, len, ends_line, err);
		if (st != CM_RECORD)
			return st;
		if (r->record_done)
		{
			r->record_done = false;
			return FinishRecord(r, rec, err);
		}
	}
}

/* ---------------------------------------------------------------------
 * Keys: how names and labels are compared
 * ---------------------------------------------------------------------
 */

static bool
IsSpace(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * The ASCII part of custfocus.label_key(): lower case, surrounding white
 * space trimmed, inner runs folded to one space.  out needs len + 1 bytes.
 */
size_t
CmKey(const char *s, size_t len, char *out)
{
	size_t		i = 0;
	size_t		o = 0;
	bool		space = false;

	while (len > 0 && IsSpace((unsigned char) s[len - 1]))
		len--;
	while (i < len && IsSpace((unsigned char) s[i]))
		i++;
	for (; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (IsSpace(c))
		{
			space = true;
			continue;
		}
		if (space)
		{
			out[o++] = ' ';
			space = false;
		}
		if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		out[o++] = (char) c;
	}
	out[o] = '\0';
	return o;
}

/* CmKey into new memory, lower-casing non-ASCII text through the hook */
char *
CmKeyDup(const char *s, size_t len)
{
	char	   *key = CmAlloc(len + 1);
	size_t		klen;
	size_t		i;

	if (key == NULL)
		return NULL;
	klen = CmKey(s, len, key);
	if (CmLowerHook)
	{
		for (i = 0; i < klen; i++)
			if ((unsigned char) key[i] >= 0x80)
				break;
		if (i < klen)
		{
			char	   *lower = CmLowerHook(key, klen);

			CmFree(key);
			key = lower;
		}
	}
	return key;
}

/*
 * A looser key for recognising tool-specific names of response fields:
 * letters and digits only, so "Respondent ID", "respondent_id" and
 * "RespondentId" are one name.
 */
static void
LooseKey(const char *s, char *out, size_t outsize)
{
	size_t		o = 0;

	for (; *s && o + 1 < outsize; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c >= 'A' && c <= 'Z')
			out[o++] = (char) (c - 'A' + 'a');
		else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80)
			out[o++] = (char) c;
	}
	out[o] = '\0';
}

/* Names by which survey tools call response fields, best first */
static const struct
{
	const char *key;
	CmMeta		meta;
}			MetaNames[] =
{
	{"externalid", CM_META_EXTERNAL_ID},
	{"respondentid", CM_META_EXTERNAL_ID},
	{"responseid", CM_META_EXTERNAL_ID},
	{"recordid", CM_META_EXTERNAL_ID},
	{"respondent", CM_META_EXTERNAL_ID},
	{"id", CM_META_EXTERNAL_ID},
	{"submittedat", CM_META_SUBMITTED_AT},
	{"enddate", CM_META_SUBMITTED_AT},
	{"recordeddate", CM_META_SUBMITTED_AT},
	{"submitdate", CM_META_SUBMITTED_AT},
	{"datesubmitted", CM_META_SUBMITTED_AT},
	{"completiontime", CM_META_SUBMITTED_AT},
	{"timestamp", CM_META_SUBMITTED_AT},
	{"visitdate", CM_META_SUBMITTED_AT},
	{"date", CM_META_SUBMITTED_AT},
	{"service", CM_META_SERVICE},
	{"servicecode", CM_META_SERVICE},
	{"segment", CM_META_SEGMENT},
	{"segmentcode", CM_META_SEGMENT},
	{"channel", CM_META_CHANNEL},
	{"weight", CM_META_WEIGHT},
};

/* Names a mapping may give as target, loose keys */
static const struct
{
	const char *key;
	CmMeta		meta;
}			MetaTargets[] =
{
	{"externalid", CM_META_EXTERNAL_ID},
	{"respondentid", CM_META_EXTERNAL_ID},
	{"submittedat", CM_META_SUBMITTED_AT},
	{"service", CM_META_SERVICE},
	{"segment", CM_META_SEGMENT},
	{"channel", CM_META_CHANNEL},
	{"weight", CM_META_WEIGHT},
	{"contactname", CM_META_CONTACT_NAME},
	{"contactemail", CM_META_CONTACT_EMAIL},
	{"contactphone", CM_META_CONTACT_PHONE},
	{"contactaddress", CM_META_CONTACT_ADDRESS},
	{"contactipaddress", CM_META_CONTACT_IP},
};

/*
 * Headers of contact data that exports carry: never imported unless the
 * "columns" option maps them to a field of respondent_contact (contact.email
 * and so on); a mapping of one to anything else is refused.
 */
static const char *const IdentifyingNames[] = {
	"email", "emailaddress", "recipientemail", "respondentemail",
	"ipaddress", "ip", "firstname", "lastname", "recipientfirstname",
	"recipientlastname", "name", "fullname", "phone", "phonenumber",
	"telephone", "mobile", "address", "streetaddress",
	"locationlatitude", "locationlongitude",
};

const char *
CmMetaName(CmMeta meta)
{
	switch (meta)
	{
		case CM_META_EXTERNAL_ID:
			return "external_id";
		case CM_META_SUBMITTED_AT:
			return "submitted_at";
		case CM_META_SERVICE:
			return "service";
		case CM_META_SEGMENT:
			return "segment";
		case CM_META_CHANNEL:
			return "channel";
		case CM_META_WEIGHT:
			return "weight";
		case CM_META_CONTACT_NAME:
			return "contact.name";
		case CM_META_CONTACT_EMAIL:
			return "contact.email";
		case CM_META_CONTACT_PHONE:
			return "contact.phone";
		case CM_META_CONTACT_ADDRESS:
			return "contact.address";
		case CM_META_CONTACT_IP:
			return "contact.ip_address";
		default:
			return "?";
	}
}

static int
MetaPriority(const char *name, CmMeta *meta)
{
	char		key[64];
	int			i;

	if (name == NULL)
		return -1;
	LooseKey(name, key, sizeof(key));
	for (i = 0; i < (int) (sizeof(MetaNames) / sizeof(MetaNames[0])); i++)
		if (strcmp(key, MetaNames[i].key) == 0)
		{
			*meta = MetaNames[i].meta;
			return i;
		}
	return -1;
}

static bool
IsIdentifying(const char *name)
{
	char		key[64];
	int			i;

	if (name == NULL)
		return false;
	LooseKey(name, key, sizeof(key));
	for (i = 0; i < (int) (sizeof(IdentifyingNames) / sizeof(IdentifyingNames[0])); i++)
		if (strcmp(key, IdentifyingNames[i]) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------------
 * Header rows and column mapping
 * ---------------------------------------------------------------------
 */

static CmRecord *
CopyRecord(const CmRecord *src)
{
	size_t		size;
	size_t		n = src ? (size_t) src->nfields : 0;
	size_t		i;
	CmRecord   *rec;
	char	   *p;

	if (src == NULL)
		return NULL;
	size = sizeof(CmRecord) + n * (sizeof(char *) + sizeof(size_t) + sizeof(long));
	for (i = 0; i < n; i++)
		size += src->lengths[i] + 1;
	rec = CmAlloc(size);
	if (rec == NULL)
		return NULL;
	p = (char *) (rec + 1);
	rec->line = src->line;
	rec->nfields = src->nfields;
	rec->fields = (char **) p;
	p += n * sizeof(char *);
	rec->lengths = (size_t *) p;
	p += n * sizeof(size_t);
	rec->end_lines = (long *) p;
	p += n * sizeof(long);
	for (i = 0; i < n; i++)
	{
		rec->fields[i] = p;
		memcpy(p, src->fields[i], src->lengths[i]);
		p[src->lengths[i]] = '\0';
		p += src->lengths[i] + 1;
		rec->lengths[i] = src->lengths[i];
		rec->end_lines[i] = src->end_lines[i];
	}
	return rec;
}

static const char *
Cell(const CmRecord *rec, int i)
{
	if (rec == NULL || i >= rec->nfields)
		return "";
	return rec->fields[i];
}

static bool
CellIsBlank(const char *s)
{
	for (; *s; s++)
		if (!IsSpace((unsigned char) *s))
			return false;
	return true;
}

/* KeyEquals: does the key of s equal key? */
static bool
KeyEquals(const char *s, const char *key)
{
	char	   *k;
	bool		eq;

	if (s == NULL || key == NULL)
		return false;
	k = CmKeyDup(s, strlen(s));
	if (k == NULL)
		return false;
	eq = (strcmp(k, key) == 0);
	CmFree(k);
	return eq;
}

/* Qualtrics' third header row: {"ImportId":"QID1"} in every non-empty cell */
static bool
IsImportIdRow(const CmRecord *rec)
{
	int			i;
	int			seen = 0;

	for (i = 0; i < rec->nfields; i++)
	{
		const char *s = rec->fields[i];

		while (IsSpace((unsigned char) *s))
			s++;
		if (*s == '\0')
			continue;
		if (strncmp(s, "{\"ImportId\"", 11) != 0 && strncmp(s, "{\"importId\"", 11) != 0)
			return false;
		seen++;
	}
	return seen > 0;
}

static bool
IsMainSubheader(const char *s)
{
	return CellIsBlank(s) || KeyEquals(s, "response") || KeyEquals(s, "open-ended response");
}

/* SurveyMonkey's second header row: blank under the respondent id, "Response" under questions */
static bool
IsSubheaderRow(const CmRecord *rec)
{
	int			i;

	if (rec->nfields < 2 || !CellIsBlank(rec->fields[0]))
		return false;
	for (i = 0; i < rec->nfields; i++)
		if (KeyEquals(rec->fields[i], "response") || KeyEquals(rec->fields[i], "open-ended response"))
			return true;
	return false;
}

void
CmMapFree(CmMap *map)
{
	int			i;

	if (map == NULL)
		return;
	for (i = 0; i < map->ncolumns; i++)
	{
		CmFree(map->columns[i].name);
		CmFree(map->columns[i].code);
		CmFree(map->columns[i].text);
		CmFree(map->columns[i].sub);
	}
	CmFree(map->columns);
	CmFree(map->item_column);
	CmFree(map);
}

static char *
DupOrNull(const char *s)
{
	if (s == NULL || CellIsBlank(s))
		return NULL;
	return CmStrndup(s, strlen(s));
}

/* Fills in the columns' names from the header rows */
static bool
NameColumns(CmMap *map, const CmRecord *h1, const CmRecord *h2)
{
	int			i;
	const char *question = NULL;

	for (i = 0; i < map->ncolumns; i++)
	{
		CmColumn   *col = &map->columns[i];
		const char *c1 = Cell(h1, i);
		const char *c2 = Cell(h2, i);
		char		generated[32];

		switch (map->layout)
		{
			case CM_LAYOUT_SURVEYMONKEY:
				/* a blank question cell continues the question to its left */
				if (!CellIsBlank(c1))
					question = c1;
				col->text = DupOrNull(question);
				if (IsMainSubheader(c2))
				{
					col->code = DupOrNull(question);
					col->name = DupOrNull(question);
				}
				else
				{
					col->sub = DupOrNull(c2);
					if (question && !CellIsBlank(question))
					{
						size_t		len = strlen(question) + strlen(c2) + 4;

						col->name = CmAlloc(len);
						if (col->name)
							snprintf(col->name, len, "%s - %s", question, c2);
					}
					else
						col->name = DupOrNull(c2);
				}
				break;
			case CM_LAYOUT_QUALTRICS:
				col->code = DupOrNull(c1);
				col->text = DupOrNull(c2);
				col->name = DupOrNull(col->code ? c1 : c2);
				break;
			default:
				col->code = DupOrNull(c1);
				col->name = DupOrNull(c1);
				break;
		}
		if (col->name == NULL)
		{
			snprintf(generated, sizeof(generated), "(column %d)", i + 1);
			col->name = CmStrndup(generated, strlen(generated));
			if (col->name == NULL)
				return false;
		}
		col->identifying = IsIdentifying(col->code) || IsIdentifying(col->name) ||
			IsIdentifying(col->text) || IsIdentifying(col->sub);
	}
	return true;
}

/* The keys of a column's names, computed once */
typedef struct ColumnKeys
{
	char	   *code;
	char	   *text;
	char	   *sub;
	char	   *name;			/* "question - sub-header" (SurveyMonkey) */
} ColumnKeys;

static char *
KeyOrNull(const char *s, bool *nomem)
{
	char	   *k;

	if (s == NULL)
		return NULL;
	k = CmKeyDup(s, strlen(s));
	if (k == NULL)
		*nomem = true;
	return k;
}

static bool
Eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Does any name of the column have the given key? */
static bool
ColumnHasKey(const ColumnKeys *ck, const char *key)
{
	return Eq(ck->code, key) || Eq(ck->text, key) || Eq(ck->sub, key) ||
		Eq(ck->name, key);
}

static int
FindKey(char **keys, int n, const char *key)
{
	int			i;

	for (i = 0; i < n; i++)
		if (Eq(keys[i], key))
			return i;
	return -1;
}

static void
FreeKeys(char **keys, int n)
{
	int			i;

	if (keys == NULL)
		return;
	for (i = 0; i < n; i++)
		CmFree(keys[i]);
	CmFree(keys);
}

static char **
MakeItemKeys(const CmItem *items, int nitems, bool text, bool *nomem)
{
	char	  **keys = CmAlloc(sizeof(char *) * (nitems > 0 ? nitems : 1));
	int			i;

	if (keys == NULL)
	{
		*nomem = true;
		return NULL;
	}
	for (i = 0; i < nitems; i++)
		keys[i] = KeyOrNull(text ? items[i].text : items[i].code, nomem);
	return keys;
}

static CmStatus
MapError(CmError *err, CmErrorCode code, int field, int other, const char *name, const char *msg)
{
	SetError(err, code, 0, field, msg);
	err->other_field = other;
	err->name = name;
	return CM_FATAL;
}

/* Resolves the target of a "columns" entry: an item code, else a field name */
static bool
RuleTarget(const CmRule *rule, char **codes, int nitems, CmTarget *target,
		   int *index, bool *nomem)
{
	char	   *tkey;
	char		loose[64];
	int			k;

	*target = CM_TARGET_NONE;
	*index = -1;
	if (rule->target == NULL)
		return true;
	tkey = KeyOrNull(rule->target, nomem);
	if (tkey == NULL)
		return false;
	*index = FindKey(codes, nitems, tkey);
	CmFree(tkey);
	if (*index >= 0)
	{
		*target = CM_TARGET_ITEM;
		return true;
	}
	LooseKey(rule->target, loose, sizeof(loose));
	for (k = 0; k < (int) (sizeof(MetaTargets) / sizeof(MetaTargets[0])); k++)
		if (strcmp(loose, MetaTargets[k].key) == 0)
		{
			*target = CM_TARGET_META;
			*index = MetaTargets[k].meta;
			return true;
		}
	return false;
}

/*
 * Decides what every column feeds.  In order of precedence: the "columns"
 * option; never a column of contact data; an item whose code is the header;
 * a response field by one of its usual names; an item whose question text is
 * the header (or the question or sub-header row).  Two columns feeding one
 * item is an error unless the option settles it; for a response field the
 * better-known name wins (EndDate before RecordedDate), then the leftmost.
 */
static CmStatus
MapColumns(CmMap *map, const CmMapSpec *spec, CmError *err)
{
	bool		nomem = false;
	char	  **codes = MakeItemKeys(spec->items, spec->nitems, false, &nomem);
	char	  **texts = MakeItemKeys(spec->items, spec->nitems, true, &nomem);
	int		   *priority = CmAlloc(sizeof(int) * (map->ncolumns + 1));
	ColumnKeys *keys = CmAlloc(sizeof(ColumnKeys) * (map->ncolumns + 1));
	CmStatus	st = CM_RECORD;
	int			i;
	int			j;

	if (keys)
		memset(keys, 0, sizeof(ColumnKeys) * (map->ncolumns + 1));
	if (codes == NULL || texts == NULL || priority == NULL || keys == NULL)
		goto nomem;
	for (i = 0; i < map->ncolumns; i++)
	{
		CmColumn   *col = &map->columns[i];

		keys[i].code = KeyOrNull(col->code, &nomem);
		keys[i].sub = KeyOrNull(col->sub, &nomem);

		/*
		 * A SurveyMonkey column under a sub-header ("Other (please
		 * specify)") is not named by its question alone: that names the
		 * question's main column.
		 */
		if (col->sub)
			keys[i].name = KeyOrNull(col->name, &nomem);
		else
			keys[i].text = KeyOrNull(col->text, &nomem);
	}
	if (nomem)
		goto nomem;

	/* explicit entries */
	for (j = 0; j < spec->nrules; j++)
	{
		const CmRule *rule = &spec->rules[j];
		char	   *ckey;
		CmTarget	target;
		int			index;
		bool		matched = false;

		if (!RuleTarget(rule, codes, spec->nitems, &target, &index, &nomem))
		{
			if (nomem)
				goto nomem;
			st = MapError(err, CM_ERR_UNKNOWN_TARGET, -1, -1, rule->target,
						  "no item has this code and it names no response field");
			goto done;
		}
		ckey = KeyOrNull(rule->column, &nomem);
		if (ckey == NULL)
			goto nomem;
		for (i = 0; i < map->ncolumns; i++)
		{
			CmColumn   *col = &map->columns[i];

			if (!ColumnHasKey(&keys[i], ckey))
				continue;
			if (col->by_rule)
			{
				CmFree(ckey);
				st = MapError(err, CM_ERR_DUPLICATE_RULE, i, -1, rule->column,
							  "two entries of the mapping name this column");
				goto done;
			}
			if (col->identifying && target != CM_TARGET_NONE &&
				!(target == CM_TARGET_META && CmIsContact(index)))
			{
				CmFree(ckey);
				st = MapError(err, CM_ERR_IDENTIFYING, i, -1, rule->column,
							  "the column holds contact data, which is stored only in respondent_contact");
				goto done;
			}
			col->by_rule = true;
			col->target = target;
			col->index = index;
			matched = true;
		}
		CmFree(ckey);
		if (!matched)
		{
			st = MapError(err, CM_ERR_UNKNOWN_COLUMN, -1, -1, rule->column,
						  "the export has no column of this name");
			goto done;
		}
	}

	/* automatic mapping */
	for (i = 0; i < map->ncolumns; i++)
	{
		CmColumn   *col = &map->columns[i];
		CmMeta		meta = CM_META_EXTERNAL_ID;
		int			k;

		priority[i] = -1;
		if (col->by_rule || col->identifying)
			continue;
		k = keys[i].code ? FindKey(codes, spec->nitems, keys[i].code) : -1;
		if (k >= 0)
		{
			col->target = CM_TARGET_ITEM;
			col->index = k;
			continue;
		}
		priority[i] = MetaPriority(col->code ? col->code : col->name, &meta);
		if (priority[i] >= 0)
		{
			col->target = CM_TARGET_META;
			col->index = meta;
			continue;
		}
		for (k = 0; k < spec->nitems; k++)
		{
			if (texts[k] == NULL)
				continue;
			if (Eq(keys[i].code, texts[k]) || Eq(keys[i].text, texts[k]) ||
				Eq(keys[i].sub, texts[k]) || Eq(keys[i].name, texts[k]))
				break;
		}
		if (k < spec->nitems)
		{
			col->target = CM_TARGET_ITEM;
			col->index = k;
		}
	}

	/* one column per item */
	for (j = 0; j < spec->nitems; j++)
	{
		int			chosen = -1;

		for (i = 0; i < map->ncolumns; i++)
		{
			CmColumn   *col = &map->columns[i];

			if (col->target != CM_TARGET_ITEM || col->index != j)
				continue;
			if (chosen < 0)
				chosen = i;
			else if (col->by_rule == map->columns[chosen].by_rule)
			{
				st = MapError(err, CM_ERR_DUPLICATE_TARGET, chosen, i, spec->items[j].code,
							  "two columns map to the same item");
				goto done;
			}
			else if (col->by_rule)
			{
				map->columns[chosen].target = CM_TARGET_NONE;
				chosen = i;
			}
			else
				col->target = CM_TARGET_NONE;
		}
		map->item_column[j] = chosen;
	}

	/* one column per response field */
	for (j = 0; j < CM_NUM_META; j++)
	{
		int			chosen = -1;

		for (i = 0; i < map->ncolumns; i++)
		{
			CmColumn   *col = &map->columns[i];
			bool		better;

			if (col->target != CM_TARGET_META || col->index != j)
				continue;
			if (chosen < 0)
			{
				chosen = i;
				continue;
			}
			if (col->by_rule && map->columns[chosen].by_rule)
			{
				st = MapError(err, CM_ERR_DUPLICATE_TARGET, chosen, i, CmMetaName((CmMeta) j),
							  "two columns map to the same response field");
				goto done;
			}
			if (col->by_rule != map->columns[chosen].by_rule)
				better = col->by_rule;
			else
				better = priority[i] < priority[chosen];
			if (better)
			{
				map->columns[chosen].target = CM_TARGET_NONE;
				chosen = i;
			}
			else
				col->target = CM_TARGET_NONE;
		}
		map->meta[j] = chosen;
	}
	goto done;

nomem:
	st = MapError(err, CM_ERR_NO_MEMORY, -1, -1, NULL, "out of memory");

done:
	FreeKeys(codes, spec->nitems);
	FreeKeys(texts, spec->nitems);
	CmFree(priority);
	if (keys)
	{
		for (i = 0; i < map->ncolumns; i++)
		{
			CmFree(keys[i].code);
			CmFree(keys[i].text);
			CmFree(keys[i].sub);
			CmFree(keys[i].name);
		}
		CmFree(keys);
	}
	return st;
}

/* Remembers a record read ahead, to be returned by CmReadRecord later */
static bool
KeepPending(CmReader *r, CmStatus st, CmRecord *rec, const CmError *err)
{
	int			k = r->npending;

	/* rec is a copy already: taken over, not copied again */
	r->pending_status[k] = st;
	r->pending_err[k] = *err;
	r->pending_rec[k] = rec;
	r->npending++;
	return true;
}

/*
 * Reads the header rows and maps the columns.  Up to three rows are read to
 * tell the layout; rows that turn out to be data are returned by the next
 * CmReadRecord calls.  Every error here is fatal.  After a mapping error
 * *mapp is still set (its columns name the columns the error is about); the
 * caller frees it with CmMapFree either way.
 */
CmStatus
CmReadHeader(CmReader *r, const CmMapSpec *spec, CmMap **mapp, CmError *err)
{
	const CmRecord *rec;
	CmRecord   *h[3] = {NULL, NULL, NULL};
	CmStatus	st[3] = {CM_EOF, CM_EOF, CM_EOF};
	CmError		errs[3];
	CmLayout	layout = spec->layout;
	int			nread = 0;
	int			nheader = 1;
	int			ncolumns;
	int			i;
	CmMap	   *map = NULL;
	CmStatus	result = CM_RECORD;

	*mapp = NULL;
	ClearError(err);

	for (i = 0; i < 3; i++)
	{
		if (i == 1 && layout == CM_LAYOUT_PLAIN)
			break;
		if (i == 2 && layout == CM_LAYOUT_SURVEYMONKEY)
			break;
		st[i] = CmReadRecord(r, &rec, &errs[i]);
		if (st[i] == CM_FATAL)
		{
			*err = errs[i];
			result = CM_FATAL;
			goto done;
		}
		if (st[i] == CM_EOF)
			break;
		nread = i + 1;
		if (rec)
		{
			h[i] = CopyRecord(rec);
			if (h[i] == NULL)
			{
				result = MapError(err, CM_ERR_NO_MEMORY, -1, -1, NULL, "out of memory");
				goto done;
			}
		}
		if (i == 0 && st[0] != CM_RECORD)
		{
			*err = errs[0];
			err->code = err->code ? err->code : CM_ERR_BAD_HEADER;
			result = CM_FATAL;
			goto done;
		}
		/* a bad second row cannot be a header row */
		if (st[i] != CM_RECORD)
			break;
		if (i == 1 && layout == CM_LAYOUT_AUTO && IsSubheaderRow(h[1]))
			break;
	}
	if (nread == 0)
	{
		result = MapError(err, CM_ERR_NO_HEADER, -1, -1, NULL, "the input is empty");
		goto done;
	}

	if (layout == CM_LAYOUT_AUTO)
	{
		if (nread >= 3 && st[1] == CM_RECORD && st[2] == CM_RECORD && IsImportIdRow(h[2]))
			layout = CM_LAYOUT_QUALTRICS;
		else if (nread >= 2 && st[1] == CM_RECORD && IsSubheaderRow(h[1]))
			layout = CM_LAYOUT_SURVEYMONKEY;
		else
			layout = CM_LAYOUT_PLAIN;
	}
	if (layout == CM_LAYOUT_QUALTRICS)
		nheader = (nread >= 3 && st[2] == CM_RECORD && IsImportIdRow(h[2])) ? 3 : 2;
	else if (layout == CM_LAYOUT_SURVEYMONKEY)
		nheader = 2;
	if (nheader > nread)
		nheader = nread;
	for (i = 1; i < nheader; i++)
		if (st[i] != CM_RECORD)
		{
			*err = errs[i];
			result = CM_FATAL;
			goto done;
		}

	/* the rows read that are not header rows are data */
	for (i = nheader; i < nread; i++)
	{
		if (!KeepPending(r, st[i], h[i], &errs[i]))
		{
			result = MapError(err, CM_ERR_NO_MEMORY, -1, -1, NULL, "out of memory");
			goto done;
		}
		h[i] = NULL;
	}

	ncolumns = h[0]->nfields;
	for (i = 1; i < nheader; i++)
		if (h[i]->nfields > ncolumns)
			ncolumns = h[i]->nfields;

	map = CmAlloc(sizeof(CmMap));
	if (map == NULL)
	{
		result = MapError(err, CM_ERR_NO_MEMORY, -1, -1, NULL, "out of memory");
		goto done;
	}
	memset(map, 0, sizeof(CmMap));
	map->layout = layout;
	map->header_rows = nheader;
	map->columns = CmAlloc(sizeof(CmColumn) * ncolumns);
	map->item_column = CmAlloc(sizeof(int) * (spec->nitems > 0 ? spec->nitems : 1));
	if (map->columns == NULL || map->item_column == NULL)
	{
		result = MapError(err, CM_ERR_NO_MEMORY, -1, -1, NULL, "out of memory");
		goto done;
	}
	memset(map->columns, 0, sizeof(CmColumn) * ncolumns);
	map->ncolumns = ncolumns;
	map->nitems = spec->nitems;
	for (i = 0; i < CM_NUM_META; i++)
		map->meta[i] = -1;
	for (i = 0; i < spec->nitems; i++)
		map->item_column[i] = -1;
	for (i = 0; i < ncolumns; i++)
		map->columns[i].index = -1;

	if (!NameColumns(map, h[0], nheader > 1 ? h[1] : NULL))
	{
		result = MapError(err, CM_ERR_NO_MEMORY, -1, -1, NULL, "out of memory");
		goto done;
	}
	result = MapColumns(map, spec, err);
	/* even after a mapping error, so that the caller can name the columns */
	*mapp = map;
	map = NULL;

done:
	for (i = 0; i < 3; i++)
		FreeRecordCopy(h[i]);
	CmMapFree(map);
	if (result != CM_RECORD)
	{
		r->fatal = true;
		r->fatal_err = *err;
	}
	return result;
}
