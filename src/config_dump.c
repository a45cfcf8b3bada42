/*
 * config_dump.c - "porter -T": the configuration as porter understood
 * it, printed as an INI file it reads back to the same configuration.
 *
 * Keys of the table print from the parsed values, so defaults show; keys
 * with their own setters print as they were written (after ${}), except
 * the few whose defaults matter to a reader, which print from the parsed
 * values too.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "log.h"

/* A value as porter reads it back: a literal ${ is $${. */
static void
config_dump_value(FILE *fp, const char *v)
{
	for (; *v != '\0'; v++) {
		if (v[0] == '$' && v[1] == '{')
			fputc('$', fp);
		fputc(*v, fp);
	}
}

static void
config_dump_kv(FILE *fp, const char *name, const char *v)
{
	fprintf(fp, "%s = ", name);
	config_dump_value(fp, v);
	fputc('\n', fp);
}

static void
config_dump_duration(FILE *fp, const char *name, int ms)
{
	if (ms % 1000 == 0)
		fprintf(fp, "%s = %ds\n", name, ms / 1000);
	else
		fprintf(fp, "%s = %dms\n", name, ms);
}

/* The keys of the table in section sec, read from obj. */
static void
config_dump_table(FILE *fp, enum config_section sec, const void *obj)
{
	const struct cfg_key	*k;
	const char		*field, *s;
	size_t			 i;

	for (i = 0; i < config_nkeys; i++) {
		k = &config_keys[i];
		if (k->section != sec || k->type == T_SPECIAL)
			continue;
		/* [porter]'s compression keys are an error beside routes */
		if (sec == S_PORTER && ((const struct config *)obj)->nroutes >
		    0 && strncmp(k->name, "compression", 11) == 0)
			continue;
		field = (const char *)obj + k->offset;
		switch (k->type) {
		case T_UINT:
			fprintf(fp, "%s = %u\n", k->name,
			    *(const unsigned *)(const void *)field);
			break;
		case T_SIZE:
			fprintf(fp, "%s = %llu\n", k->name, (unsigned long long)
			    *(const uint64_t *)(const void *)field);
			break;
		case T_DURATION:
			/* 0: not set where the minimum is more (route's) */
			if (*(const int *)(const void *)field == 0 &&
			    k->min > 0)
				break;
			config_dump_duration(fp, k->name,
			    *(const int *)(const void *)field);
			break;
		case T_BOOL:
			fprintf(fp, "%s = %s\n", k->name,
			    *(const int *)(const void *)field ? "on" : "off");
			break;
		case T_LOGLEVEL:
			fprintf(fp, "%s = %s\n", k->name, log_level_name(
			    *(const int *)(const void *)field));
			break;
		case T_OFFSTRING:
		case T_STRING:
			s = *(char *const *)(const void *)field;
			if (s != NULL)
				config_dump_kv(fp, k->name, s);
			else if (k->type == T_OFFSTRING)
				fprintf(fp, "%s = off\n", k->name);
			break;
		case T_SPECIAL:
			break;
		}
	}
}

/* Special keys that print from the parsed values instead. */
static int
config_dump_parsed(const char *name)
{
	static const char *const parsed[] = {
		"balance", "hash_key", "sticky_cookie", "health_check",
		"health_status", "health_body", "tls_verify_client",
		"hide_headers"
	};
	size_t	 i;

	for (i = 0; i < sizeof(parsed) / sizeof(parsed[0]); i++)
		if (strcmp(name, parsed[i]) == 0)
			return 1;
	return 0;
}

/* The special keys of one section as written; how many of name. */
static size_t
config_dump_specials(FILE *fp, const struct config *c,
    enum config_section sec, size_t idx, const char *only)
{
	const struct config_special *sp;
	size_t			 i, n = 0;

	for (i = 0; i < c->nspecials; i++) {
		sp = &c->specials[i];
		if (sp->section != (int)sec || sp->index != idx ||
		    config_dump_parsed(sp->name) ||
		    (only != NULL && strcmp(sp->name, only) != 0))
			continue;
		config_dump_kv(fp, sp->name, sp->value);
		n++;
	}
	return n;
}

