/*
 * tail.h - a response tail on its way to a slow client: the state a
 * worker hands to the gate with HANDOFF_TAIL_RELAY, and the I/O-free
 * framing both of them relay it with, so that the two can never disagree
 * about where a body ends.
 *
 * The record's bytes are a struct tail_state, then out_len bytes ready
 * for the client (framed already), then raw_len bytes read from the
 * backend and not yet framed, then client_len bytes the client sent
 * after its request (a pipelined next request).  Descriptors: [0] the
 * client, [1] the backend (none for a stored object: the gate writes
 * the rest from the shared cache, holding a reference in its own slot).
 */
#ifndef TAIL_H
#define TAIL_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "http_parse.h"

enum tail_mode {
	TAIL_LENGTH = 1,	/* Content-Length: left bytes to come */
	TAIL_CHUNKED,		/* chunked from the backend */
	TAIL_CLOSE,		/* ends when the backend closes */
	TAIL_STORE		/* a stored object: left bytes from off */
};

#define TAIL_F_RECHUNK		0x0001	/* the client gets it chunked */
#define TAIL_F_KEEPALIVE	0x0002	/* the connection stays after */
#define TAIL_F_LAST_SENT	0x0004	/* "0\r\n" went before trailers */
#define TAIL_F_DONE		0x0008	/* the body is whole */

struct tail_state {
	uint32_t		 mode;		/* enum tail_mode */
	uint32_t		 flags;		/* TAIL_F_* */
	uint64_t		 left;		/* TAIL_LENGTH: body bytes to come,
						   the raw ones included */
	uint32_t		 send_timeout;	/* ms without progress: give up */
	uint32_t		 read_timeout;	/* the backend's, likewise */
	uint32_t		 keepalive_timeout;	/* ms idle after it */
	uint32_t		 out_len;	/* the bytes that follow */
	uint32_t		 raw_len;
	uint32_t		 client_len;
	struct http_chunked	 ch;		/* TAIL_CHUNKED's decoder */
	uint64_t		 store_off;	/* TAIL_STORE: the next byte */
	uint32_t		 store_idx;	/* the object */
	uint32_t		 store_slot;	/* the gate's reference to it */
};

/* The largest record the gate reads (its GATE_RECV_MAX). */
#define TAIL_RECORD_MAX		(1024 * 1024)

/* The most a frame adds to the data it carries ("%zx\r\n" ... "\r\n"). */
#define TAIL_FRAME_SLACK	32

/*
 * Frame backend bytes in[0..len) for the client into out[0..room):
 * sets *used to the bytes of in taken and *data to the body bytes among
 * them, and returns the bytes written to out; TAIL_F_DONE is set when
 * the body ended (bytes past its end are left unused).  Stops early when
 * out is nearly full or a trailer line is not whole in in; a call that
 * uses nothing needs more input (or more room).  -1: the backend's
 * chunked framing is malformed.
 */
ssize_t	tail_frame(struct tail_state *, const char *in, size_t len,
	    size_t *used, char *out, size_t room, uint64_t *data);
/*
 * The backend closed: what ends the body for the client (room >= 8) is
 * written to out and its length returned (TAIL_F_DONE set), or -1 when
 * the body was cut short.
 */
ssize_t	tail_eof(struct tail_state *, char *out, size_t room);

#endif /* TAIL_H */
