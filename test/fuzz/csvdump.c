/*
 * csvdump.c
 *		Shows how csvmap reads and maps an export, outside the server.
 *
 * Usage: csvdump FILE [delimiter] -- items are those of the cs2026 sample
 * survey (test/data/README.md).  A debugging aid: the same code the server
 * runs, without a server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvmap.h"

static const CmItem Items[] = {
	{"Q1", "Staff treated me with courtesy and respect"},
	{"Q2", "I received the service in a timely manner"},
	{"Q3", "The information I received was accurate and easy to understand"},
	{"Q4", "Overall, how satisfied are you with the service you received?"},
	{"Q5", "How likely are you to recommend this service to a colleague or friend?"},
	{"Q6", "Any other comments?"},
};

static size_t
ReadFile(void *arg, char *buf, size_t size)
{
	return fread(buf, 1, size, (FILE *) arg);
}

int
main(int argc, char **argv)
{
	FILE	   *f;
	CmReaderOptions opts;
	CmReader   *r;
	CmMapSpec	spec;
	CmMap	   *map;
	CmError		err;
	const CmRecord *rec;
	CmStatus	st;
	int			i;

	if (argc < 2 || (f = fopen(argv[1], "rb")) == NULL)
	{
		fprintf(stderr, "usage: csvdump FILE [delimiter]\n");
		return 2;
	}
	CmReaderDefaults(&opts);
	if (argc > 2)
		opts.delimiter = argv[2][0];
	r = CmReaderCreate(&opts, ReadFile, f);
	memset(&spec, 0, sizeof(spec));
	spec.layout = CM_LAYOUT_AUTO;
	spec.items = Items;
	spec.nitems = 6;
	st = CmReadHeader(r, &spec, &map, &err);
	if (st != CM_RECORD)
	{
		printf("header error %d line %ld field %d name %s: %s\n", err.code, err.line,
			   err.field, err.name ? err.name : "-", err.message);
		CmMapFree(map);
		CmReaderFree(r);
		fclose(f);
		return 1;
	}
	printf("delimiter '%c' layout %d header rows %d columns %d\n",
		   CmReaderDelimiter(r), map->layout, map->header_rows, map->ncolumns);
	for (i = 0; i < map->ncolumns; i++)
		printf("  col %d name [%s] code [%s] text [%.30s] sub [%s] -> %s %d%s\n", i,
			   map->columns[i].name, map->columns[i].code ? map->columns[i].code : "",
			   map->columns[i].text ? map->columns[i].text : "",
			   map->columns[i].sub ? map->columns[i].sub : "",
			   map->columns[i].target == CM_TARGET_ITEM ? "item" :
			   map->columns[i].target == CM_TARGET_META ? "meta" : "none",
			   map->columns[i].index, map->columns[i].identifying ? " (identifying)" : "");
	while ((st = CmReadRecord(r, &rec, &err)) != CM_EOF)
	{
		if (st == CM_FATAL)
		{
			printf("fatal %d line %ld: %s\n", err.code, err.line, err.message);
			break;
		}
		if (st == CM_BAD_ROW)
		{
			printf("bad row line %ld at %ld:%ld field %d: %s\n", err.line, err.at_line,
				   err.at_byte, err.field, err.message);
			continue;
		}
		printf("line %ld:", rec->line);
		for (i = 0; i < rec->nfields; i++)
			printf(" [%s]", rec->fields[i]);
		printf("\n");
	}
	CmMapFree(map);
	CmReaderFree(r);
	fclose(f);
	return 0;
}
