/*
 * admin.c - /status and /metrics.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "cache_store.h"
#include "config.h"
#include "health.h"
#include "scoreboard.h"
#include "stats.h"
#include "util.h"
#include "waf.h"

struct admin_out {
	char	*p;
	size_t	 cap, len;
};

static void admin_put(struct admin_out *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
admin_put(struct admin_out *o, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (o->len >= o->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		/* cut at the last whole line */
		while (o->len > 0 && o->p[o->len - 1] != '\n')
			o->len--;
		o->cap = o->len;
		return;
	}
	o->len += (size_t)n;
}

static void	admin_backends(struct admin_out *);

/* The samples of histogram h: name_bucket, name_sum, name_count. */
static void
admin_hist(struct admin_out *o, const char *name, const char *labels,
    struct stats_hist *h)
{
	unsigned long long	 n = 0;
	unsigned		 i;
	const char		*comma = labels[0] != '\0' ? "," : "";

	for (i = 0; i <= STATS_NBOUNDS; i++) {
		n += atomic_load(&h->bucket[i]);
		if (i < STATS_NBOUNDS)
			admin_put(o, "%s_bucket{%s%sle=\"%g\"} %llu\n", name,
			    labels, comma, stats_bounds_ms[i] / 1000.0, n);
		else
			admin_put(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name,
			    labels, comma, n);
	}
	admin_put(o, "%s_sum%s%s%s %.3f\n", name, labels[0] ? "{" : "",
	    labels, labels[0] ? "}" : "",
	    (double)atomic_load(&h->sum_ms) / 1000.0);
	/* the count is the +Inf bucket, so that the two always agree */
	admin_put(o, "%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "",
	    labels, labels[0] ? "}" : "", n);
}
static void	admin_cache(struct admin_out *);
static void	admin_waf(struct admin_out *);

static const char *const admin_classes[6] = {
	"other", "1xx", "2xx", "3xx", "4xx", "5xx"
};

/* Workers by state, all generations. */
static void
admin_workers(unsigned counts[SB_CLOSING + 1])
{
	unsigned	 i, st;

	memset(counts, 0, sizeof(unsigned) * (SB_CLOSING + 1));
	for (i = 0; i < scoreboard_nslots(); i++) {
		st = atomic_load(&scoreboard_slot(i)->state);
		if (st <= SB_CLOSING)
			counts[st]++;
	}
}

