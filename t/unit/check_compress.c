/*
 * check_compress - Accept-Encoding negotiation, the rules that leave a
 * response alone, and each encoder's output decoded back (zlib,
 * libbrotlidec, libzstd), flushed pieces included.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include "compress.h"
#include "compress_neg.h"
#include "http_parse.h"

static enum compress_coding
choose(const char *v)
{
	struct compress_accept	 a;

	compress_neg_init(&a);
	compress_neg_feed(&a, v, strlen(v));
	return compress_neg_choose(&a);
}

START_TEST(test_accept)
{
	struct compress_accept	 a;

	ck_assert_int_eq(choose("gzip, br, zstd"), COMPRESS_ZSTD);
	ck_assert_int_eq(choose("gzip,br"), COMPRESS_BR);
	ck_assert_int_eq(choose("gzip"), COMPRESS_GZIP);
	ck_assert_int_eq(choose("x-gzip"), COMPRESS_GZIP);
	ck_assert_int_eq(choose("zstd;q=0.5, br;q=0.9, gzip;q=0.1"),
	    COMPRESS_BR);
	ck_assert_int_eq(choose("zstd;q=0.5, br;q=0.500"), COMPRESS_ZSTD);
	ck_assert_int_eq(choose("*"), COMPRESS_ZSTD);
	ck_assert_int_eq(choose("*;q=0.5, zstd;q=0"), COMPRESS_BR);
	ck_assert_int_eq(choose("*;q=0"), COMPRESS_NONE);
	ck_assert_int_eq(choose("gzip;q=0"), COMPRESS_NONE);
	ck_assert_int_eq(choose("gzip;q=0.5, identity"), COMPRESS_NONE);
	ck_assert_int_eq(choose("gzip, identity;q=0.5"), COMPRESS_GZIP);
	ck_assert_int_eq(choose("identity"), COMPRESS_NONE);
	ck_assert_int_eq(choose(""), COMPRESS_NONE);
	ck_assert_int_eq(choose(" , ,gzip , "), COMPRESS_GZIP);
	/* malformed q-values drop their element, not the field */
	ck_assert_int_eq(choose("gzip;q=2, br"), COMPRESS_BR);
	ck_assert_int_eq(choose("gzip;q=1.5"), COMPRESS_NONE);
	ck_assert_int_eq(choose("gzip;q=0.0001"), COMPRESS_NONE);
	ck_assert_int_eq(choose("gzip;q="), COMPRESS_NONE);
	ck_assert_int_eq(choose("gzip;q=1.000"), COMPRESS_GZIP);
	ck_assert_int_eq(choose("gzip;q=1.001"), COMPRESS_NONE);
	ck_assert_int_eq(choose("gzip ; Q=0.3 ; level=1"), COMPRESS_GZIP);
	ck_assert_int_eq(choose("gzip\"x\""), COMPRESS_NONE);
	ck_assert_int_eq(choose("deflate, compress"), COMPRESS_NONE);
	/* named twice: the more generous q */
	ck_assert_int_eq(choose("gzip;q=0, gzip"), COMPRESS_GZIP);
	/* nothing fed: identity */
	compress_neg_init(&a);
	ck_assert_int_eq(compress_neg_choose(&a), COMPRESS_NONE);
	/* two fields make one list */
	compress_neg_feed(&a, "br;q=0.1", 8);
	compress_neg_feed(&a, "gzip;q=0.2", 10);
	ck_assert_int_eq(compress_neg_choose(&a), COMPRESS_GZIP);
	ck_assert_str_eq(compress_neg_name(COMPRESS_BR), "br");
	ck_assert_ptr_null(compress_neg_name(COMPRESS_NONE));
}
END_TEST

static struct http_field
field(const char *name, const char *value)
{
	struct http_field	 f;

	memset(&f, 0, sizeof(f));
	f.name = name;
	f.name_len = strlen(name);
	f.value = value;
	f.value_len = strlen(value);
	return f;
}

