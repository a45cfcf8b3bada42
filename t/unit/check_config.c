/*
 * check_config.c - porter.ini parsing and validation: good files load,
 * every kind of bad line is reported as "file:line: message".
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char	 cfg_path[64];

static struct config *
load(const char *text, char *err, size_t errlen)
{
	FILE	*fp;
	int	 fd;

	snprintf(cfg_path, sizeof(cfg_path), "/tmp/check_config.XXXXXX");
	fd = mkstemp(cfg_path);
	ck_assert_int_ne(fd, -1);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	struct config *c = config_load(cfg_path, err, errlen);
	unlink(cfg_path);
	return c;
}

/* The error text must hold "<file>:<line>: <want>". */
static void
expect_error(const char *text, int line, const char *want)
{
	char		 err[4096], needle[256];
	struct config	*c;

	c = load(text, err, sizeof(err));
	ck_assert_msg(c == NULL, "accepted: %s", text);
	snprintf(needle, sizeof(needle), "%s:%d: %s", cfg_path, line, want);
	ck_assert_msg(strstr(err, needle) != NULL, "want \"%s\" in \"%s\"",
	    needle, err);
}

#define BASE "[listen main]\naddress = 127.0.0.1:18080\n" \
	"[pool app]\nserver = 127.0.0.1:9000\n"