/* The gate's counters (gate.c): connections waiting for their head. */
static void
admin_gate_metrics(struct admin_out *o, struct stats_shm *st)
{
	admin_put(o, "# HELP porter_gate_connections Connections the gate "
	    "holds now.\n# TYPE porter_gate_connections gauge\n"
	    "porter_gate_connections %u\n", atomic_load(&st->gate_held));
	admin_put(o, "# HELP porter_gate_total Connections through the gate, "
	    "by what happened.\n# TYPE porter_gate_total counter\n"
	    "porter_gate_total{event=\"parked\"} %llu\n"
	    "porter_gate_total{event=\"handed_back\"} %llu\n"
	    "porter_gate_total{event=\"expired\"} %llu\n"
	    "porter_gate_total{event=\"refused\"} %llu\n"
	    "porter_gate_total{event=\"lost\"} %llu\n",
	    (unsigned long long)atomic_load(&st->gate_parked),
	    (unsigned long long)atomic_load(&st->gate_handed),
	    (unsigned long long)atomic_load(&st->gate_expired),
	    (unsigned long long)atomic_load(&st->gate_refused),
	    (unsigned long long)atomic_load(&st->gate_lost));
	admin_put(o, "# HELP porter_tls_idle_closed_total Idle TLS keep-alive "
	    "connections closed because clients waited for a worker.\n"
	    "# TYPE porter_tls_idle_closed_total counter\n"
	    "porter_tls_idle_closed_total %llu\n",
	    (unsigned long long)atomic_load(&st->tls_idle_shed));
	admin_put(o, "# HELP porter_spool_uploads Request bodies the gate is "
	    "spooling now.\n# TYPE porter_spool_uploads gauge\n"
	    "porter_spool_uploads %u\n"
	    "# HELP porter_spool_bytes Bytes the spool holds now.\n"
	    "# TYPE porter_spool_bytes gauge\nporter_spool_bytes %llu\n"
	    "# HELP porter_spool_total Request bodies by what happened.\n"
	    "# TYPE porter_spool_total counter\n"
	    "porter_spool_total{event=\"spooled\"} %llu\n"
	    "porter_spool_total{event=\"refused\"} %llu\n",
	    atomic_load(&st->spool_uploads),
	    (unsigned long long)atomic_load(&st->spool_bytes),
	    (unsigned long long)atomic_load(&st->spool_spooled),
	    (unsigned long long)atomic_load(&st->spool_refused));
	/* response tails the gate relays for slow clients (gate_tail.c) */
	admin_put(o, "# HELP porter_tail_relays Response tails the gate "
	    "relays now.\n# TYPE porter_tail_relays gauge\n"
	    "porter_tail_relays %u\n", atomic_load(&st->tail_held));
	admin_put(o, "# HELP porter_tail_total Response tails handed to the "
	    "gate, by what happened.\n# TYPE porter_tail_total counter\n"
	    "porter_tail_total{event=\"relayed\"} %llu\n"
	    "porter_tail_total{event=\"lost\"} %llu\n",
	    (unsigned long long)atomic_load(&st->tail_relayed),
	    (unsigned long long)atomic_load(&st->tail_lost));
	admin_put(o, "# HELP porter_tail_bytes Bytes the gate wrote to "
	    "clients of response tails.\n# TYPE porter_tail_bytes counter\n"
	    "porter_tail_bytes %llu\n",
	    (unsigned long long)atomic_load(&st->tail_bytes));
}

/* Response compression: answers by coding, and the bytes it saved. */
static void
admin_compress_metrics(struct admin_out *o, struct stats_shm *st)
{
	uint64_t	 in = atomic_load(&st->compress_in);
	uint64_t	 out = atomic_load(&st->compress_out);
	uint64_t	 saved = atomic_load(&st->compress_saved);

	admin_put(o, "# HELP porter_compressed_total Responses compressed, by "
	    "content-coding.\n# TYPE porter_compressed_total counter\n"
	    "porter_compressed_total{coding=\"gzip\"} %llu\n"
	    "porter_compressed_total{coding=\"br\"} %llu\n"
	    "porter_compressed_total{coding=\"zstd\"} %llu\n",
	    (unsigned long long)atomic_load(&st->compressed[1]),
	    (unsigned long long)atomic_load(&st->compressed[2]),
	    (unsigned long long)atomic_load(&st->compressed[3]));
	admin_put(o, "# HELP porter_compression_in_bytes_total Body bytes "
	    "compressed (whole responses).\n"
	    "# TYPE porter_compression_in_bytes_total counter\n"
	    "porter_compression_in_bytes_total %llu\n"
	    "# HELP porter_compression_out_bytes_total What those bytes "
	    "became.\n# TYPE porter_compression_out_bytes_total counter\n"
	    "porter_compression_out_bytes_total %llu\n"
	    "# HELP porter_compression_saved_bytes_total Bytes compression "
	    "saved (in - out of each response that got smaller).\n"
	    "# TYPE porter_compression_saved_bytes_total counter\n"
	    "porter_compression_saved_bytes_total %llu\n",
	    (unsigned long long)in, (unsigned long long)out,
	    (unsigned long long)saved);
}

