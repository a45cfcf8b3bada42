/*
 * relay_body.c - bodies on their way: chunked decoding and re-encoding,
 * response bodies (copied, or spliced when large and plain), and the
 * two-way tunnel after 101 Switching Protocols.
 */
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "body_frame.h"
#include "config.h"
#include "conn.h"
#include "http.h"
#include "log.h"
#include "relay_int.h"
#include "tls.h"
#include "util.h"

/*
 * Plain bodies with at least this much still to come go through a pipe
 * with splice(2): the bytes never enter the worker, which saves two
 * copies of every byte.  Smaller ones cost fewer calls the usual way.
 */
#define RELAY_SPLICE_MIN	(128 * 1024)
#define RELAY_PIPE_SIZE		(256 * 1024)
#define RELAY_CHUNK_LINE	4096	/* limit on chunk-ext/trailer lines */

/*
 * Decode a chunked body from src (its input buffer) and write it to dst,
 * re-encoded as chunked when rechunk, else raw.  Checks max (0 = none)
 * against the decoded size.  On the request side the caller's q->status
 * gets 400/408/413 for client faults.  Returns RE_OK, or the fault with
 * src_is_client telling whose it was.
 */
enum relay_err
relay_body_chunked(struct relay *r, struct relay_req *q, struct conn *src,
    struct conn *dst, int rechunk, uint64_t max, int src_timeout,
    int dst_timeout, int src_is_client)
{
	struct body_frame	 bf;
	const char		*out;
	size_t			 used, olen;
	int			 last_sent = 0;
	ssize_t			 n;

	/* the gate's spool frames bodies with the same code */
	body_frame_init(&bf, 1, 0, max, RELAY_CHUNK_LINE);
	for (;;) {
		switch (body_frame_feed(&bf, src->buf + src->start,
		    conn_pending(src), &used, &out, &olen)) {
		case BODY_FRAME_TOO_BIG:
			q->status = 413;
			return src_is_client ? RE_CLIENT : RE_ABORT;
		case BODY_FRAME_DATA:
			if ((src_is_client ? relay_put_chunk(r, dst, out, olen,
			    rechunk, dst_timeout) : relay_compress_put(r, q,
			    out, olen, rechunk, 0)) == -1)
				goto dst_fail;
			if (!src_is_client) {
				q->bytes += olen;
				relay_cache_tee(r, q, out, olen);
			}
			conn_consume(src, used);
			break;
		case BODY_FRAME_TRAILER:
			if (rechunk) {
				if (!last_sent && ((!src_is_client &&
				    relay_compress_end(r, q, 1) == -1) ||
				    relay_put(r, dst, "0\r\n", 3,
				    dst_timeout) == -1))
					goto dst_fail;
				last_sent = 1;
				if (http_trailer_allowed(out, olen) &&
				    relay_put(r, dst, out, olen,
				    dst_timeout) == -1)
					goto dst_fail;
			}
			conn_consume(src, used);
			break;
		case BODY_FRAME_DONE:
			conn_consume(src, used);
			if (!src_is_client)
				relay_cache_done(r, q, 1);
			if (!src_is_client && relay_compress_end(r, q,
			    rechunk) == -1)
				goto dst_fail;
			if (rechunk && relay_put(r, dst, last_sent ? "\r\n" :
			    "0\r\n\r\n", last_sent ? 2 : 5, dst_timeout) == -1)
				goto dst_fail;
			if (relay_flush(r, dst, dst_timeout) == -1)
				goto dst_fail;
			return RE_OK;
		case BODY_FRAME_ERROR:
			if (src_is_client)
				q->status = 400;
			log_info("client %s: malformed chunked body from the "
			    "%s", r->client_ip, src_is_client ? "client" :
			    "backend");
			return src_is_client ? RE_CLIENT : RE_ABORT;
		case BODY_FRAME_AGAIN:
			conn_consume(src, used);
			/* let the receiver have what we have while we wait */
			if ((!src_is_client && relay_compress_put(r, q, NULL, 0,
			    rechunk, 1) == -1) ||
			    relay_flush(r, dst, dst_timeout) == -1)
				goto dst_fail;
			conn_compact(src);
			n = relay_fill(src, src_timeout);
			if (n > 0 && src_is_client &&
			    relay_too_slow(r, q, (uint64_t)n)) {
				q->status = 408;
				return RE_CLIENT;
			}
			if (n <= 0) {
				/* a response's status was sent already */
				if (src_is_client)
					q->status = (n == -1 &&
					    errno == ETIMEDOUT) ? 408 : 400;
				return src_is_client ? RE_CLIENT : RE_ABORT;
			}
			break;
		}
	}
dst_fail:
	r->olen = 0;
	return src_is_client ? RE_BACKEND : RE_ABORT;
}

