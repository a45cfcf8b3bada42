/*
 * compress.c - the streaming encoders behind one interface: zlib (gzip
 * framing), libbrotlienc and libzstd.  Output goes through a fixed 16 KiB
 * buffer to the caller's sink, so a response of any size needs no more
 * memory than the encoder's own state, which is bounded by the window
 * sizes chosen here.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include "compress.h"

#define COMPRESS_OUT	(16 * 1024)
/* windows: 32 KiB for gzip (its own), 256 KiB for br, 512 KiB for zstd */
#define COMPRESS_BR_LGWIN	18
#define COMPRESS_ZSTD_WLOG	19
/*
 * brotli's blocks kept for the next stream: it has no reset, and a new
 * instance's megabyte of tables, freshly mapped by malloc and given back
 * at each free, cost several times the compression itself in page
 * faults (64 KiB of HTML at quality 4: 2.9 ms, against 0.45 ms with its
 * blocks reused).  At most this much is kept.
 */
#define COMPRESS_BR_SLOTS	32
#define COMPRESS_BR_KEEP	(4 * 1024 * 1024)

struct compress_block {
	void		*p;		/* the malloc'ed block, header first */
	size_t		 size;		/* usable bytes after the header */
};
/* before each block brotli gets: its usable size, kept aligned */
#define COMPRESS_HDR	16

struct compress {
	enum compress_coding	 coding;
	int			 broken;
	/* zlib: made once, reset per stream; remade when the level moves */
	z_stream		 z;
	int			 z_init;
	int			 z_level;
	/* brotli has no reset: one instance per stream, its blocks kept */
	BrotliEncoderState	*br;
	struct compress_block	 keep[COMPRESS_BR_SLOTS];
	size_t			 nkeep, kept;
	ZSTD_CCtx		*zs;
	unsigned char		 out[COMPRESS_OUT];
};

/*
 * Levels of about the same cost as gzip's 1..9, measured on 64 KiB of
 * HTML (at 6: gzip 0.98 ms, brotli 5 0.96 ms, zstd 7 0.72 ms, each
 * smaller than gzip's): brotli's 0..11 are slower step for step, zstd's
 * faster.
 */
static const int compress_br_level[10] = { 1, 1, 2, 2, 3, 4, 5, 5, 6, 6 };
static const int compress_zstd_level[10] = { 1, 1, 2, 3, 4, 6, 7, 9, 10,
	12 };

