/*
 * waf.c - the web application firewall, on libmodsecurity3.
 *
 * The master loads the rule files named by [waf] rules into one rule
 * set while it loads the configuration, so a broken file fails the
 * load (and a reload keeps the running configuration) and the workers
 * inherit the parsed rules copy-on-write.  A worker runs one
 * transaction per request on a route with waf = on or detect (see
 * relay_waf.c for what it is fed); routes without it create none.
 *
 * Matched rule ids come from libmodsecurity's log callback, which it
 * calls with the transaction's own pointer: they are collected into the
 * verdict, written to porter's error log and counted in the shared
 * segment (the first WAF_TOP ids seen get a counter each).
 */
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"
#include "waf.h"

#ifdef HAVE_MODSECURITY
#include <modsecurity/modsecurity.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>
#include <modsecurity/intervention.h>
#endif

static struct waf_shm	*waf_counters;

void
waf_shm_init(struct waf_shm *s)
{
	waf_counters = s;
}

struct waf_shm *
waf_shm(void)
{
	return waf_counters;
}

/* Count one matched rule id: its own counter if it has or gets one. */
static void
waf_count_rule(uint32_t id)
{
	struct waf_shm	*s = waf_counters;
	uint32_t	 cur;
	size_t		 i;

	if (s == NULL)
		return;
	for (i = 0; i < WAF_TOP; i++) {
		cur = atomic_load(&s->rule_id[i]);
		if (cur == 0) {
			/* claim the free slot, or see who took it */
			if (atomic_compare_exchange_strong(&s->rule_id[i],
			    &cur, id))
				cur = id;
		}
		if (cur == id) {
			atomic_fetch_add(&s->rule_hits[i], 1);
			return;
		}
	}
	atomic_fetch_add(&s->rule_other, 1);
}

#ifdef HAVE_MODSECURITY

struct waf_rules {
	RulesSet	*rs;
};

struct waf_tx {
	Transaction		*t;
	struct waf_verdict	*v;
	size_t			 rlen;		/* used of v->rules */
	int			 counted;	/* the verdict, in waf_shm */
	int			 counted_large;
};

static ModSecurity	*waf_msc;
static struct waf_tx	 waf_cur;	/* one request at a time */
static char		*waf_ubuf;	/* the URI, NUL-terminated */
static size_t		 waf_ucap;
static unsigned		 waf_seq;

int
waf_available(void)
{
	return 1;
}

/* Add the [id "N"] of a rule's message to the verdict's list, once. */
static void
waf_add_id(struct waf_tx *x, const char *m)
{
	const char	*p, *e;
	char		 id[16];
	size_t		 n;

	if (m == NULL || (p = strstr(m, "[id \"")) == NULL)
		return;
	p += 5;
	for (e = p; *e >= '0' && *e <= '9' && e - p < 12; e++)
		;
	if (*e != '"' || e == p)
		return;
	n = (size_t)(e - p);
	memcpy(id, p, n);
	id[n] = '\0';
	/* once each: "," guards prefixes (9421 vs 942100) */
	for (p = x->v->rules; (p = strstr(p, id)) != NULL; p += n)
		if ((p == x->v->rules || p[-1] == ',') &&
		    (p[n] == ',' || p[n] == '\0'))
			return;
	if (x->rlen + n + 2 > sizeof(x->v->rules))
		return;
	if (x->rlen > 0)
		x->v->rules[x->rlen++] = ',';
	memcpy(x->v->rules + x->rlen, id, n + 1);
	x->rlen += n;
}

/*
 * libmodsecurity's log callback: data is the transaction's waf_tx (NULL
 * for messages of no transaction), msg the text of a rule that matched.
 */
static void
waf_log_cb(void *data, const void *msg)
{
	if (data != NULL)
		waf_add_id(data, msg);
}

/*
 * A parser error as "file:line: message": libmodsecurity writes
 * "Rules error. File: F. Line: L. Column: C. message".
 */
static void
waf_parser_error(const char *file, const char *e, char *err, size_t errlen)
{
	const char	*f, *l, *msg;
	int		 fl = 0;
	long		 line = 0;

	if (e == NULL) {
		snprintf(err, errlen, "%s: cannot load the rules", file);
		return;
	}
	f = strstr(e, "File: ");
	l = strstr(e, ". Line: ");
	if (f != NULL && l != NULL && l > f) {
		f += 6;
		fl = (int)(l - f);
		line = strtol(l + 8, NULL, 10);
		msg = strstr(l, "Column: ");
		if (msg != NULL && (msg = strstr(msg, ". ")) != NULL)
			msg += 2;
		else
			msg = l + 8;
		snprintf(err, errlen, "%.*s:%ld: %s", fl, f, line, msg);
	} else
		snprintf(err, errlen, "%s: %s", file, e);
	/* one line: libmodsecurity ends some with a newline */
	err[strcspn(err, "\n")] = '\0';
}

