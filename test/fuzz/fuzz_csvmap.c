/*
 * fuzz_csvmap.c
 *		libFuzzer harness for the export reader and the column mapper
 *		(src/csvmap.c), built outside the server.
 *
 * The first input byte picks the options (delimiter, byte-order mark,
 * encoding, layout, mapping rules, small limits), the second the size of the
 * reads; the rest is the export.  Besides the sanitizers' own checks it
 * asserts what import.c relies on: fields are NUL-terminated, rows come in
 * line order, and every line a field or an error names lies in the input.
 *
 * Build and run: see test/fuzz/Makefile (make -C test/fuzz run).  With
 * -DCSVMAP_STANDALONE it has a main() that replays files instead, for
 * compilers without libFuzzer (make -C test/fuzz replay).
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvmap.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Input
{
	const uint8_t *data;
	size_t		len;
	size_t		pos;
	size_t		step;			/* most bytes handed out per read */
} Input;

static size_t
ReadInput(void *arg, char *buf, size_t size)
{
	Input	   *in = (Input *) arg;
	size_t		n = in->len - in->pos;

	if (n > size)
		n = size;
	if (n > in->step)
		n = in->step;
	memcpy(buf, in->data + in->pos, n);
	in->pos += n;
	return n;
}

/* A converter that refuses the byte 0x7F, to exercise that path */
static char *
Convert(void *arg, char *s, size_t len, size_t *out_len, size_t *bad_offset)
{
	char	   *p = memchr(s, 0x7F, len);

	(void) arg;
	if (p)
	{
		*bad_offset = (size_t) (p - s);
		return NULL;
	}
	*out_len = len;
	return s;
}

static const CmItem Items[] = {
	{"Q1", "Staff treated me with courtesy and respect"},
	{"Q2", "I received the service in a timely manner"},
	{"Q3", "The information I received was accurate and easy to understand"},
	{"Q4", "Overall, how satisfied are you with the service you received?"},
	{"Q5", "How likely are you to recommend this service to a colleague or friend?"},
	{"Q6", "Any other comments?"},
	{"contact___1", "Contact me by phone"},
};

static const CmRule Rules[] = {
	{"SAT[SQ001]", "Q1"},
	{"OVERALL", "Q4"},
	{"Service used", "service"},
	{"id", "respondent_id"},
	{"Comments", "Q6"},
	{"Collector ID", NULL},
};

static long
CountLines(const uint8_t *data, size_t len)
{
	long		lines = 1;
	size_t		i;

	for (i = 0; i < len; i++)
		if (data[i] == '\n' || (data[i] == '\r' && (i + 1 >= len || data[i + 1] != '\n')))
			lines++;
	return lines;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int delimiters[] = {0, ',', ';', '\t'};
	static const CmEncoding encodings[] = {CM_ENC_UTF8, CM_ENC_UTF16LE, CM_ENC_UTF16BE, CM_ENC_BYTES};
	CmReaderOptions opts;
	CmMapSpec	spec;
	CmReader   *r;
	CmMap	   *map = NULL;
	CmError		err;
	CmStatus	st;
	const CmRecord *rec;
	Input		in;
	uint8_t		flags;
	long		max_line;
	long		last_line = 0;
	int			records = 0;

	if (size < 2)
		return 0;
	flags = data[0];
	memset(&in, 0, sizeof(in));
	in.step = (size_t) data[1] % 64 + 1;
	in.data = data + 2;
	in.len = size - 2;

	CmReaderDefaults(&opts);
	opts.delimiter = delimiters[flags & 3];
	opts.detect_bom = (flags & 4) != 0;
	opts.encoding = encodings[(flags >> 3) & 3];
	if (flags & 0x80)
	{
		/* small limits and reads, to reach the edges quickly */
		opts.max_field = 300;
		opts.max_row = 1000;
		opts.chunk_size = 17;
	}
	if (opts.encoding == CM_ENC_BYTES)
		opts.convert = Convert;

	/*
	 * Lines in the output are counted on the input as given; UTF-16 has its
	 * own line breaks, so bound those by the byte count instead.
	 */
	max_line = CountLines(in.data, in.len);
	if (opts.encoding == CM_ENC_UTF16LE || opts.encoding == CM_ENC_UTF16BE ||
		(opts.detect_bom && in.len >= 2 &&
		 ((in.data[0] == 0xFF && in.data[1] == 0xFE) || (in.data[0] == 0xFE && in.data[1] == 0xFF))))
		max_line = (long) in.len / 2 + 2;

	r = CmReaderCreate(&opts, ReadInput, &in);
	assert(r != NULL);
	memset(&spec, 0, sizeof(spec));
	spec.layout = (CmLayout) ((flags >> 5) & 3);
	spec.items = Items;
	spec.nitems = (int) (sizeof(Items) / sizeof(Items[0]));
	if (flags & 0x40)
	{
		spec.rules = Rules;
		spec.nrules = (int) (sizeof(Rules) / sizeof(Rules[0]));
	}

	st = CmReadHeader(r, &spec, &map, &err);
	if (st == CM_RECORD)
	{
		int			i;

		assert(map != NULL);
		assert(map->header_rows >= 1 && map->header_rows <= 3);
		for (i = 0; i < map->ncolumns; i++)
		{
			assert(map->columns[i].name != NULL);
			if (map->columns[i].target == CM_TARGET_ITEM)
				assert(map->columns[i].index >= 0 && map->columns[i].index < spec.nitems);
		}
		for (i = 0; i < CM_NUM_META; i++)
			assert(map->meta[i] >= -1 && map->meta[i] < map->ncolumns);

		while ((st = CmReadRecord(r, &rec, &err)) != CM_EOF && st != CM_FATAL)
		{
			long		line = (st == CM_RECORD) ? rec->line : err.line;

			assert(line >= 1 && line <= max_line);
			assert(records == 0 || line > last_line);
			last_line = line;
			if (st == CM_BAD_ROW)
			{
				assert(err.code == CM_ERR_BAD_QUOTE || err.code == CM_ERR_UNTERMINATED ||
					   err.code == CM_ERR_ENCODING);
				assert(err.at_line <= max_line);
			}
			if (rec)
			{
				int			f;

				assert(rec->nfields >= 1);
				for (f = 0; f < rec->nfields; f++)
				{
					char	   *key = malloc(rec->lengths[f] + 1);

					assert(rec->fields[f][rec->lengths[f]] == '\0');
					assert(rec->end_lines[f] >= rec->line && rec->end_lines[f] <= max_line);
					assert(CmFieldLine(rec, f, 0) >= rec->line);
					CmKey(rec->fields[f], rec->lengths[f], key);
					free(key);
				}
			}
			if (++records > 100000)
				break;
		}
	}
	if (st == CM_FATAL)
		assert(err.code != CM_ERR_NONE);
	CmMapFree(map);
	CmReaderFree(r);
	return 0;
}

#ifdef CSVMAP_STANDALONE
/* Replays the files named on the command line through the harness */
int
main(int argc, char **argv)
{
	int			i;

	for (i = 1; i < argc; i++)
	{
		FILE	   *f = fopen(argv[i], "rb");
		uint8_t    *buf;
		long		len;

		if (f == NULL)
		{
			perror(argv[i]);
			return 1;
		}
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		fseek(f, 0, SEEK_SET);
		buf = malloc(len > 0 ? len : 1);
		if (fread(buf, 1, len, f) != (size_t) len)
		{
			perror(argv[i]);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t) len);
		free(buf);
	}
	printf("replayed %d inputs\n", argc - 1);
	return 0;
}
#endif
