/*
 * relay_spool.c - the worker's side of the gate's spool (gate_spool.c).
 *
 * With request_buffering on, a request whose body has not arrived
 * within park_after of its head goes to the gate, head and body so far
 * with it, after the route was chosen, the limits applied and a
 * 100 Continue sent where asked.  The gate reads the body at the
 * client's pace and gives the connection back, body whole, to whichever
 * worker is idle; that one sends the backend the request with a
 * Content-Length and the body from memory or from the spool file
 * (sendfile(2) to a plain backend).  A body that does arrive within the
 * grace, or a connection the gate cannot take, goes as before.
 *
 * Only plain connections move: a TLS session's state lives in this
 * process's OpenSSL.
 */
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "body_frame.h"
#include "config.h"
#include "gate.h"
#include "gate_spool.h"
#include "handoff.h"
#include "listener.h"
#include "log.h"
#include "relay.h"
#include "stats.h"
#include "util.h"

#include "relay_int.h"

#define SPOOL_SEND_MAX	(1024 * 1024)	/* bytes per sendfile(2) */

static int64_t	spool_warned;

/* Does the spool already hold so much that this body would not fit? */
static int
relay_spool_full(const struct stats_shm *st, const struct http_request *req)
{
	uint64_t	 max = atomic_load(&st->spool_max);
	uint64_t	 used = atomic_load(&st->spool_bytes);
	uint64_t	 want = req->body == HTTP_BODY_LENGTH ?
	    req->content_length : 1;

	return used >= max || want > max - used;
}

/*
 * Wait up to park_after for the rest of the body, framed as the gate
 * would frame it.  1 when it is whole in the buffer (or broken: the
 * usual path answers that), 0 when it is not and should be spooled, -1
 * when the client left.
 */
static int
relay_spool_wait(struct relay *r, struct relay_req *q)
{
	const struct config	*cf = r->cf;
	struct http_request	*req = &q->req;
	struct body_frame	 bf;
	enum body_frame_rc	 rc;
	int64_t			 until, left;
	size_t			 scanned = 0, used;
	ssize_t			 n;

	body_frame_init(&bf, req->body == HTTP_BODY_CHUNKED,
	    req->content_length, cf->client_max_body_size, 0);
	until = util_now_ms() + cf->park_after;
	for (;;) {
		rc = body_frame_scan(&bf, r->cl.buf + r->cl.start + scanned,
		    conn_pending(&r->cl) - scanned, &used);
		scanned += used;
		if (rc != BODY_FRAME_AGAIN)
			return 1;
		conn_compact(&r->cl);
		if (r->cl.end == r->cl.cap)
			return 0;	/* more than the buffer: spool it */
		if ((left = until - util_now_ms()) <= 0)
			return 0;
		n = relay_fill(&r->cl, (int)left);
		if (n == 0 || (n == -1 && errno != ETIMEDOUT))
			return -1;
		if (n == -1)
			return 0;
	}
}

/* Hand the connection, head and body so far to the gate.  0 or -1. */
static int
relay_spool_park(struct relay *r, struct relay_req *q)
{
	const struct config	*cf = r->cf;
	const struct http_request *req = &q->req;
	struct handoff		 h;
	size_t			 head = req->head_len;
	size_t			 len = head + conn_pending(&r->cl);
	int			 fd = r->cl.fd;

	/* the head lies just before the buffer (relay_pin_head) */
	conn_compact(&r->cl);
	if (r->pinned < head || len > HANDOFF_DATA_MAX)
		return -1;
	memset(&h, 0, sizeof(h));
	h.magic = HANDOFF_MAGIC;
	h.kind = HANDOFF_BODY_SPOOL;
	h.len = (uint32_t)len;
	h.nfds = 1;
	h.listener = relay_park_index(r);
	/* the worker that gets it back counts this request again */
	h.nreq = r->nreq - 1;
	h.head_start = q->t0;
	h.arg[0] = (uint64_t)head << 32 |
	    (req->body == HTTP_BODY_CHUNKED ? SPOOL_F_CHUNKED : 0);
	h.arg[1] = req->body == HTTP_BODY_LENGTH ? req->content_length : 0;
	h.arg[2] = cf->client_max_body_size;
	h.arg[3] = (uint64_t)cf->client_min_rate << 32 |
	    (uint32_t)cf->client_body_timeout;
	h.peer = r->peer_store;
	snprintf(h.listen_addr, sizeof(h.listen_addr), "%s",
	    r->lsock->addr.str);
	if (handoff_send(gate_park_fd(), &h, &fd, r->cl.buf - head,
	    MSG_DONTWAIT) == -1) {
		if (util_now_ms() - spool_warned > 10000) {
			log_warn("cannot hand a request body to the gate");
			spool_warned = util_now_ms();
		}
		return -1;
	}
	close(fd);
	r->cl.fd = -1;
	r->cl.start = r->cl.end = 0;
	return 0;
}

