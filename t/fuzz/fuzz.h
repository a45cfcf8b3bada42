/*
 * fuzz.h - what the libFuzzer targets share: how a broken invariant is
 * reported (FUZZ_NAME is the target's name, defined before including
 * this), and the checks every parsed header field must pass.  The
 * checks use their own small oracles, not the parser's code.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The entry point each target defines; main() is libFuzzer's, or
 * t/fuzz/replay.c's in make check.
 */
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FAIL(...) do {							\
	fprintf(stderr, FUZZ_NAME ": " __VA_ARGS__);			\
	fputc('\n', stderr);						\
	abort();							\
} while (0)
#define CHECK(c) do {							\
	if (!(c))							\
		FAIL("check failed at line %d: %s", __LINE__, #c);	\
} while (0)

#ifdef HTTP_PARSE_H
/* Does p[0..n) lie within buf[0..len)? */
static inline int
fuzz_inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && p <= buf + len && n <= (size_t)(buf + len - p);
}

/* RFC 9110 tchar, written out independently of the parser's table. */
static inline int
fuzz_is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * Every field of a parsed head: name and value inside the head, the name
 * all tchars, the value trimmed and free of CR, LF and NUL, and the field
 * tagged as http_hdr_lookup says.
 */
static inline void
fuzz_check_fields(const struct http_field *fields, unsigned n,
    const char *buf, size_t head)
{
	unsigned	 i;
	size_t		 j;

	for (i = 0; i < n; i++) {
		const struct http_field *f = &fields[i];

		CHECK(f->name_len > 0 && fuzz_inside(f->name, f->name_len, buf,
		    head));
		CHECK(fuzz_inside(f->value, f->value_len, buf, head));
		CHECK(f->value > f->name + f->name_len);
		for (j = 0; j < f->name_len; j++)
			CHECK(fuzz_is_tchar((unsigned char)f->name[j]));
		for (j = 0; j < f->value_len; j++)
			CHECK(f->value[j] != '\r' && f->value[j] != '\n' &&
			    f->value[j] != '\0');
		if (f->value_len > 0) {
			CHECK(f->value[0] != ' ' && f->value[0] != '\t');
			CHECK(f->value[f->value_len - 1] != ' ' &&
			    f->value[f->value_len - 1] != '\t');
		}
		CHECK(f->id == http_hdr_lookup(f->name, f->name_len) ||
		    (f->id == HTTP_H_LOOKALIKE && memchr(f->name, '_',
		    f->name_len) != NULL));
	}
}
#endif /* HTTP_PARSE_H */

#endif /* FUZZ_H */
