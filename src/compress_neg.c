/*
 * compress_neg.c - content-coding negotiation: Accept-Encoding with its
 * q-values (RFC 9110 12.5.3) and the rules that keep a response as it is.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "compress_neg.h"
#include "http_parse.h"

static const char *const compress_neg_names[COMPRESS_NCODINGS] = {
	"identity", "gzip", "br", "zstd"
};

void
compress_neg_init(struct compress_accept *a)
{
	int	 i;

	for (i = 0; i < COMPRESS_NCODINGS; i++)
		a->q[i] = -1;
	a->star = -1;
	a->seen = 0;
}

static int
compress_neg_ows(int c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 tchar */
static int
compress_neg_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
 * thousandths; -1 when p[0..len) is not one.
 */
static int
compress_neg_qvalue(const char *p, size_t len)
{
	size_t	 i;
	int	 q, scale = 100;

	if (len == 0 || (p[0] != '0' && p[0] != '1'))
		return -1;
	q = p[0] == '1' ? 1000 : 0;
	if (len == 1)
		return q;
	if (p[1] != '.' || len > 5)
		return -1;
	for (i = 2; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (q == 1000 && p[i] != '0')
			return -1;
		if (q < 1000)
			q += (p[i] - '0') * scale;
		scale /= 10;
	}
	return q;
}

/* One list element e[0..len): "coding *( OWS ; OWS param )". */
static void
compress_neg_element(struct compress_accept *a, const char *e, size_t len)
{
	size_t		 i = 0, tok, pn, pv;
	const char	*name;
	int		 q = 1000, k, c;

	while (i < len && compress_neg_tchar((unsigned char)e[i]))
		i++;
	if (i == 0)
		return;
	tok = i;
	name = e;
	while (i < len) {
		while (i < len && compress_neg_ows(e[i]))
			i++;
		if (i == len)
			break;
		if (e[i++] != ';')
			return;
		while (i < len && compress_neg_ows(e[i]))
			i++;
		pn = i;
		while (i < len && compress_neg_tchar((unsigned char)e[i]))
			i++;
		if (i == pn || i == len || e[i] != '=')
			return;
		k = (int)(i - pn);
		pv = ++i;
		while (i < len && compress_neg_tchar((unsigned char)e[i]))
			i++;
		if (k == 1 && (e[pn] == 'q' || e[pn] == 'Q')) {
			if ((q = compress_neg_qvalue(e + pv, i - pv)) == -1)
				return;
		}
		/* other parameters (not in the grammar) are ignored */
	}
	if (tok == 1 && name[0] == '*') {
		a->star = q;
		return;
	}
	for (c = 0; c < COMPRESS_NCODINGS; c++)
		if (strlen(compress_neg_names[c]) == tok &&
		    strncasecmp(name, compress_neg_names[c], tok) == 0)
			break;
	/* "x-gzip" is gzip (RFC 9110 8.4.1.3) */
	if (c == COMPRESS_NCODINGS && tok == 6 &&
	    strncasecmp(name, "x-gzip", 6) == 0)
		c = COMPRESS_GZIP;
	if (c == COMPRESS_NCODINGS)
		return;
	/* named twice: the more generous q holds */
	if (q > a->q[c])
		a->q[c] = q;
}

void
compress_neg_feed(struct compress_accept *a, const char *v, size_t len)
{
	size_t	 i = 0, start, end;

	a->seen = 1;
	while (i < len) {
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (start < end && compress_neg_ows(v[start]))
			start++;
		while (end > start && compress_neg_ows(v[end - 1]))
			end--;
		if (end > start)
			compress_neg_element(a, v + start, end - start);
		if (i < len)
			i++;	/* the comma */
	}
}

enum compress_coding
compress_neg_choose(const struct compress_accept *a)
{
	static const enum compress_coding pref[] = {
		COMPRESS_ZSTD, COMPRESS_BR, COMPRESS_GZIP
	};
	enum compress_coding	 best = COMPRESS_NONE;
	int			 bq = 0, q;
	size_t			 i;

	if (!a->seen)
		return COMPRESS_NONE;
	for (i = 0; i < sizeof(pref) / sizeof(pref[0]); i++) {
		q = a->q[pref[i]] >= 0 ? a->q[pref[i]] : a->star;
		if (q > bq) {
			best = pref[i];
			bq = q;
		}
	}
	/* identity named with a higher preference than any coding */
	if (best != COMPRESS_NONE && a->q[COMPRESS_NONE] > bq)
		return COMPRESS_NONE;
	return best;
}

const char *
compress_neg_name(enum compress_coding c)
{
	if (c <= COMPRESS_NONE || c >= COMPRESS_NCODINGS)
		return NULL;
	return compress_neg_names[c];
}

/* Is the media type of a Content-Type value v[0..len) in cf's list? */
static int
compress_neg_type(const struct compress_config *cf, const char *v,
    size_t len)
{
	const char	*t, *slash;
	size_t		 n, i, tl;

	for (n = 0; n < len && v[n] != ';' && !compress_neg_ows(v[n]); n++)
		;
	if (n == 0 || (slash = memchr(v, '/', n)) == NULL)
		return 0;
	for (i = 0; i < cf->ntypes; i++) {
		t = cf->types[i];
		tl = strlen(t);
		if (tl == n && strncasecmp(t, v, n) == 0)
			return 1;
		/* "text/" and a star: the whole top-level type */
		if (tl >= 2 && t[tl - 1] == '*' && t[tl - 2] == '/' &&
		    (size_t)(slash - v) == tl - 2 &&
		    strncasecmp(t, v, tl - 2) == 0)
			return 1;
	}
	return 0;
}

int
compress_neg_eligible(const struct compress_config *cf, int status,
    int head_request, int has_body, int known_length, uint64_t length,
    const struct http_field *fields, unsigned nfields)
{
	const struct http_field	*f;
	unsigned		 i;
	int			 typed = 0;

	if (cf == NULL || !cf->on || head_request || !has_body ||
	    status < 200 || status == 204 || status == 206 || status == 304)
		return 0;
	if (known_length && length < cf->min_length)
		return 0;
	for (i = 0; i < nfields; i++) {
		f = &fields[i];
		if (f->name_len == 16 &&
		    strncasecmp(f->name, "content-encoding", 16) == 0)
			return 0;
		if (f->name_len == 13 &&
		    strncasecmp(f->name, "content-range", 13) == 0)
			return 0;
		if (f->name_len == 13 &&
		    strncasecmp(f->name, "cache-control", 13) == 0 &&
		    http_list_has(f->value, f->value_len, "no-transform"))
			return 0;
		if (f->name_len == 12 &&
		    strncasecmp(f->name, "content-type", 12) == 0) {
			/* two types: not one we can be sure of */
			if (typed++ || !compress_neg_type(cf, f->value,
			    f->value_len))
				return 0;
		}
	}
	return typed == 1;
}
