/*
 * alog.c - the access log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alog.h"
#include "log.h"

enum alog_var {
	AV_CLIENT = 0, AV_TIME, AV_METHOD, AV_URI, AV_PROTOCOL, AV_STATUS,
	AV_BYTES, AV_REFERER, AV_AGENT, AV_HOST, AV_UPSTREAM,
	AV_UPSTREAM_TIME, AV_REQUEST_TIME, AV_CACHE, AV_TIME_ISO,
	AV_COMPRESSION, AV_WAF, AV_NVARS
};

static const char *const alog_vars[AV_NVARS] = {
	"client", "time", "method", "uri", "protocol", "status", "bytes",
	"referer", "user_agent", "host", "upstream", "upstream_time",
	"request_time", "cache", "time_iso8601", "compression", "waf"
};

#define ALOG_MAX_PARTS	64

/* A custom format: literal text and variables, in order. */
struct alog_part {
	int		 var;		/* -1: literal */
	size_t		 off, len;	/* literal: span of alog_fmt */
};

enum alog_kind { AK_COMBINED = 0, AK_JSON, AK_CUSTOM };

static int		 alog_fd_ = -1;
static char		 alog_path[4096];
static int		 alog_created;	/* porter made the file */
static enum alog_kind	 alog_kind;
static char		 alog_fmt[1024];
static struct alog_part	 alog_parts[ALOG_MAX_PARTS];
static size_t		 alog_nparts;

/* Split fmt into parts; -1 with err on an unknown variable. */
static int
alog_parse(const char *fmt, struct alog_part *parts, size_t *nparts,
    char *err, size_t errlen)
{
	size_t	 i = 0, start, n = 0, v, len;

	if (strlen(fmt) >= sizeof(alog_fmt)) {
		snprintf(err, errlen, "format longer than %zu characters",
		    sizeof(alog_fmt) - 1);
		return -1;
	}
	while (fmt[i] != '\0') {
		if (n == ALOG_MAX_PARTS) {
			snprintf(err, errlen, "format has too many parts");
			return -1;
		}
		start = i;
		if (fmt[i] != '$') {
			while (fmt[i] != '\0' && fmt[i] != '$')
				i++;
			parts[n].var = -1;
			parts[n].off = start;
			parts[n++].len = i - start;
			continue;
		}
		i++;
		while ((fmt[i] >= 'a' && fmt[i] <= 'z') || fmt[i] == '_' ||
		    (fmt[i] >= '0' && fmt[i] <= '9'))
			i++;
		len = i - start - 1;
		for (v = 0; v < AV_NVARS; v++)
			if (strlen(alog_vars[v]) == len &&
			    strncmp(fmt + start + 1, alog_vars[v], len) == 0)
				break;
		if (v == AV_NVARS) {
			snprintf(err, errlen, "unknown variable \"$%.*s\"",
			    (int)len, fmt + start + 1);
			return -1;
		}
		parts[n].var = (int)v;
		parts[n].off = start;
		parts[n++].len = 0;
	}
	*nparts = n;
	return 0;
}

int
alog_format_check(const char *format, char *err, size_t errlen)
{
	struct alog_part parts[ALOG_MAX_PARTS];
	size_t		 n;

	if (strcmp(format, "combined") == 0 || strcmp(format, "json") == 0)
		return 0;
	if (strchr(format, '$') == NULL) {
		snprintf(err, errlen, "\"%s\" is not combined, json or a "
		    "format with $variables", format);
		return -1;
	}
	return alog_parse(format, parts, &n, err, errlen);
}

int
alog_open(const char *path, const char *format, char *err, size_t errlen)
{
	char	 why[4400];
	int	 fd, created;

	if (format == NULL || strcmp(format, "combined") == 0)
		alog_kind = AK_COMBINED;
	else if (strcmp(format, "json") == 0)
		alog_kind = AK_JSON;
	else {
		if (alog_parse(format, alog_parts, &alog_nparts, err,
		    errlen) == -1)
			return -1;
		snprintf(alog_fmt, sizeof(alog_fmt), "%s", format);
		alog_kind = AK_CUSTOM;
	}
	if (path == NULL) {
		if (alog_fd_ > 2)
			close(alog_fd_);
		alog_fd_ = -1;
		alog_path[0] = '\0';
		alog_created = 0;
		return 0;
	}
	if ((fd = log_file_open(path, &created, why, sizeof(why))) == -1) {
		snprintf(err, errlen, "cannot open access log %s", why);
		return -1;
	}
	if (alog_fd_ > 2 && alog_fd_ != fd)
		close(alog_fd_);
	alog_fd_ = fd;
	alog_created = created;
	/* standard output and error are used as they are, never reopened */
	snprintf(alog_path, sizeof(alog_path), "%s", fd > 2 ? path : "");
	return 0;
}