START_TEST(test_good)
{
	char		 err[1024];
	struct config	*c;

	c = load("; comment\n[porter]\nworkers = 3\nlog_level = debug\n"
	    "keepalive_timeout = 5s\nmax_header_size = 32k\n"
	    "access_log = off\n\n"
	    "[listen main]\naddress = 127.0.0.1:18080\n"
	    "address = [::1]:18080\nbacklog = 64\n"
	    "[pool app]\nserver = 127.0.0.1:9000\nserver = 127.0.0.1:9001\n"
	    "connect_timeout = 250ms\n"
	    "[pool static]\nserver = 127.0.0.1:9002\n"
	    "[route img]\nhost = example.com *.example.org\npath = /img/\n"
	    "pool = static\n[route rest]\npool = app\n", err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(c->workers, 3);
	ck_assert_int_eq(c->keepalive_timeout, 5000);
	ck_assert_uint_eq(c->max_header_size, 32768);
	ck_assert_ptr_null(c->access_log);
	ck_assert_uint_eq(c->nlistens, 1);
	ck_assert_uint_eq(c->listens[0].naddrs, 2);
	ck_assert_uint_eq(c->listens[0].backlog, 64);
	ck_assert_str_eq(c->listens[0].addrs[1].str, "[::1]:18080");
	ck_assert_uint_eq(c->npools, 2);
	ck_assert_uint_eq(c->pools[0].nservers, 2);
	ck_assert_int_eq(c->pools[0].connect_timeout, 250);
	ck_assert_uint_eq(c->nroutes, 2);
	ck_assert_uint_eq(c->routes[0].nhosts, 2);
	ck_assert_str_eq(c->routes[0].hosts[1], "*.example.org");
	ck_assert_uint_eq(c->routes[0].pool, 1);
	ck_assert_uint_eq(c->routes[1].pool, 0);
	/* computed defaults */
	ck_assert_uint_eq(c->min_spare_workers, 2);
	ck_assert_uint_eq(c->max_spare_workers, 3);
	ck_assert_uint_eq(c->max_workers, 256);
	ck_assert_uint_eq(c->admin.nallow, 2);
	config_free(c);
}
END_TEST

/* request_buffering: [porter]'s for routes that do not say */
START_TEST(test_request_buffering)
{
	char		 err[1024];
	struct config	*c;

	c = load(BASE "[route a]\npath = /a/\npool = app\n"
	    "request_buffering = off\n[route b]\npool = app\n", err,
	    sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(c->request_buffering, 1);
	ck_assert_int_eq(c->routes[0].request_buffering, 0);
	ck_assert_int_eq(c->routes[1].request_buffering, 1);
	ck_assert_uint_eq(c->spool_max_size, 1024ULL * 1024 * 1024);
	ck_assert_ptr_nonnull(strstr(c->spool_dir, "/spool/porter"));
	config_free(c);
	c = load("[porter]\nrequest_buffering = off\nspool_dir = /s\n"
	    "spool_max_size = 8m\n" BASE "[route a]\npath = /a/\n"
	    "pool = app\nrequest_buffering = on\n[route b]\npool = app\n",
	    err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(c->routes[0].request_buffering, 1);
	ck_assert_int_eq(c->routes[1].request_buffering, 0);
	ck_assert_str_eq(c->spool_dir, "/s");
	ck_assert_uint_eq(c->spool_max_size, 8 * 1024 * 1024);
	config_free(c);
	expect_error("[porter]\nspool_max_size = lots\n" BASE, 2,
	    "spool_max_size: invalid size");
}
END_TEST

START_TEST(test_errors)
{
	expect_error("[porter]\nworkers = lots\n" BASE, 2,
	    "workers: invalid number");
	expect_error("[porter]\nworkers = 0\n" BASE, 2, "workers: invalid");
	expect_error("[porter]\nbogus = 1\n" BASE, 2,
	    "unknown key \"bogus\" in [porter]");
	expect_error("[porter]\nkeepalive_timeout = 5 s\n" BASE, 2,
	    "keepalive_timeout: invalid duration");
	expect_error("[porter]\nmax_header_size = 10q\n" BASE, 2,
	    "max_header_size: invalid size");
	expect_error("[porter]\nlog_level = loud\n" BASE, 2,
	    "log_level: invalid level");
	expect_error("[porter]\nworkers = 2\nworkers = 3\n" BASE, 3,
	    "duplicate key \"workers\"");
	expect_error(BASE "[frobnicate]\nx = 1\n", 5,
	    "unknown section [frobnicate]");
	expect_error(BASE "[listen]\naddress = 1.2.3.4:5\n", 5,
	    "section [listen] needs one name");
	expect_error(BASE "[pool app]\nserver = 127.0.0.1:1\n", 5,
	    "duplicate section [pool app]");
	expect_error(BASE "[porter]\nworkers = 1\n[porter]\n", 7,
	    "duplicate section [porter]");
	expect_error("[listen main]\naddress = 127.0.0.1:99999\n"
	    "[pool app]\nserver = 127.0.0.1:9000\n", 2,
	    "address: invalid address");
	expect_error(BASE "[listen other]\naddress = 127.0.0.1:18080\n", 6,
	    "address 127.0.0.1:18080 is already used");
	expect_error(BASE "[pool z]\nserver = 127.0.0.1:0\n", 6,
	    "server: port 0 is not a port to connect to");
	expect_error(BASE "[route r]\npath = /a\n", 5,
	    "[route r] has no pool");
	expect_error(BASE "[route r]\npool = nope\n", 6,
	    "pool \"nope\" is not defined");
	expect_error(BASE "[route r]\npool = app\npath = img\n", 7,
	    "path: \"img\" must start with '/'");
	expect_error(BASE "[route r]\npool = app\nhost = a*.com\n", 7,
	    "host: invalid name");
	expect_error(BASE "[pool empty]\nretries = 1\n", 5,
	    "[pool empty] has no server");
	expect_error(BASE "[pool b]\nserver = 127.0.0.1:9\n", 5,
	    "several pools but no [route]");
	expect_error("workers = 2\n" BASE, 1, "\"workers\" outside of any "
	    "section");
	expect_error(BASE "[porter]\nthis line has no equals sign\n", 6,
	    "syntax error");
	expect_error("[pool app]\nserver = 127.0.0.1:9000\n", 2,
	    "no [listen NAME] section");
	expect_error("[porter]\nworkers = 8\nmax_workers = 4\n" BASE, 2,
	    "workers (8) is more than max_workers (4)");
	expect_error("[porter]\nmin_spare_workers = 5\nmax_spare_workers = 5"
	    "\n" BASE, 3, "max_spare_workers (5) must be more than");
	expect_error("[porter]\naccess_log_format = $status $bogus\n" BASE, 2,
	    "access_log_format: unknown variable \"$bogus\"");
	expect_error("[porter]\naccess_log_format = fancy\n" BASE, 2,
	    "access_log_format: \"fancy\" is not combined");
	expect_error("[porter]\nsyslog_facility = kern\n" BASE, 2,
	    "syslog_facility: unknown facility");
	expect_error(BASE "[admin]\nallow = 10.0.0.0/40\n", 6,
	    "allow: invalid address or network");
	expect_error(BASE "[admin]\nallow = 10.0.0.0/8\n", 5,
	    "[admin] has no address");
	expect_error(BASE "[admin]\naddress = 127.0.0.1:18080\n", 6,
	    "address 127.0.0.1:18080 is already used");
}
END_TEST

START_TEST(test_several_errors)
{
	char		 err[4096];
	struct config	*c;
	char		*p;
	int		 lines = 0;

	c = load("[porter]\nworkers = x\nfoo = 1\n" BASE "[pool app]\n",
	    err, sizeof(err));
	ck_assert_ptr_null(c);
	for (p = err; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	ck_assert_int_eq(lines, 3);
}
END_TEST

START_TEST(test_long_line)
{
	char	 text[1024];

	snprintf(text, sizeof(text), "%s[porter]\npid_file = /%0250d\n",
	    BASE, 0);
	expect_error(text, 6, "line longer than");
}
END_TEST

/* ${NAME} from the environment; $${ for a literal ${; $host untouched. */
START_TEST(test_env)
{
	char		 err[4096];
	struct config	*c;

	setenv("PORTER_TEST_PORT", "9000", 1);
	setenv("PORTER_TEST_DIR", "/tmp/x", 1);
	unsetenv("PORTER_TEST_UNSET");
	c = load("[porter]\npid_file = ${PORTER_TEST_DIR}/p-${PORTER_TEST_PORT}"
	    ".pid\naccess_log_format = $client $host\n"
	    "[listen main]\naddress = 127.0.0.1:18080\n"
	    "[pool app]\nserver = 127.0.0.1:${PORTER_TEST_PORT}\n"
	    "[route r]\nreturn = 302 http://$host/$$/$${a}/$$$${b}\n",
	    err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->pid_file, "/tmp/x/p-9000.pid");
	ck_assert_str_eq(c->access_log_format, "$client $host");
	ck_assert_str_eq(c->pools[0].servers[0].name, "127.0.0.1:9000");
	ck_assert_str_eq(c->routes[0].return_url, "http://$host/$$/${a}/$$${b}");
	config_free(c);
	expect_error(BASE "[route r]\npool = app\nstrip_prefix = "
	    "/${PORTER_TEST_UNSET}\n", 7, "${PORTER_TEST_UNSET}: environment "
	    "variable PORTER_TEST_UNSET is not set");
	expect_error(BASE "[route r]\npool = app\n\nstrip_prefix = /${A-B}\n",
	    8, "${A-: expected ${NAME}");
	expect_error(BASE "[route r]\npool = app\nstrip_prefix = /${NOEND\n",
	    7, "${NOEND: expected ${NAME}");
	expect_error(BASE "[route r]\npool = app\nstrip_prefix = /${}\n",
	    7, "${}: expected ${NAME}");
}
END_TEST

START_TEST(test_compression)
{
	char		 err[1024];
	struct config	*c;

	c = load("[porter]\ncompression = on\ncompression_types = "
	    "Text/HTML, text/*\ncompression_level = 9\n" BASE, err,
	    sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(c->compress.on, 1);
	ck_assert_uint_eq(c->compress.ntypes, 2);
	ck_assert_str_eq(c->compress.types[0], "text/html");
	ck_assert_str_eq(c->compress.types[1], "text/*");
	ck_assert_uint_eq(c->compress.min_length, 256);
	ck_assert_uint_eq(c->compress.level, 9);
	config_free(c);
	/* a route's defaults: off, the five types, 256, 6 */
	c = load(BASE "[route r]\npool = app\n[route z]\npool = app\n"
	    "compression = on\ncompression_min_length = 1k\n", err,
	    sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(c->routes[0].compress.on, 0);
	ck_assert_uint_eq(c->routes[0].compress.ntypes, 5);
	ck_assert_uint_eq(c->routes[0].compress.level, 6);
	ck_assert_int_eq(c->routes[1].compress.on, 1);
	ck_assert_uint_eq(c->routes[1].compress.min_length, 1024);
	config_free(c);
	expect_error("[porter]\ncompression_level = 10\n" BASE, 2,
	    "compression_level: ");
	expect_error(BASE "[route r]\npool = app\ncompression_types = html\n",
	    7, "compression_types: \"html\" is not a media type");
	expect_error(BASE "[route r]\npool = app\ncompression_types = "
	    "text/*x\n", 7, "compression_types: \"text/*x\"");
	expect_error("[porter]\ncompression = on\n" BASE
	    "[route r]\npool = app\n", 2, "compression in [porter] applies "
	    "only when there is no [route]");
}
END_TEST

START_TEST(test_missing_file)
{
	char	 err[512];

	ck_assert_ptr_null(config_load("/nonexistent/porter.ini", err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/porter.ini: cannot "
	    "open"));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("load");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_several_errors);
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_request_buffering);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_compression);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
