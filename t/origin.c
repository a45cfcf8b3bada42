/*
 * origin.c - a small scriptable HTTP/1.1 origin server for porter's
 * integration tests and for "make demo".
 *
 *	origin [-a ADDR] [-p PORT] [-n NAME] [-P PORTFILE]
 *
 * It binds, listens, prints the bound port on stdout (and atomically into
 * PORTFILE), then forks one child per connection.  The path of each
 * request selects a behaviour (see route()), many of them deliberately
 * broken, so that tests can make a backend misbehave on demand.
 *
 * It is written to be obviously correct rather than fast or strict: it
 * depends on nothing but libc, one process per connection keeps every
 * connection's state in plain locals, and the only shared state is two
 * counters in an anonymous shared mapping.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define IBUF_SIZE	(64 * 1024)	/* input buffer, so also the head limit */
#define MAX_FIELDS	128
#define MAX_BODY	(256ULL * 1024 * 1024)
#define MAX_COUNT	(1ULL << 30)	/* largest N in /bytes/N and friends */
#define IDLE_MS		30000
#define LINGER_MS	2000
#define PIECE		(64 * 1024)	/* largest single write of body bytes */
#define PERIOD		576		/* lcm(36, 64): the pattern repeats */

/* Lives in a MAP_SHARED mapping so every child updates the same copy. */
struct shared {
	unsigned long long	 requests;
	unsigned long long	 conns;
};

struct conn {
	int			 fd;
	unsigned long long	 serial;	/* X-Conn */
	unsigned		 reqno;		/* X-Req */
	size_t			 len;		/* bytes buffered in buf */
	char			 buf[IBUF_SIZE];
};

struct req {
	char		*raw;		/* the head exactly as received */
	size_t		 rawlen;
	char		*work;		/* NUL-split copy the pointers use */
	const char	*method;
	const char	*path;
	const char	*query;		/* "" when there is none */
	int		 version;	/* 10 or 11 */
	int		 head;		/* HEAD: headers only */
	int		 close;		/* close after this response */
	int		 ovr;		/* status= override, 0 if none */
	unsigned	 nfields;
	const char	*name[MAX_FIELDS];
	const char	*value[MAX_FIELDS];
	char		*body;
	size_t		 bodylen;
};

enum framing {
	FR_LENGTH,
	FR_CHUNKED,
	FR_CLOSE
};

static const char		*origin_name = "origin";
static struct shared		*sh;
static char			 pattern[PERIOD + PIECE];
static volatile sig_atomic_t	 got_quit, got_chld;
static pid_t			*kids;
static size_t			 nkids, kidcap;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: origin [-a addr] [-p port] [-n name] [-P portfile]\n");
	exit(2);
}

/*
 * Byte i of every generated body is pattern[i % PERIOD], so any run of up
 * to PIECE bytes starting anywhere is one contiguous slice of this array.
 */