/* Two-way relay after 101 Switching Protocols. */
void
relay_body_tunnel(struct relay *r)
{
	struct pollfd	 pfd[2];
	struct conn	*from, *to;
	int		 i, rc;
	ssize_t		 n;

	if (conn_pending(&r->cl) > 0 && conn_write(&r->be, r->cl.buf +
	    r->cl.start, conn_pending(&r->cl), r->cf->send_timeout) == -1)
		return;
	conn_consume(&r->cl, conn_pending(&r->cl));
	if (conn_pending(&r->be) > 0 && conn_write(&r->cl, r->be.buf +
	    r->be.start, conn_pending(&r->be), r->cf->send_timeout) == -1)
		return;
	conn_consume(&r->be, conn_pending(&r->be));
	pfd[0].fd = r->cl.fd;
	pfd[1].fd = r->be.fd;
	pfd[0].events = pfd[1].events = POLLIN;
	for (;;) {
		/* TLS may hold decrypted bytes poll cannot see */
		pfd[0].revents = pfd[1].revents = 0;
		rc = 0;
		for (i = 0; i < 2; i++) {
			from = i == 0 ? &r->cl : &r->be;
			if (from->ssl != NULL && tls_pending(from->ssl) > 0) {
				pfd[i].revents = POLLIN;
				rc = 1;
			}
		}
		if (rc == 0)
			rc = poll(pfd, 2, r->cf->tunnel_timeout);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc <= 0)
			return;
		for (i = 0; i < 2; i++) {
			if (pfd[i].revents == 0)
				continue;
			from = i == 0 ? &r->cl : &r->be;
			to = i == 0 ? &r->be : &r->cl;
			if (from->ssl != NULL)
				n = conn_read(from, from->buf, from->cap,
				    r->cf->tunnel_timeout);
			else
				n = recv(from->fd, from->buf, from->cap,
				    MSG_DONTWAIT);
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0)
				return;
			if (conn_write(to, from->buf, (size_t)n,
			    r->cf->send_timeout) == -1)
				return;
		}
	}
}

void
relay_body_pipe_close(struct relay *r)
{
	if (r->pipe[0] != -1) {
		close(r->pipe[0]);
		close(r->pipe[1]);
	}
	r->pipe[0] = r->pipe[1] = -1;
}

/* Can the rest of this body (left bytes, some buffered) be spliced? */
int
relay_body_can_splice(struct relay *r, struct relay_req *q, uint64_t left)
{
	int	 sz;

	if (!r->cf->splice || r->cl.sink || r->cl.ssl != NULL ||
	    r->be.ssl != NULL || q->filling || q->zcoding ||
	    left < conn_pending(&r->be) + RELAY_SPLICE_MIN)
		return 0;
	if (r->pipe[0] != -1)
		return 1;
	if (pipe2(r->pipe, O_CLOEXEC) == -1) {
		r->pipe[0] = r->pipe[1] = -1;
		return 0;
	}
	/* a bigger pipe moves more per call; the default is fine too */
	(void)fcntl(r->pipe[1], F_SETPIPE_SZ, RELAY_PIPE_SIZE);
	if ((sz = fcntl(r->pipe[1], F_GETPIPE_SZ)) <= 0) {
		relay_body_pipe_close(r);
		return 0;
	}
	r->pipe_size = (size_t)sz;
	return 1;
}

ssize_t
relay_body_splice_in(struct relay *r, struct relay_req *q, size_t want)
{
	int64_t		 deadline, t;
	ssize_t		 n;

	deadline = util_now_ms() + q->rto;
	for (;;) {
		t = deadline - util_now_ms();
		if (t <= 0) {
			errno = ETIMEDOUT;
			n = -1;
			break;
		}
		n = conn_splice_in(&r->be, r->pipe[1], want,
		    t > 1000 ? 1000 : (int)t);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == ETIMEDOUT && !relay_client_gone(r))
			continue;
		break;
	}
	if (n <= 0) {
		log_warnx("upstream %s: %s in the middle of a response body",
		    q->upstream, n == 0 ? "closed" : errno == ETIMEDOUT ?
		    "timed out" : strerror(errno));
		relay_body_pipe_close(r);
		return -1;
	}
	return n;
}

/*
 * Splice left bytes of body from the backend to the client.  Waits for
 * the backend in one second slices like relay_fill_backend.  A failure
 * leaves bytes in the pipe, so the pipe is closed (a new one is made for
 * the next body).
 */
