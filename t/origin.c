/*
 * origin.c - a small scriptable HTTP/1.1 origin server for porter's
 * integration tests and for "make demo".
 *
 *	origin [-a addr] [-p port] [-n name] [-P portfile]
 *
 * It prints the bound port on stdout (and atomically into portfile), then
 * forks one child per connection.  The request path picks a behaviour,
 * several of them deliberately broken (see route()), so that a test can
 * make its backend misbehave on demand.  One process per connection keeps
 * all state in plain locals; the only shared state is two counters in an
 * anonymous shared mapping.  Plain libc, so it builds wherever porter does.
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

#define USAGE	"usage: origin [-a addr] [-D ms] [-H status] [-p port] [-n name] " \
	"[-P portfile] [-S status]"
#define IBUF_SIZE	(64 * 1024)	/* input buffer, hence the head limit */
#define MAX_FIELDS	128
#define MAX_BODY	(256ULL << 20)
#define MAX_COUNT	(1ULL << 30)	/* largest N in /bytes/N and friends */
#define IDLE_MS		30000
#define LINGER_MS	2000
#define PIECE		(64 * 1024)	/* largest single write of body bytes */
#define PERIOD		576		/* lcm(36, 64): the pattern's period */

struct shared {				/* MAP_SHARED: one copy for all */
	unsigned long long	 requests, conns;
	long long		 inflight, maxinflight;	/* concurrency */
};

struct conn {
	int			 fd;
	unsigned		 reqno;		/* X-Req */
	unsigned long long	 serial;	/* X-Conn */
	size_t			 len;		/* bytes buffered in buf */
	char			 buf[IBUF_SIZE];
};

struct req {
	char		*raw, *work;	/* head as received; NUL-split copy */
	size_t		 rawlen;
	const char	*method, *path, *query;	/* in work; query may be "" */
	int		 version;	/* 10 or 11 */
	int		 head;		/* HEAD: headers only */
	int		 close;		/* close after this response */
	int		 ovr;		/* status= override, 0 if none */
	unsigned	 nfields;
	const char	*name[MAX_FIELDS], *value[MAX_FIELDS];
	char		*body;
	size_t		 bodylen;
	char		 xh[1024];	/* fields asked for in the query */
};

enum framing { FR_LENGTH, FR_CHUNKED, FR_CLOSE };

static const char		*origin_name = "origin";
static struct shared		*sh;
static unsigned long long	 base_delay;	/* -D: ms before each answer */
static int			 health_status = 200;	/* -H: of /health */
static int			 fail_status;	/* -S: of every answer */
static char			 pattern[PERIOD + PIECE];
static volatile sig_atomic_t	 got_quit, got_chld;
static pid_t			*kids;
static size_t			 nkids, kidcap;