static void
admin_metrics(struct admin_out *o)
{
	struct stats_shm	*st = stats_get();
	unsigned		 w[SB_CLOSING + 1], i, c;

	admin_put(o, "# HELP porter_requests_total Requests answered, by "
	    "status class.\n# TYPE porter_requests_total counter\n");
	for (c = 0; c < 6; c++)
		admin_put(o, "porter_requests_total{class=\"%s\"} %llu\n",
		    admin_classes[c],
		    (unsigned long long)atomic_load(&st->status[c]));
	admin_put(o, "# HELP porter_sent_bytes_total Body bytes sent to "
	    "clients.\n# TYPE porter_sent_bytes_total counter\n"
	    "porter_sent_bytes_total %llu\n",
	    (unsigned long long)atomic_load(&st->bytes_out));
	admin_put(o, "# HELP porter_connections_total Client connections "
	    "accepted.\n# TYPE porter_connections_total counter\n"
	    "porter_connections_total %llu\n",
	    (unsigned long long)atomic_load(&st->connections));
	admin_gate_metrics(o, st);
	admin_compress_metrics(o, st);
	admin_put(o, "# HELP porter_reloads_total Successful configuration "
	    "reloads.\n# TYPE porter_reloads_total counter\n"
	    "porter_reloads_total %llu\n",
	    (unsigned long long)atomic_load(&st->reloads));
	admin_put(o, "# HELP porter_generation Worker generation (grows by "
	    "one a reload).\n# TYPE porter_generation gauge\n"
	    "porter_generation %u\n", atomic_load(&st->generation));
	admin_put(o, "# HELP porter_uptime_seconds Seconds since porter "
	    "started.\n# TYPE porter_uptime_seconds gauge\n"
	    "porter_uptime_seconds %lld\n",
	    (long long)(time(NULL) - atomic_load(&st->started)));
	admin_put(o, "# HELP process_start_time_seconds Start time of the "
	    "master since the Unix epoch.\n"
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds %lld\n",
	    (long long)atomic_load(&st->started));
	admin_put(o, "# HELP porter_build_info The porter version that "
	    "serves.\n# TYPE porter_build_info gauge\n"
	    "porter_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	admin_put(o, "# HELP porter_request_duration_seconds Time from a "
	    "request's head to the end of its response.\n"
	    "# TYPE porter_request_duration_seconds histogram\n");
	admin_hist(o, "porter_request_duration_seconds", "",
	    &st->request_time);
	admin_cache(o);
	admin_waf(o);
	admin_workers(w);
	admin_put(o, "# HELP porter_workers Worker processes by state.\n"
	    "# TYPE porter_workers gauge\n");
	for (i = SB_STARTING; i <= SB_CLOSING; i++)
		admin_put(o, "porter_workers{state=\"%s\"} %u\n",
		    scoreboard_state_name((enum sb_state)i), w[i]);
	admin_backends(o);
	admin_put(o, "# HELP porter_backend_response_seconds Time from "
	    "sending a request to a server to the end of its response.\n"
	    "# TYPE porter_backend_response_seconds histogram\n");
	for (i = 0; i < health_nslots(); i++) {
		struct backend_shm	*b = health_slot(i);
		char			 labels[200];

		if (!atomic_load(&b->used))
			continue;
		snprintf(labels, sizeof(labels), "pool=\"%s\",server=\"%s\"",
		    b->pool, b->addr);
		admin_hist(o, "porter_backend_response_seconds", labels,
		    &b->time);
	}
}