static enum relay_err
relay_body_splice(struct relay *r, struct relay_req *q, uint64_t left)
{
	size_t		 want;
	ssize_t		 n;

	while (left > 0) {
		want = left < r->pipe_size ? (size_t)left : r->pipe_size;
		if ((n = relay_body_splice_in(r, q, want)) == -1)
			return RE_ABORT;
		if (conn_splice_out(&r->cl, r->pipe[0], (size_t)n,
		    (uint64_t)n < left, r->cf->send_timeout) == -1) {
			relay_body_pipe_close(r);
			return RE_ABORT;
		}
		q->bytes += (uint64_t)n;
		left -= (uint64_t)n;
	}
	return RE_OK;
}

/*
 * Relay the response body of resp (head already sent) from the backend
 * to the client.  Returns RE_OK when the body was complete.
 */
enum relay_err
relay_body_response(struct relay *r, struct relay_req *q,
    const struct http_response *resp, enum http_out framing)
{
	const struct config	*cf = r->cf;
	uint64_t		 left;
	size_t			 avail;
	ssize_t			 n;
	int			 chunked = framing == HTTP_OUT_CHUNKED;

	/* a slow client's tail may go to the gate (relay_tail.c) */
	if (relay_tail_can(r, q, resp))
		return relay_tail_response(r, q, resp, framing);
	switch (resp->body) {
	case HTTP_BODY_NONE:
		return RE_OK;
	case HTTP_BODY_CHUNKED:
		return relay_body_chunked(r, q, &r->be, &r->cl, chunked, 0,
		    q->rto, cf->send_timeout, 0);
	case HTTP_BODY_LENGTH:
		left = resp->content_length;
		if (!chunked && relay_body_can_splice(r, q, left)) {
			/* what is buffered goes out with the head */
			avail = conn_pending(&r->be);
			if (relay_put(r, &r->cl, r->be.buf + r->be.start,
			    avail, cf->send_timeout) == -1 ||
			    relay_flush(r, &r->cl, cf->send_timeout) == -1)
				return RE_ABORT;
			conn_consume(&r->be, avail);
			q->bytes += avail;
			return relay_body_splice(r, q, left - avail);
		}
		while (left > 0) {
			if (conn_pending(&r->be) == 0) {
				/* the client gets what we have before we wait */
				if (relay_compress_put(r, q, NULL, 0, chunked,
				    1) == -1 ||
				    relay_flush(r, &r->cl, cf->send_timeout) == -1)
					return RE_ABORT;
				n = relay_fill_backend(r, q->rto);
				if (n <= 0) {
					log_warnx("upstream %s: %s in the "
					    "middle of a response body",
					    q->upstream, n == 0 ? "closed" :
					    "timed out");
					return RE_ABORT;
				}
			}
			avail = conn_pending(&r->be);
			if (avail > left)
				avail = (size_t)left;
			if (relay_compress_put(r, q, r->be.buf + r->be.start,
			    avail, chunked, 0) == -1)
				return RE_ABORT;
			relay_cache_tee(r, q, r->be.buf + r->be.start, avail);
			conn_consume(&r->be, avail);
			q->bytes += avail;
			left -= avail;
		}
		relay_cache_done(r, q, 1);
		/* compressed, the body is chunked or ends with the connection */
		if (relay_compress_end(r, q, chunked) == -1 || (chunked &&
		    relay_put(r, &r->cl, "0\r\n\r\n", 5,
		    cf->send_timeout) == -1))
			return RE_ABORT;
		return RE_OK;
	case HTTP_BODY_CLOSE:
		for (;;) {
			if (conn_pending(&r->be) == 0) {
				n = relay_fill_backend(r, q->rto);
				if (n == 0)
					break;
				if (n < 0)
					return RE_ABORT;
			}
			avail = conn_pending(&r->be);
			if (relay_compress_put(r, q,
			    r->be.buf + r->be.start, avail, chunked, 1) == -1 ||
			    relay_flush(r, &r->cl, cf->send_timeout) == -1)
				return RE_ABORT;
			relay_cache_tee(r, q, r->be.buf + r->be.start, avail);
			conn_consume(&r->be, avail);
			q->bytes += avail;
		}
		/* stored, and ended for the client, only if the origin ended it */
		if (!conn_eof_clean(&r->be)) {
			log_info("upstream %s: TLS closed without close_notify: "
			    "the body may be cut short", q->upstream);
			return RE_ABORT;
		}
		relay_cache_done(r, q, 1);
		if (relay_compress_end(r, q, chunked) == -1 ||
		    relay_flush(r, &r->cl, cf->send_timeout) == -1)
			return RE_ABORT;
		if (chunked && conn_write(&r->cl, "0\r\n\r\n", 5,
		    cf->send_timeout) == -1)
			return RE_ABORT;
		return RE_OK;
	}
	return RE_OK;
}