START_TEST(test_eligible)
{
	char			*types[] = { "text/html", "application/*" };
	struct compress_config	 cf = { 1, types, 2, 256, 6 };
	struct http_field	 f[3];

	f[0] = field("Content-Type", "text/HTML; charset=utf-8");
	ck_assert(compress_neg_eligible(&cf, 200, 0, 1, 1, 256, f, 1));
	ck_assert(compress_neg_eligible(&cf, 404, 0, 1, 0, 0, f, 1));
	ck_assert(!compress_neg_eligible(&cf, 200, 0, 1, 1, 255, f, 1));
	ck_assert(!compress_neg_eligible(&cf, 200, 1, 1, 1, 999, f, 1));
	ck_assert(!compress_neg_eligible(&cf, 200, 0, 0, 1, 999, f, 1));
	ck_assert(!compress_neg_eligible(&cf, 204, 0, 1, 1, 999, f, 1));
	ck_assert(!compress_neg_eligible(&cf, 206, 0, 1, 1, 999, f, 1));
	ck_assert(!compress_neg_eligible(&cf, 304, 0, 1, 1, 999, f, 1));
	ck_assert(!compress_neg_eligible(&cf, 101, 0, 1, 1, 999, f, 1));
	ck_assert(!compress_neg_eligible(NULL, 200, 0, 1, 1, 999, f, 1));
	f[1] = field("content-encoding", "gzip");
	ck_assert(!compress_neg_eligible(&cf, 200, 0, 1, 1, 999, f, 2));
	f[1] = field("Content-Range", "bytes 0-9/10");
	ck_assert(!compress_neg_eligible(&cf, 200, 0, 1, 1, 999, f, 2));
	f[1] = field("Cache-Control", "max-age=5, No-Transform");
	ck_assert(!compress_neg_eligible(&cf, 200, 0, 1, 1, 999, f, 2));
	f[1] = field("Cache-Control", "max-age=5");
	ck_assert(compress_neg_eligible(&cf, 200, 0, 1, 1, 999, f, 2));
	f[2] = field("Content-Type", "text/html");
	ck_assert(!compress_neg_eligible(&cf, 200, 0, 1, 1, 999, f, 3));
	f[0] = field("Content-Type", "application/json");
	ck_assert(compress_neg_eligible(&cf, 200, 0, 1, 1, 999, f, 1));
	f[0] = field("Content-Type", "image/png");
	ck_assert(!compress_neg_eligible(&cf, 200, 0, 1, 1, 999, f, 1));
	f[0] = field("Content-Type", "text/htmlx");
	ck_assert(!compress_neg_eligible(&cf, 200, 0, 1, 1, 999, f, 1));
	/* no type: unknown, left alone */
	ck_assert(!compress_neg_eligible(&cf, 200, 0, 1, 1, 999, f, 0));
	cf.on = 0;
	f[0] = field("Content-Type", "text/html");
	ck_assert(!compress_neg_eligible(&cf, 200, 0, 1, 1, 999, f, 1));
}
END_TEST

struct sink {
	unsigned char	*p;
	size_t		 len, cap;
	int		 fail_after;	/* calls; -1 never */
};

static int
sink_put(void *arg, const char *p, size_t len)
{
	struct sink	*s = arg;

	if (s->fail_after == 0)
		return -1;
	if (s->fail_after > 0)
		s->fail_after--;
	ck_assert_uint_le(len, 16 * 1024);
	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->p = realloc(s->p, s->cap);
		ck_assert_ptr_nonnull(s->p);
	}
	memcpy(s->p + s->len, p, len);
	s->len += len;
	return 0;
}

/* Decode in[0..len) of coding c into out (cap); returns the length. */
static size_t
decode(enum compress_coding c, const unsigned char *in, size_t len,
    unsigned char *out, size_t cap, int whole)
{
	z_stream	 z;
	size_t		 n = cap;
	ZSTD_DCtx	*d;
	ZSTD_inBuffer	 ib = { in, len, 0 };
	ZSTD_outBuffer	 ob = { out, cap, 0 };
	BrotliDecoderState *b;
	const uint8_t	*nin = in;
	uint8_t		*nout = out;
	size_t		 ain = len, aout = cap;
	BrotliDecoderResult br;
	int		 rc;

	switch (c) {
	case COMPRESS_GZIP:
		memset(&z, 0, sizeof(z));
		ck_assert_int_eq(inflateInit2(&z, 16 + 15), Z_OK);
		z.next_in = (Bytef *)(uintptr_t)in;
		z.avail_in = (uInt)len;
		z.next_out = out;
		z.avail_out = (uInt)cap;
		rc = inflate(&z, Z_SYNC_FLUSH);
		ck_assert(whole ? rc == Z_STREAM_END : rc == Z_OK);
		n = cap - z.avail_out;
		inflateEnd(&z);
		return n;
	case COMPRESS_ZSTD:
		d = ZSTD_createDCtx();
		n = ZSTD_decompressStream(d, &ob, &ib);
		ck_assert(!ZSTD_isError(n));
		ck_assert(!whole || n == 0);
		ZSTD_freeDCtx(d);
		return ob.pos;
	case COMPRESS_BR:
		b = BrotliDecoderCreateInstance(NULL, NULL, NULL);
		br = BrotliDecoderDecompressStream(b, &ain, &nin, &aout, &nout,
		    NULL);
		ck_assert(whole ? br == BROTLI_DECODER_RESULT_SUCCESS :
		    br == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT);
		BrotliDecoderDestroyInstance(b);
		return cap - aout;
	default:
		ck_abort();
	}
	return 0;
}