/* brotli's allocator: a kept block of about the size, or a new one. */
static void *
compress_br_alloc(void *opaque, size_t n)
{
	struct compress	*c = opaque;
	size_t		 i, best = COMPRESS_BR_SLOTS;
	char		*p;

	for (i = 0; i < c->nkeep; i++)
		if (c->keep[i].size >= n && c->keep[i].size - n <= n / 4 &&
		    (best == COMPRESS_BR_SLOTS ||
		    c->keep[i].size < c->keep[best].size))
			best = i;
	if (best != COMPRESS_BR_SLOTS) {
		p = c->keep[best].p;
		c->kept -= c->keep[best].size;
		c->keep[best] = c->keep[--c->nkeep];
		return p + COMPRESS_HDR;
	}
	if (n > SIZE_MAX - COMPRESS_HDR ||
	    (p = malloc(n + COMPRESS_HDR)) == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + COMPRESS_HDR;
}

static void
compress_br_free(void *opaque, void *q)
{
	struct compress	*c = opaque;
	char		*p;
	size_t		 n;

	if (q == NULL)
		return;
	p = (char *)q - COMPRESS_HDR;
	memcpy(&n, p, sizeof(n));
	if (c->nkeep == COMPRESS_BR_SLOTS || c->kept + n > COMPRESS_BR_KEEP) {
		free(p);
		return;
	}
	c->keep[c->nkeep].p = p;
	c->keep[c->nkeep++].size = n;
	c->kept += n;
}

struct compress *
compress_new(void)
{
	struct compress	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	return c;
}

void
compress_free(struct compress *c)
{
	if (c == NULL)
		return;
	if (c->z_init)
		deflateEnd(&c->z);
	if (c->br != NULL)
		BrotliEncoderDestroyInstance(c->br);
	while (c->nkeep > 0)
		free(c->keep[--c->nkeep].p);
	if (c->zs != NULL)
		ZSTD_freeCCtx(c->zs);
	free(c);
}

int
compress_start(struct compress *c, enum compress_coding coding, int level,
    char *err, size_t errlen)
{
	size_t	 r;

	if (level < 1)
		level = 1;
	if (level > 9)
		level = 9;
	c->coding = coding;
	c->broken = 1;
	if (c->br != NULL) {
		BrotliEncoderDestroyInstance(c->br);
		c->br = NULL;
	}
	switch (coding) {
	case COMPRESS_GZIP:
		if (c->z_init && c->z_level != level) {
			deflateEnd(&c->z);
			c->z_init = 0;
		}
		if (c->z_init) {
			if (deflateReset(&c->z) != Z_OK) {
				snprintf(err, errlen, "deflateReset failed");
				return -1;
			}
			break;
		}
		memset(&c->z, 0, sizeof(c->z));
		/* windowBits 15 + 16: the gzip wrapper; memLevel 8: zlib's */
		if (deflateInit2(&c->z, level, Z_DEFLATED, 15 + 16, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK) {
			snprintf(err, errlen, "deflateInit2 failed");
			return -1;
		}
		c->z_init = 1;
		c->z_level = level;
		break;
	case COMPRESS_BR:
		if ((c->br = BrotliEncoderCreateInstance(compress_br_alloc,
		    compress_br_free, c)) ==
		    NULL || !BrotliEncoderSetParameter(c->br,
		    BROTLI_PARAM_QUALITY, (uint32_t)compress_br_level[level]) ||
		    !BrotliEncoderSetParameter(c->br, BROTLI_PARAM_LGWIN,
		    COMPRESS_BR_LGWIN) || !BrotliEncoderSetParameter(c->br,
		    BROTLI_PARAM_MODE, BROTLI_MODE_TEXT)) {
			snprintf(err, errlen, "brotli encoder setup failed");
			return -1;
		}
		break;
	case COMPRESS_ZSTD:
		if (c->zs == NULL && (c->zs = ZSTD_createCCtx()) == NULL) {
			snprintf(err, errlen, "ZSTD_createCCtx failed");
			return -1;
		}
		r = ZSTD_CCtx_reset(c->zs, ZSTD_reset_session_and_parameters);
		if (!ZSTD_isError(r))
			r = ZSTD_CCtx_setParameter(c->zs,
			    ZSTD_c_compressionLevel,
			    compress_zstd_level[level]);
		if (!ZSTD_isError(r))
			r = ZSTD_CCtx_setParameter(c->zs, ZSTD_c_windowLog,
			    COMPRESS_ZSTD_WLOG);
		if (!ZSTD_isError(r))
			r = ZSTD_CCtx_setParameter(c->zs, ZSTD_c_checksumFlag,
			    1);
		if (ZSTD_isError(r)) {
			snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(r));
			return -1;
		}
		break;
	default:
		snprintf(err, errlen, "no such coding");
		return -1;
	}
	c->broken = 0;
	return 0;
}

static int
compress_gzip(struct compress *c, const char *in, size_t len,
    enum compress_op op, compress_sink sink, void *arg, char *err,
    size_t errlen)
{
	int	 flush, rc;
	size_t	 n;

	flush = op == COMPRESS_FINISH ? Z_FINISH : op == COMPRESS_FLUSH ?
	    Z_SYNC_FLUSH : Z_NO_FLUSH;
	c->z.next_in = (Bytef *)(uintptr_t)in;
	c->z.avail_in = (uInt)len;
	for (;;) {
		c->z.next_out = c->out;
		c->z.avail_out = sizeof(c->out);
		rc = deflate(&c->z, flush);
		if (rc == Z_STREAM_ERROR) {
			snprintf(err, errlen, "deflate: stream error");
			return -1;
		}
		n = sizeof(c->out) - c->z.avail_out;
		if (n > 0 && sink(arg, (const char *)c->out, n) == -1)
			return -1;
		if (rc == Z_STREAM_END)
			return 0;
		/* more is to come out only while the buffer was filled */
		if (c->z.avail_in == 0 && c->z.avail_out != 0 &&
		    flush != Z_FINISH)
			return 0;
		if (rc == Z_BUF_ERROR && n == 0) {
			snprintf(err, errlen, "deflate: no progress");
			return -1;
		}
	}
}

static int
compress_br(struct compress *c, const char *in, size_t len,
    enum compress_op op, compress_sink sink, void *arg, char *err,
    size_t errlen)
{
	BrotliEncoderOperation	 bop;
	const uint8_t		*next_in = (const uint8_t *)in;
	uint8_t			*next_out;
	size_t			 avail_in = len, avail_out, n;

	bop = op == COMPRESS_FINISH ? BROTLI_OPERATION_FINISH :
	    op == COMPRESS_FLUSH ? BROTLI_OPERATION_FLUSH :
	    BROTLI_OPERATION_PROCESS;
	for (;;) {
		next_out = c->out;
		avail_out = sizeof(c->out);
		if (!BrotliEncoderCompressStream(c->br, bop, &avail_in,
		    &next_in, &avail_out, &next_out, NULL)) {
			snprintf(err, errlen, "brotli: encoder failed");
			return -1;
		}
		n = sizeof(c->out) - avail_out;
		if (n > 0 && sink(arg, (const char *)c->out, n) == -1)
			return -1;
		if (avail_in == 0 && !BrotliEncoderHasMoreOutput(c->br) &&
		    (bop != BROTLI_OPERATION_FINISH ||
		    BrotliEncoderIsFinished(c->br)))
			return 0;
	}
}

static int
compress_zstd(struct compress *c, const char *in, size_t len,
    enum compress_op op, compress_sink sink, void *arg, char *err,
    size_t errlen)
{
	ZSTD_EndDirective	 zop;
	ZSTD_inBuffer		 ib = { in, len, 0 };
	ZSTD_outBuffer		 ob;
	size_t			 left;

	zop = op == COMPRESS_FINISH ? ZSTD_e_end : op == COMPRESS_FLUSH ?
	    ZSTD_e_flush : ZSTD_e_continue;
	for (;;) {
		ob.dst = c->out;
		ob.size = sizeof(c->out);
		ob.pos = 0;
		left = ZSTD_compressStream2(c->zs, &ob, &ib, zop);
		if (ZSTD_isError(left)) {
			snprintf(err, errlen, "zstd: %s",
			    ZSTD_getErrorName(left));
			return -1;
		}
		if (ob.pos > 0 && sink(arg, (const char *)c->out, ob.pos) ==
		    -1)
			return -1;
		/* continue: done when the input is taken; else when 0 left */
		if (zop == ZSTD_e_continue ? ib.pos == ib.size : left == 0)
			return 0;
	}
}

int
compress_write(struct compress *c, const char *in, size_t len,
    enum compress_op op, compress_sink sink, void *arg, char *err,
    size_t errlen)
{
	int	 rc;

	if (c->broken) {
		snprintf(err, errlen, "stream not started");
		return -1;
	}
	if (c->coding == COMPRESS_GZIP && len > UINT32_MAX) {
		snprintf(err, errlen, "piece too large");
		rc = -1;
	} else if (c->coding == COMPRESS_GZIP)
		rc = compress_gzip(c, in, len, op, sink, arg, err, errlen);
	else if (c->coding == COMPRESS_BR)
		rc = compress_br(c, in, len, op, sink, arg, err, errlen);
	else if (c->coding == COMPRESS_ZSTD)
		rc = compress_zstd(c, in, len, op, sink, arg, err, errlen);
	else {
		snprintf(err, errlen, "no such coding");
		rc = -1;
	}
	if (rc == -1)
		c->broken = 1;
	return rc;
}