static void
sleep_ms(long long ms)
{
	struct timespec	 ts = { ms / 1000, ms % 1000 * 1000000 };

	while (ms > 0 && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when fd is readable (or at EOF), 0 after ms, -1 on error. */
static int
wait_readable(int fd, int ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	int		 n;

	while ((n = poll(&pfd, 1, ms)) == -1 && errno == EINTR)
		;
	return n;
}

/* SO_SNDTIMEO bounds each send, so a stalled reader cannot pin a child. */
static int
write_all(int fd, const void *p, size_t n)
{
	const char	*s = p;
	ssize_t		 w;

	while (n > 0) {
		if ((w = send(fd, s, n, MSG_NOSIGNAL)) == -1 && errno != EINTR)
			return -1;
		if (w > 0) {
			s += w;
			n -= (size_t)w;
		}
	}
	return 0;
}

/*
 * Byte i of every generated body is pattern[i % PERIOD], so a run of up
 * to PIECE bytes starting anywhere is one contiguous slice of pattern.
 */
static int
send_pattern(int fd, unsigned long long off, unsigned long long n)
{
	size_t	 k;

	for (; n > 0; off += k, n -= k) {
		k = n > PIECE ? PIECE : (size_t)n;
		if (write_all(fd, pattern + off % PERIOD, k) == -1)
			return -1;
	}
	return 0;
}

/*
 * Closing with unread input makes the kernel send a RST, which can destroy
 * response bytes the peer has not read yet.  So half-close and drain for a
 * little while first.
 */
static void
linger_close(int fd)
{
	char		 junk[4096];
	long long	 end = now_ms() + LINGER_MS, left;

	shutdown(fd, SHUT_WR);
	while ((left = end - now_ms()) > 0 && wait_readable(fd, (int)left) > 0)
		if (read(fd, junk, sizeof(junk)) <= 0)
			break;
	close(fd);
}

/* Read more input: bytes read, 0 at EOF, -1 on error, idle or full. */
static ssize_t
fill(struct conn *c)
{
	ssize_t	 n;

	if (c->len == sizeof(c->buf) || wait_readable(c->fd, IDLE_MS) <= 0)
		return -1;
	while ((n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len)) ==
	    -1 && errno == EINTR)
		;
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

static int
get_bytes(struct conn *c, char *dst, size_t n)
{
	size_t	 k;

	for (; n > 0; dst += k, n -= k) {
		if (c->len == 0 && fill(c) <= 0)
			return -1;
		k = c->len < n ? c->len : n;
		memcpy(dst, c->buf, k);
		consume(c, k);
	}
	return 0;
}

/*
 * Consume one line and copy it without its CR LF into out, unless out is
 * NULL.  Returns its length, or -1 on EOF, error or a line too long.
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

/*
 * Returns 1 with r->raw and r->work set, 0 on a clean EOF between
 * requests, -1 on error or idle timeout, -2 when the head is too large.
 */
static int
read_head(struct conn *c, struct req *r)
{
	char	*e;
	size_t	 end;
	ssize_t	 n;

	for (;;) {
		/* Empty lines before a request line are ignored (RFC 9112). */
		while (c->len > 0 && (c->buf[0] == '\r' || c->buf[0] == '\n'))
			consume(c, 1);
		if ((e = memmem(c->buf, c->len, "\r\n\r\n", 4)) != NULL)
			break;
		if (c->len == sizeof(c->buf))
			return -2;
		if ((n = fill(c)) <= 0)
			return n == 0 && c->len == 0 ? 0 : -1;
	}
	end = (size_t)(e - c->buf) + 4;
	if ((r->raw = malloc(2 * end + 2)) == NULL)
		return -1;
	r->work = r->raw + end + 1;
	memcpy(r->raw, c->buf, end);
	memcpy(r->work, c->buf, end);
	r->raw[end] = r->work[end] = '\0';
	r->rawlen = end;
	consume(c, end);
	return 1;
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

/* Does any field called name list tok (comma-separated, any case)? */
static int
hdr_token(const struct req *r, const char *name, const char *tok)
{
	const char	*v;
	size_t		 n, len = strlen(tok);
	unsigned	 i;

	for (i = 0; i < r->nfields; i++) {
		if (strcasecmp(r->name[i], name) != 0)
			continue;
		for (v = r->value[i]; *(v += strspn(v, " \t,")) != '\0';
		    v += strcspn(v, ",")) {
			for (n = strcspn(v, ","); n > 0 &&
			    (v[n - 1] == ' ' || v[n - 1] == '\t'); n--)
				;
			if (n == len && strncasecmp(v, tok, len) == 0)
				return 1;
		}
	}
	return 0;
}

/* Query parameter key as a decimal number; def when absent or bad. */
static unsigned long long
qnum(const struct req *r, const char *key, unsigned long long def)
{
	const char	*q;
	size_t		 klen = strlen(key);

	for (q = r->query; *q != '\0'; q += strcspn(q, "&"), q += *q == '&')
		if (strncmp(q, key, klen) == 0 && q[klen] == '=' &&
		    isdigit((unsigned char)q[klen + 1]))
			return strtoull(q + klen + 1, NULL, 10);
	return def;
}

/*
 * Query parameter key, %-decoded ('+' is a space), into out; 0 when
 * absent.
 */
static int
qstr(const struct req *r, const char *key, char *out, size_t outsz)
{
	const char	*q, *v;
	size_t		 klen = strlen(key), n = 0;
	unsigned	 x;

	for (q = r->query; *q != '\0'; q += strcspn(q, "&"), q += *q == '&') {
		if (strncmp(q, key, klen) != 0 || q[klen] != '=')
			continue;
		for (v = q + klen + 1; *v != '\0' && *v != '&' &&
		    n + 1 < outsz; v++) {
			if (*v == '%' && isxdigit((unsigned char)v[1]) &&
			    isxdigit((unsigned char)v[2]) &&
			    sscanf(v + 1, "%2x", &x) == 1) {
				out[n++] = (char)x;
				v += 2;
			} else
				out[n++] = *v == '+' ? ' ' : *v;
		}
		out[n] = '\0';
		return 1;
	}
	return 0;
}

static void
http_date(time_t t, char *buf, size_t len)
{
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/*
 * Caching fields from the query: cc= (Cache-Control), etag=, lm= (seconds
 * ago for Last-Modified), exp= (seconds from now for Expires), vary=,
 * date= (seconds ago for Date), age=, cookie=1 (a Set-Cookie).  Returns 1
 * when the request's own validators match etag/lm: answer 304.
 */
static int
cache_fields(struct req *r)
{
	char		 v[512], d[64];
	size_t		 n = 0;
	const char	*inm, *ims;
	int		 match = 0;

	r->xh[0] = '\0';
#define XH(...)	do {						\
		int w_ = snprintf(r->xh + n, sizeof(r->xh) - n, __VA_ARGS__); \
		if (w_ > 0 && (size_t)w_ < sizeof(r->xh) - n)	\
			n += (size_t)w_;			\
	} while (0)
	/* HEAD requests may be told other fields: hcc=, hetag= */
	if ((r->head && qstr(r, "hcc", v, sizeof(v))) ||
	    qstr(r, "cc", v, sizeof(v)))
		XH("Cache-Control: %s\r\n", v);
	if (qstr(r, "vary", v, sizeof(v)))
		XH("Vary: %s\r\n", v);
	if (qstr(r, "cdn", v, sizeof(v)))
		XH("CDN-Cache-Control: %s\r\n", v);
	if (qstr(r, "sc", v, sizeof(v)))
		XH("Surrogate-Control: %s\r\n", v);
	if (qstr(r, "age", v, sizeof(v)))
		XH("Age: %s\r\n", v);
	if (qstr(r, "exp", v, sizeof(v))) {
		http_date(time(NULL) + atol(v), d, sizeof(d));
		XH("Expires: %s\r\n", strcmp(v, "bad") == 0 ? "0" : d);
	}
	if (qstr(r, "date", v, sizeof(v))) {
		http_date(time(NULL) - atol(v), d, sizeof(d));
		XH("Date: %s\r\n", d);
	}
	if (qstr(r, "cookie", v, sizeof(v)))
		XH("Set-Cookie: session=%s\r\n", v);
	if ((r->head && qstr(r, "hetag", v, sizeof(v))) ||
	    qstr(r, "etag", v, sizeof(v))) {
		XH("ETag: \"%s\"\r\n", v);
		if ((inm = hdr(r, "if-none-match")) != NULL &&
		    strstr(inm, v) != NULL)
			match = 1;
	}
	if (qstr(r, "lm", v, sizeof(v))) {
		http_date(time(NULL) - atol(v), d, sizeof(d));
		XH("Last-Modified: %s\r\n", d);
		if (hdr(r, "if-none-match") == NULL &&
		    (ims = hdr(r, "if-modified-since")) != NULL)
			match = 1;	/* the origin never changes */
	}
#undef XH
	return match;
}

/* A decimal count of at most MAX_COUNT; -1 if s is anything else. */
static long long
parse_count(const char *s)
{
	unsigned long long	 n;
	char			*end;

	if (!isdigit((unsigned char)*s) || strlen(s) > 10)
		return -1;
	n = strtoull(s, &end, 10);
	return *end != '\0' || n > MAX_COUNT ? -1 : (long long)n;
}

/* Cut the line at *pp, drop its CR LF, advance *pp past it. */
static char *
next_line(char **pp)
{
	char	*s = *pp, *nl = strchr(s, '\n');

	*nl = '\0';
	*pp = nl + 1;
	if (nl > s && nl[-1] == '\r')
		nl[-1] = '\0';
	return s;
}

/* Returns 0, or the status to reject the request with. */
static int
parse_head(struct req *r)
{
	char	*p = r->work, *line, *t, *v, *e;

	/* A NUL would cut the head short and make next_line() run off. */
	if (strlen(r->work) != r->rawlen)
		return 400;
	line = next_line(&p);
	r->method = e = strsep(&line, " ");
	if ((t = strsep(&line, " ")) == NULL || line == NULL || *e == '\0' ||
	    *t == '\0' || strlen(e) > 32 || strncmp(line, "HTTP/", 5) != 0)
		return 400;
	/* The method is echoed into fields and HTML: tokens only. */
	for (; *e != '\0'; e++)
		if (!isalnum((unsigned char)*e) &&
		    strchr("!#$%&'*+-.^_`|~", *e) == NULL)
			return 400;
	if (strcmp(line, "HTTP/1.1") != 0 && strcmp(line, "HTTP/1.0") != 0)
		return 505;
	r->version = line[7] == '1' ? 11 : 10;

	/* absolute-form: keep only the path and query. */
	if (strncasecmp(t, "http://", 7) == 0 ||
	    strncasecmp(t, "https://", 8) == 0) {
		t = strstr(t, "//") + 2;
		t += strcspn(t, "/?");
	}
	r->query = "";
	if ((e = strchr(t, '?')) != NULL) {
		*e = '\0';
		r->query = e + 1;
	}
	r->path = *t == '/' ? t : "/";

	while (*(line = next_line(&p)) != '\0') {
		if ((v = strchr(line, ':')) == NULL || v == line ||
		    strcspn(line, " \t") < (size_t)(v - line))
			return 400;
		if (r->nfields == MAX_FIELDS)
			return 431;
		*v++ = '\0';
		v += strspn(v, " \t");
		e = v + strlen(v);
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		r->name[r->nfields] = line;
		r->value[r->nfields++] = v;
	}
	r->head = strcmp(r->method, "HEAD") == 0;
	r->close = hdr_token(r, "connection", "close") ||
	    (r->version == 10 && !hdr_token(r, "connection", "keep-alive"));
	return 0;
}

/* Returns 0, -1 on I/O error, or the status to reject the request with. */
static int
read_body(struct conn *c, struct req *r)
{
	const char		*te = hdr(r, "transfer-encoding");
	const char		*cl = hdr(r, "content-length");
	char			 line[256], *end;
	unsigned long long	 n;
	ssize_t			 k;

	if (te == NULL && cl == NULL)
		return 0;
	if (te == NULL) {
		n = strtoull(cl, &end, 10);
		if (!isdigit((unsigned char)*cl) || *end != '\0')
			return 400;
		if (n > MAX_BODY || (r->body = malloc(n + 1)) == NULL)
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
		if (n > MAX_BODY || r->bodylen + n > MAX_BODY ||
		    (end = realloc(r->body, r->bodylen + n + 1)) == NULL)
			return 413;
		r->body = end;
		if (get_bytes(c, r->body + r->bodylen, n) == -1)
			return -1;
		r->bodylen += n;
		if (get_line(c, line, sizeof(line)) != 0)
			return 400;
	}
	while ((k = get_line(c, NULL, 0)) > 0)	/* trailers: ignored */
		;
	return k == 0 ? 0 : 400;
}

static const char *
reason(int status)
{
	static const struct {
		int		 code;
		const char	*text;
	} tab[] = {
		{ 200, "OK" }, { 204, "No Content" }, { 206, "Partial Content" },
		{ 301, "Moved Permanently" }, { 302, "Found" },
		{ 304, "Not Modified" },
		{ 400, "Bad Request" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 413, "Content Too Large" },
		{ 416, "Range Not Satisfiable" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
		{ 505, "HTTP Version Not Supported" }
	};
	size_t	 i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].code == status)
			return tab[i].text;
	return "Status";
}

/*
 * Send a final response head.  Returns 1 when a body must follow, 0 when
 * not (HEAD, 204, 304), -1 on error.  The status= override is applied
 * here so that every route honours it.
 */
static int
format_head(char *h, size_t cap, struct conn *c, struct req *r, int status,
    const char *ctype, enum framing fr, unsigned long long clen,
    const char *extra)
{
	int	 n, nobody;

	if (r->ovr != 0)
		status = r->ovr;
	nobody = status == 204 || status == 304;
	if (fr == FR_CLOSE)
		r->close = 1;
	n = snprintf(h, cap, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "X-Origin: %s\r\nX-Conn: %llu\r\nX-Req: %u\r\n%s%s",
	    status, reason(status), ctype, origin_name, c->serial, c->reqno,
	    r->close ? "Connection: close\r\n" :
	    r->version == 10 ? "Connection: keep-alive\r\n" : "",
	    extra != NULL ? extra : "");
	n += snprintf(h + n, cap - (size_t)n, "%s", r->xh);
	if (!nobody && fr == FR_LENGTH)
		n += snprintf(h + n, cap - (size_t)n,
		    "Content-Length: %llu\r\n", clen);
	else if (!nobody && fr == FR_CHUNKED)
		n += snprintf(h + n, cap - (size_t)n,
		    "Transfer-Encoding: chunked\r\n");
	n += snprintf(h + n, cap - (size_t)n, "\r\n");
	return nobody || r->head ? -n : n;
}

static int
send_head(struct conn *c, struct req *r, int status, const char *ctype,
    enum framing fr, unsigned long long clen, const char *extra)
{
	char	 h[4096];
	int	 n;

	n = format_head(h, sizeof(h), c, r, status, ctype, fr, clen, extra);
	if (write_all(c->fd, h, (size_t)(n < 0 ? -n : n)) == -1)
		return -1;
	return n < 0 ? 0 : 1;
}

/*
 * A small response in one write, so that an origin killed at any moment
 * never leaves a head without its body behind.  Returns 0 or -1.
 */
static int
send_whole(struct conn *c, struct req *r, int status, const char *ctype,
    const char *body, size_t len, const char *extra)
{
	char	 h[4096 + 8192];
	int	 n;

	n = format_head(h, 4096, c, r, status, ctype, FR_LENGTH, len, extra);
	if (n < 0)
		return write_all(c->fd, h, (size_t)-n);
	memcpy(h + n, body, len);
	return write_all(c->fd, h, (size_t)n + len);
}

/* A whole response with a Content-Length body.  Returns 0 or -1. */
static int
respond(struct conn *c, struct req *r, int status, const char *ctype,
    const char *body, size_t len, const char *extra)
{
	int	 rv;

	if (len <= 8192)
		return send_whole(c, r, status, ctype, body, len, extra);
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
	trailer = (int)qnum(r, "trailer", 0);
	if ((rv = send_head(c, r, 200, "text/plain", FR_CHUNKED, 0,
	    trailer ? "Trailer: X-Trailer\r\n" : NULL)) <= 0)
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
	if (trailer == 2) {
		/* and fields a trailer must not carry */
		static const char bad[] = "0\r\nX-Trailer: done\r\n"
		    "Content-Length: 50\r\nSet-Cookie: a=b\r\n"
		    "Content_Length: 9\r\nHost: evil\r\n\r\n";

		return write_all(c->fd, bad, sizeof(bad) - 1);
	}
	if (trailer)
		return write_all(c->fd, "0\r\nX-Trailer: done\r\n\r\n", 22);
	return write_all(c->fd, "0\r\n\r\n", 5);
}

/*
 * /bytes/N?ranges=1 with "Range: bytes=a-b" (or a-, or -n): 206 with that
 * part of the body, 416 past its end; anything else gets the whole.
 */
static int
route_range(struct conn *c, struct req *r, unsigned long long n,
    const char *v)
{
	unsigned long long	 a, b;
	char			 extra[128];
	int			 code;

	if (sscanf(v, "bytes=-%llu", &b) == 1 && b > 0) {
		a = b >= n ? 0 : n - b;
		b = n - 1;
	} else if (sscanf(v, "bytes=%llu-%llu", &a, &b) == 2 && a <= b) {
		if (b >= n)
			b = n - 1;
	} else if (sscanf(v, "bytes=%llu-", &a) == 1)
		b = n - 1;
	else
		return send_whole(c, r, 200, "text/plain", pattern,
		    (size_t)(n < PIECE ? n : PIECE), NULL);
	if (n == 0 || a >= n) {
		snprintf(extra, sizeof(extra), "Content-Range: bytes */%llu\r\n",
		    n);
		return send_whole(c, r, 416, "text/plain", "", 0, extra);
	}
	snprintf(extra, sizeof(extra), "Content-Range: bytes %llu-%llu/%llu\r\n",
	    a, b, n);
	if ((code = send_head(c, r, 206, "text/plain", FR_LENGTH, b - a + 1,
	    extra)) <= 0)
		return code;
	return send_pattern(c->fd, a, b - a + 1);
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
		/* Sleep until sent + k bytes are due. */
		sleep_ms(start + (long long)((sent + k) * 1000 / rate) -
		    now_ms());
	}
	return 0;
}

/* A 101, then raw echo until the peer closes. */
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
	/* Bytes that came right behind the request belong to the tunnel. */
	if (write_all(c->fd, h, (size_t)hl) == -1 ||
	    write_all(c->fd, c->buf, c->len) == -1)
		return -1;
	while (wait_readable(c->fd, IDLE_MS) > 0) {
		if ((n = read(c->fd, c->buf, sizeof(c->buf))) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0 || write_all(c->fd, c->buf, (size_t)n) == -1)
			break;
	}
	return -1;
}