struct waf_rules *
waf_load(const struct waf_config *wc, char *err, size_t errlen)
{
	struct waf_rules	*w;
	const char		*e = NULL;
	char			 audit[4096];
	size_t			 i;

	if (waf_msc == NULL) {
		if ((waf_msc = msc_init()) == NULL) {
			snprintf(err, errlen, "cannot start libmodsecurity");
			return NULL;
		}
		msc_set_connector_info(waf_msc, "porter");
		msc_set_log_cb(waf_msc, waf_log_cb);
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->rs = msc_create_rules_set()) == NULL)
		fatal("calloc");
	for (i = 0; i < wc->nrules; i++) {
		if (msc_rules_add_file(w->rs, wc->rules[i], &e) < 0) {
			waf_parser_error(wc->rules[i], e, err, errlen);
			free((void *)(uintptr_t)e);
			waf_rules_free(w);
			return NULL;
		}
	}
	if (wc->audit_log != NULL) {
		/* the transactions with a match, one JSON object a line */
		snprintf(audit, sizeof(audit), "SecAuditEngine RelevantOnly\n"
		    "SecAuditLogType Serial\nSecAuditLogFormat JSON\n"
		    "SecAuditLogParts ABFHZ\nSecAuditLog \"%s\"\n",
		    wc->audit_log);
		if (strchr(wc->audit_log, '"') != NULL ||
		    msc_rules_add(w->rs, audit, &e) < 0) {
			snprintf(err, errlen, "audit_log %s: %s", wc->audit_log,
			    e != NULL ? e : "not a usable path");
			err[strcspn(err, "\n")] = '\0';
			free((void *)(uintptr_t)e);
			waf_rules_free(w);
			return NULL;
		}
	}
	return w;
}

void
waf_rules_free(struct waf_rules *w)
{
	if (w == NULL)
		return;
	if (w->rs != NULL)
		msc_rules_cleanup(w->rs);
	free(w);
}

/* Did the rules intervene?  Fill v the first time they do. */
static int
waf_check(struct waf_tx *x)
{
	ModSecurityIntervention	 it;
	const char		*p, *e;
	char			*m;

	memset(&it, 0, sizeof(it));
	it.status = 200;
	if (msc_intervention(x->t, &it) == 0 || !it.disruptive) {
		free(it.url);
		free(it.log);
		return 0;
	}
	if (x->v->status == 0) {
		x->v->status = it.status >= 400 && it.status <= 599 ?
		    it.status : 403;
		/* the deciding rule: its id, and its [msg "..."] */
		waf_add_id(x, it.log);
		if (it.log != NULL && (p = strstr(it.log, "[msg \"")) != NULL &&
		    (e = strchr(p + 6, '"')) != NULL)
			snprintf(x->v->msg, sizeof(x->v->msg), "%.*s",
			    (int)(e - p - 6), p + 6);
		/* one log line: a message may quote what the client sent */
		for (m = x->v->msg; *m != '\0'; m++)
			if ((unsigned char)*m < 0x20 || *m == 0x7f)
				*m = '?';
	}
	free(it.url);
	free(it.log);
	return 1;
}

struct waf_tx *
waf_begin(struct waf_rules *w, const char *client_ip, int client_port,
    const char *server_ip, int server_port, struct waf_verdict *v)
{
	struct waf_tx	*x = &waf_cur;

	memset(v, 0, sizeof(*v));
	/* unique on the host: the time, the process, a sequence */
	snprintf(v->id, sizeof(v->id), "%llx%05x%04x",
	    (unsigned long long)util_now_ms(), (unsigned)getpid() & 0xfffff,
	    waf_seq++ & 0xffff);
	x->v = v;
	x->rlen = 0;
	x->counted = x->counted_large = 0;
	x->t = msc_new_transaction_with_id(waf_msc, w->rs, v->id, x);
	if (x->t == NULL)
		return NULL;
	if (waf_counters != NULL)
		atomic_fetch_add(&waf_counters->inspected, 1);
	msc_process_connection(x->t, client_ip, client_port, server_ip,
	    server_port);
	return x;
}

