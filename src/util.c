/*
 * util.c - value parsing shared by the configuration and the runtime.
 */
#include <sys/types.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util.h"

/* Parse a decimal number with an optional unit suffix from units[]. */
struct util_unit {
	const char	*suffix;
	uint64_t	 mult;
};

static int
util_parse_unit(const char *s, const struct util_unit *units, uint64_t *out)
{
	uint64_t	 v = 0;
	const char	*p = s;
	size_t		 i;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
	}
	for (i = 0; units[i].suffix != NULL; i++) {
		if (strcasecmp(p, units[i].suffix) == 0 &&
		    (units[i].suffix[0] != '\0' || *p == '\0')) {
			if (units[i].mult != 0 && v > UINT64_MAX / units[i].mult)
				return -1;
			*out = v * units[i].mult;
			return 0;
		}
	}
	return -1;
}

int
util_parse_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
	static const struct util_unit units[] = {
		{ "", 1 }, { "b", 1 }, { "k", 1024 }, { "kb", 1024 },
		{ "m", 1024 * 1024 }, { "mb", 1024 * 1024 },
		{ "g", 1024ULL * 1024 * 1024 }, { "gb", 1024ULL * 1024 * 1024 },
		{ NULL, 0 }
	};

	if (util_parse_unit(s, units, out) == -1) {
		snprintf(err, errlen, "invalid size \"%s\" (use a number "
		    "with an optional k, M or G suffix)", s);
		return -1;
	}
	return 0;
}

int
util_parse_duration(const char *s, int *ms, char *err, size_t errlen)
{
	static const struct util_unit units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { NULL, 0 }
	};
	uint64_t	 v;

	/* stored as int milliseconds: at most 24 days */
	if (util_parse_unit(s, units, &v) == -1 || v > 24ULL * 24 * 3600000) {
		snprintf(err, errlen, "invalid duration \"%s\" (use a number "
		    "with an optional ms, s, m or h suffix, at most 24 days)",
		    s);
		return -1;
	}
	*ms = (int)v;
	return 0;
}

int
util_parse_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *out, char *err, size_t errlen)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	if (!isdigit((unsigned char)*s))
		goto bad;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	snprintf(err, errlen, "invalid number \"%s\" (expected %lu to %lu)",
	    s, min, max);
	return -1;
}

