/*
 * compress.h - one streaming encoder (gzip, br or zstd) at a time, with
 * bounded memory: a worker keeps one and starts it again per response.
 */
#ifndef COMPRESS_H
#define COMPRESS_H

#include <stddef.h>

#include "compress_neg.h"

struct compress;

/* How far compress_write takes what it was given. */
enum compress_op {
	COMPRESS_RUN = 0,	/* keep what the coding wants to keep */
	COMPRESS_FLUSH,		/* everything so far decodable */
	COMPRESS_FINISH		/* the end of the stream */
};

/*
 * Where compressed bytes go: returns 0, or -1 to stop (compress_write
 * then returns -1 with errno as the sink left it).
 */
typedef int (*compress_sink)(void *arg, const char *p, size_t len);

/* A worker's encoder; NULL when out of memory.  Free with compress_free. */
struct compress	*compress_new(void);
void		 compress_free(struct compress *);
/*
 * Start a stream of coding c at level (gzip's 1..9; br and zstd get
 * levels of about the same cost).  -1 with err filled on failure.
 */
int	compress_start(struct compress *, enum compress_coding c, int level,
	    char *err, size_t errlen);
/*
 * Compress in[0..len) and pass what comes out to sink, in pieces of at
 * most 16 KiB.  -1 on a library error (err filled) or when sink failed;
 * the stream is then unusable until the next compress_start.
 */
int	compress_write(struct compress *, const char *in, size_t len,
	    enum compress_op op, compress_sink sink, void *arg, char *err,
	    size_t errlen);

#endif /* COMPRESS_H */
