/*
 * cache_target.c - CDN-Cache-Control and Surrogate-Control.
 *
 * CDN-Cache-Control (RFC 9213) is a Structured Field dictionary (RFC
 * 8941 3.2): lowercase keys, values that are typed bare items with
 * parameters.  Its directives mean what they mean in Cache-Control;
 * those taking seconds must be Integers, and a field that does not parse,
 * or gives one of them another type, is ignored as a whole (2.1).
 *
 * Surrogate-Control is older and looser: a comma list of no-store,
 * no-store-remote, max-age=N[+M] and content="...", each perhaps aimed
 * at one surrogate by ";device".  porter takes no-store and max-age
 * (the +M extension is dropped) whatever device they name, and ignores
 * the field when neither is there.
 *
 * Both fields are left in the response for the caches and clients after
 * porter, as RFC 9213 allows.
 */
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "cache_target.h"

#define TGT_MAX		1024	/* bytes of one field, lines joined */

#define LCALPHA(c)	((c) >= 'a' && (c) <= 'z')
#define ALPHA(c)	(LCALPHA(c) || ((c) >= 'A' && (c) <= 'Z'))
#define DIGIT(c)	((c) >= '0' && (c) <= '9')
#define SP(c)		((c) == ' ')
#define OWS(c)		((c) == ' ' || (c) == '\t')

enum sf_type { SF_NONE, SF_INT, SF_DEC, SF_STR, SF_TOK, SF_BYTES, SF_BOOL };

struct sf_item {
	enum sf_type	 type;
	const char	*v;		/* SF_INT: the digits */
	size_t		 len;
	int		 neg;		/* SF_INT */
	int		 truth;		/* SF_BOOL */
};

/* key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ) */
static int
sf_key(const char *s, size_t len, size_t *i, const char **k, size_t *klen)
{
	size_t		 j = *i;

	if (j >= len || !(LCALPHA(s[j]) || s[j] == '*'))
		return 0;
	for (j++; j < len && (LCALPHA(s[j]) || DIGIT(s[j]) || s[j] == '_' ||
	    s[j] == '-' || s[j] == '.' || s[j] == '*'); j++)
		;
	*k = s + *i;
	*klen = j - *i;
	*i = j;
	return 1;
}

/* RFC 8941 4.2.3.1, without the Date and Display String of RFC 9651. */
static int
sf_bare(const char *s, size_t len, size_t *i, struct sf_item *it)
{
	size_t		 j = *i, d0, n;
	unsigned char	 c;

	memset(it, 0, sizeof(*it));
	if (j >= len)
		return 0;
	c = (unsigned char)s[j];
	if (c == '-' || DIGIT(c)) {
		if (c == '-')
			it->neg = 1, j++;
		for (d0 = j; j < len && DIGIT(s[j]); j++)
			;
		n = j - d0;
		if (n == 0)
			return 0;
		if (j < len && s[j] == '.') {
			size_t f0 = ++j;

			while (j < len && DIGIT(s[j]))
				j++;
			if (n > 12 || j == f0 || j - f0 > 3)
				return 0;
			it->type = SF_DEC;
		} else {
			if (n > 15)
				return 0;
			it->type = SF_INT;
			it->v = s + d0;
			it->len = n;
		}
	} else if (c == '"') {
		for (j++; j < len && s[j] != '"'; j++) {
			c = (unsigned char)s[j];
			if (c == '\\') {
				if (++j >= len || (s[j] != '"' && s[j] != '\\'))
					return 0;
			} else if (c < 0x20 || c > 0x7e)
				return 0;
		}
		if (j++ >= len)
			return 0;
		it->type = SF_STR;
	} else if (c == '*' || ALPHA(c)) {
		for (j++; j < len && (http_tchar((unsigned char)s[j]) ||
		    s[j] == ':' || s[j] == '/'); j++)
			;
		it->type = SF_TOK;
	} else if (c == ':') {
		for (j++; j < len && s[j] != ':'; j++)
			if (!(ALPHA(s[j]) || DIGIT(s[j]) || s[j] == '+' ||
			    s[j] == '/' || s[j] == '='))
				return 0;
		if (j++ >= len)
			return 0;
		it->type = SF_BYTES;
	} else if (c == '?') {
		if (j + 1 >= len || (s[j + 1] != '0' && s[j + 1] != '1'))
			return 0;
		it->truth = s[j + 1] == '1';
		j += 2;
		it->type = SF_BOOL;
	} else
		return 0;
	*i = j;
	return 1;
}

/* parameters = *( ";" *SP key [ "=" bare-item ] ), values unused */
static int
sf_params(const char *s, size_t len, size_t *i)
{
	struct sf_item	 it;
	const char	*k;
	size_t		 klen;

	while (*i < len && s[*i] == ';') {
		for ((*i)++; *i < len && SP(s[*i]); (*i)++)
			;
		if (!sf_key(s, len, i, &k, &klen))
			return 0;
		if (*i < len && s[*i] == '=') {
			(*i)++;
			if (!sf_bare(s, len, i, &it))
				return 0;
		}
	}
	return 1;
}

/*
 * Apply one dictionary member to cc; 0 when it makes the field invalid
 * (an Inner List, or a directive of seconds that is not an Integer >= 0).
 */