int
relay_spool(struct relay *r, struct relay_req *q,
    const struct route_config *rt)
{
	const struct config	*cf = r->cf;
	struct http_request	*req = &q->req;
	struct stats_shm	*st = stats_get();

	if (r->spooled) {
		/* back from the gate, whole: it goes with a length */
		req->body = HTTP_BODY_LENGTH;
		req->content_length = r->spool_len;
		q->sent_continue = 1;
		return 0;
	}
	/*
	 * The WAF read the body already (up to its body_limit) to inspect
	 * it before any byte goes on: such a request is not spooled.
	 */
	if (q->waf_mode != 0)
		return 0;
	if (req->body == HTTP_BODY_NONE || (rt != NULL ?
	    !rt->request_buffering : !cf->request_buffering) ||
	    relay_park_at(r, 1) == 0 || st == NULL ||
	    !atomic_load(&st->spool_ok) || (req->body == HTTP_BODY_LENGTH &&
	    req->content_length <= conn_pending(&r->cl)))
		return 0;
	if (relay_spool_full(st, req)) {
		/* said before 100 Continue: the body need not come */
		atomic_fetch_add(&st->spool_refused, 1);
		log_info("client %s: request body: the spool is full",
		    r->client_ip);
		snprintf(r->err_extra, sizeof(r->err_extra),
		    "Retry-After: %d\r\n", SPOOL_RETRY_AFTER);
		relay_skip_body(r, q);
		relay_error(r, q, 503);
		r->err_extra[0] = '\0';
		return 1;
	}
	if ((req->flags & HTTP_F_EXPECT_CONTINUE) && req->version == 11 &&
	    !q->sent_continue) {
		q->sent_continue = 1;
		if (conn_write(&r->cl, "HTTP/1.1 100 Continue\r\n\r\n", 25,
		    cf->send_timeout) == -1) {
			q->keepalive = 0;
			q->status = 499;
			return 1;
		}
	}
	switch (relay_spool_wait(r, q)) {
	case 1:
		return 0;
	case -1:
		/* nothing of it went anywhere: nothing goes now */
		log_info("client %s: closed while sending the request body",
		    r->client_ip);
		q->keepalive = 0;
		q->status = 400;
		return 1;
	}
	if (relay_spool_park(r, q) == -1)
		return 0;	/* the gate cannot: read it here */
	q->keepalive = 0;
	return 1;
}

void
relay_spool_resumed(struct relay *r, const struct handoff *h, int file)
{
	r->spooled = 1;
	r->spool_len = h->arg[1];
	r->spool_fd = (h->arg[0] & SPOOL_F_INLINE) ? -1 : file;
	if (r->spool_fd == -1 && file != -1)
		close(file);
}

void
relay_spool_done(struct relay *r)
{
	if (r->spool_fd != -1)
		close(r->spool_fd);
	r->spool_fd = -1;
	r->spooled = 0;
	r->spool_len = 0;
}

enum relay_err
relay_spool_send(struct relay *r, struct relay_req *q, size_t hlen,
    int *resendable)
{
	const struct pool_config *pc = &r->cf->pools[r->be_pool];
	char			 buf[16384];
	off_t			 off = 0;
	uint64_t		 left = r->spool_len;
	size_t			 want;
	ssize_t			 n;

	(void)q;
	/* the file is read from its start again for a retry */
	*resendable = 1;
	if (conn_write(&r->be, r->obuf, hlen, pc->send_timeout) == -1)
		return r->be_reused ? RE_RETRY : RE_BACKEND;
	if (r->be.ssl == NULL && conn_set_sndtimeo(&r->be,
	    pc->send_timeout) == -1)
		return RE_BACKEND;
	while (left > 0) {
		want = left < SPOOL_SEND_MAX ? (size_t)left : SPOOL_SEND_MAX;
		if (r->be.ssl == NULL) {
			n = sendfile(r->be.fd, r->spool_fd, &off, want);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				goto fail;
		} else {
			if (want > sizeof(buf))
				want = sizeof(buf);
			n = pread(r->spool_fd, buf, want, off);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0 || conn_write(&r->be, buf, (size_t)n,
			    pc->send_timeout) == -1)
				goto fail;
			off += n;
		}
		left -= (uint64_t)n;
	}
	return RE_OK;
fail:
	log_warnx("upstream %s: sending a spooled request body: %s",
	    q->upstream != NULL ? q->upstream : "?", errno == EAGAIN ?
	    "timed out" : strerror(errno));
	return RE_BACKEND;
}
