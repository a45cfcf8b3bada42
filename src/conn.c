/*
 * conn.c - blocking socket I/O with deadlines.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "tls.h"

void
conn_init(struct conn *c, int fd, char *buf, size_t cap)
{
	c->fd = fd;
	c->ssl = NULL;
	c->rcvtimeo = -1;
	c->sndtimeo = -1;
	c->buf = buf;
	c->cap = cap;
	c->start = c->end = 0;
	c->sink = 0;
}

void
conn_close(struct conn *c)
{
	if (c->ssl != NULL)
		tls_free(c->ssl, 1);
	c->ssl = NULL;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->start = c->end = 0;
}

size_t
conn_pending(const struct conn *c)
{
	return c->end - c->start;
}

void
conn_consume(struct conn *c, size_t n)
{
	c->start += n;
	if (c->start >= c->end)
		c->start = c->end = 0;
}

void
conn_compact(struct conn *c)
{
	if (c->start == 0)
		return;
	memmove(c->buf, c->buf + c->start, c->end - c->start);
	c->end -= c->start;
	c->start = 0;
}

static int
conn_tls_write_all(struct conn *c, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = tls_write(c->ssl, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * After a failed blocking call: 1 to try again (EINTR), else 0 with a
 * timeout (SO_RCVTIMEO/SO_SNDTIMEO give EAGAIN) turned into ETIMEDOUT.
 */
static int
conn_retry(void)
{
	if (errno == EINTR)
		return 1;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		errno = ETIMEDOUT;
	return 0;
}

static int	conn_tls_writev(struct conn *, const struct iovec *, int);

static int
conn_timeo(int fd, int opt, int *cur, int ms)
{
	struct timeval	 tv;

	if (*cur == ms)
		return 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) == -1)
		return -1;
	*cur = ms;
	return 0;
}

int
conn_set_rcvtimeo(struct conn *c, int ms)
{
	return conn_timeo(c->fd, SO_RCVTIMEO, &c->rcvtimeo, ms);
}

int
conn_set_sndtimeo(struct conn *c, int ms)
{
	return conn_timeo(c->fd, SO_SNDTIMEO, &c->sndtimeo, ms);
}

ssize_t
conn_read(struct conn *c, void *dst, size_t len, int timeout_ms)
{
	ssize_t	 n;

	if (conn_set_rcvtimeo(c, timeout_ms) == -1)
		return -1;
	if (c->ssl != NULL)
		return tls_read(c->ssl, dst, len);
	n = recv(c->fd, dst, len, 0);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		errno = ETIMEDOUT;
	return n;
}

int
conn_eof_clean(const struct conn *c)
{
	return c->ssl == NULL || tls_eof_clean(c->ssl);
}

ssize_t
conn_fill(struct conn *c, int timeout_ms)
{
	ssize_t	 n;

	if (c->end == c->cap)
		conn_compact(c);
	if (c->end == c->cap) {
		errno = ENOBUFS;
		return -1;
	}
	n = conn_read(c, c->buf + c->end, c->cap - c->end, timeout_ms);
	if (n > 0)
		c->end += (size_t)n;
	return n;
}

ssize_t
conn_fill_ready(struct conn *c)
{
	ssize_t	 n;

	if (c->ssl != NULL || c->end == c->cap)
		return 0;
	n = recv(c->fd, c->buf + c->end, c->cap - c->end, MSG_DONTWAIT);
	if (n <= 0)
		return 0;	/* nothing yet, or EOF: conn_fill will tell */
	c->end += (size_t)n;
	return n;
}

/*
 * TLS has no writev: gather small pieces into records of up to 16 KiB
 * (one record each, as a plain writev would be one segment), write big
 * ones as they are.
 */
static int
conn_tls_writev(struct conn *c, const struct iovec *iov, int iovcnt)
{
	static char	 rec[16384];
	size_t		 fill = 0, off, n;
	int		 i, used = 0;

	for (i = 0; i < iovcnt; i++)
		used += iov[i].iov_len > 0;
	if (used == 1)
		/* one piece: no gathering, OpenSSL cuts the records */
		for (i = 0; i < iovcnt; i++)
			if (iov[i].iov_len > 0)
				return conn_tls_write_all(c, iov[i].iov_base,
				    iov[i].iov_len);
	for (i = 0; i < iovcnt; i++) {
		for (off = 0; off < iov[i].iov_len; off += n) {
			n = iov[i].iov_len - off;
			if (fill == 0 && n >= sizeof(rec)) {
				if (conn_tls_write_all(c, (const char *)
				    iov[i].iov_base + off, n) == -1)
					return -1;
				continue;
			}
			if (n > sizeof(rec) - fill)
				n = sizeof(rec) - fill;
			memcpy(rec + fill, (const char *)iov[i].iov_base + off,
			    n);
			fill += n;
			if (fill == sizeof(rec)) {
				if (conn_tls_write_all(c, rec, fill) == -1)
					return -1;
				fill = 0;
			}
		}
	}
	if (fill > 0 && conn_tls_write_all(c, rec, fill) == -1)
		return -1;
	return 0;
}

int
conn_writev(struct conn *c, struct iovec *iov, int iovcnt, int timeout_ms)
{
	struct msghdr	 msg;
	ssize_t		 n;

	if (c->sink)
		return 0;
	if (conn_set_sndtimeo(c, timeout_ms) == -1)
		return -1;
	if (c->ssl != NULL)
		return conn_tls_writev(c, iov, iovcnt);
	while (iovcnt > 0) {
		if (iov->iov_len == 0) {
			iov++;
			iovcnt--;
			continue;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)iovcnt;
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (n == -1) {
			if (conn_retry())
				continue;
			return -1;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int
conn_write(struct conn *c, const void *p, size_t len, int timeout_ms)
{
	struct iovec	 iov;

	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	return conn_writev(c, &iov, 1, timeout_ms);
}

/*
 * Zero-copy body relay: splice(2) moves pages from one socket into a
 * pipe and from the pipe into another socket, so a plain (not TLS) body
 * never passes through the worker's memory.
 */
ssize_t
conn_splice_in(struct conn *src, int pipe_w, size_t len, int timeout_ms)
{
	ssize_t	 n;

	if (conn_set_rcvtimeo(src, timeout_ms) == -1)
		return -1;
	n = splice(src->fd, NULL, pipe_w, NULL, len,
	    SPLICE_F_MOVE | SPLICE_F_MORE);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		errno = ETIMEDOUT;
	return n;
}

int
conn_splice_out(struct conn *dst, int pipe_r, size_t len, int more,
    int timeout_ms)
{
	ssize_t	 n;

	if (conn_set_sndtimeo(dst, timeout_ms) == -1)
		return -1;
	while (len > 0) {
		n = splice(pipe_r, NULL, dst->fd, NULL, len, SPLICE_F_MOVE |
		    (more ? SPLICE_F_MORE : 0));
		if (n == -1) {
			if (conn_retry())
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		len -= (size_t)n;
	}
	return 0;
}