START_TEST(test_roundtrip)
{
	static const enum compress_coding cs[] = {
		COMPRESS_GZIP, COMPRESS_BR, COMPRESS_ZSTD
	};
	static const size_t sizes[] = { 0, 1, 1000, 300000 };
	struct compress	*z = compress_new();
	struct sink	 s;
	unsigned char	*in, *out;
	size_t		 i, j, k, n, off, piece;
	char		 err[128];
	int		 level;

	ck_assert_ptr_nonnull(z);
	in = malloc(300000);
	out = malloc(300000 + 1);
	for (i = 0; i < 300000; i++)
		in[i] = (unsigned char)("<p>porter compresses</p>\n"[i % 25] ^
		    (i % 977 == 0 ? (i & 7) : 0));
	for (level = 1; level <= 9; level += 4)
	for (i = 0; i < 3; i++)
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			memset(&s, 0, sizeof(s));
			s.fail_after = -1;
			ck_assert_int_eq(compress_start(z, cs[i], level, err,
			    sizeof(err)), 0);
			/* pieces of 7000 with a flush after every third */
			for (off = 0, k = 0; off < sizes[j]; off += piece, k++) {
				piece = sizes[j] - off < 7000 ?
				    sizes[j] - off : 7000;
				ck_assert_int_eq(compress_write(z,
				    (char *)in + off, piece, k % 3 == 2 ?
				    COMPRESS_FLUSH : COMPRESS_RUN, sink_put,
				    &s, err, sizeof(err)), 0);
			}
			if (sizes[j] > 0) {
				/* flushed: all so far decodes */
				ck_assert_int_eq(compress_write(z, NULL, 0,
				    COMPRESS_FLUSH, sink_put, &s, err,
				    sizeof(err)), 0);
				n = decode(cs[i], s.p, s.len, out, 300001, 0);
				ck_assert_uint_eq(n, sizes[j]);
				ck_assert(memcmp(out, in, n) == 0);
			}
			ck_assert_int_eq(compress_write(z, NULL, 0,
			    COMPRESS_FINISH, sink_put, &s, err, sizeof(err)), 0);
			n = decode(cs[i], s.p, s.len, out, 300001, 1);
			ck_assert_uint_eq(n, sizes[j]);
			ck_assert(n == 0 || memcmp(out, in, n) == 0);
			if (sizes[j] == 300000)
				ck_assert_uint_lt(s.len, 300000 / 10);
			free(s.p);
		}
	/* a sink that fails stops the stream until the next start */
	memset(&s, 0, sizeof(s));
	s.fail_after = 0;
	ck_assert_int_eq(compress_start(z, COMPRESS_GZIP, 6, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(compress_write(z, (char *)in, 1000, COMPRESS_FINISH,
	    sink_put, &s, err, sizeof(err)), -1);
	ck_assert_int_eq(compress_write(z, (char *)in, 10, COMPRESS_RUN,
	    sink_put, &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "stream not started");
	ck_assert_int_eq(compress_start(z, COMPRESS_NONE, 6, err,
	    sizeof(err)), -1);
	compress_free(z);
	free(in);
	free(out);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("compress");
	TCase	*tc = tcase_create("compress");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_accept);
	tcase_add_test(tc, test_eligible);
	tcase_add_test(tc, test_roundtrip);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