static void
admin_cache(struct admin_out *o)
{
	struct stats_shm	*st = stats_get();
	struct cs_stats		 cs;
	static const struct {
		const char	*name, *type, *help;
	} m[] = {
		{ "porter_cache_hits_total", "counter",
		    "Requests answered from the cache." },
		{ "porter_cache_misses_total", "counter",
		    "Cacheable requests that went to the origin." },
		{ "porter_cache_stale_total", "counter",
		    "Hits served stale." },
		{ "porter_cache_revalidated_total", "counter",
		    "Stale objects the origin confirmed (304)." },
		{ "porter_cache_stored_total", "counter", "Objects stored." },
		{ "porter_cache_evictions_total", "counter",
		    "Objects evicted to make room." },
		{ "porter_cache_objects", "gauge", "Objects in the cache." },
		{ "porter_cache_bytes", "gauge", "Bytes of stored objects." },
		{ "porter_cache_capacity_bytes", "gauge",
		    "Size of the cache store." },
	};
	uint64_t		 v[9];
	size_t			 i;

	cache_store_stats(&cs);
	v[0] = atomic_load(&st->cache_hits);
	v[1] = atomic_load(&st->cache_misses);
	v[2] = atomic_load(&st->cache_stale);
	v[3] = atomic_load(&st->cache_revalidated);
	v[4] = atomic_load(&st->cache_stored);
	v[5] = cs.evictions;
	v[6] = cs.objects;
	v[7] = cs.bytes;
	v[8] = cs.capacity;
	for (i = 0; i < 9; i++)
		admin_put(o, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n",
		    m[i].name, m[i].help, m[i].name, m[i].type, m[i].name,
		    (unsigned long long)v[i]);
}

/* The WAF's counters, and the rule ids that matched most often first. */
static void
admin_waf(struct admin_out *o)
{
	struct waf_shm	*s = waf_shm();
	size_t		 i;
	uint32_t	 id;

	if (s == NULL || !waf_available())
		return;
	admin_put(o, "# HELP porter_waf_inspected_total Requests the WAF "
	    "inspected.\n# TYPE porter_waf_inspected_total counter\n"
	    "porter_waf_inspected_total %llu\n"
	    "# HELP porter_waf_blocked_total Requests the WAF refused.\n"
	    "# TYPE porter_waf_blocked_total counter\n"
	    "porter_waf_blocked_total %llu\n"
	    "# HELP porter_waf_detected_total Requests the WAF would have "
	    "refused (waf = detect).\n"
	    "# TYPE porter_waf_detected_total counter\n"
	    "porter_waf_detected_total %llu\n"
	    "# HELP porter_waf_body_too_large_total Request bodies over "
	    "body_limit.\n# TYPE porter_waf_body_too_large_total counter\n"
	    "porter_waf_body_too_large_total %llu\n"
	    "# HELP porter_waf_rule_matches_total Matches by rule id in "
	    "blocked or detected requests (the first ids seen; the rest "
	    "as \"other\").\n"
	    "# TYPE porter_waf_rule_matches_total counter\n",
	    (unsigned long long)atomic_load(&s->inspected),
	    (unsigned long long)atomic_load(&s->blocked),
	    (unsigned long long)atomic_load(&s->detected),
	    (unsigned long long)atomic_load(&s->body_too_large));
	for (i = 0; i < WAF_TOP; i++)
		if ((id = atomic_load(&s->rule_id[i])) != 0)
			admin_put(o, "porter_waf_rule_matches_total"
			    "{rule=\"%u\"} %llu\n", id, (unsigned long long)
			    atomic_load(&s->rule_hits[i]));
	admin_put(o, "porter_waf_rule_matches_total{rule=\"other\"} %llu\n",
	    (unsigned long long)atomic_load(&s->rule_other));
}

enum admin_bmetric {
	BM_UP = 0, BM_ACTIVE, BM_REQUESTS, BM_ERRORS, BM_RESPONSES, BM_TIME,
	BM_N
};

