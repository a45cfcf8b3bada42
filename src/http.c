/*
 * http.c - message rules for forwarding.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"

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
	return f->name_len == strlen(name) &&
	    strncasecmp(f->name, name, f->name_len) == 0;
}

int
http_hop_by_hop(const struct http_field *f, const struct http_field *fields,
    unsigned n)
{
	static const char *const fixed[] = {
		"connection", "keep-alive", "proxy-connection", "te",
		"transfer-encoding", "upgrade", "content-length",
		"expect", "http2-settings"
	};
	char		 name[128];
	size_t		 i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (http_name_is(f, fixed[i]))
			return 1;
	if (f->name_len >= sizeof(name))
		return 0;
	memcpy(name, f->name, f->name_len);
	name[f->name_len] = '\0';
	for (i = 0; i < n; i++)
		if (http_name_is(&fields[i], "connection") &&
		    http_list_has(fields[i].value, fields[i].value_len, name))
			return 1;
	return 0;
}

/* Bounded appender: sets *ok to 0 once anything did not fit. */
struct http_out_buf {
	char	*p;
	size_t	 cap, len;
	int	 ok;
};

static void http_put(struct http_out_buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
http_put(struct http_out_buf *o, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (!o->ok)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->ok = 0;
		return;
	}
	o->len += (size_t)n;
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

static void
http_put_field(struct http_out_buf *o, const struct http_field *f)
{
	http_put(o, "%.*s: %.*s\r\n", (int)f->name_len, f->name,
	    (int)f->value_len, f->value);
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

	if (ed != NULL && ed->target != NULL)
		http_put(&o, "%.*s %.*s HTTP/1.1\r\n", (int)req->method_len,
		    req->method_str, (int)ed->target_len, ed->target);
	else
		http_put(&o, "%.*s %.*s HTTP/1.1\r\n", (int)req->method_len,
		    req->method_str, (int)req->target_len, req->target);
	if (ed != NULL && ed->host != NULL) {
		host = ed->host;
		host_len = strlen(host);
	}
	for (i = 0; i < req->nfields; i++) {
		f = &req->fields[i];
		if (http_name_is(f, "upgrade") && upgrade) {
			http_put_field(&o, f);
			continue;
		}
		if (http_hop_by_hop(f, req->fields, req->nfields) ||
		    http_removed(f, ed))
			continue;
		if (http_name_is(f, "host")) {
			/* absolute-form: the authority wins over Host */
			if (have_host)
				continue;
			have_host = 1;
			http_put(&o, "Host: %.*s\r\n", (int)host_len, host);
			continue;
		}
		if (http_name_is(f, "x-forwarded-for")) {
			xff = f;	/* all merged into one field below */
			continue;
		}
		if (http_name_is(f, "x-forwarded-proto") ||
		    http_name_is(f, "x-forwarded-host"))
			continue;	/* replaced by ours */
		if (fwd->cert_verify != NULL &&
		    (http_name_is(f, "x-client-verify") ||
		    http_name_is(f, "x-client-subject")))
			continue;	/* only porter may say these */
		http_put_field(&o, f);
	}
	if (!have_host && host != NULL && host_len > 0)
		http_put(&o, "Host: %.*s\r\n", (int)host_len, host);
	http_put(&o, "X-Forwarded-For: ");
	for (i = 0; xff != NULL && i < req->nfields; i++)
		if (http_name_is(&req->fields[i], "x-forwarded-for") &&
		    req->fields[i].value_len > 0)
			http_put(&o, "%.*s, ", (int)req->fields[i].value_len,
			    req->fields[i].value);
	http_put(&o, "%s\r\n", fwd->client_ip);
	http_put(&o, "X-Forwarded-Proto: %s\r\n", fwd->proto);
	if (req->host != NULL && req->host_len > 0)
		http_put(&o, "X-Forwarded-Host: %.*s\r\n", (int)req->host_len,
		    req->host);
	http_put(&o, "Via: %s porter\r\n", req->version == 10 ? "1.0" : "1.1");
	if (fwd->cert_verify != NULL) {
		http_put(&o, "X-Client-Verify: %s\r\n", fwd->cert_verify);
		if (fwd->cert_subject != NULL)
			http_put(&o, "X-Client-Subject: %s\r\n",
			    fwd->cert_subject);
	}
	if (ed != NULL && ed->add != NULL)
		http_put(&o, "%s", ed->add);
	if (ed != NULL && ed->add2 != NULL)
		http_put(&o, "%s", ed->add2);
	if (upgrade)
		http_put(&o, "Connection: upgrade\r\n");
	if (framing == HTTP_OUT_LENGTH)
		http_put(&o, "Content-Length: %llu\r\n",
		    (unsigned long long)req->content_length);
	else if (framing == HTTP_OUT_CHUNKED)
		http_put(&o, "Transfer-Encoding: chunked\r\n");
	http_put(&o, "\r\n");
	return o.ok ? (int)o.len : -1;
}

int
http_response_head(char *out, size_t cap, const struct http_response *resp,
    const struct http_edit *ed, enum http_out framing, int keepalive,
    int client_version, int upgrade)
{
	struct http_out_buf	 o = { out, cap, 0, 1 };
	const struct http_field	*f;
	unsigned		 i;

	if (resp->reason_len > 0)
		http_put(&o, "HTTP/1.1 %d %.*s\r\n", resp->status,
		    (int)resp->reason_len, resp->reason);
	else
		http_put(&o, "HTTP/1.1 %d %s\r\n", resp->status,
		    http_reason(resp->status));
	for (i = 0; i < resp->nfields; i++) {
		f = &resp->fields[i];
		if (http_name_is(f, "upgrade") && upgrade) {
			http_put_field(&o, f);
			continue;
		}
		if (http_name_is(f, "content-length") &&
		    framing == HTTP_OUT_NONE) {
			http_put_field(&o, f);
			continue;
		}
		if (http_hop_by_hop(f, resp->fields, resp->nfields) ||
		    http_removed(f, ed))
			continue;
		/* the servers behind porter stay unnamed */
		if (ed != NULL && http_name_is(f, "server"))
			continue;
		http_put_field(&o, f);
	}
	if (ed != NULL && ed->server != NULL)
		http_put(&o, "Server: %s\r\n", ed->server);
	http_put(&o, "Via: %s porter\r\n", resp->version == 10 ? "1.0" : "1.1");
	if (ed != NULL && ed->add != NULL)
		http_put(&o, "%s", ed->add);
	if (ed != NULL && ed->add2 != NULL)
		http_put(&o, "%s", ed->add2);
	if (framing == HTTP_OUT_LENGTH)
		http_put(&o, "Content-Length: %llu\r\n",
		    (unsigned long long)resp->content_length);
	else if (framing == HTTP_OUT_CHUNKED)
		http_put(&o, "Transfer-Encoding: chunked\r\n");
	if (upgrade)
		http_put(&o, "Connection: upgrade\r\n");
	else if (!keepalive)
		http_put(&o, "Connection: close\r\n");
	else if (client_version == 10)
		http_put(&o, "Connection: keep-alive\r\n");
	http_put(&o, "\r\n");
	return o.ok ? (int)o.len : -1;
}

int
http_error_response(char *out, size_t cap, int status, int keepalive,
    int server_tokens, int head_only, const char *page, size_t page_len,
    const char *extra)
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
	if (page != NULL && page_len + 1024 < cap) {
		/* the operator's own page (error_page) */
		body = page;
		blen = (int)page_len;
	}
	http_put(&o, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
	if (server_tokens)
		http_put(&o, "Server: porter\r\n");
	http_put(&o, "Content-Type: text/html\r\nContent-Length: %d\r\n",
	    blen);
	if (extra != NULL && extra[0] != '\0')
		http_put(&o, "%s", extra);
	else if (status == 503 || status == 429)
		http_put(&o, "Retry-After: 1\r\n");
	http_put(&o, "Connection: %s\r\n\r\n", keepalive ? "keep-alive" :
	    "close");
	if (!head_only)
		http_put(&o, "%.*s", blen, body);
	return o.ok ? (int)o.len : -1;
}
