/*
 * body_frame.h - where a request body ends, without any I/O.
 *
 * Fed the bytes that follow a request head, it says which of them are
 * the body (decoded, for a chunked one), which are trailer lines, and
 * where the body ends.  The worker's body path and the gate's spool both
 * use it, so the two can never disagree about where a body ends.  A
 * chunked body is decoded by http_chunked_decode (http_parse.c).
 */
#ifndef BODY_FRAME_H
#define BODY_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "http_parse.h"

enum body_frame_rc {
	BODY_FRAME_AGAIN = 0,	/* all usable input consumed, need more */
	BODY_FRAME_DATA,	/* *out / *out_len: body bytes */
	BODY_FRAME_TRAILER,	/* *out / *out_len: one trailer line + CRLF */
	BODY_FRAME_DONE,	/* the body ended: *used bytes were its last */
	BODY_FRAME_ERROR,	/* malformed chunked framing: 400 */
	BODY_FRAME_TOO_BIG	/* more than max decoded bytes: 413 */
};

struct body_frame {
	int			 chunked;
	int			 state;		/* sticky DONE/ERROR/TOO_BIG */
	uint64_t		 left;		/* Content-Length still to come */
	uint64_t		 total;		/* decoded bytes handed out */
	uint64_t		 max;		/* 0: no limit */
	struct http_chunked	 ch;
};

/*
 * Start a body: chunked, or length bytes long.  max (0 = none) bounds
 * the decoded size; max_line the chunk extension and trailer lines
 * (0: the decoder's default).
 */
void	body_frame_init(struct body_frame *f, int chunked, uint64_t length,
	    uint64_t max, size_t max_line);
/*
 * Look at in[0..len): *used is set to the bytes taken (at most len), and
 * for DATA and TRAILER *out and *out_len to a span of in.  Call again
 * with the rest after DATA or TRAILER.  AGAIN may stop before the end of
 * the input: an incomplete trailer line is left for the caller to
 * present again, with more bytes after it.  DONE, ERROR and TOO_BIG
 * stay: later calls return them again with *used 0.
 */
enum body_frame_rc body_frame_feed(struct body_frame *f, const char *in,
	    size_t len, size_t *used, const char **out, size_t *out_len);
/*
 * body_frame_feed until it wants more or the body ended, dropping what
 * it hands out: *used is what was taken.  AGAIN, DONE, ERROR or TOO_BIG.
 */
enum body_frame_rc body_frame_scan(struct body_frame *f, const char *in,
	    size_t len, size_t *used);

#endif /* BODY_FRAME_H */