/* Per-backend metrics: each family's samples kept together. */
static void
admin_backends(struct admin_out *o)
{
	static const char *const fam[BM_N][3] = {
		{ "porter_backend_up", "gauge",
		    "Whether porter sends traffic to the server." },
		{ "porter_backend_active", "gauge", "Requests in flight." },
		{ "porter_backend_requests_total", "counter",
		    "Requests sent to the server." },
		{ "porter_backend_errors_total", "counter",
		    "Requests that got no usable response." },
		{ "porter_backend_responses_total", "counter",
		    "Responses by status class." },
		{ "porter_backend_response_seconds_total", "counter",
		    "Time spent waiting for and relaying responses." },
	};
	struct backend_shm	*b;
	unsigned		 i, c, m;

	for (m = 0; m < BM_N; m++) {
		admin_put(o, "# HELP %s %s\n# TYPE %s %s\n", fam[m][0],
		    fam[m][2], fam[m][0], fam[m][1]);
		for (i = 0; i < health_nslots(); i++) {
			b = health_slot(i);
			if (!atomic_load(&b->used))
				continue;
			if (m == BM_RESPONSES) {
				for (c = 1; c < 6; c++)
					admin_put(o, "%s{pool=\"%s\",server="
					    "\"%s\",class=\"%s\"} %llu\n",
					    fam[m][0], b->pool, b->addr,
					    admin_classes[c],
					    (unsigned long long)atomic_load(
					    &b->status[c]));
				continue;
			}
			admin_put(o, "%s{pool=\"%s\",server=\"%s\"} ",
			    fam[m][0], b->pool, b->addr);
			switch (m) {
			case BM_UP:
				admin_put(o, "%d\n", health_slot_up(b,
				    util_now_ms()));
				break;
			case BM_ACTIVE:
				admin_put(o, "%d\n", atomic_load(&b->active));
				break;
			case BM_REQUESTS:
				admin_put(o, "%llu\n", (unsigned long long)
				    atomic_load(&b->requests));
				break;
			case BM_ERRORS:
				admin_put(o, "%llu\n", (unsigned long long)
				    atomic_load(&b->errors));
				break;
			default:
				admin_put(o, "%.3f\n", (double)atomic_load(
				    &b->time_ms) / 1000.0);
				break;
			}
		}
	}
}