int
waf_uri(struct waf_tx *x, const char *uri, size_t len, const char *method,
    size_t mlen, int version)
{
	char	 m[32];

	if (len + 1 > waf_ucap) {
		free(waf_ubuf);
		waf_ucap = len + 1 < 4096 ? 4096 : len + 1;
		if ((waf_ubuf = malloc(waf_ucap)) == NULL)
			fatal("malloc");
	}
	memcpy(waf_ubuf, uri, len);
	waf_ubuf[len] = '\0';
	snprintf(m, sizeof(m), "%.*s", (int)mlen, method);
	msc_process_uri(x->t, waf_ubuf, m, version == 10 ? "1.0" : "1.1");
	return waf_check(x);
}

int
waf_header(struct waf_tx *x, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	msc_add_n_request_header(x->t, (const unsigned char *)name, nlen,
	    (const unsigned char *)value, vlen);
	return 0;
}

int
waf_headers_done(struct waf_tx *x)
{
	msc_process_request_headers(x->t);
	return waf_check(x);
}

int
waf_body(struct waf_tx *x, const char *data, size_t len)
{
	msc_append_request_body(x->t, (const unsigned char *)data, len);
	return 0;
}

int
waf_body_done(struct waf_tx *x)
{
	msc_process_request_body(x->t);
	return waf_check(x);
}

int
waf_response_header(struct waf_tx *x, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	msc_add_n_response_header(x->t, (const unsigned char *)name, nlen,
	    (const unsigned char *)value, vlen);
	return 0;
}

int
waf_response_done(struct waf_tx *x, int status, int version)
{
	msc_process_response_headers(x->t, status,
	    version == 10 ? "HTTP 1.0" : "HTTP 1.1");
	return waf_check(x);
}

void
waf_count(struct waf_tx *x, int mode, int too_large)
{
	const char	*p;
	char		*e;
	unsigned long	 id;

	if (waf_counters == NULL)
		return;
	if (too_large && !x->counted_large) {
		x->counted_large = 1;
		atomic_fetch_add(&waf_counters->body_too_large, 1);
	}
	if (x->v->status == 0 || x->counted)
		return;
	x->counted = 1;
	atomic_fetch_add(mode == WAF_ON ? &waf_counters->blocked :
	    &waf_counters->detected, 1);
	for (p = x->v->rules; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		id = strtoul(p, &e, 10);
		if (e == p)
			break;
		waf_count_rule((uint32_t)id);
	}
}

void
waf_end(struct waf_tx *x, int mode, int too_large)
{
	waf_count(x, mode, too_large);
	if (mode == WAF_ON && x->v->status != 0)
		msc_update_status_code(x->t, x->v->status);	/* for the audit */
	msc_process_logging(x->t);
	msc_transaction_cleanup(x->t);
	x->t = NULL;
}

#else /* !HAVE_MODSECURITY */

struct waf_rules {
	int	 unused;
};

int
waf_available(void)
{
	return 0;
}

struct waf_rules *
waf_load(const struct waf_config *wc, char *err, size_t errlen)
{
	(void)wc;
	snprintf(err, errlen, "porter was built without ModSecurity "
	    "(configure --with-modsecurity, libmodsecurity-dev)");
	return NULL;
}

void
waf_rules_free(struct waf_rules *w)
{
	free(w);
}

struct waf_tx *
waf_begin(struct waf_rules *w, const char *client_ip, int client_port,
    const char *server_ip, int server_port, struct waf_verdict *v)
{
	memset(v, 0, sizeof(*v));
	return NULL;
}

int
waf_uri(struct waf_tx *x, const char *uri, size_t len, const char *method,
    size_t mlen, int version)
{
	return 0;
}

int
waf_header(struct waf_tx *x, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	return 0;
}

int
waf_headers_done(struct waf_tx *x)
{
	return 0;
}

int
waf_body(struct waf_tx *x, const char *data, size_t len)
{
	return 0;
}

int
waf_body_done(struct waf_tx *x)
{
	return 0;
}

int
waf_response_header(struct waf_tx *x, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	return 0;
}

int
waf_response_done(struct waf_tx *x, int status, int version)
{
	return 0;
}

void
waf_count(struct waf_tx *x, int mode, int too_large)
{
	(void)waf_count_rule;
}

void
waf_end(struct waf_tx *x, int mode, int too_large)
{
}

#endif /* HAVE_MODSECURITY */
