/*
 * http_parse.c - strict, I/O-free HTTP/1.1 message parser.
 *
 * The head parsers keep no state between calls: each call rescans buf
 * from its first byte.  Heads are small, and statelessness is what makes
 * "same answer whole or byte by byte" easy to get right: the parse is a
 * left-to-right scan that stops at the first byte proving an error and
 * never takes running out of bytes for the end of anything.  Checks that
 * need the whole head (Host present, -501, -417) run only once the final
 * CRLF is in, so no prefix can fail them.
 *
 * Only the first max_header_size bytes are ever looked at; when they hold
 * neither a complete head nor an error and more bytes exist, the answer
 * is -431.  That limit and the returned length count from buf[0], empty
 * lines skipped before the request line included, so the caller simply
 * consumes that many bytes.  A zero limit (or a NULL lim) means the
 * built-in default.
 *
 * Requests are rejected with (responses turn every one into -502, and
 * when a response cannot have a body its Content-Length and
 * Transfer-Encoding are only syntax-checked):
 *   -400  any syntax error: bare CR or LF, obs-fold, SP before a colon,
 *         CTL/DEL in a value, more than 4 leading empty lines, a target
 *         form the method does not take, userinfo; missing (HTTP/1.1,
 *         not absolute-form), repeated or malformed Host; Content-Length
 *         not 1*DIGIT, over 2^62 or repeated with a different value;
 *         malformed or repeated Transfer-Encoding, Transfer-Encoding in
 *         HTTP/1.0 or with Content-Length; a Connection that is not a
 *         token list.
 *   -414  request-target over max_uri_length;  -431  head over
 *         max_header_size or more than max_headers fields;  -501  a
 *         well-formed Transfer-Encoding other than "chunked";  -505
 *         HTTP/d.d other than 1.0 and 1.1;  -417  Expect other than
 *         100-continue.
 * -501 and -417 wait for the end of the head so that a malformed request
 * gets -400 whatever order its fields came in.
 *
 * Content-Length: 0 yields HTTP_BODY_NONE: nothing to relay either way.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <limits.h>

#include "http_parse.h"

#define NEED		0	/* ran out of bytes, nothing wrong yet */
#define OK		1	/* the element is complete and valid */

#define MAX_EMPTY_LINES	4	/* skipped before a request line */
#define CL_MAX		((uint64_t)1 << 62)
#define CHUNK_DIGITS	15	/* 15 significant hex digits cannot overflow */
#define CHUNK_DIGITS_MAX 64	/* all digits, leading zeros included */
#define TRAILER_LINES	16	/* trailer total <= this * max_line */

#define DEF_HEADER_SIZE	8192
#define DEF_URI_LENGTH	8192
#define DEF_HEADERS	100
#define DEF_CHUNK_LINE	4096

enum te_kind {
	TE_NONE = 0,
	TE_CHUNKED,			/* exactly "chunked" */
	TE_OTHER			/* well-formed, but not what we relay */
};

/* Parse state shared by the request and response head parsers. */
struct head {
	const char	*buf;
	size_t		 pos;
	size_t		 end;		/* min(len, max_header_size) */
	int		 is_req;
	int		 version;	/* 10 or 11 */
	int		 framing;	/* do CL and TE decide the body? */
	struct http_field *fields;
	unsigned	 nfields;
	unsigned	 maxfields;
	unsigned	 flags;
	const char	*cl;		/* first Content-Length value */
	size_t		 cl_len;
	uint64_t	 clval;
	enum te_kind	 te;
	int		 nhost;
	const char	*host;
	size_t		 host_len;
	int		 bad_expect;
};

/*
 * Character classes.  Locale-free on purpose: <ctype.h> answers depend on
 * setlocale() and could let obs-text bytes pass as letters.  The macros
 * are safe with plain (possibly signed) char; is_field_ch() needs the
 * conversion to unsigned char its prototype gives.
 */
#define IS_DIGIT(c)	((c) >= '0' && (c) <= '9')
#define IS_ALPHA(c)	(((c) >= 'a' && (c) <= 'z') || \
			    ((c) >= 'A' && (c) <= 'Z'))
#define IS_OWS(c)	((c) == ' ' || (c) == '\t')
#define LOWER(c)	((c) >= 'A' && (c) <= 'Z' ? (c) - 'A' + 'a' : (c))

