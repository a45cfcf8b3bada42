/*
 * http.c - message rules for forwarding.
 */
#include <stdio.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "util.h"

struct http_status {
	int		 code;
	const char	*reason;
};

static const struct http_status http_statuses[] = {
	{ 100, "Continue" }, { 101, "Switching Protocols" },
	{ 103, "Early Hints" },
	{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
	{ 204, "No Content" }, { 206, "Partial Content" },
	{ 301, "Moved Permanently" }, { 302, "Found" }, { 303, "See Other" },
	{ 304, "Not Modified" }, { 307, "Temporary Redirect" },
	{ 308, "Permanent Redirect" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
	{ 404, "Not Found" }, { 405, "Method Not Allowed" },
	{ 408, "Request Timeout" }, { 409, "Conflict" }, { 410, "Gone" },
	{ 411, "Length Required" }, { 412, "Precondition Failed" },
	{ 413, "Content Too Large" }, { 414, "URI Too Long" },
	{ 417, "Expectation Failed" }, { 421, "Misdirected Request" },
	{ 428, "Precondition Required" }, { 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
	{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
};

const char *
http_reason(int status)
{
	size_t	 i;

	for (i = 0; i < sizeof(http_statuses) / sizeof(http_statuses[0]); i++)
		if (http_statuses[i].code == status)
			return http_statuses[i].reason;
	return "Unknown";
}

static int
http_name_is(const struct http_field *f, const char *name)
{
	/* a cheap first look: ASCII letters differ in case by 0x20 only */
	if (f->name_len == 0 || (f->name[0] | 0x20) != (name[0] | 0x20))
		return 0;
	return f->name_len == strlen(name) &&
	    strncasecmp(f->name, name, f->name_len) == 0;
}

/*
 * May this trailer field line ("Name: value\r\n") be passed on?  Not
 * the fields RFC 9110 6.5.1 forbids in trailers (framing, routing,
 * request modifiers, authentication, response control, content
 * processing), nor those porter sets itself, nor their look-alikes with
 * "_" for "-": a recipient that merged one into the head would read the
 * message otherwise than porter did.
 */
int
http_trailer_allowed(const char *line, size_t len)
{
	static const char *const no[] = {
		"content-length", "transfer-encoding", "host", "connection",
		"keep-alive", "proxy-connection", "te", "trailer", "upgrade",
		"content-encoding", "content-type", "content-range",
		"authorization", "proxy-authorization", "proxy-authenticate",
		"www-authenticate", "set-cookie", "cookie", "cache-control",
		"expires", "date", "age", "location", "retry-after", "vary",
		"pragma", "expect", "max-forwards", "range", "if-match",
		"if-none-match", "if-modified-since", "if-unmodified-since",
		"if-range", "x-forwarded-for", "x-forwarded-host",
		"x-forwarded-proto", "x-client-verify", "x-client-subject",
		"via", "server"
	};
	const char	*colon = memchr(line, ':', len);
	char		 name[32];
	size_t		 n, i;

	if (colon == NULL)
		return 0;
	n = (size_t)(colon - line);
	if (n >= sizeof(name))
		return 1;		/* longer than any of them */
	for (i = 0; i < n; i++)
		name[i] = line[i] == '_' ? '-' : line[i];
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strlen(no[i]) == n && strncasecmp(name, no[i], n) == 0)
			return 0;
	return 1;
}

int
http_hop_by_hop(const struct http_field *f, const struct http_field *fields,
    unsigned n, unsigned flags)
{
	char		 name[128];
	size_t		 i;

	switch (f->id) {
	case HTTP_H_CONNECTION:
	case HTTP_H_KEEP_ALIVE:
	case HTTP_H_PROXY_CONNECTION:
	case HTTP_H_TE:
	case HTTP_H_TRANSFER_ENCODING:
	case HTTP_H_UPGRADE:
	case HTTP_H_CONTENT_LENGTH:
	case HTTP_H_EXPECT:
	case HTTP_H_HTTP2_SETTINGS:
		return 1;
	default:
		break;
	}
	/* Only a Connection naming other fields makes more of them so. */
	if (!(flags & HTTP_F_CONN_OTHER) || f->name_len >= sizeof(name))
		return 0;
	memcpy(name, f->name, f->name_len);
	name[f->name_len] = '\0';
	for (i = 0; i < n; i++)
		if (fields[i].id == HTTP_H_CONNECTION &&
		    http_list_has(fields[i].value, fields[i].value_len, name))
			return 1;
	return 0;
}

/*
 * Bounded appender: sets ok to 0 once anything did not fit.  Heads are
 * written on every request, so the pieces are copied, not formatted.
 */
struct http_out_buf {
	char	*p;
	size_t	 cap, len;
	int	 ok;
};

static void
http_put_mem(struct http_out_buf *o, const void *s, size_t n)
{
	if (!o->ok || n > o->cap - o->len) {
		o->ok = 0;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
http_put_str(struct http_out_buf *o, const char *s)
{
	http_put_mem(o, s, strlen(s));
}

/* A string literal: its length is known at compile time. */
#define http_put_lit(o, s)	http_put_mem((o), (s), sizeof(s) - 1)

static void
http_put_u64(struct http_out_buf *o, unsigned long long v)
{
	char	 d[21];

	http_put_str(o, util_u64_dec(v, d));
}

/* The route's added fields, then the framing porter chose. */
static void
http_put_tail(struct http_out_buf *o, const struct http_edit *ed,
    enum http_out framing, uint64_t length)
{
	if (ed != NULL && ed->add != NULL)
		http_put_str(o, ed->add);
	if (ed != NULL && ed->add2 != NULL)
		http_put_str(o, ed->add2);
	if (framing == HTTP_OUT_LENGTH) {
		http_put_lit(o, "Content-Length: ");
		http_put_u64(o, (unsigned long long)length);
		http_put_lit(o, "\r\n");
	} else if (framing == HTTP_OUT_CHUNKED)
		http_put_lit(o, "Transfer-Encoding: chunked\r\n");
}

/* "Name: value\r\n" */
static void
http_put_pair(struct http_out_buf *o, const char *name, size_t name_len,
    const char *value, size_t value_len)
{
	if (!o->ok || name_len + value_len + 4 > o->cap - o->len) {
		o->ok = 0;
		return;
	}
	memcpy(o->p + o->len, name, name_len);
	o->len += name_len;
	o->p[o->len++] = ':';
	o->p[o->len++] = ' ';
	memcpy(o->p + o->len, value, value_len);
	o->len += value_len;
	o->p[o->len++] = '\r';
	o->p[o->len++] = '\n';
}

static void
http_put_field(struct http_out_buf *o, const struct http_field *f)
{
	http_put_pair(o, f->name, f->name_len, f->value, f->value_len);
}

/* Is f one of the fields a route removes? */
static int
http_removed(const struct http_field *f, const struct http_edit *ed)
{
	size_t	 i;

	if (ed == NULL)
		return 0;
	for (i = 0; i < ed->nremove; i++)
		if (http_name_is(f, ed->remove[i]))
			return 1;
	for (i = 0; i < ed->nhide; i++)
		if (http_name_is(f, ed->hide[i]))
			return 1;
	return 0;
}

/* The start line, "HTTP/1.1 " status " " reason. */
static void
http_put_status(struct http_out_buf *o, int status, const char *reason,
    size_t reason_len)
{
	http_put_lit(o, "HTTP/1.1 ");
	http_put_u64(o, (unsigned long long)(status > 0 ? status : 0));
	http_put_lit(o, " ");
	http_put_mem(o, reason, reason_len);
	http_put_lit(o, "\r\n");
}

int
http_request_head(char *out, size_t cap, const struct http_request *req,
    const struct http_fwd *fwd, enum http_out framing, int upgrade,
    const struct http_edit *ed)
{
	struct http_out_buf	 o = { out, cap, 0, 1 };
	const struct http_field	*f, *xff = NULL;
	unsigned		 i;
	int			 have_host = 0;
	const char		*host = req->host;
	size_t			 host_len = req->host_len;

	http_put_mem(&o, req->method_str, req->method_len);
	http_put_lit(&o, " ");
	if (ed != NULL && ed->target != NULL)
		http_put_mem(&o, ed->target, ed->target_len);
	else
		http_put_mem(&o, req->target, req->target_len);
	http_put_lit(&o, " HTTP/1.1\r\n");
	if (ed != NULL && ed->host != NULL) {
		host = ed->host;
		host_len = strlen(host);
	}
	for (i = 0; i < req->nfields; i++) {
		f = &req->fields[i];
		if (f->id == HTTP_H_UPGRADE && upgrade) {
			http_put_field(&o, f);
			continue;
		}
		if (http_hop_by_hop(f, req->fields, req->nfields, req->flags) ||
		    http_removed(f, ed))
			continue;
		switch (f->id) {
		case HTTP_H_LOOKALIKE:
			continue;	/* Content_Length and the like */
		case HTTP_H_HOST:
			/* absolute-form: the authority wins over Host */
			if (!have_host)
				http_put_pair(&o, "Host", 4, host, host_len);
			have_host = 1;
			continue;
		case HTTP_H_X_FORWARDED_FOR:
			xff = f;	/* all merged into one field below */
			continue;
		case HTTP_H_X_FORWARDED_PROTO:
		case HTTP_H_X_FORWARDED_HOST:
			continue;	/* replaced by ours */
		case HTTP_H_X_CLIENT_VERIFY:
		case HTTP_H_X_CLIENT_SUBJECT:
			/*
			 * Only porter may say these, on any listener: a
			 * backend behind a plain one may still trust them.
			 */
			continue;
		default:
			break;
		}
		http_put_field(&o, f);
	}
	if (!have_host && host != NULL && host_len > 0)
		http_put_pair(&o, "Host", 4, host, host_len);
	http_put_lit(&o, "X-Forwarded-For: ");
	for (i = 0; xff != NULL && i < req->nfields; i++)
		if (req->fields[i].id == HTTP_H_X_FORWARDED_FOR &&
		    req->fields[i].value_len > 0) {
			http_put_mem(&o, req->fields[i].value,
			    req->fields[i].value_len);
			http_put_lit(&o, ", ");
		}
	http_put_str(&o, fwd->client_ip);
	http_put_lit(&o, "\r\nX-Forwarded-Proto: ");
	http_put_str(&o, fwd->proto);
	http_put_lit(&o, "\r\n");
	if (req->host != NULL && req->host_len > 0)
		http_put_pair(&o, "X-Forwarded-Host", 16, req->host,
		    req->host_len);
	if (req->version == 10)
		http_put_lit(&o, "Via: 1.0 porter\r\n");
	else
		http_put_lit(&o, "Via: 1.1 porter\r\n");
	if (fwd->cert_verify != NULL) {
		http_put_pair(&o, "X-Client-Verify", 15, fwd->cert_verify,
		    strlen(fwd->cert_verify));
		if (fwd->cert_subject != NULL)
			http_put_pair(&o, "X-Client-Subject", 16,
			    fwd->cert_subject, strlen(fwd->cert_subject));
	}
	if (upgrade)
		http_put_lit(&o, "Connection: upgrade\r\n");
	http_put_tail(&o, ed, framing, req->content_length);
	http_put_lit(&o, "\r\n");
	return o.ok ? (int)o.len : -1;
}

int
http_response_head(char *out, size_t cap, const struct http_response *resp,
    const struct http_edit *ed, enum http_out framing, int keepalive,
    int client_version, int upgrade)
{
	struct http_out_buf	 o = { out, cap, 0, 1 };
	const struct http_field	*f;
	const char		*reason = resp->reason;
	size_t			 reason_len = resp->reason_len;
	unsigned		 i;

	if (reason_len == 0) {
		reason = http_reason(resp->status);
		reason_len = strlen(reason);
	}
	http_put_status(&o, resp->status, reason, reason_len);
	for (i = 0; i < resp->nfields; i++) {
		f = &resp->fields[i];
		if (f->id == HTTP_H_UPGRADE && upgrade) {
			http_put_field(&o, f);
			continue;
		}
		if (f->id == HTTP_H_CONTENT_LENGTH &&
		    framing == HTTP_OUT_NONE) {
			http_put_field(&o, f);
			continue;
		}
		if (http_hop_by_hop(f, resp->fields, resp->nfields,
		    resp->flags) || http_removed(f, ed))
			continue;
		/* the servers behind porter stay unnamed */
		if (ed != NULL && f->id == HTTP_H_SERVER)
			continue;
		http_put_field(&o, f);
	}
	if (ed != NULL && ed->server != NULL)
		http_put_pair(&o, "Server", 6, ed->server, strlen(ed->server));
	if (resp->version == 10)
		http_put_lit(&o, "Via: 1.0 porter\r\n");
	else
		http_put_lit(&o, "Via: 1.1 porter\r\n");
	http_put_tail(&o, ed, framing, resp->content_length);
	if (upgrade)
		http_put_lit(&o, "Connection: upgrade\r\n");
	else if (!keepalive)
		http_put_lit(&o, "Connection: close\r\n");
	else if (client_version == 10)
		http_put_lit(&o, "Connection: keep-alive\r\n");
	http_put_lit(&o, "\r\n");
	return o.ok ? (int)o.len : -1;
}

int
http_error_response(char *out, size_t cap, int status, int keepalive,
    int server_tokens, int head_only, const char *page, size_t page_len,
    const char *extra, int *body_after)
{
	struct http_out_buf	 o = { out, cap, 0, 1 };
	char			 buf[256];
	const char		*body = buf;
	int			 blen;

	blen = snprintf(buf, sizeof(buf), "<html><head><title>%d %s"
	    "</title></head><body><h1>%d %s</h1></body></html>\n", status,
	    http_reason(status), status, http_reason(status));
	if (blen < 0 || (size_t)blen >= sizeof(buf))
		blen = 0;
	if (page != NULL && page_len <= INT_MAX) {
		/* the operator's own page (error_page) */
		body = page;
		blen = (int)page_len;
	}
	http_put_status(&o, status, http_reason(status),
	    strlen(http_reason(status)));
	if (server_tokens)
		http_put_lit(&o, "Server: porter\r\n");
	http_put_lit(&o, "Content-Type: text/html\r\nContent-Length: ");
	http_put_u64(&o, (unsigned long long)blen);
	http_put_lit(&o, "\r\n");
	if (extra != NULL && extra[0] != '\0')
		http_put_str(&o, extra);
	else if (status == 503 || status == 429)
		http_put_lit(&o, "Retry-After: 1\r\n");
	if (keepalive)
		http_put_lit(&o, "Connection: keep-alive\r\n\r\n");
	else
		http_put_lit(&o, "Connection: close\r\n\r\n");
	*body_after = 0;
	if (!head_only) {
		if (o.ok && (size_t)blen > cap - o.len)
			*body_after = 1;	/* the caller sends it */
		else
			http_put_mem(&o, body, (size_t)blen);
	}
	return o.ok ? (int)o.len : -1;
}