static int
cdn_member(struct cache_cc *cc, const char *k, size_t klen,
    const struct sf_item *it)
{
	static const char *const secs[] = {
		"max-age", "s-maxage", "stale-while-revalidate",
		"stale-if-error"
	};
	size_t		 i;

	for (i = 0; i < sizeof(secs) / sizeof(secs[0]); i++)
		if (klen == strlen(secs[i]) && memcmp(k, secs[i], klen) == 0) {
			if (it->type != SF_INT || it->neg)
				return 0;
			cache_cc_directive(cc, k, klen, it->v, it->len, 1);
			return 1;
		}
	/* flags: true means the plain form; a value means the qualified */
	if (it->type == SF_BOOL && !it->truth)
		return 1;		/* "?0": not set */
	cache_cc_directive(cc, k, klen, "x", 1, it->type != SF_BOOL);
	return 1;
}

/* The dictionary in s (lines joined); 1 when valid and non-empty. */
static int
cdn_parse(const char *s, size_t len, struct cache_cc *cc)
{
	struct sf_item	 it;
	const char	*k;
	size_t		 i = 0, klen;
	int		 members = 0;

	while (i < len && SP(s[i]))
		i++;
	while (len > i && SP(s[len - 1]))
		len--;
	if (i == len)
		return 0;		/* empty: as if absent */
	for (;;) {
		if (!sf_key(s, len, &i, &k, &klen))
			return 0;
		if (i < len && s[i] == '=') {
			i++;
			if (i < len && s[i] == '(')
				return 0;	/* no directive takes a list */
			if (!sf_bare(s, len, &i, &it))
				return 0;
		} else {
			memset(&it, 0, sizeof(it));
			it.type = SF_BOOL;
			it.truth = 1;
		}
		if (!sf_params(s, len, &i) || !cdn_member(cc, k, klen, &it))
			return 0;
		members++;
		while (i < len && OWS(s[i]))
			i++;
		if (i == len)
			return members > 0;
		if (s[i++] != ',')
			return 0;
		while (i < len && OWS(s[i]))
			i++;
		if (i == len)
			return 0;	/* a trailing comma */
	}
}

/* Surrogate-Control in s; 1 when it had no-store or a valid max-age. */
static int
sc_parse(const char *s, size_t len, struct cache_cc *cc)
{
	size_t		 i = 0, n0, nlen, a0, alen;
	int		 known = 0;

	for (;;) {
		while (i < len && (OWS(s[i]) || s[i] == ','))
			i++;
		if (i >= len)
			return known;
		for (n0 = i; i < len && http_tchar((unsigned char)s[i]); i++)
			;
		nlen = i - n0;
		a0 = alen = 0;
		if (i < len && s[i] == '=') {
			a0 = ++i;
			if (i < len && s[i] == '"') {
				for (i++; i < len && s[i] != '"'; i++)
					;
				i += i < len;
			} else
				while (i < len && (DIGIT(s[i]) || s[i] == '+'))
					i++;
			alen = i - a0;
		}
		/* ";device" aims it at one surrogate: porter takes it */
		if (i < len && s[i] == ';')
			while (i < len && s[i] != ',' && !OWS(s[i]))
				i++;
		while (i < len && OWS(s[i]))
			i++;
		if (i < len && s[i] != ',') {
			/* malformed ("max-age = 5"): skip the member */
			while (i < len && s[i] != ',')
				i++;
			continue;
		}
		if (nlen == 8 && strncasecmp(s + n0, "no-store", 8) == 0 &&
		    alen == 0) {
			cache_cc_directive(cc, "no-store", 8, NULL, 0, 0);
			known = 1;
		} else if (nlen == 7 && strncasecmp(s + n0, "max-age", 7) == 0 &&
		    alen > 0 && DIGIT(s[a0])) {
			size_t d = 0;

			while (d < alen && DIGIT(s[a0 + d]))
				d++;
			if (d < alen && (s[a0 + d] != '+' || d + 1 == alen))
				continue;	/* "5+" or "5x": not seconds */
			cache_cc_directive(cc, "max-age", 7, s + a0, d, 1);
			known = 1;
		}
	}
}

/* Every line of field name joined by ", " into buf; 0 if none or long. */
static size_t
tgt_join(const struct http_field *f, unsigned n, const char *name,
    char *buf, size_t cap)
{
	size_t		 len = 0, nl = strlen(name);
	unsigned	 i;

	for (i = 0; i < n; i++) {
		if (f[i].name_len != nl || strncasecmp(f[i].name, name, nl) != 0)
			continue;
		if (len + 2 + f[i].value_len > cap)
			return 0;
		if (len > 0) {
			memcpy(buf + len, ", ", 2);
			len += 2;
		}
		memcpy(buf + len, f[i].value, f[i].value_len);
		len += f[i].value_len;
	}
	return len;
}

int
cache_target_parse(const struct http_field *fields, unsigned n,
    struct cache_cc *cc)
{
	/* in order of precedence (RFC 9213 2.1's target list) */
	static const struct {
		const char	*name;
		int		(*parse)(const char *, size_t, struct cache_cc *);
	} tgt[] = {
		{ "cdn-cache-control", cdn_parse },
		{ "surrogate-control", sc_parse }
	};
	char		 buf[TGT_MAX];
	size_t		 len, i;

	for (i = 0; i < sizeof(tgt) / sizeof(tgt[0]); i++) {
		if ((len = tgt_join(fields, n, tgt[i].name, buf,
		    sizeof(buf))) == 0)
			continue;
		cache_cc_init(cc);
		if (tgt[i].parse(buf, len, cc)) {
			cc->flags |= CC_TARGETED;
			return 1;
		}
	}
	return 0;
}