static int
hexval(unsigned char ch)
{
	if (IS_DIGIT(ch))
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * One table for the two classes every header byte is tested against:
 * RFC 9110 5.6.2 tchar, and field-vchar / SP / HTAB (what a field value
 * or reason phrase may hold: HTAB, 0x20-0x7e and obs-text 0x80-0xff).
 */
#define C_TCHAR		1
#define C_FIELD		2

static const unsigned char ch_class[256] = {
	['\t'] = C_FIELD,
	[' '] = C_FIELD, ['"'] = C_FIELD, ['('] = C_FIELD, [')'] = C_FIELD,
	[','] = C_FIELD, ['/'] = C_FIELD, [':'] = C_FIELD, [';'] = C_FIELD,
	['<'] = C_FIELD, ['='] = C_FIELD, ['>'] = C_FIELD, ['?'] = C_FIELD,
	['@'] = C_FIELD, ['['] = C_FIELD, ['\\'] = C_FIELD, [']'] = C_FIELD,
	['{'] = C_FIELD, ['}'] = C_FIELD,
	['!'] = C_FIELD | C_TCHAR, ['#'] = C_FIELD | C_TCHAR,
	['$'] = C_FIELD | C_TCHAR, ['%'] = C_FIELD | C_TCHAR,
	['&'] = C_FIELD | C_TCHAR, ['\''] = C_FIELD | C_TCHAR,
	['*'] = C_FIELD | C_TCHAR, ['+'] = C_FIELD | C_TCHAR,
	['-'] = C_FIELD | C_TCHAR, ['.'] = C_FIELD | C_TCHAR,
	['^'] = C_FIELD | C_TCHAR, ['_'] = C_FIELD | C_TCHAR,
	['`'] = C_FIELD | C_TCHAR, ['|'] = C_FIELD | C_TCHAR,
	['~'] = C_FIELD | C_TCHAR,
#define C_RANGE4(c)	[c] = C_FIELD | C_TCHAR, [c + 1] = C_FIELD | C_TCHAR, \
			[c + 2] = C_FIELD | C_TCHAR, [c + 3] = C_FIELD | C_TCHAR
	C_RANGE4('0'), C_RANGE4('4'), ['8'] = C_FIELD | C_TCHAR,
	['9'] = C_FIELD | C_TCHAR,
	C_RANGE4('A'), C_RANGE4('E'), C_RANGE4('I'), C_RANGE4('M'),
	C_RANGE4('Q'), C_RANGE4('U'), ['Y'] = C_FIELD | C_TCHAR,
	['Z'] = C_FIELD | C_TCHAR,
	C_RANGE4('a'), C_RANGE4('e'), C_RANGE4('i'), C_RANGE4('m'),
	C_RANGE4('q'), C_RANGE4('u'), ['y'] = C_FIELD | C_TCHAR,
	['z'] = C_FIELD | C_TCHAR,
#undef C_RANGE4
#define C_OBS16(c)	[c] = C_FIELD, [c + 1] = C_FIELD, [c + 2] = C_FIELD, \
			[c + 3] = C_FIELD, [c + 4] = C_FIELD, [c + 5] = C_FIELD, \
			[c + 6] = C_FIELD, [c + 7] = C_FIELD, [c + 8] = C_FIELD, \
			[c + 9] = C_FIELD, [c + 10] = C_FIELD, [c + 11] = C_FIELD, \
			[c + 12] = C_FIELD, [c + 13] = C_FIELD, [c + 14] = C_FIELD, \
			[c + 15] = C_FIELD
	C_OBS16(0x80), C_OBS16(0x90), C_OBS16(0xa0), C_OBS16(0xb0),
	C_OBS16(0xc0), C_OBS16(0xd0), C_OBS16(0xe0), C_OBS16(0xf0),
#undef C_OBS16
};

/* RFC 9110 5.6.2 tchar */
static int
is_tchar(unsigned char ch)
{
	return ch_class[ch] & C_TCHAR;
}

int
http_tchar(unsigned char ch)
{
	return is_tchar(ch) != 0;
}

/* field-vchar / SP / HTAB: what a field value (or reason) may hold. */
static int
is_field_ch(unsigned char ch)
{
	return ch_class[ch] & C_FIELD;
}

/* RFC 3986 unreserved / sub-delims: the bytes of a reg-name. */
static int
is_hostch(unsigned char ch)
{
	return IS_ALPHA(ch) || IS_DIGIT(ch) ||
	    (ch != '\0' && strchr("-._~!$&'()*+,;=", ch) != NULL);
}

/* Does s[0..len) equal the NUL-terminated t, ignoring ASCII case? */
static int
ci_eq(const char *s, size_t len, const char *t)
{
	size_t		 i;

	for (i = 0; i < len; i++)
		if (t[i] == '\0' || LOWER(s[i]) != LOWER(t[i]))
			return 0;
	return t[len] == '\0';
}

/*
 * uri-host [ ":" port ] (RFC 3986 3.2.2, 3.2.3), used for Host, for the
 * authority of an absolute-form target and for CONNECT's authority-form.
 * Narrower than the RFC where the RFC admits nonsense: no empty host, and
 * the port, when there is a colon, is 1 to 5 digits up to 65535.  '@' and
 * whitespace fall outside every class, which rules out userinfo.
 */
static int
host_valid(const char *s, size_t len, int need_port)
{
	size_t		 i = 0, digits;
	unsigned long	 port = 0;

	if (len == 0)
		return 0;
	if (s[0] == '[') {
		/* IP-literal: IPv6address or IPvFuture share this alphabet. */
		for (i = 1; i < len && s[i] != ']'; i++)
			if (!is_hostch(s[i]) && s[i] != ':')
				return 0;
		if (i == len || i == 1)
			return 0;
		i++;
	} else {
		while (i < len && s[i] != ':') {
			if (s[i] == '%') {
				if (len - i < 3 || hexval(s[i + 1]) == -1 ||
				    hexval(s[i + 2]) == -1)
					return 0;
				i += 3;
			} else if (is_hostch(s[i]))
				i++;
			else
				return 0;
		}
		if (i == 0)
			return 0;
	}
	if (i == len)
		return !need_port;
	if (s[i] != ':')
		return 0;
	/* port = *DIGIT (RFC 3986 3.2.3): empty, or with leading zeros */
	for (i++, digits = 0; i < len; i++, digits++) {
		if (!IS_DIGIT(s[i]) || digits == 10)
			return 0;
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	return (digits > 0 || !need_port) && port <= 65535;
}

/*
 * Content-Length = 1*DIGIT.  No sign, no inner space, no list: "5, 5" is
 * legal per RFC 9110 8.6 but it is exactly the kind of value two parsers
 * disagree on, so it is refused.
 */
static int
cl_parse(const char *v, size_t len, uint64_t *out)
{
	uint64_t	 n = 0;
	size_t		 i;
	unsigned	 d;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (!IS_DIGIT(v[i]))
			return -1;
		d = (unsigned)(v[i] - '0');
		if (n > (CL_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

/*
 * Walk a list of tokens separated by OWS "," OWS.  Returns the number of
 * elements, with the last in *last, or -1 if an element is anything but a
 * token or, unless allow_empty, is empty.  Transfer-Encoding is walked
 * without empty elements and so without the parameters, quoted strings
 * and stray commas RFC 9110 5.6.1 would tolerate: nothing legitimate
 * sends them and each one is a chance for two parsers to disagree.
 */
static int
token_list(const char *v, size_t len, int allow_empty, const char **last,
    size_t *last_len)
{
	size_t		 i = 0, s;
	int		 n = 0;

	for (;;) {
		while (i < len && IS_OWS(v[i]))
			i++;
		for (s = i; i < len && is_tchar(v[i]); i++)
			;
		if (i > s) {
			n++;
			*last = v + s;
			*last_len = i - s;
		} else if (!allow_empty)
			return -1;
		while (i < len && IS_OWS(v[i]))
			i++;
		if (i == len)
			return n;
		if (v[i++] != ',')
			return -1;
	}
}

enum http_hdr
http_hdr_lookup(const char *name, size_t len)
{
#define IS(s, id)	if (ci_eq(name, len, s)) return id
	switch (len) {
	case 2:
		IS("te", HTTP_H_TE);
		break;
	case 4:
		IS("host", HTTP_H_HOST);
		break;
	case 6:
		IS("server", HTTP_H_SERVER);
		IS("expect", HTTP_H_EXPECT);
		break;
	case 7:
		IS("upgrade", HTTP_H_UPGRADE);
		break;
	case 10:
		IS("connection", HTTP_H_CONNECTION);
		IS("keep-alive", HTTP_H_KEEP_ALIVE);
		break;
	case 14:
		IS("content-length", HTTP_H_CONTENT_LENGTH);
		IS("http2-settings", HTTP_H_HTTP2_SETTINGS);
		break;
	case 15:
		IS("x-forwarded-for", HTTP_H_X_FORWARDED_FOR);
		IS("x-client-verify", HTTP_H_X_CLIENT_VERIFY);
		break;
	case 16:
		IS("x-forwarded-host", HTTP_H_X_FORWARDED_HOST);
		IS("x-client-subject", HTTP_H_X_CLIENT_SUBJECT);
		IS("proxy-connection", HTTP_H_PROXY_CONNECTION);
		break;
	case 17:
		IS("transfer-encoding", HTTP_H_TRANSFER_ENCODING);
		IS("x-forwarded-proto", HTTP_H_X_FORWARDED_PROTO);
		break;
	default:
		break;
	}
#undef IS
	return HTTP_H_OTHER;
}

/* HTTP_H_LOOKALIKE when name, "_" read as "-", is a name we act on. */
static enum http_hdr
field_lookalike(const char *name, size_t len)
{
	char	 dashed[17];
	size_t	 i;

	for (i = 0; i < len; i++)
		dashed[i] = name[i] == '_' ? '-' : name[i];
	return http_hdr_lookup(dashed, len) != HTTP_H_OTHER ?
	    HTTP_H_LOOKALIKE : HTTP_H_OTHER;
}

/*
 * Scan one field line "name: value CRLF" at p[0..avail).  Shared by the
 * head parsers and the trailer section of the chunked decoder.  Returns
 * OK with *linelen set (CRLF included), NEED, or -400.  Everything that
 * is not exactly the grammar is -400: a non-tchar where the name should
 * be covers obs-fold (leading SP/HTAB), whitespace before the colon, a
 * line without a colon and a bare LF.
 */
static int
scan_field_line(const char *p, size_t avail, struct http_field *f,
    size_t *linelen)
{
	const char	*cr;
	size_t		 i = 0, vstart, vend;

	while (i < avail && is_tchar(p[i]))
		i++;
	if (i == avail)
		return NEED;
	if (i == 0 || p[i] != ':')
		return -400;
	f->name = p;
	f->name_len = i;
	f->id = http_hdr_lookup(p, i);
	if (f->id == HTTP_H_OTHER && i <= 17 && memchr(p, '_', i) != NULL)
		f->id = field_lookalike(p, i);
	for (i++; i < avail && IS_OWS(p[i]); i++)
		;
	/* The value runs to the first CR; every byte before it must fit. */
	vstart = i;
	cr = memchr(p + i, '\r', avail - i);
	vend = cr != NULL ? (size_t)(cr - p) : avail;
	for (; i < vend; i++)
		if (!is_field_ch(p[i]))
			return -400;
	if (cr == NULL || i + 1 >= avail)
		return NEED;
	if (p[i + 1] != '\n')
		return -400;		/* bare CR */
	while (vend > vstart && IS_OWS(p[vend - 1]))
		vend--;
	f->value = p + vstart;
	f->value_len = vend - vstart;
	*linelen = i + 2;
	return OK;
}

/* Consume CRLF at the current position. */
static int
expect_crlf(struct head *h)
{
	if (h->pos >= h->end)
		return NEED;
	if (h->buf[h->pos] != '\r')
		return -400;
	if (h->pos + 1 >= h->end)
		return NEED;
	if (h->buf[h->pos + 1] != '\n')
		return -400;
	h->pos += 2;
	return OK;
}

static int
name_is(const struct http_field *f, const char *name)
{
	return ci_eq(f->name, f->name_len, name);
}

/*
 * Connection: a token list (RFC 9110 7.6.1).  Besides close, keep-alive
 * and upgrade, any token names a field that is hop-by-hop for this
 * message; HTTP_F_CONN_OTHER tells the forwarding code to look for them.
 */
static int
on_connection(struct head *h, const char *v, size_t len)
{
	size_t		 i = 0, s;

	for (;;) {
		while (i < len && IS_OWS(v[i]))
			i++;
		for (s = i; i < len && is_tchar(v[i]); i++)
			;
		if (i == s)
			;	/* empty list elements are allowed */
		else if (ci_eq(v + s, i - s, "close"))
			h->flags |= HTTP_F_CONN_CLOSE;
		else if (ci_eq(v + s, i - s, "keep-alive"))
			h->flags |= HTTP_F_CONN_KEEPALIVE;
		else if (ci_eq(v + s, i - s, "upgrade"))
			h->flags |= HTTP_F_CONN_UPGRADE;
		else
			h->flags |= HTTP_F_CONN_OTHER;
		while (i < len && IS_OWS(v[i]))
			i++;
		if (i == len)
			return OK;
		if (v[i++] != ',')
			return -400;
	}
}

/* Semantics of one field, checked as soon as its line is complete. */
static int
on_field(struct head *h, const struct http_field *f)
{
	const char	*v = f->value, *last;
	size_t		 len = f->value_len, last_len;
	uint64_t	 n;
	int		 k;

	switch (f->id) {
	case HTTP_H_CONTENT_LENGTH:
		if (cl_parse(v, len, &n) == -1)
			return -400;
		/* Byte-identical, so whatever we forward reads the same. */
		if (h->cl != NULL &&
		    (len != h->cl_len || memcmp(v, h->cl, len) != 0))
			return -400;
		h->cl = v;
		h->cl_len = len;
		h->clval = n;
		return h->framing && h->te != TE_NONE ? -400 : OK;
	case HTTP_H_TRANSFER_ENCODING:
		/* A second field: no merging games. */
		if (h->te != TE_NONE ||
		    (k = token_list(v, len, 0, &last, &last_len)) == -1)
			return -400;
		/*
		 * Chunked must be the final coding, or the length of the
		 * message cannot be known: 400 (RFC 9112 6.3).  Other codings
		 * before it are well-formed but not relayed: 501.
		 */
		if (!ci_eq(last, last_len, "chunked"))
			return -400;
		h->te = k == 1 ? TE_CHUNKED : TE_OTHER;
		/*
		 * An HTTP/1.0 peer knows nothing of chunked and would frame
		 * the message by Content-Length or by close (RFC 9112 6.1).
		 */
		if (h->framing && (h->version == 10 || h->cl != NULL))
			return -400;
		return OK;
	case HTTP_H_CONNECTION:
		return on_connection(h, v, len);
	case HTTP_H_UPGRADE:
		/* RFC 9110 7.8: Upgrade in an HTTP/1.0 request is ignored */
		if (!(h->is_req && h->version == 10))
			h->flags |= HTTP_F_UPGRADE;
		return OK;
	default:
		break;
	}
	if (!h->is_req)
		return OK;
	switch (f->id) {
	case HTTP_H_HOST:
		/* An empty Host is what a URI without authority sends. */
		if (++h->nhost > 1 || (len != 0 && !host_valid(v, len, 0)))
			return -400;
		h->host = v;
		h->host_len = len;
		break;
	case HTTP_H_EXPECT:
		/* RFC 9110 10.1.1: ignore 100-continue from HTTP/1.0. */
		if (!ci_eq(v, len, "100-continue"))
			h->bad_expect = 1;
		else if (h->version == 11)
			h->flags |= HTTP_F_EXPECT_CONTINUE;
		break;
	case HTTP_H_TE:
		h->flags |= HTTP_F_HAS_TE;
		break;
	default:
		break;
	}
	return OK;
}

/* Field lines up to and including the empty line ending the head. */
static int
parse_fields(struct head *h)
{
	struct http_field f;
	size_t		 n;
	int		 rc;

	for (;;) {
		if (h->pos >= h->end)
			return NEED;
		if (h->buf[h->pos] == '\r')
			return expect_crlf(h);
		if (h->nfields >= h->maxfields &&
		    is_tchar(h->buf[h->pos]))
			return -431;
		rc = scan_field_line(h->buf + h->pos, h->end - h->pos, &f, &n);
		if (rc != OK)
			return rc;
		h->fields[h->nfields++] = f;
		h->pos += n;
		if ((rc = on_field(h, &f)) != OK)
			return rc;
	}
}

/*
 * HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3).
 * Anything else is malformed; the caller decides what a well-formed but
 * unsupported version earns.
 */
static int
parse_version(struct head *h, int *maj, int *min)
{
	static const char pat[] = "HTTP/d.d";
	size_t		 i;
	unsigned char	 ch;

	for (i = 0; i < sizeof(pat) - 1; i++) {
		if (h->pos + i >= h->end)
			return NEED;
		ch = h->buf[h->pos + i];
		if (pat[i] == 'd' ? !IS_DIGIT(ch) : ch != pat[i])
			return -400;
	}
	*maj = h->buf[h->pos + 5] - '0';
	*min = h->buf[h->pos + 7] - '0';
	h->pos += i;
	return OK;
}

/*
 * Check the request-target against the form the method calls for
 * (RFC 9112 3.2) and, for absolute-form, split it into authority and
 * path-and-query.
 */
static int
classify_target(struct head *h, struct http_request *req)
{
	const char	*t = req->target;
	size_t		 len = req->target_len, skip, i;

	/* authority-form is for CONNECT only, and CONNECT takes no other. */
	if (req->method == HTTP_M_CONNECT)
		return host_valid(t, len, 1) ? OK : -400;
	if (t[0] == '/')
		return OK;
	if (len == 1 && t[0] == '*')
		return req->method == HTTP_M_OPTIONS ? OK : -400;
	if (len >= 7 && ci_eq(t, 7, "http://"))
		skip = 7;
	else if (len >= 8 && ci_eq(t, 8, "https://"))
		skip = 8;
	else
		return -400;
	for (i = skip; i < len && t[i] != '/' && t[i] != '?'; i++)
		if (t[i] == '@')
			return -400;	/* userinfo: a classic spoofing trick */
	/* RFC 9110 4.2.1: an empty host must be rejected. */
	if (!host_valid(t + skip, i - skip, 0))
		return -400;
	/*
	 * "http://h?q" would need "/?q" as the target, which does not
	 * exist in buf and we do not allocate; nobody sends it anyway.
	 */
	if (i < len && t[i] == '?')
		return -400;
	req->host = t + skip;
	req->host_len = i - skip;
	if (i == len) {
		/* RFC 9112 3.2.4: a server-wide OPTIONS goes on as "*". */
		req->target = req->method == HTTP_M_OPTIONS ? "*" : "/";
		req->target_len = 1;
	} else {
		req->target = t + i;
		req->target_len = len - i;
	}
	h->flags |= HTTP_F_ABSOLUTE_FORM;
	return OK;
}

/* method SP request-target SP HTTP-version CRLF */
static int
parse_request_line(struct head *h, struct http_request *req, size_t max_uri)
{
	const char	*b = h->buf;
	size_t		 pos = h->pos, start;
	unsigned char	 ch;
	int		 rc, maj, min;

	for (start = pos; pos < h->end && is_tchar(b[pos]); pos++)
		;
	if (pos >= h->end)
		return NEED;
	if (pos == start || b[pos] != ' ')
		return -400;
	req->method_str = b + start;
	req->method_len = pos - start;
	req->method = http_method_lookup(req->method_str, req->method_len);

	for (start = ++pos;; pos++) {
		if (pos >= h->end)
			return NEED;
		ch = b[pos];
		if (ch == ' ')
			break;
		/* a fragment is never sent (RFC 9112 3.2) */
		if (ch <= 0x20 || ch == 0x7f || ch == '#')
			return -400;
		if (pos - start >= max_uri)
			return -414;
	}
	if (pos == start)
		return -400;
	req->target = b + start;
	req->target_len = pos - start;
	if ((rc = classify_target(h, req)) != OK)
		return rc;

	h->pos = pos + 1;
	if ((rc = parse_version(h, &maj, &min)) != OK)
		return rc;
	if ((rc = expect_crlf(h)) != OK)
		return rc;
	/* HTTP/1.2 and later minors read as 1.1 (RFC 9110 2.5) */
	if (maj != 1)
		return -505;
	h->version = req->version = 10 + (min > 1 ? 1 : min);
	return OK;
}

static int
skip_empty_lines(struct head *h)
{
	int		 n, rc;

	/* A bare LF is not skipped: it fails as the start of a method. */
	for (n = 0; h->pos < h->end && h->buf[h->pos] == '\r'; n++) {
		if (n == MAX_EMPTY_LINES)
			return -400;
		if ((rc = expect_crlf(h)) != OK)
			return rc;
	}
	return h->pos < h->end ? OK : NEED;
}

static void
head_init(struct head *h, const char *buf, size_t len,
    const struct http_limits *lim, struct http_field *fields)
{
	size_t		 max = lim && lim->max_header_size ?
			    lim->max_header_size : DEF_HEADER_SIZE;
	unsigned	 maxf = lim && lim->max_headers ? lim->max_headers :
			    DEF_HEADERS;

	memset(h, 0, sizeof(*h));
	if (max > INT_MAX)
		max = INT_MAX;		/* the length is returned as int */
	h->buf = buf;
	h->end = len < max ? len : max;
	h->fields = fields;
	h->maxfields = maxf < HTTP_MAX_HEADERS ? maxf : HTTP_MAX_HEADERS;
	h->framing = 1;
}

static int
request_head(struct head *h, struct http_request *req, size_t max_uri)
{
	int		 rc;

	if ((rc = skip_empty_lines(h)) != OK ||
	    (rc = parse_request_line(h, req, max_uri)) != OK)
		return rc;
	h->is_req = 1;
	if ((rc = parse_fields(h)) != OK)
		return rc;
	if (h->version == 11 && h->nhost == 0 &&
	    !(h->flags & HTTP_F_ABSOLUTE_FORM))
		return -400;		/* RFC 9112 3.2 */
	if (h->te == TE_OTHER)
		return -501;
	if (h->bad_expect)
		return -417;

	req->flags = h->flags;
	if (!(h->flags & HTTP_F_ABSOLUTE_FORM)) {
		req->host = h->host;
		req->host_len = h->host_len;
	}
	if (h->te == TE_CHUNKED)
		req->body = HTTP_BODY_CHUNKED;
	else if (h->clval > 0) {
		req->body = HTTP_BODY_LENGTH;
		req->content_length = h->clval;
	}
	req->head_len = h->pos;
	return OK;
}

int
http_parse_request(struct http_request *req, const char *buf, size_t len,
    const struct http_limits *lim)
{
	struct head	 h;
	int		 rc;

	/* fields[] is filled as far as nfields says: no need to clear it */
	memset(req, 0, offsetof(struct http_request, fields));
	head_init(&h, buf, len, lim, req->fields);
	rc = request_head(&h, req, lim && lim->max_uri_length ?
	    lim->max_uri_length : DEF_URI_LENGTH);
	req->nfields = h.nfields;
	/* Out of bytes: wait for more, unless the size limit cut us short. */
	if (rc == NEED)
		return len > h.end ? -431 : 0;
	return rc < 0 ? rc : (int)h.pos;
}

/*
 * status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF.
 * "HTTP/1.1 200\r\n" without the second SP is accepted too: plenty of
 * servers send it and it cannot change how the message is framed.
 */
static int
parse_status_line(struct head *h, struct http_response *resp)
{
	const char	*b = h->buf;
	size_t		 i;
	int		 rc, maj, min, status = 0;

	if ((rc = parse_version(h, &maj, &min)) != OK)
		return rc;
	if (maj != 1)
		return -505;
	h->version = resp->version = 10 + (min > 1 ? 1 : min);
	if (h->pos >= h->end)
		return NEED;
	if (b[h->pos++] != ' ')
		return -400;
	for (i = 0; i < 3; i++, h->pos++) {
		if (h->pos >= h->end)
			return NEED;
		if (!IS_DIGIT(b[h->pos]))
			return -400;
		status = status * 10 + (b[h->pos] - '0');
	}
	if (status < 100 || status > 599)
		return -400;
	resp->status = status;
	if (h->pos >= h->end)
		return NEED;
	if (b[h->pos] == ' ') {
		resp->reason = b + ++h->pos;
		while (h->pos < h->end && b[h->pos] != '\r') {
			if (!is_field_ch(b[h->pos]))
				return -400;
			h->pos++;
		}
		resp->reason_len = (size_t)(b + h->pos - resp->reason);
	}
	return expect_crlf(h);
}

static int
response_head(struct head *h, struct http_response *resp,
    enum http_method req_method)
{
	int		 rc, st;

	if ((rc = parse_status_line(h, resp)) != OK)
		return rc;
	/* RFC 9112 6.3 items 1 and 2: these never have a body. */
	st = resp->status;
	if (req_method == HTTP_M_HEAD || st < 200 || st == 204 || st == 304 ||
	    (req_method == HTTP_M_CONNECT && st < 300))
		h->framing = 0;
	if ((rc = parse_fields(h)) != OK)
		return rc;

	resp->flags = h->flags;
	if (!h->framing)
		resp->body = HTTP_BODY_NONE;
	else if (h->te == TE_OTHER)
		return -502;
	else if (h->te == TE_CHUNKED)
		resp->body = HTTP_BODY_CHUNKED;
	else if (h->cl == NULL)
		resp->body = HTTP_BODY_CLOSE;
	else if (h->clval > 0) {
		resp->body = HTTP_BODY_LENGTH;
		resp->content_length = h->clval;
	}
	resp->head_len = h->pos;
	return OK;
}

int
http_parse_response(struct http_response *resp, const char *buf,
    size_t len, enum http_method req_method, const struct http_limits *lim)
{
	struct head	 h;
	int		 rc;

	memset(resp, 0, offsetof(struct http_response, fields));
	head_init(&h, buf, len, lim, resp->fields);
	rc = response_head(&h, resp, req_method);
	resp->nfields = h.nfields;
	if (rc == NEED)
		return len > h.end ? -502 : 0;
	return rc < 0 ? -502 : (int)h.pos;
}

const struct http_field *
http_field_find(const struct http_field *fields, unsigned nfields,
    const char *name)
{
	size_t		 len = strlen(name);
	unsigned	 i;

	for (i = 0; i < nfields; i++)
		if (fields[i].name_len == len && name_is(&fields[i], name))
			return &fields[i];
	return NULL;
}

int
http_list_has(const char *value, size_t len, const char *token)
{
	size_t		 i = 0, s, e;

	for (;;) {
		for (s = i; i < len && value[i] != ','; i++)
			;
		for (e = i; s < e && IS_OWS(value[s]); s++)
			;
		while (e > s && IS_OWS(value[e - 1]))
			e--;
		if (ci_eq(value + s, e - s, token))
			return 1;
		if (i >= len)
			return 0;
		i++;
	}
}

enum http_method
http_method_lookup(const char *s, size_t len)
{
	static const struct {
		const char		*name;
		enum http_method	 m;
	} tab[] = {
		{ "GET", HTTP_M_GET }, { "HEAD", HTTP_M_HEAD },
		{ "POST", HTTP_M_POST }, { "PUT", HTTP_M_PUT },
		{ "DELETE", HTTP_M_DELETE }, { "OPTIONS", HTTP_M_OPTIONS },
		{ "TRACE", HTTP_M_TRACE }, { "PATCH", HTTP_M_PATCH },
		{ "CONNECT", HTTP_M_CONNECT }
	};
	size_t		 i;

	/* Methods are case-sensitive (RFC 9110 9.1): "get" is not GET. */
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].name) == len &&
		    memcmp(tab[i].name, s, len) == 0)
			return tab[i].m;
	return HTTP_M_OTHER;
}

/*
 * Chunked decoder.  The states before CS_LF all belong to the chunk-size
 * line and are bounded together by max_line.
 *
 * Whitespace after the size is accepted only as the BWS before a ";"
 * (RFC 9112 7.1.1 puts BWS inside chunk-ext and nowhere else): "5 ;a" is
 * fine, "5 \r\n" is not.  Likewise BWS after an extension name must lead
 * to "=" or ";", and after a value to ";".
 */
enum {
	CS_SIZE = 0,		/* hex digits */
	CS_SIZE_WS,		/* BWS after the size */
	CS_SEMI,		/* after ";", before an extension name */
	CS_NAME,
	CS_NAME_WS,
	CS_EQ,			/* after "=", before the value */
	CS_TOK,			/* token value */
	CS_QEND,		/* after a quoted-string value */
	CS_VAL_WS,
	CS_QS,			/* inside a quoted-string */
	CS_QP,			/* after a backslash in it */
	CS_LF,			/* the LF ending the size line */
	CS_DATA,
	CS_DATA_CR,
	CS_DATA_LF,
	CS_TRAILER,		/* start of a trailer line or the final CRLF */
	CS_END_LF,
	CS_DONE,
	CS_ERROR
};

/*
 * The rest of the size line as a table, the grammar read off row by row:
 * for each state and class of byte, the next state, or 0 (CS_SIZE, never
 * a target) for a syntax error.  CS_SIZE's row applies once it has its
 * digits; the quoted-string states are handled in code.
 */
enum { K_TCHAR, K_WS, K_SEMI, K_EQ, K_DQUOTE, K_CR, K_OTHER };

static const unsigned char ext_next[CS_VAL_WS + 1][K_OTHER] = {
	/*		  tchar    BWS	       ";"     "="    DQUOTE CR */
	[CS_SIZE] =	{ 0,	   CS_SIZE_WS, CS_SEMI, 0,     0,     CS_LF },
	[CS_SIZE_WS] =	{ 0,	   CS_SIZE_WS, CS_SEMI, 0,     0,     0 },
	[CS_SEMI] =	{ CS_NAME, CS_SEMI,    0,	0,     0,     0 },
	[CS_NAME] =	{ CS_NAME, CS_NAME_WS, CS_SEMI, CS_EQ, 0,     CS_LF },
	[CS_NAME_WS] =	{ 0,	   CS_NAME_WS, CS_SEMI, CS_EQ, 0,     0 },
	[CS_EQ] =	{ CS_TOK,  CS_EQ,      0,	0,     CS_QS, 0 },
	[CS_TOK] =	{ CS_TOK,  CS_VAL_WS,  CS_SEMI, 0,     0,     CS_LF },
	[CS_QEND] =	{ 0,	   CS_VAL_WS,  CS_SEMI, 0,     0,     CS_LF },
	[CS_VAL_WS] =	{ 0,	   CS_VAL_WS,  CS_SEMI, 0,     0,     0 },
};

static int
byte_kind(unsigned char ch)
{
	static const char	 sep[] = " \t;=\"\r";
	static const unsigned char kind[] = { K_WS, K_WS, K_SEMI, K_EQ,
		K_DQUOTE, K_CR };
	const char		*p;

	if (is_tchar(ch))
		return K_TCHAR;
	if (ch == '\0' || (p = strchr(sep, ch)) == NULL)
		return K_OTHER;
	return kind[p - sep];
}

void
http_chunked_init(struct http_chunked *c, size_t max_line)
{
	memset(c, 0, sizeof(*c));
	c->state = CS_SIZE;
	if (max_line == 0)
		max_line = DEF_CHUNK_LINE;
	if (max_line > SIZE_MAX / TRAILER_LINES)
		max_line = SIZE_MAX / TRAILER_LINES;
	c->max_line = max_line;
}

/* Advance the byte-at-a-time part of the machine; -1 on error. */
static int
chunk_step(struct http_chunked *c, unsigned char ch)
{
	int		 v, k;

	if (c->state < CS_LF && ch != '\r' && ++c->line_len > c->max_line)
		return -1;

	switch (c->state) {
	case CS_QS:
		/* qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
		if (ch == '"')
			c->state = CS_QEND;
		else if (ch == '\\')
			c->state = CS_QP;
		else if (!is_field_ch(ch))
			return -1;
		return 0;
	case CS_QP:
		if (!is_field_ch(ch))
			return -1;
		c->state = CS_QS;
		return 0;
	case CS_LF:
		if (ch != '\n')
			return -1;
		c->line_len = c->digits = 0;
		c->state = c->remaining == 0 ? CS_TRAILER : CS_DATA;
		return 0;
	case CS_DATA_CR:
	case CS_DATA_LF:
	case CS_END_LF:
		/* Exactly CRLF after the data, and LF after the last CR. */
		if (ch != (c->state == CS_DATA_CR ? '\r' : '\n'))
			return -1;
		c->state = c->state == CS_DATA_CR ? CS_DATA_LF :
		    c->state == CS_DATA_LF ? CS_SIZE : CS_DONE;
		return 0;
	case CS_SIZE:
		if ((v = hexval(ch)) != -1) {
			/* leading zeros are allowed, a few of them */
			if (c->digits == CHUNK_DIGITS_MAX ||
			    (c->remaining >> (4 * (CHUNK_DIGITS - 1))) != 0)
				return -1;
			c->digits++;
			c->remaining = c->remaining << 4 | (uint64_t)v;
			return 0;
		}
		/* Catches "", "+5", " 5", "-1" and the x of "0x5". */
		if (c->digits == 0)
			return -1;
		/* FALLTHROUGH */
	default:
		if (c->state > CS_VAL_WS || (k = byte_kind(ch)) == K_OTHER ||
		    ext_next[c->state][k] == 0)
			return -1;
		c->state = ext_next[c->state][k];
		return 0;
	}
}

/*
 * One trailer field line at in[pos..len).  It is only handed back whole,
 * so an incomplete line is left unconsumed for the caller to present
 * again; the bounds are checked on the partial line too, so that a peer
 * trickling an endless line is cut off.
 */
static enum http_chunk_rc
chunk_trailer(struct http_chunked *c, const char *in, size_t len,
    size_t pos, size_t *used, const char **out, size_t *out_len)
{
	struct http_field f;
	size_t		 avail = len - pos, n, content;
	size_t		 total = TRAILER_LINES * c->max_line;
	int		 rc;

	rc = scan_field_line(in + pos, avail, &f, &n);
	if (rc == NEED) {
		content = avail - (in[len - 1] == '\r');
		if (content > c->max_line || avail > total - c->trailer_bytes)
			goto fail;
		*used = pos;
		return HTTP_CHUNK_AGAIN;
	}
	if (rc != OK || n - 2 > c->max_line || n > total - c->trailer_bytes)
		goto fail;
	c->trailer_bytes += n;
	*out = in + pos;
	*out_len = n;
	*used = pos + n;
	return HTTP_CHUNK_TRAILER;
fail:
	c->state = CS_ERROR;
	*used = pos;
	return HTTP_CHUNK_ERROR;
}

enum http_chunk_rc
http_chunked_decode(struct http_chunked *c, const char *in, size_t len,
    size_t *used, const char **out, size_t *out_len)
{
	size_t		 pos = 0, n;

	*out = NULL;
	*out_len = 0;
	for (;;) {
		switch (c->state) {
		case CS_DONE:
			*used = pos;
			return HTTP_CHUNK_DONE;
		case CS_ERROR:
			*used = pos;
			return HTTP_CHUNK_ERROR;
		case CS_DATA:
			if (pos == len)
				goto again;
			n = len - pos;
			if (n > c->remaining)
				n = (size_t)c->remaining;
			*out = in + pos;
			*out_len = n;
			c->remaining -= n;
			if (c->remaining == 0)
				c->state = CS_DATA_CR;
			*used = pos + n;
			return HTTP_CHUNK_DATA;
		case CS_TRAILER:
			if (pos == len)
				goto again;
			if (in[pos] != '\r')
				return chunk_trailer(c, in, len, pos, used, out,
				    out_len);
			c->state = CS_END_LF;
			pos++;
			break;
		default:
			if (pos == len)
				goto again;
			if (chunk_step(c, in[pos++]) == -1)
				c->state = CS_ERROR;
			break;
		}
	}
again:
	*used = pos;
	return HTTP_CHUNK_AGAIN;
}