/* Answer one request.  Returns 0 to go on (unless r->close), -1 to close. */
static int
route(struct conn *c, struct req *r)
{
	const char		*p = r->path;
	char			 buf[512];
	unsigned long long	 n = 0;
	long long		 v;
	int			 len, code;

	if (strncmp(p, "/bytes/", 7) == 0 || strncmp(p, "/slow/", 6) == 0 ||
	    strncmp(p, "/close/", 7) == 0 || strncmp(p, "/abort/", 7) == 0 ||
	    strncmp(p, "/chunked/", 9) == 0) {
		if ((v = parse_count(strchr(p + 1, '/') + 1)) == -1)
			return text(c, r, 400, "bad count\n");
		n = (unsigned long long)v;
	}
	if (strcmp(p, "/") == 0) {
		len = snprintf(buf, sizeof(buf), "<!DOCTYPE html>\n"
		    "<html><head><title>porter demo</title></head><body>\n"
		    "<h1>porter demo</h1><p>served by %s</p>\n"
		    "<p>%s %s</p>\n</body></html>\n", origin_name, r->method,
		    p);
		return respond(c, r, 200, "text/html", buf, (size_t)len, NULL);
	}
	if (strncmp(p, "/bytes/", 7) == 0 && qnum(r, "ranges", 0) &&
	    hdr(r, "range") != NULL)
		return route_range(c, r, n, hdr(r, "range"));
	if (strncmp(p, "/bytes/", 7) == 0) {
		if (n <= 8192 && n <= PIECE)
			return send_whole(c, r, 200, "text/plain", pattern,
			    (size_t)n, NULL);
		if ((code = send_head(c, r, 200, "text/plain", FR_LENGTH, n,
		    NULL)) <= 0)
			return code;
		return send_pattern(c->fd, 0, n);
	}
	if (strncmp(p, "/chunked/", 9) == 0)
		return route_chunked(c, r, n);
	if (strncmp(p, "/close/", 7) == 0) {
		if (send_head(c, r, 200, "text/plain", FR_CLOSE, 0, NULL) == 1)
			send_pattern(c->fd, 0, n);
		return -1;
	}
	if (strncmp(p, "/abort/", 7) == 0) {
		if (send_head(c, r, 200, "text/plain", FR_LENGTH, n, NULL) == 1)
			send_pattern(c->fd, 0, n / 2);
		return -1;
	}
	if (strcmp(p, "/echo") == 0) {
		snprintf(buf, sizeof(buf), "X-Echo-Method: %s\r\n"
		    "X-Echo-Length: %zu\r\n", r->method, r->bodylen);
		return respond(c, r, 200, "text/plain",
		    r->body != NULL ? r->body : "", r->bodylen, buf);
	}
	if (strcmp(p, "/headers") == 0)
		return respond(c, r, 200, "text/plain", r->raw, r->rawlen,
		    NULL);
	if (strncmp(p, "/status/", 8) == 0) {
		code = (int)parse_count(p + 8);
		code = code < 200 || code > 599 ? 200 : code;
		snprintf(buf, sizeof(buf), "status %d\n", code);
		return text(c, r, code, buf);
	}
	if (strcmp(p, "/continue") == 0) {
		/*
		 * No 1xx for HTTP/1.0 clients (RFC 9110 15.2).  It names
		 * its server, as some do, for porter to hide.
		 */
		len = snprintf(buf, sizeof(buf), "HTTP/1.1 103 Early Hints\r\n"
		    "Link: </x>\r\nServer: origin\r\nX-Origin: %s\r\n\r\n",
		    origin_name);
		if (r->version == 11 && write_all(c->fd, buf, (size_t)len) ==
		    -1)
			return -1;
		return text(c, r, 200, "final\n");
	}
	if (strcmp(p, "/hits") == 0 || strcmp(p, "/conns") == 0) {
		snprintf(buf, sizeof(buf), "%llu\n", __atomic_load_n(p[1] ==
		    'h' ? &sh->requests : &sh->conns, __ATOMIC_SEQ_CST));
		return text(c, r, 200, buf);
	}
	if (strcmp(p, "/counter") == 0) {
		/* a body that changes with every fetch from the origin */
		snprintf(buf, sizeof(buf), "fetch %llu\n", __atomic_load_n(
		    &sh->requests, __ATOMIC_SEQ_CST));
		return text(c, r, 200, buf);
	}
	if (strcmp(p, "/maxconc") == 0) {
		/* this request is in flight too: not counted here */
		snprintf(buf, sizeof(buf), "%lld\n", __atomic_load_n(
		    &sh->maxinflight, __ATOMIC_SEQ_CST));
		return text(c, r, 200, buf);
	}
	if (strcmp(p, "/health") == 0)
		return text(c, r, health_status, "ok\n");
	if (strcmp(p, "/hits/reset") == 0) {
		__atomic_store_n(&sh->requests, 0, __ATOMIC_SEQ_CST);
		return text(c, r, 200, "0\n");
	}
	if (strcmp(p, "/quietclose") == 0) {
		text(c, r, 200, "bye\n");
		return -1;
	}
	if (strcmp(p, "/extra") == 0) {
		/* a whole response, then, a little later, one nobody asked */
		static const char poison[] = "HTTP/1.1 200 OK\r\n"
		    "Content-Length: 8\r\n\r\nPOISONED";

		if (text(c, r, 200, "ok\n") == -1)
			return -1;
		usleep(200 * 1000);
		return write_all(c->fd, poison, sizeof(poison) - 1);
	}
	if (strcmp(p, "/ws") == 0)
		return route_ws(c, r);
	if (strncmp(p, "/slow/", 6) == 0)
		return route_slow(c, r, n);
	if (strcmp(p, "/badcl") == 0) {
		len = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: text/plain\r\nX-Origin: %s\r\n"
		    "X-Conn: %llu\r\nX-Req: %u\r\nContent-Length: 5\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n%s", origin_name,
		    c->serial, c->reqno,
		    r->head ? "" : "5\r\nhello\r\n0\r\n\r\n");
		write_all(c->fd, buf, (size_t)len);
		return -1;
	}
	if (strcmp(p, "/hang") == 0) {
		/* Never answer; leave when the client does or time is up. */
		v = now_ms() + IDLE_MS;
		while ((len = (int)(v - now_ms())) > 0 &&
		    wait_readable(c->fd, len) > 0 &&
		    read(c->fd, c->buf, sizeof(c->buf)) > 0)
			;
		return -1;
	}
	return text(c, r, 404, "not found\n");
}