int
util_parse_bool(const char *s, int *out, char *err, size_t errlen)
{
	if (strcasecmp(s, "on") == 0 || strcasecmp(s, "yes") == 0 ||
	    strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0) {
		*out = 1;
		return 0;
	}
	if (strcasecmp(s, "off") == 0 || strcasecmp(s, "no") == 0 ||
	    strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	snprintf(err, errlen, "invalid switch \"%s\" (expected on or off)", s);
	return -1;
}

void
util_ip_string(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void	*a;

	if (ss->ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	else if (ss->ss_family == AF_INET)
		a = &((const struct sockaddr_in *)ss)->sin_addr;
	else {
		snprintf(buf, len, "unix");
		return;
	}
	if (inet_ntop(ss->ss_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

void
util_addr_format(struct addr *a)
{
	char		 ip[INET6_ADDRSTRLEN];

	util_ip_string(&a->ss, ip, sizeof(ip));
	snprintf(a->str, sizeof(a->str), a->ss.ss_family == AF_INET6 ?
	    "[%s]:%u" : "%s:%u", ip, util_addr_port(a));
}

unsigned
util_addr_port(const struct addr *a)
{
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	return 0;
}

int
util_parse_addr(const char *s, struct addr *a, char *err, size_t errlen)
{
	char		 host[256];
	const char	*port, *p;
	size_t		 hl;
	struct addrinfo	 hints, *res;
	int		 rc;
	unsigned long	 pn;
	char		 perr[128];

	if ((p = strrchr(s, ':')) == NULL) {
		/* a bare port */
		host[0] = '\0';
		port = s;
	} else if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		hl = (size_t)(close - s - 1);
		if (hl == 0 || hl >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		port = close + 2;
	} else {
		hl = (size_t)(p - s);
		if (hl >= sizeof(host) || memchr(s, ':', hl) != NULL)
			goto bad;
		memcpy(host, s, hl);
		host[hl] = '\0';
		port = p + 1;
	}
	if (util_parse_uint(port, 0, 65535, &pn, perr, sizeof(perr)) == -1)
		goto bad;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (host[0] == '\0' || strcmp(host, "*") == 0) {
		hints.ai_family = AF_INET;
		hints.ai_flags |= AI_PASSIVE;
		rc = getaddrinfo(NULL, port, &hints, &res);
	} else
		rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve \"%s\": %s", s,
		    gai_strerror(rc));
		return -1;
	}
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	util_addr_format(a);
	return 0;
bad:
	snprintf(err, errlen, "invalid address \"%s\" (expected HOST:PORT, "
	    "[IPV6]:PORT or PORT)", s);
	return -1;
}

int
util_parse_cidr(const char *s, struct cidr *c, char *err, size_t errlen)
{
	char		 ip[INET6_ADDRSTRLEN + 1];
	const char	*slash = strchr(s, '/');
	size_t		 len = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long	 bits;
	char		 berr[64];

	memset(c, 0, sizeof(*c));
	if (len == 0 || len >= sizeof(ip))
		goto bad;
	memcpy(ip, s, len);
	ip[len] = '\0';
	if (inet_pton(AF_INET, ip, c->addr) == 1) {
		c->family = AF_INET;
		c->bits = 32;
	} else if (inet_pton(AF_INET6, ip, c->addr) == 1) {
		c->family = AF_INET6;
		c->bits = 128;
	} else
		goto bad;
	if (slash != NULL) {
		if (util_parse_uint(slash + 1, 0, c->bits, &bits, berr,
		    sizeof(berr)) == -1)
			goto bad;
		c->bits = (unsigned)bits;
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid address or network \"%s\" (expected "
	    "ADDRESS or ADDRESS/BITS)", s);
	return -1;
}

int
util_cidr_match(const struct cidr *c, const struct sockaddr_storage *ss)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };
	const unsigned char	*a;
	unsigned		 full, rest;

	if (ss->ss_family == AF_INET) {
		if (c->family != AF_INET)
			return 0;
		a = (const unsigned char *)
		    &((const struct sockaddr_in *)ss)->sin_addr;
	} else if (ss->ss_family == AF_INET6) {
		a = (const unsigned char *)
		    &((const struct sockaddr_in6 *)ss)->sin6_addr;
		if (c->family == AF_INET) {
			if (memcmp(a, mapped, 12) != 0)
				return 0;
			a += 12;
		}
	} else
		return 0;
	full = c->bits / 8;
	rest = c->bits % 8;
	if (memcmp(a, c->addr, full) != 0)
		return 0;
	if (rest != 0 && ((a[full] ^ c->addr[full]) &
	    (0xff << (8 - rest)) & 0xff) != 0)
		return 0;
	return 1;
}

size_t
util_append(char *dst, size_t cap, ...)
{
	va_list		 ap;
	const char	*s;
	size_t		 len, n;

	if (cap == 0)
		return 0;
	len = strnlen(dst, cap - 1);
	va_start(ap, cap);
	while ((s = va_arg(ap, const char *)) != NULL) {
		n = strlen(s);
		if (n > cap - 1 - len)
			n = cap - 1 - len;
		memcpy(dst + len, s, n);
		len += n;
	}
	va_end(ap);
	dst[len] = '\0';
	return len;
}

char *
util_u64_dec(uint64_t v, char *buf)
{
	char	 d[21];
	size_t	 i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	memcpy(buf, d + i, sizeof(d) - i);
	buf[sizeof(d) - i] = '\0';
	return buf;
}

uint64_t
util_hash64(const void *s, size_t len, uint64_t seed)
{
	const unsigned char	*p = s;
	uint64_t		 h = 0xcbf29ce484222325ULL ^ seed;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	/* FNV alone clusters similar keys: finish with splitmix64 */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

int64_t
util_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
