/*
 * fuzz_accept.c - libFuzzer target for the Accept-Encoding parser and the
 * response rules of src/compress_neg.c.
 *
 * The input up to its first NUL is read as Accept-Encoding field values,
 * one per line; the bytes after the NUL as response fields ("Name: value"
 * lines) for compress_neg_eligible.  Every string handed over is a heap
 * block of exactly its length, so reading past one is an AddressSanitizer
 * report.
 *
 * Checked: the choice is a coding or identity; a coding chosen has a
 * q-value above 0 and at least that of every other coding, and is the
 * first of zstd, br, gzip with it; feeding the lines as separate fields
 * chooses what one field of the lines joined by commas chooses (RFC 9110
 * 5.3); the choice does not depend on spaces around commas added or a
 * trailing empty element.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *	t/fuzz/fuzz_accept.c src/compress_neg.c src/http_parse.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress_neg.h"
#include "http_parse.h"

#define FUZZ_NAME "fuzz_accept"
#include "fuzz.h"

#define MAX_LINES	16

static char *
dup_exact(const uint8_t *p, size_t n)
{
	char	*s = malloc(n > 0 ? n : 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	return s;
}

static enum compress_coding
choose_joined(const uint8_t *d, size_t n, const char *sep, size_t seplen,
    int trailing)
{
	struct compress_accept	 a;
	enum compress_coding	 c;
	char			*s;
	size_t			 i, k = 0;

	s = malloc(n * seplen + seplen + 1);
	if (s == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if (d[i] == '\n') {
			memcpy(s + k, sep, seplen);
			k += seplen;
		} else
			s[k++] = (char)d[i];
	}
	if (trailing)
		s[k++] = ',';
	compress_neg_init(&a);
	compress_neg_feed(&a, s, k);
	c = compress_neg_choose(&a);
	free(s);
	return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum compress_coding pref[] = {
		COMPRESS_ZSTD, COMPRESS_BR, COMPRESS_GZIP
	};
	struct compress_accept	 a;
	enum compress_coding	 c, j;
	struct http_field	 f[MAX_LINES];
	char			*vals[MAX_LINES], *types[] = { "text/html",
				    "text/*" };
	struct compress_config	 cf = { 1, types, 2, 10, 6 };
	const uint8_t		*nul, *p, *e, *colon, *end;
	size_t			 n, i, nf = 0, nv = 0;
	int			 q, qc;

	nul = memchr(data, '\0', size);
	n = nul != NULL ? (size_t)(nul - data) : size;
	if (n > 4096)
		return 0;

	/* line by line, as separate fields */
	compress_neg_init(&a);
	for (p = data, end = data + n; p <= end && nv < MAX_LINES; p = e + 1) {
		e = memchr(p, '\n', (size_t)(end - p));
		if (e == NULL)
			e = end;
		vals[nv] = dup_exact(p, (size_t)(e - p));
		compress_neg_feed(&a, vals[nv], (size_t)(e - p));
		nv++;
		if (e == end)
			break;
	}
	c = compress_neg_choose(&a);
	CHECK(c >= COMPRESS_NONE && c < COMPRESS_NCODINGS);
	if (c != COMPRESS_NONE) {
		CHECK(compress_neg_name(c) != NULL);
		qc = a.q[c] >= 0 ? a.q[c] : a.star;
		CHECK(qc > 0 && qc <= 1000);
		CHECK(a.q[COMPRESS_NONE] <= qc);
		for (i = 0; i < 3; i++) {
			j = pref[i];
			q = a.q[j] >= 0 ? a.q[j] : a.star;
			CHECK(q <= qc);
			if (j == c)
				break;
			CHECK(q < qc);	/* an earlier one ties: it wins */
		}
	} else if (nv > 0) {
		/* identity: no coding beats a named identity */
		for (i = 0; i < 3; i++) {
			q = a.q[pref[i]] >= 0 ? a.q[pref[i]] : a.star;
			CHECK(q <= 0 || q < a.q[COMPRESS_NONE]);
		}
	}
	for (i = 0; i < COMPRESS_NCODINGS; i++)
		CHECK(a.q[i] >= -1 && a.q[i] <= 1000);
	if (nv < MAX_LINES) {
		CHECK(choose_joined(data, n, ",", 1, 0) == c);
		CHECK(choose_joined(data, n, " , ", 3, 0) == c);
		CHECK(choose_joined(data, n, ",", 1, 1) == c);
	}
	for (i = 0; i < nv; i++)
		free(vals[i]);

	/* the response fields */
	if (nul == NULL)
		return 0;
	for (p = nul + 1, end = data + size; p < end && nf < MAX_LINES;
	    p = e + 1) {
		e = memchr(p, '\n', (size_t)(end - p));
		if (e == NULL)
			e = end;
		colon = memchr(p, ':', (size_t)(e - p));
		if (colon != NULL) {
			f[nf].name = dup_exact(p, (size_t)(colon - p));
			f[nf].name_len = (size_t)(colon - p);
			f[nf].value = dup_exact(colon + 1,
			    (size_t)(e - colon - 1));
			f[nf].value_len = (size_t)(e - colon - 1);
			f[nf].id = HTTP_H_OTHER;
			nf++;
		}
		if (e == end)
			break;
	}
	for (q = 0; q < 4; q++) {
		i = compress_neg_eligible(&cf, q & 1 ? 200 : 206, 0, 1, q >> 1,
		    (uint64_t)size, f, (unsigned)nf);
		/* 206 is never compressed */
		CHECK(!(q & 1) ? i == 0 : i <= 1);
	}
	for (i = 0; i < nf; i++) {
		free((void *)(uintptr_t)f[i].name);
		free((void *)(uintptr_t)f[i].value);
	}
	return 0;
}
