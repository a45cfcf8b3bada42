/*
 * tail.c - framing a response tail, with no I/O: the worker (relay_tail.c)
 * and the gate (gate_tail.c) both relay through it.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "tail.h"

/* data as one chunk when the client gets it chunked, else as is */
static size_t
tail_put(const struct tail_state *ts, char *out, const char *data,
    size_t len)
{
	int	 n = 0;

	if (ts->flags & TAIL_F_RECHUNK) {
		n = snprintf(out, TAIL_FRAME_SLACK, "%zx\r\n", len);
		memcpy(out + n + len, "\r\n", 2);
	}
	memcpy(out + n, data, len);
	return (size_t)n + len + (ts->flags & TAIL_F_RECHUNK ? 2 : 0);
}

static ssize_t
tail_chunked(struct tail_state *ts, const char *in, size_t len,
    size_t *used, char *out, size_t room, uint64_t *data)
{
	const char	*p;
	size_t		 o = 0, u, plen, feed, line = 0;
	int		 rechunk = ts->flags & TAIL_F_RECHUNK;
	enum http_chunk_rc rc;

	while (*used < len && room - o > 2 * TAIL_FRAME_SLACK) {
		/* what a decode returns fits in what it was fed */
		feed = len - *used;
		if (feed > room - o - 2 * TAIL_FRAME_SLACK)
			feed = room - o - 2 * TAIL_FRAME_SLACK;
		/* a trailer line is taken whole: its bytes out are its own */
		if (line > feed)
			feed = line;
		rc = http_chunked_decode(&ts->ch, in + *used, feed, &u, &p,
		    &plen);
		if (rc == HTTP_CHUNK_AGAIN && u == 0 && feed < len - *used &&
		    line == 0) {
			/*
			 * Nothing taken: a trailer line cut by the limit (every
			 * other state takes a byte).  Once more with what room
			 * there is for the line ("0\r\n" before, CRLF after).
			 */
			line = len - *used < room - o - 8 ? len - *used :
			    room - o - 8;
			if (line > feed)
				continue;
		}
		line = 0;
		switch (rc) {
		case HTTP_CHUNK_DATA:
			o += tail_put(ts, out + o, p, plen);
			*data += plen;
			break;
		case HTTP_CHUNK_TRAILER:
			if (!rechunk)
				break;
			if (!(ts->flags & TAIL_F_LAST_SENT)) {
				memcpy(out + o, "0\r\n", 3);
				o += 3;
				ts->flags |= TAIL_F_LAST_SENT;
			}
			if (http_trailer_allowed(p, plen)) {
				memcpy(out + o, p, plen);
				o += plen;
			}
			break;
		case HTTP_CHUNK_DONE:
			*used += u;
			ts->flags |= TAIL_F_DONE;
			if (rechunk) {
				if (ts->flags & TAIL_F_LAST_SENT) {
					memcpy(out + o, "\r\n", 2);
					o += 2;
				} else {
					memcpy(out + o, "0\r\n\r\n", 5);
					o += 5;
				}
			}
			return (ssize_t)o;
		case HTTP_CHUNK_ERROR:
			return -1;
		case HTTP_CHUNK_AGAIN:
			*used += u;
			return (ssize_t)o;
		}
		*used += u;
	}
	return (ssize_t)o;
}

ssize_t
tail_frame(struct tail_state *ts, const char *in, size_t len, size_t *used,
    char *out, size_t room, uint64_t *data)
{
	size_t	 n;

	*used = 0;
	*data = 0;
	if ((ts->flags & TAIL_F_DONE) || room <= 2 * TAIL_FRAME_SLACK)
		return 0;
	switch (ts->mode) {
	case TAIL_CHUNKED:
		return tail_chunked(ts, in, len, used, out, room, data);
	case TAIL_LENGTH:
		if ((uint64_t)len > ts->left)
			len = (size_t)ts->left;
		break;
	case TAIL_CLOSE:
		break;
	default:
		return -1;
	}
	if (len > room - 2 * TAIL_FRAME_SLACK)
		len = room - 2 * TAIL_FRAME_SLACK;
	*used = *data = len;
	n = len > 0 ? tail_put(ts, out, in, len) : 0;
	if (ts->mode == TAIL_LENGTH) {
		ts->left -= *used;
		if (ts->left == 0)
			ts->flags |= TAIL_F_DONE;
	}
	return (ssize_t)n;
}

ssize_t
tail_eof(struct tail_state *ts, char *out, size_t room)
{
	if (ts->mode != TAIL_CLOSE || room < 8)
		return -1;
	ts->flags |= TAIL_F_DONE;
	if (!(ts->flags & TAIL_F_RECHUNK))
		return 0;
	memcpy(out, "0\r\n\r\n", 5);
	return 5;
}