int
alog_created_fd(void)
{
	return alog_path[0] != '\0' && alog_created ? alog_fd_ : -1;
}

int
alog_fd(void)
{
	return alog_fd_;
}

int
alog_reopen(void)
{
	char	 why[4400];
	int	 fd, created;

	if (alog_fd_ == -1 || alog_path[0] == '\0')
		return 0;
	if ((fd = log_file_open(alog_path, &created, why, sizeof(why))) ==
	    -1) {
		log_warnx("reopen %s", why);
		return -1;
	}
	/* dup2 would clear close-on-exec: an upgrade would inherit it */
	if (dup3(fd, alog_fd_, O_CLOEXEC) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	alog_created = created;
	return 0;
}

/* A bounded line being built. */
struct alog_line {
	char	 buf[8192];
	size_t	 n;
	int	 json;	/* escape for JSON strings */
};

static void
alog_raw(struct alog_line *l, const char *s, size_t len)
{
	if (len > sizeof(l->buf) - 1 - l->n)
		len = sizeof(l->buf) - 1 - l->n;
	memcpy(l->buf + l->n, s, len);
	l->n += len;
}

static void
alog_str(struct alog_line *l, const char *s)
{
	alog_raw(l, s, strlen(s));
}

/*
 * Append a value from the request, escaped: '"', '\\' and bytes outside
 * printable ASCII become \xHH, so a line is always one line and never
 * breaks the quoting of combined or json.  Empty values are "-".  At most
 * max bytes of input are taken.
 */
static void
alog_escaped(struct alog_line *l, const char *s, size_t len, size_t max)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char	 ch;
	size_t		 i;
	char		 e[2];

	if (s == NULL || len == 0) {
		alog_raw(l, "-", 1);
		return;
	}
	if (len > max)
		len = max;
	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
			/* JSON knows \u00HH, not \xHH */
			if (l->json)
				alog_raw(l, "\\u00", 4);
			else
				alog_raw(l, "\\x", 2);
			e[0] = hex[ch >> 4];
			e[1] = hex[ch & 15];
			alog_raw(l, e, 2);
		} else
			alog_raw(l, s + i, 1);
	}
}

static void
alog_secs(struct alog_line *l, int64_t ms)
{
	char	 b[32];

	if (ms < 0) {
		alog_raw(l, "-", 1);
		return;
	}
	snprintf(b, sizeof(b), "%lld.%03lld", (long long)(ms / 1000),
	    (long long)(ms % 1000));
	alog_str(l, b);
}

static void
alog_var(struct alog_line *l, int v, const struct alog_entry *e,
    const char *tclf, const char *tiso)
{
	char	 b[32];

	switch (v) {
	case AV_CLIENT:
		alog_str(l, e->client_ip);
		break;
	case AV_TIME:
		alog_str(l, tclf);
		break;
	case AV_TIME_ISO:
		alog_str(l, tiso);
		break;
	case AV_METHOD:
		alog_escaped(l, e->method, e->method_len, 64);
		break;
	case AV_URI:
		alog_escaped(l, e->target, e->target_len, 2048);
		break;
	case AV_PROTOCOL:
		snprintf(b, sizeof(b), "HTTP/%d.%d", e->version / 10,
		    e->version % 10);
		alog_str(l, b);
		break;
	case AV_STATUS:
		snprintf(b, sizeof(b), "%d", e->status);
		alog_str(l, b);
		break;
	case AV_BYTES:
		snprintf(b, sizeof(b), "%llu", (unsigned long long)e->bytes);
		alog_str(l, b);
		break;
	case AV_REFERER:
		alog_escaped(l, e->referer, e->referer_len, 1024);
		break;
	case AV_AGENT:
		alog_escaped(l, e->agent, e->agent_len, 1024);
		break;
	case AV_HOST:
		alog_escaped(l, e->host, e->host_len, 256);
		break;
	case AV_UPSTREAM:
		alog_str(l, e->upstream != NULL ? e->upstream : "-");
		break;
	case AV_UPSTREAM_TIME:
		alog_secs(l, e->upstream_ms);
		break;
	case AV_REQUEST_TIME:
		alog_secs(l, e->total_ms);
		break;
	case AV_CACHE:
		alog_str(l, e->cache != NULL ? e->cache : "-");
		break;
	case AV_COMPRESSION:
		alog_str(l, e->compression != NULL ? e->compression : "-");
		break;
	case AV_WAF:
		alog_str(l, e->waf != NULL ? e->waf : "-");
		break;
	}
}

