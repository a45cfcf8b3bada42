/*
 * body_frame.c - the end of a request body, found without I/O.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "body_frame.h"
#include "http_parse.h"

void
body_frame_init(struct body_frame *f, int chunked, uint64_t length,
    uint64_t max, size_t max_line)
{
	memset(f, 0, sizeof(*f));
	f->chunked = chunked;
	f->left = chunked ? 0 : length;
	f->max = max;
	f->state = BODY_FRAME_AGAIN;
	if (chunked)
		http_chunked_init(&f->ch, max_line);
	else if (max != 0 && length > max)
		f->state = BODY_FRAME_TOO_BIG;	/* known from the head */
}

enum body_frame_rc
body_frame_feed(struct body_frame *f, const char *in, size_t len,
    size_t *used, const char **out, size_t *out_len)
{
	enum http_chunk_rc	 rc;
	size_t			 n;

	*used = 0;
	*out = NULL;
	*out_len = 0;
	if (f->state != BODY_FRAME_AGAIN)
		return f->state;
	if (!f->chunked) {
		if (f->left == 0)
			return f->state = BODY_FRAME_DONE;
		if (len == 0)
			return BODY_FRAME_AGAIN;
		n = len < f->left ? len : (size_t)f->left;
		f->left -= n;
		f->total += n;
		*used = n;
		*out = in;
		*out_len = n;
		return BODY_FRAME_DATA;
	}
	rc = http_chunked_decode(&f->ch, in, len, used, out, out_len);
	switch (rc) {
	case HTTP_CHUNK_DATA:
		if (f->max != 0 && (uint64_t)*out_len > f->max - f->total) {
			*used = 0;
			*out = NULL;
			*out_len = 0;
			return f->state = BODY_FRAME_TOO_BIG;
		}
		f->total += *out_len;
		return BODY_FRAME_DATA;
	case HTTP_CHUNK_TRAILER:
		return BODY_FRAME_TRAILER;
	case HTTP_CHUNK_DONE:
		f->state = BODY_FRAME_DONE;
		return BODY_FRAME_DONE;
	case HTTP_CHUNK_ERROR:
		return f->state = BODY_FRAME_ERROR;
	case HTTP_CHUNK_AGAIN:
		break;
	}
	return BODY_FRAME_AGAIN;
}

enum body_frame_rc
body_frame_scan(struct body_frame *f, const char *in, size_t len,
    size_t *used)
{
	enum body_frame_rc	 rc;
	const char		*out;
	size_t			 n, olen, pos = 0;

	for (;;) {
		rc = body_frame_feed(f, in + pos, len - pos, &n, &out, &olen);
		pos += n;
		if (rc != BODY_FRAME_DATA && rc != BODY_FRAME_TRAILER)
			break;
	}
	*used = pos;
	return rc;
}