static void
fill_pattern(void)
{
	static const char	 alnum[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	size_t			 i;

	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = i % 64 == 63 ? '\n' : alnum[i % 36];
}

static void
sleep_ms(long long ms)
{
	struct timespec	 ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Returns 1 when fd is readable (or at EOF), 0 on timeout, -1 on error. */
static int
wait_readable(int fd, int ms)
{
	struct pollfd	 pfd;
	int		 n;

	pfd.fd = fd;
	pfd.events = POLLIN;
	do
		n = poll(&pfd, 1, ms);
	while (n == -1 && errno == EINTR);
	return n;
}

/* SO_SNDTIMEO bounds each send, so a stalled reader cannot pin a child. */
static int
write_all(int fd, const void *p, size_t n)
{
	const char	*s = p;
	ssize_t		 w;

	while (n > 0) {
		w = send(fd, s, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Send pattern bytes [off, off + n) in writes of at most PIECE bytes. */
static int
send_pattern(int fd, unsigned long long off, unsigned long long n)
{
	size_t	 k;

	while (n > 0) {
		k = n > PIECE ? PIECE : (size_t)n;
		if (write_all(fd, pattern + off % PERIOD, k) == -1)
			return -1;
		off += k;
		n -= k;
	}
	return 0;
}

/*
 * Close without losing what we sent: closing with unread input makes the
 * kernel send a RST, which can destroy response bytes the peer has not
 * read yet.  So half-close first and drain for a little while.
 */
static void
linger_close(int fd)
{
	char		 junk[4096];
	long long	 end = now_ms() + LINGER_MS, left;

	shutdown(fd, SHUT_WR);
	while ((left = end - now_ms()) > 0) {
		if (wait_readable(fd, (int)left) <= 0)
			break;
		if (read(fd, junk, sizeof(junk)) <= 0)
			break;
	}
	close(fd);
}

/* Read more input.  Returns bytes read, 0 at EOF, -1 on error/idle. */
static ssize_t
fill(struct conn *c)
{
	ssize_t	 n;

	if (c->len == sizeof(c->buf) || wait_readable(c->fd, IDLE_MS) <= 0)
		return -1;
	do
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		c->len += (size_t)n;
	return n;
}

static void
consume(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Exactly n bytes into dst: buffered ones first, then straight from fd. */
static int
get_bytes(struct conn *c, char *dst, size_t n)
{
	size_t	 k = c->len < n ? c->len : n;
	ssize_t	 r;

	memcpy(dst, c->buf, k);
	consume(c, k);
	for (dst += k, n -= k; n > 0; dst += r, n -= (size_t)r) {
		if (wait_readable(c->fd, IDLE_MS) <= 0)
			return -1;
		r = read(c->fd, dst, n);
		if (r == -1 && errno == EINTR)
			r = 0;
		else if (r <= 0)
			return -1;
	}
	return 0;
}

/*
 * Consume one line; copy it without its CR LF into out (when out is not
 * NULL).  Returns its length, or -1 on EOF, error or a line too long.
 */
static ssize_t
get_line(struct conn *c, char *out, size_t outsz)
{
	char	*nl;
	size_t	 n, k;

	while ((nl = memchr(c->buf, '\n', c->len)) == NULL)
		if (fill(c) <= 0)
			return -1;
	n = (size_t)(nl - c->buf);
	k = n > 0 && c->buf[n - 1] == '\r' ? n - 1 : n;
	if (out != NULL) {
		if (k >= outsz)
			return -1;
		memcpy(out, c->buf, k);
		out[k] = '\0';
	}
	consume(c, n + 1);
	return (ssize_t)k;
}

/* Offset just past the empty line ending a head in b[0..len), or 0. */
static size_t
head_end(const char *b, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (b[i] != '\n')
			continue;
		if (i + 1 < len && b[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && b[i + 1] == '\r' && b[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/*
 * Returns 1 with r->raw and r->work set, 0 on a clean EOF between
 * requests, -1 on error or idle timeout, -2 when the head is too large.
 */
static int
read_head(struct conn *c, struct req *r)
{
	size_t	 end;
	ssize_t	 n;

	for (;;) {
		/* Empty lines before a request line are ignored (RFC 9112). */
		while (c->len > 0 && (c->buf[0] == '\r' || c->buf[0] == '\n'))
			consume(c, 1);
		if ((end = head_end(c->buf, c->len)) > 0)
			break;
		if (c->len == sizeof(c->buf))
			return -2;
		if ((n = fill(c)) == 0 && c->len == 0)
			return 0;
		if (n <= 0)
			return -1;
	}
	if ((r->raw = malloc(end + 1)) == NULL ||
	    (r->work = malloc(end + 1)) == NULL)
		return -1;
	memcpy(r->raw, c->buf, end);
	r->raw[end] = '\0';
	memcpy(r->work, c->buf, end);
	r->work[end] = '\0';
	r->rawlen = end;
	consume(c, end);
	return 1;
}

/* Cut the line at *pp, strip its CR, advance *pp past it. */
static char *
next_line(char **pp)
{
	char	*s = *pp, *nl;
	size_t	 n;

	nl = strchr(s, '\n');
	*nl = '\0';
	*pp = nl + 1;
	n = strlen(s);
	if (n > 0 && s[n - 1] == '\r')
		s[n - 1] = '\0';
	return s;
}

/* Returns 0, or the status to reject the request with. */
static int
parse_head(struct req *r)
{
	char	*p = r->work, *line, *sp, *t, *colon, *e;

	/* A NUL would cut the lines short and make next_line() run off. */
	if (strlen(r->work) != r->rawlen)
		return 400;
	line = next_line(&p);
	if ((sp = strchr(line, ' ')) == NULL || sp == line || sp - line > 32)
		return 400;
	*sp = '\0';
	for (t = line; *t != '\0'; t++)
		if (!isalnum((unsigned char)*t) && strchr("!#$%&'*+-.^_`|~",
		    *t) == NULL)
			return 400;
	r->method = line;
	t = sp + 1;
	if ((sp = strchr(t, ' ')) == NULL || sp == t)
		return 400;
	*sp++ = '\0';
	if (strcmp(sp, "HTTP/1.1") == 0)
		r->version = 11;
	else if (strcmp(sp, "HTTP/1.0") == 0)
		r->version = 10;
	else
		return 505;

	/* absolute-form: keep only the path and query. */
	if (strncasecmp(t, "http://", 7) == 0 ||
	    strncasecmp(t, "https://", 8) == 0) {
		t = strstr(t, "//") + 2;
		t += strcspn(t, "/?");
	}
	if ((sp = strchr(t, '?')) != NULL) {
		*sp = '\0';
		r->query = sp + 1;
	} else
		r->query = "";
	r->path = *t == '/' ? t : "/";

	while (*(line = next_line(&p)) != '\0') {
		if ((colon = strchr(line, ':')) == NULL || colon == line ||
		    strcspn(line, " \t") < (size_t)(colon - line))
			return 400;
		if (r->nfields == MAX_FIELDS)
			return 431;
		*colon++ = '\0';
		colon += strspn(colon, " \t");
		for (e = colon + strlen(colon); e > colon &&
		    (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		r->name[r->nfields] = line;
		r->value[r->nfields++] = colon;
	}
	r->head = strcmp(r->method, "HEAD") == 0;
	return 0;
}

static const char *
hdr(const struct req *r, const char *name)
{
	unsigned	 i;

	for (i = 0; i < r->nfields; i++)
		if (strcasecmp(r->name[i], name) == 0)
			return r->value[i];
	return NULL;
}

/* Does the comma-separated list v contain tok (case-insensitive)? */
static int
has_token(const char *v, const char *tok)
{
	size_t	 n, len = strlen(tok);

	while (*v != '\0') {
		v += strspn(v, " \t,");
		n = strcspn(v, ",");
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n == len && strncasecmp(v, tok, len) == 0)
			return 1;
		v += strcspn(v, ",");
	}
	return 0;
}

/* Like has_token, over every field called name (they may repeat). */
static int
hdr_token(const struct req *r, const char *name, const char *tok)
{
	unsigned	 i;

	for (i = 0; i < r->nfields; i++)
		if (strcasecmp(r->name[i], name) == 0 &&
		    has_token(r->value[i], tok))
			return 1;
	return 0;
}

/* Query parameter key as a decimal number, def when absent or bad. */
static unsigned long long
qnum(const struct req *r, const char *key, unsigned long long def)
{
	const char	*q = r->query;
	size_t		 klen = strlen(key);

	while (*q != '\0') {
		if (strncmp(q, key, klen) == 0 && q[klen] == '=' &&
		    isdigit((unsigned char)q[klen + 1]))
			return strtoull(q + klen + 1, NULL, 10);
		q += strcspn(q, "&");
		q += *q == '&';
	}
	return def;
}

/* A decimal count of at most MAX_COUNT; -1 if s is anything else. */
static long long
parse_count(const char *s)
{
	unsigned long long	 n = 0;

	if (*s == '\0' || strlen(s) > 10)
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		n = n * 10 + (unsigned)(*s - '0');
	}
	return n > MAX_COUNT ? -1 : (long long)n;
}

/* Returns 0, -1 on I/O error, or the status to reject the request with. */
static int
read_body(struct conn *c, struct req *r)
{
	const char		*te, *cl;
	char			 line[256], *end, *nb;
	unsigned long long	 n;
	ssize_t			 k;

	te = hdr(r, "transfer-encoding");
	cl = hdr(r, "content-length");
	if (te == NULL && cl == NULL)
		return 0;
	if (te == NULL) {
		if (!isdigit((unsigned char)*cl))
			return 400;
		n = strtoull(cl, &end, 10);
		if (*end != '\0')
			return 400;
		if (n > MAX_BODY)
			return 413;
		if ((r->body = malloc(n + 1)) == NULL)
			return 413;
		r->bodylen = n;
		return get_bytes(c, r->body, n);
	}
	if (strcasecmp(te, "chunked") != 0)
		return 501;
	if (cl != NULL)		/* RFC 9112 6.3: must close afterwards */
		r->close = 1;
	for (;;) {
		if (get_line(c, line, sizeof(line)) == -1 ||
		    !isxdigit((unsigned char)line[0]))
			return 400;
		n = strtoull(line, &end, 16);
		if (*end != '\0' && *end != ';' && *end != ' ' && *end != '\t')
			return 400;
		if (n == 0)
			break;
		if (n > MAX_BODY || r->bodylen + n > MAX_BODY)
			return 413;
		if ((nb = realloc(r->body, r->bodylen + n + 1)) == NULL)
			return 413;
		r->body = nb;
		if (get_bytes(c, r->body + r->bodylen, n) == -1)
			return -1;
		r->bodylen += n;
		if (get_line(c, line, sizeof(line)) != 0)
			return 400;
	}
	/* Trailer fields are read and thrown away. */
	while ((k = get_line(c, NULL, 0)) > 0)
		;
	return k == 0 ? 0 : 400;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

/*
 * Send a final response head.  Returns 1 when a body must follow, 0 when
 * not (HEAD, 204, 304), -1 on error.  The status= override applies here,
 * so that every route honours it.
 */
static int
send_head(struct conn *c, struct req *r, int status, const char *ctype,
    enum framing fr, unsigned long long clen, const char *extra)
{
	char	 h[2048];
	int	 n, nobody;

	if (r->ovr != 0)
		status = r->ovr;
	nobody = status == 204 || status == 304;
	if (fr == FR_CLOSE)
		r->close = 1;
	n = snprintf(h, sizeof(h), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "X-Origin: %s\r\nX-Conn: %llu\r\nX-Req: %u\r\n%s%s",
	    status, reason(status), ctype, origin_name, c->serial, c->reqno,
	    r->close ? "Connection: close\r\n" :
	    r->version == 10 ? "Connection: keep-alive\r\n" : "",
	    extra != NULL ? extra : "");
	if (!nobody && fr == FR_LENGTH)
		n += snprintf(h + n, sizeof(h) - (size_t)n,
		    "Content-Length: %llu\r\n", clen);
	else if (!nobody && fr == FR_CHUNKED)
		n += snprintf(h + n, sizeof(h) - (size_t)n,
		    "Transfer-Encoding: chunked\r\n");
	n += snprintf(h + n, sizeof(h) - (size_t)n, "\r\n");
	if (write_all(c->fd, h, (size_t)n) == -1)
		return -1;
	return nobody || r->head ? 0 : 1;
}

/* A whole response with a Content-Length body.  Returns 0 or -1. */
static int
respond(struct conn *c, struct req *r, int status, const char *ctype,
    const char *body, size_t len, const char *extra)
{
	int	 rv;

	if ((rv = send_head(c, r, status, ctype, FR_LENGTH, len, extra)) <= 0)
		return rv;
	return write_all(c->fd, body, len);
}

static int
text(struct conn *c, struct req *r, int status, const char *s)
{
	return respond(c, r, status, "text/plain", s, strlen(s), NULL);
}

static int
route_chunked(struct conn *c, struct req *r, unsigned long long n)
{
	static char		 cb[16 + PIECE + 2];
	unsigned long long	 size, off;
	size_t			 k;
	int			 rv, hl, trailer;

	size = qnum(r, "size", 4000);
	size = size < 1 ? 1 : size > PIECE ? PIECE : size;
	trailer = qnum(r, "trailer", 0) != 0;
	rv = send_head(c, r, 200, "text/plain", FR_CHUNKED, 0,
	    trailer ? "Trailer: X-Trailer\r\n" : NULL);
	if (rv <= 0)
		return rv;
	/* One write per chunk: size line, data and CRLF together. */
	for (off = 0; off < n; off += k) {
		k = n - off < size ? (size_t)(n - off) : (size_t)size;
		hl = snprintf(cb, 16, "%zx\r\n", k);
		memcpy(cb + hl, pattern + off % PERIOD, k);
		memcpy(cb + hl + k, "\r\n", 2);
		if (write_all(c->fd, cb, (size_t)hl + k + 2) == -1)
			return -1;
	}
	if (trailer)
		return write_all(c->fd, "0\r\nX-Trailer: done\r\n\r\n", 22);
	return write_all(c->fd, "0\r\n\r\n", 5);
}

static int
route_slow(struct conn *c, struct req *r, unsigned long long n)
{
	unsigned long long	 rate, piece, sent, k;
	long long		 start;
	int			 rv;

	rate = qnum(r, "rate", 1024);
	rate = rate < 1 ? 1 : rate;
	piece = rate / 10 < 1 ? 1 : rate / 10 > PIECE ? PIECE : rate / 10;
	if ((rv = send_head(c, r, 200, "text/plain", FR_LENGTH, n, NULL)) <= 0)
		return rv;
	start = now_ms();
	for (sent = 0; sent < n; sent += k) {
		k = n - sent < piece ? n - sent : piece;
		if (send_pattern(c->fd, sent, k) == -1)
			return -1;
		/* Sleep until the time by which sent + k bytes are due. */
		sleep_ms(start + (long long)((sent + k) * 1000 / rate) -
		    now_ms());
	}
	return 0;
}

/* Raw echo after a 101 until the peer closes. */
static int
route_ws(struct conn *c, struct req *r)
{
	char	 h[512];
	ssize_t	 n;
	int	 hl;

	if (r->version != 11 || !hdr_token(r, "upgrade", "websocket") ||
	    !hdr_token(r, "connection", "upgrade"))
		return text(c, r, 400, "websocket upgrade required\n");
	hl = snprintf(h, sizeof(h), "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\nX-Origin: %s\r\n"
	    "X-Conn: %llu\r\nX-Req: %u\r\n\r\n", origin_name, c->serial,
	    c->reqno);
	if (write_all(c->fd, h, (size_t)hl) == -1)
		return -1;
	/* Bytes that arrived right behind the request belong to the tunnel. */
	if (c->len > 0 && write_all(c->fd, c->buf, c->len) == -1)
		return -1;
	c->len = 0;
	while (wait_readable(c->fd, IDLE_MS) > 0) {
		if ((n = read(c->fd, c->buf, sizeof(c->buf))) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0 || write_all(c->fd, c->buf, (size_t)n) == -1)
			break;
	}
	return -1;
}

/* Read and discard until the client leaves or IDLE_MS pass; never answer. */
static int
route_hang(struct conn *c)
{
	long long	 end = now_ms() + IDLE_MS, left;

	while ((left = end - now_ms()) > 0) {
		if (wait_readable(c->fd, (int)left) <= 0)
			break;
		if (read(c->fd, c->buf, sizeof(c->buf)) <= 0)
			break;
	}
	return -1;
}

/*
 * Answer one request.  Returns 0 to keep the connection (unless r->close
 * says otherwise) or -1 to close it.
 */
static int
route(struct conn *c, struct req *r)
{
	const char	*p = r->path;
	char		 buf[512];
	long long	 n = -1;
	int		 len, code;

	if (strncmp(p, "/bytes/", 7) == 0 || strncmp(p, "/slow/", 6) == 0 ||
	    strncmp(p, "/close/", 7) == 0 || strncmp(p, "/abort/", 7) == 0 ||
	    strncmp(p, "/chunked/", 9) == 0) {
		if ((n = parse_count(strchr(p + 1, '/') + 1)) == -1)
			return text(c, r, 400, "bad count\n");
	}
	if (strcmp(p, "/") == 0) {
		len = snprintf(buf, sizeof(buf), "<!DOCTYPE html>\n"
		    "<html><head><title>porter demo</title></head><body>\n"
		    "<h1>porter demo</h1><p>served by %s</p>\n"
		    "<p>%s %s</p>\n</body></html>\n", origin_name, r->method,
		    r->path);
		return respond(c, r, 200, "text/html", buf, (size_t)len, NULL);
	} else if (strncmp(p, "/bytes/", 7) == 0) {
		if ((code = send_head(c, r, 200, "text/plain", FR_LENGTH,
		    (unsigned long long)n, NULL)) <= 0)
			return code;
		return send_pattern(c->fd, 0, (unsigned long long)n);
	} else if (strncmp(p, "/chunked/", 9) == 0) {
		return route_chunked(c, r, (unsigned long long)n);
	} else if (strncmp(p, "/close/", 7) == 0) {
		if (send_head(c, r, 200, "text/plain", FR_CLOSE, 0, NULL) == 1)
			send_pattern(c->fd, 0, (unsigned long long)n);
		return -1;
	} else if (strncmp(p, "/abort/", 7) == 0) {
		if (send_head(c, r, 200, "text/plain", FR_LENGTH,
		    (unsigned long long)n, NULL) == 1)
			send_pattern(c->fd, 0, (unsigned long long)n / 2);
		return -1;
	} else if (strcmp(p, "/echo") == 0) {
		snprintf(buf, sizeof(buf), "X-Echo-Method: %s\r\n"
		    "X-Echo-Length: %zu\r\n", r->method, r->bodylen);
		return respond(c, r, 200, "text/plain",
		    r->body != NULL ? r->body : "", r->bodylen, buf);
	} else if (strcmp(p, "/headers") == 0) {
		return respond(c, r, 200, "text/plain", r->raw, r->rawlen,
		    NULL);
	} else if (strncmp(p, "/status/", 8) == 0) {
		code = (int)parse_count(p + 8);
		if (code < 200 || code > 599)
			code = 200;
		snprintf(buf, sizeof(buf), "status %d\n", code);
		return text(c, r, code, buf);
	} else if (strcmp(p, "/continue") == 0) {
		/* 1xx responses are not for HTTP/1.0 clients (RFC 9110). */
		if (r->version == 11 && write_all(c->fd, "HTTP/1.1 103 Early "
		    "Hints\r\nLink: </x>\r\n\r\n", 40) == -1)
			return -1;
		return text(c, r, 200, "final\n");
	} else if (strcmp(p, "/hits") == 0) {
		snprintf(buf, sizeof(buf), "%llu\n",
		    __atomic_load_n(&sh->requests, __ATOMIC_SEQ_CST));
		return text(c, r, 200, buf);
	} else if (strcmp(p, "/hits/reset") == 0) {
		__atomic_store_n(&sh->requests, 0, __ATOMIC_SEQ_CST);
		return text(c, r, 200, "0\n");
	} else if (strcmp(p, "/conns") == 0) {
		snprintf(buf, sizeof(buf), "%llu\n",
		    __atomic_load_n(&sh->conns, __ATOMIC_SEQ_CST));
		return text(c, r, 200, buf);
	} else if (strcmp(p, "/quietclose") == 0) {
		text(c, r, 200, "bye\n");
		return -1;
	} else if (strcmp(p, "/ws") == 0) {
		return route_ws(c, r);
	} else if (strncmp(p, "/slow/", 6) == 0) {
		return route_slow(c, r, (unsigned long long)n);
	} else if (strcmp(p, "/badcl") == 0) {
		len = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: text/plain\r\nX-Origin: %s\r\n"
		    "X-Conn: %llu\r\nX-Req: %u\r\nContent-Length: 5\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n%s", origin_name,
		    c->serial, c->reqno,
		    r->head ? "" : "5\r\nhello\r\n0\r\n\r\n");
		write_all(c->fd, buf, (size_t)len);
		return -1;
	} else if (strcmp(p, "/hang") == 0) {
		return route_hang(c);
	}
	return text(c, r, 404, "not found\n");
}

static void
req_free(struct req *r)
{
	free(r->raw);
	free(r->work);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* The life of one connection, in a child process. */
static void __attribute__((noreturn))
serve_conn(int fd, unsigned long long serial)
{
	static struct conn	 c;
	static struct req	 r;
	struct timeval		 tv = { IDLE_MS / 1000, 0 };
	unsigned long long	 delay;
	int			 one = 1, rv, keep;

	c.fd = fd;
	c.serial = serial;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Heads and bodies go in separate writes; don't let Nagle hold one. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (keep = 1; keep; req_free(&r)) {
		if ((rv = read_head(&c, &r)) == 0 || rv == -1)
			break;
		c.reqno++;
		__atomic_add_fetch(&sh->requests, 1, __ATOMIC_SEQ_CST);
		r.close = 1;	/* until the head is known to be sound */
		r.version = 11;
		if (rv == -2) {
			text(&c, &r, 431, "request head too large\n");
			break;
		}
		if ((rv = parse_head(&r)) != 0) {
			text(&c, &r, rv, "bad request\n");
			break;
		}
		r.close = hdr_token(&r, "connection", "close") ||
		    (r.version == 10 &&
		    !hdr_token(&r, "connection", "keep-alive"));
		if (r.version == 11 && qnum(&r, "no100", 0) == 0 &&
		    hdr_token(&r, "expect", "100-continue") &&
		    write_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) == -1)
			break;
		if ((rv = read_body(&c, &r)) != 0) {
			r.close = 1;
			if (rv > 0)
				text(&c, &r, rv, "bad request body\n");
			break;
		}
		r.ovr = (int)qnum(&r, "status", 0);
		if (r.ovr < 200 || r.ovr > 599)
			r.ovr = 0;
		delay = qnum(&r, "delay", 0);
		sleep_ms(delay > 3600000 ? 3600000 : (long long)delay);
		keep = route(&c, &r) == 0 && !r.close;
	}
	req_free(&r);
	linger_close(fd);
	_exit(0);
}

static void
on_quit(int sig)
{
	got_quit = sig;
}

static void
on_chld(int sig)
{
	(void)sig;
	got_chld = 1;
}

static void
reap(void)
{
	pid_t	 pid;
	size_t	 i;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (i = 0; i < nkids; i++)
			if (kids[i] == pid) {
				kids[i] = kids[--nkids];
				break;
			}
}

static int
listen_on(const char *addr, const char *port)
{
	struct addrinfo	 hints, *res;
	char		 host[256];
	size_t		 n = strlen(addr);
	int		 fd, one = 1, e;

	/* Accept "[::1]" as well as "::1". */
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)n - 2, addr + 1);
	else
		snprintf(host, sizeof(host), "%s", addr);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0)
		errx(1, "%s: %s", addr, gai_strerror(e));
	if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
		err(1, "bind %s port %s", addr, port);
	freeaddrinfo(res);
	if (listen(fd, 511) == -1)
		err(1, "listen");
	/* Non-blocking, so a connection reset before accept() cannot hang us. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		err(1, "fcntl");
	return fd;
}

static void
report_port(int fd, const char *portfile)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			 tmp[4096];
	unsigned		 port;
	FILE			*f;
	int			 devnull;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		err(1, "getsockname");
	port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	if (portfile != NULL) {
		/* Readers never see a half-written file: write, then rename. */
		snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", portfile,
		    (long)getpid());
		if ((f = fopen(tmp, "w")) == NULL)
			err(1, "%s", tmp);
		fprintf(f, "%u\n", port);
		if (fclose(f) == EOF || rename(tmp, portfile) == -1)
			err(1, "%s", portfile);
	}
	printf("%u\n", port);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	/*
	 * Nothing else goes to stdout.  Let go of it so that a reader
	 * waiting for EOF there (as $(...) does) is not held by us.
	 */
	if ((devnull = open("/dev/null", O_WRONLY)) != -1) {
		dup2(devnull, STDOUT_FILENO);
		if (devnull != STDOUT_FILENO)
			close(devnull);
	}
}

int
main(int argc, char *argv[])
{
	struct sigaction	 sa;
	struct pollfd		 pfd;
	sigset_t		 mask, waitmask;
	const char		*addr = "127.0.0.1", *port = "0";
	const char		*portfile = NULL;
	unsigned long long	 serial;
	pid_t			 ppid = getppid(), self, pid, *nk;
	char			*end;
	size_t			 i;
	long			 lport;
	int			 ch, lfd, fd;

	/* Die with whoever started us, so a crashed harness leaks nothing. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != ppid)
		exit(0);

	while ((ch = getopt(argc, argv, "a:p:n:P:")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			lport = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || lport < 0 ||
			    lport > 65535)
				errx(2, "bad port: %s", optarg);
			port = optarg;
			break;
		case 'n':
			origin_name = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	/* The name is pasted into a header: keep it one short, clean line. */
	if (strlen(origin_name) > 200)
		errx(2, "name too long");
	for (i = 0; origin_name[i] != '\0'; i++)
		if (iscntrl((unsigned char)origin_name[i]))
			errx(2, "bad character in name");

	fill_pattern();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		err(1, "mmap");
	lfd = listen_on(addr, port);

	/*
	 * The signals stay blocked except inside ppoll(), so none can slip
	 * in between checking the flags and going to sleep.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGCHLD);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_quit;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	report_port(lfd, portfile);
	self = getpid();

	while (!got_quit) {
		pfd.fd = lfd;
		pfd.events = POLLIN;
		fd = ppoll(&pfd, 1, NULL, &waitmask);
		if (got_chld) {
			got_chld = 0;
			reap();
		}
		if (fd <= 0 || got_quit)
			continue;
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			/* Out of descriptors: back off instead of spinning. */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				sleep_ms(10);
			continue;
		}
		serial = __atomic_add_fetch(&sh->conns, 1, __ATOMIC_SEQ_CST);
		if (nkids == kidcap) {
			kidcap = kidcap ? kidcap * 2 : 64;
			if ((nk = realloc(kids, kidcap * sizeof(*kids))) ==
			    NULL)
				err(1, "realloc");
			kids = nk;
		}
		if ((pid = fork()) == 0) {
			close(lfd);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			signal(SIGCHLD, SIG_DFL);
			sigprocmask(SIG_UNBLOCK, &mask, NULL);
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() != self)
				_exit(0);
			serve_conn(fd, serial);
		}
		if (pid > 0)
			kids[nkids++] = pid;
		close(fd);
	}

	/* Take the children down with us and wait until they are gone. */
	for (i = 0; i < nkids; i++)
		kill(kids[i], SIGTERM);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	free(kids);
	return 0;
}