/* The life of one connection, in a child process. */
static void __attribute__((noreturn))
serve_conn(int fd, unsigned long long serial)
{
	static struct conn	 c;
	static struct req	 r;
	struct timeval		 tv = { IDLE_MS / 1000, 0 };
	unsigned long long	 delay;
	long long		 inflight, peak;
	int			 one = 1, rv;

	c.fd = fd;
	c.serial = serial;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Heads and bodies go in separate writes: don't let Nagle hold one. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		free(r.raw);
		free(r.body);
		memset(&r, 0, sizeof(r));
		if ((rv = read_head(&c, &r)) == 0 || rv == -1)
			break;
		c.reqno++;
		__atomic_add_fetch(&sh->requests, 1, __ATOMIC_SEQ_CST);
		r.version = 11;
		if (rv == -2 || (rv = parse_head(&r)) != 0) {
			r.close = 1;
			text(&c, &r, rv == -2 ? 431 : rv, "bad request\n");
			break;
		}
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
		r.ovr = (int)qnum(&r, "status",
		    (unsigned long long)fail_status);
		r.ovr = r.ovr < 200 || r.ovr > 599 ? 0 : r.ovr;
		delay = qnum(&r, "delay", base_delay);
		/*
		 * How many requests this origin serves at once, at most: from
		 * the request's arrival to the end of its delay, before any
		 * byte of the answer.  The proxy holds a request from before it
		 * sends it until it has the answer, so each span counted here
		 * lies inside one the proxy held: a client of the proxy cannot
		 * see this count above what the proxy let through at a time.
		 */
		inflight = __atomic_add_fetch(&sh->inflight, 1,
		    __ATOMIC_SEQ_CST);
		for (peak = __atomic_load_n(&sh->maxinflight,
		    __ATOMIC_SEQ_CST); inflight > peak &&
		    !__atomic_compare_exchange_n(&sh->maxinflight, &peak,
		    inflight, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);)
			;
		sleep_ms(delay > 3600000 ? 3600000 : (long long)delay);
		__atomic_sub_fetch(&sh->inflight, 1, __ATOMIC_SEQ_CST);
		if (cache_fields(&r)) {
			r.ovr = 0;
			send_head(&c, &r, 304, "text/plain", FR_LENGTH, 0,
			    NULL);
			rv = 0;
		} else
			rv = route(&c, &r);
		if (rv == -1 || r.close)
			break;
	}
	linger_close(fd);
	_exit(0);
}

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_quit = 1;
}