static void
config_dump_pool(FILE *fp, const struct config *c, size_t i)
{
	static const char *const kinds[] = {
		"round_robin", "least_conn", "random_two", "hash", "sticky"
	};
	static const char *const keys[] = {
		"client_ip", "uri", "header:", "cookie:"
	};
	const struct pool_config *pc = &c->pools[i];

	fprintf(fp, "\n[pool %s]\n", pc->name);
	config_dump_specials(fp, c, S_POOL, i, NULL);
	config_dump_table(fp, S_POOL, pc);
	fprintf(fp, "balance = %s\n", kinds[pc->balance]);
	fprintf(fp, "hash_key = %s%s\n", keys[pc->hash_key],
	    pc->hash_key >= HASH_HEADER ? pc->hash_name : "");
	fprintf(fp, "sticky_cookie = %s\n", pc->sticky_cookie);
	if (pc->check_kind == CHECK_HTTP)
		fprintf(fp, "health_check = %s %s\n", pc->check_method,
		    pc->check_path);
	else
		fprintf(fp, "health_check = %s\n", pc->check_kind ==
		    CHECK_TCP ? "tcp" : "off");
	if (pc->check_status_min == pc->check_status_max)
		fprintf(fp, "health_status = %u\n", pc->check_status_min);
	else
		fprintf(fp, "health_status = %u-%u\n", pc->check_status_min,
		    pc->check_status_max);
	if (pc->check_body != NULL)
		config_dump_kv(fp, "health_body", pc->check_body);
}

void
config_dump(const struct config *c, FILE *fp)
{
	static const char *const vc[] = { "off", "on", "optional" };
	size_t	 i;

	fprintf(fp, "; porter -T: %s with defaults filled in\n", c->file);
	fprintf(fp, "[porter]\n");
	config_dump_table(fp, S_PORTER, c);
	config_dump_specials(fp, c, S_PORTER, 0, NULL);
	fprintf(fp, "hide_headers =");
	for (i = 0; i < c->nhide_headers; i++)
		fprintf(fp, " %s", c->hide_headers[i]);
	fputc('\n', fp);
	for (i = 0; i < c->nlistens; i++) {
		fprintf(fp, "\n[listen %s]\n", c->listens[i].name);
		config_dump_specials(fp, c, S_LISTEN, i, NULL);
		config_dump_table(fp, S_LISTEN, &c->listens[i]);
		fprintf(fp, "tls_verify_client = %s\n",
		    vc[c->listens[i].tls_verify_client]);
	}
	for (i = 0; i < c->npools; i++)
		config_dump_pool(fp, c, i);
	for (i = 0; i < c->nroutes; i++) {
		fprintf(fp, "\n[route %s]\n", c->routes[i].name);
		config_dump_specials(fp, c, S_ROUTE, i, NULL);
		config_dump_table(fp, S_ROUTE, &c->routes[i]);
	}
	if (c->cache.line != 0) {
		fprintf(fp, "\n[cache]\n");
		config_dump_table(fp, S_CACHE, &c->cache);
		if (config_dump_specials(fp, c, S_CACHE, 0, NULL) == 0)
			fprintf(fp, "purge_allow = 127.0.0.0/8 ::1\n");
	}
	if (c->waf.line != 0) {
		/* the files the globs found, so the dump reads anywhere */
		fprintf(fp, "\n[waf]\n");
		for (i = 0; i < c->waf.nrules; i++)
			config_dump_kv(fp, "rules", c->waf.rules[i]);
		config_dump_table(fp, S_WAF, &c->waf);
	}
	if (c->admin.line != 0) {
		fprintf(fp, "\n[admin]\n");
		config_dump_specials(fp, c, S_ADMIN, 0, "address");
		if (config_dump_specials(fp, c, S_ADMIN, 0, "allow") == 0)
			fprintf(fp, "allow = 127.0.0.0/8 ::1\n");
	}
}