static void
alog_json(struct alog_line *l, const struct alog_entry *e, const char *tiso)
{
	static const int order[] = {
		AV_TIME_ISO, AV_CLIENT, AV_METHOD, AV_URI, AV_PROTOCOL,
		AV_STATUS, AV_BYTES, AV_HOST, AV_REFERER, AV_AGENT,
		AV_UPSTREAM, AV_UPSTREAM_TIME, AV_REQUEST_TIME, AV_CACHE,
		AV_COMPRESSION
	};
	size_t	 i;
	int	 v, number;

	alog_raw(l, "{", 1);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		v = order[i];
		number = v == AV_STATUS || v == AV_BYTES ||
		    (v == AV_UPSTREAM_TIME && e->upstream_ms >= 0) ||
		    v == AV_REQUEST_TIME;
		if (i > 0)
			alog_raw(l, ",", 1);
		alog_raw(l, "\"", 1);
		alog_str(l, v == AV_TIME_ISO ? "time" : alog_vars[v]);
		alog_raw(l, "\":", 2);
		if (!number)
			alog_raw(l, "\"", 1);
		alog_var(l, v, e, "", tiso);
		if (!number)
			alog_raw(l, "\"", 1);
	}
	alog_raw(l, "}", 1);
}

void
alog_write(const struct alog_entry *e)
{
	static time_t		 cached;
	static char		 tclf[64], tiso[64];
	static const int	 combined[] = {
		AV_CLIENT, -1, AV_TIME, -2, AV_METHOD, -3, AV_URI, -3,
		AV_PROTOCOL, -4, AV_STATUS, -3, AV_BYTES, -5, AV_REFERER,
		-6, AV_AGENT, -4, AV_UPSTREAM, -3, AV_UPSTREAM_TIME, -3,
		AV_REQUEST_TIME
	};
	static const char *const lit[] = {
		"", " - - [", "] \"", " ", "\" ", " \"", "\" \""
	};
	struct alog_line	 l;
	time_t			 now;
	struct tm		 tm;
	size_t			 i;

	if (alog_fd_ == -1)
		return;
	now = time(NULL);
	if (now != cached) {
		localtime_r(&now, &tm);
		strftime(tclf, sizeof(tclf), "%d/%b/%Y:%H:%M:%S %z", &tm);
		strftime(tiso, sizeof(tiso), "%Y-%m-%dT%H:%M:%S%z", &tm);
		cached = now;
	}
	l.n = 0;
	l.json = alog_kind == AK_JSON;
	switch (alog_kind) {
	case AK_COMBINED:
		for (i = 0; i < sizeof(combined) / sizeof(combined[0]); i++)
			if (combined[i] < 0)
				alog_str(&l, lit[-combined[i]]);
			else
				alog_var(&l, combined[i], e, tclf, tiso);
		break;
	case AK_JSON:
		alog_json(&l, e, tiso);
		break;
	case AK_CUSTOM:
		for (i = 0; i < alog_nparts; i++)
			if (alog_parts[i].var < 0)
				alog_raw(&l, alog_fmt + alog_parts[i].off,
				    alog_parts[i].len);
			else
				alog_var(&l, alog_parts[i].var, e, tclf, tiso);
		break;
	}
	l.buf[l.n++] = '\n';
	(void)write(alog_fd_, l.buf, l.n);
}