static int
listen_on(const char *addr, const char *port)
{
	struct addrinfo	 hints, *res;
	char		 host[256];
	size_t		 n = strlen(addr);
	int		 fd, one = 1, e;

	/* Take "[::1]" as well as "::1". */
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
	/* Non-blocking: a connection reset before accept() must not hang us. */
	if (listen(fd, 511) == -1 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		err(1, "listen");
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
	int			 null;

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
	/* Nothing more goes there; don't hold up a reader waiting for EOF. */
	if ((null = open("/dev/null", O_WRONLY)) != -1 &&
	    dup2(null, STDOUT_FILENO) != -1 && null != STDOUT_FILENO)
		close(null);
}

int
main(int argc, char *argv[])
{
	static const char	 an[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	struct pollfd		 pfd;
	sigset_t		 mask, waitmask;
	const char		*addr = "127.0.0.1", *port = "0";
	const char		*portfile = NULL;
	unsigned long long	 serial;
	pid_t			 ppid = getppid(), self = getpid(), pid, *nk;
	char			*end;
	size_t			 i;
	int			 ch, lfd, fd;

	/* Die with whoever started us, so a crashed harness leaks nothing. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != ppid)
		exit(0);

	while ((ch = getopt(argc, argv, "a:D:H:p:n:P:S:")) != -1) {
		switch (ch) {
		case 'S':
			/* a server that fails everything, for health tests */
			fail_status = (int)strtol(optarg, &end, 10);
			break;
		case 'D':
			base_delay = strtoull(optarg, &end, 10);
			break;
		case 'H':
			health_status = (int)strtol(optarg, &end, 10);
			break;
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = optarg;
			if (*port == '\0' || strtoul(port, &end, 10) > 65535 ||
			    *end != '\0' || !isdigit((unsigned char)*port))
				errx(2, "bad port: %s", port);
			break;
		case 'n':
			origin_name = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		default:
			errx(2, USAGE);
		}
	}
	if (optind != argc)
		errx(2, USAGE);
	/* The name is pasted into a header: one short, clean line. */
	for (i = 0; origin_name[i] != '\0'; i++)
		if (iscntrl((unsigned char)origin_name[i]) || i >= 200)
			errx(2, "bad name: %s", origin_name);

	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = i % 64 == 63 ? '\n' : an[i % 36];
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		err(1, "mmap");
	lfd = listen_on(addr, port);

	/*
	 * The signals stay blocked except inside ppoll(), so none can slip
	 * in between looking at the flags and going to sleep.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGCHLD);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGCHLD, on_signal);
	signal(SIGPIPE, SIG_IGN);
	report_port(lfd, portfile);

	while (!got_quit) {
		pfd.fd = lfd;
		pfd.events = POLLIN;
		fd = ppoll(&pfd, 1, NULL, &waitmask);
		for (; got_chld; got_chld = 0)
			while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
				for (i = 0; i < nkids; i++)
					if (kids[i] == pid) {
						kids[i] = kids[--nkids];
						break;
					}
		if (fd <= 0 || got_quit)
			continue;
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			/* Out of descriptors: back off rather than spin. */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				sleep_ms(10);
			continue;
		}
		serial = __atomic_add_fetch(&sh->conns, 1, __ATOMIC_SEQ_CST);
		if (nkids == kidcap) {
			kidcap = kidcap ? kidcap * 2 : 64;
			if ((nk = realloc(kids, kidcap * sizeof(*nk))) == NULL)
				err(1, "realloc");
			kids = nk;
		}
		if ((pid = fork()) == 0) {
			/* Still blocked, so a SIGTERM now waits for SIG_DFL. */
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

	/* Take the children down too, and wait until they are gone. */
	for (i = 0; i < nkids; i++)
		kill(kids[i], SIGTERM);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	free(kids);
	return 0;
}