/* The status page, as text or as a small HTML page. */
static void
admin_status(struct admin_out *o, int html)
{
	struct stats_shm	*st = stats_get();
	struct backend_shm	*b;
	unsigned		 w[SB_CLOSING + 1], i, c;
	unsigned long long	 ok;
	const char		*pre = html ? "<tr><td>" : "";
	const char		*sep = html ? "</td><td>" : " ";
	const char		*end = html ? "</td></tr>\n" : "\n";

	if (html)
		admin_put(o, "<!DOCTYPE html>\n<html><head><title>porter "
		    "status</title></head><body>\n<h1>porter status</h1>\n"
		    "<table>\n");
	admin_put(o, "%sversion%s%s%s", pre, sep, PACKAGE_VERSION, end);
	admin_put(o, "%suptime%s%llds%s", pre, sep,
	    (long long)(time(NULL) - atomic_load(&st->started)), end);
	admin_put(o, "%sgeneration%s%u%s", pre, sep,
	    atomic_load(&st->generation), end);
	admin_put(o, "%sreloads%s%llu%s", pre, sep,
	    (unsigned long long)atomic_load(&st->reloads), end);
	admin_put(o, "%sconnections%s%llu%s", pre, sep,
	    (unsigned long long)atomic_load(&st->connections), end);
	/* the gate: waiting connections no worker holds */
	admin_put(o, "%sgate held%s%u%s", pre, sep,
	    atomic_load(&st->gate_held), end);
	admin_put(o, "%sgate parked%s%llu%s", pre, sep,
	    (unsigned long long)atomic_load(&st->gate_parked), end);
	admin_put(o, "%sgate handed back%s%llu%s", pre, sep,
	    (unsigned long long)atomic_load(&st->gate_handed), end);
	admin_put(o, "%sgate expired%s%llu%s", pre, sep,
	    (unsigned long long)atomic_load(&st->gate_expired), end);
	admin_put(o, "%stls idle closed%s%llu%s", pre, sep,
	    (unsigned long long)atomic_load(&st->tls_idle_shed), end);
	/* request bodies the gate spools */
	admin_put(o, "%sspool uploads%s%u%s", pre, sep,
	    atomic_load(&st->spool_uploads), end);
	admin_put(o, "%sspool bytes%s%llu%s", pre, sep,
	    (unsigned long long)atomic_load(&st->spool_bytes), end);
	admin_put(o, "%sspool refused%s%llu%s", pre, sep,
	    (unsigned long long)atomic_load(&st->spool_refused), end);
	admin_put(o, "%stails relayed%s%llu%s", pre, sep,
	    (unsigned long long)atomic_load(&st->tail_relayed), end);
	admin_put(o, "%stail bytes%s%llu%s", pre, sep,
	    (unsigned long long)atomic_load(&st->tail_bytes), end);
	admin_put(o, "%srequests%s%llu%s", pre, sep,
	    (unsigned long long)atomic_load(&st->requests), end);
	for (c = 1; c < 6; c++)
		admin_put(o, "%srequests %s%s%llu%s", pre, admin_classes[c],
		    sep, (unsigned long long)atomic_load(&st->status[c]),
		    end);
	{
		struct cs_stats	 cs;

		cache_store_stats(&cs);
		admin_put(o, "%scache hits%s%llu%s%scache misses%s%llu%s"
		    "%scache objects%s%llu%s%scache bytes%s%llu%s", pre, sep,
		    (unsigned long long)atomic_load(&st->cache_hits), end,
		    pre, sep, (unsigned long long)atomic_load(
		    &st->cache_misses), end, pre, sep,
		    (unsigned long long)cs.objects, end, pre, sep,
		    (unsigned long long)cs.bytes, end);
	}
	admin_workers(w);
	for (i = SB_STARTING; i <= SB_CLOSING; i++)
		admin_put(o, "%sworkers %s%s%u%s", pre,
		    scoreboard_state_name((enum sb_state)i), sep, w[i], end);
	if (html)
		admin_put(o, "</table>\n<h2>backends</h2>\n<table>\n<tr><th>"
		    "pool</th><th>server</th><th>state</th><th>active</th>"
		    "<th>requests</th><th>errors</th><th>avg ms</th></tr>\n");
	else
		admin_put(o, "\nbackends: pool server state active requests "
		    "errors avg_ms\n");
	for (i = 0; i < health_nslots(); i++) {
		b = health_slot(i);
		if (!atomic_load(&b->used))
			continue;
		ok = 0;
		for (c = 1; c < 6; c++)
			ok += atomic_load(&b->status[c]);
		admin_put(o, "%s%s%s%s%s%s%s%d%s%llu%s%llu%s%llu%s", pre,
		    b->pool, sep, b->addr, sep,
		    health_slot_up(b, util_now_ms()) ? "up" : "down", sep,
		    atomic_load(&b->active), sep,
		    (unsigned long long)atomic_load(&b->requests), sep,
		    (unsigned long long)atomic_load(&b->errors), sep,
		    ok ? (unsigned long long)atomic_load(&b->time_ms) / ok :
		    0ULL, end);
	}
	if (html)
		admin_put(o, "</table>\n</body></html>\n");
}

int
admin_render(const struct config *cf, const char *path, size_t len,
    char *buf, size_t cap, struct admin_reply *r)
{
	struct admin_out	 o = { buf, cap, 0 };

	(void)cf;
	r->status = 200;
	if (len == 8 && memcmp(path, "/metrics", 8) == 0) {
		r->type = "text/plain; version=0.0.4";
		admin_metrics(&o);
	} else if (len == 7 && memcmp(path, "/status", 7) == 0) {
		r->type = "text/html";
		admin_status(&o, 1);
	} else if ((len == 19 && memcmp(path, "/status?format=text", 19) ==
	    0) || (len == 11 && memcmp(path, "/status.txt", 11) == 0)) {
		r->type = "text/plain";
		admin_status(&o, 0);
	} else {
		r->status = 404;
		r->type = "text/plain";
		admin_put(&o, "not found: try /status, /status?format=text or "
		    "/metrics\n");
	}
	r->len = o.len;
	return 0;
}
