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

static int	 alog_fd = -1;
static char	 alog_path[4096];

int
alog_open(const char *path, char *err, size_t errlen)
{
	int	 fd;

	if (path == NULL) {
		if (alog_fd != -1)
			close(alog_fd);
		alog_fd = -1;
		alog_path[0] = '\0';
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		snprintf(err, errlen, "cannot open access log %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (alog_fd != -1)
		close(alog_fd);
	alog_fd = fd;
	snprintf(alog_path, sizeof(alog_path), "%s", path);
	return 0;
}

int
alog_reopen(void)
{
	int	 fd;

	if (alog_fd == -1)
		return 0;
	fd = open(alog_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_warn("reopen %s", alog_path);
		return -1;
	}
	if (dup2(fd, alog_fd) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Copy a field value, escaping '"', '\\' and non-printables. */
static size_t
alog_escape(char *out, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		 i, n = 0;
	unsigned char	 ch;

	if (s == NULL || len == 0) {
		if (cap > 1) {
			out[0] = '-';
			return 1;
		}
		return 0;
	}
	for (i = 0; i < len && n + 4 < cap; i++) {
		ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[ch >> 4];
			out[n++] = hex[ch & 15];
		} else
			out[n++] = (char)ch;
	}
	return n;
}

void
alog_write(const struct alog_entry *e)
{
	static time_t	 cached;
	static char	 tbuf[64];
	char		 line[8192], up[32];
	time_t		 now;
	struct tm	 tm;
	size_t		 n;
	int		 r;

	if (alog_fd == -1)
		return;
	now = time(NULL);
	if (now != cached) {
		localtime_r(&now, &tm);
		strftime(tbuf, sizeof(tbuf), "%d/%b/%Y:%H:%M:%S %z", &tm);
		cached = now;
	}
	r = snprintf(line, sizeof(line), "%s - - [%s] \"", e->client_ip, tbuf);
	n = r > 0 ? (size_t)r : 0;
	n += alog_escape(line + n, 2048, e->method, e->method_len);
	line[n++] = ' ';
	n += alog_escape(line + n, 2048, e->target, e->target_len);
	r = snprintf(line + n, sizeof(line) - n, " HTTP/%d.%d\" %d %llu \"",
	    e->version / 10, e->version % 10, e->status,
	    (unsigned long long)e->bytes);
	n += r > 0 ? (size_t)r : 0;
	n += alog_escape(line + n, 1024, e->referer, e->referer_len);
	line[n++] = '"';
	line[n++] = ' ';
	line[n++] = '"';
	n += alog_escape(line + n, 1024, e->agent, e->agent_len);
	if (e->upstream_ms >= 0)
		snprintf(up, sizeof(up), "%lld.%03lld",
		    (long long)(e->upstream_ms / 1000),
		    (long long)(e->upstream_ms % 1000));
	else
		snprintf(up, sizeof(up), "-");
	r = snprintf(line + n, sizeof(line) - n, "\" %s %s %lld.%03lld\n",
	    e->upstream != NULL ? e->upstream : "-", up,
	    (long long)(e->total_ms / 1000), (long long)(e->total_ms % 1000));
	n += r > 0 ? (size_t)r : 0;
	if (n > sizeof(line))
		n = sizeof(line);
	(void)write(alog_fd, line, n);
}
