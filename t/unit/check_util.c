/*
 * check_util.c - value parsing.
 */
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

START_TEST(test_size)
{
	static const struct { const char *s; int ok; uint64_t v; } t[] = {
		{ "0", 1, 0 }, { "512", 1, 512 }, { "4k", 1, 4096 },
		{ "4K", 1, 4096 }, { "2M", 1, 2097152 },
		{ "1g", 1, 1073741824ULL }, { "1kb", 1, 1024 },
		{ "", 0, 0 }, { "k", 0, 0 }, { "-1", 0, 0 }, { "1x", 0, 0 },
		{ "1 k", 0, 0 }, { "99999999999999999999", 0, 0 },
		{ "18446744073709551615g", 0, 0 },
	};
	char		 err[128];
	uint64_t	 v;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = util_parse_size(t[i].s, &v, err, sizeof(err));

		ck_assert_msg((rc == 0) == t[i].ok, "size %s", t[i].s);
		if (t[i].ok)
			ck_assert_uint_eq(v, t[i].v);
		else
			ck_assert_ptr_nonnull(strstr(err, "invalid size"));
	}
}
END_TEST

START_TEST(test_duration)
{
	static const struct { const char *s; int ok; int ms; } t[] = {
		{ "30", 1, 30000 }, { "30s", 1, 30000 }, { "150ms", 1, 150 },
		{ "2m", 1, 120000 }, { "1h", 1, 3600000 }, { "0", 1, 0 },
		{ "1.5s", 0, 0 }, { "s", 0, 0 }, { "10 s", 0, 0 },
		{ "5d", 0, 0 }, { "-5s", 0, 0 },
	};
	char	 err[128];
	int	 ms;
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = util_parse_duration(t[i].s, &ms, err, sizeof(err));

		ck_assert_msg((rc == 0) == t[i].ok, "duration %s", t[i].s);
		if (t[i].ok)
			ck_assert_int_eq(ms, t[i].ms);
	}
}
END_TEST

START_TEST(test_addr)
{
	static const struct { const char *s; const char *want; } t[] = {
		{ "127.0.0.1:8080", "127.0.0.1:8080" },
		{ "[::1]:80", "[::1]:80" },
		{ "8080", "0.0.0.0:8080" },
		{ "*:81", "0.0.0.0:81" },
		{ "localhost:9000", NULL },	/* resolves: v4 or v6 */
		{ "127.0.0.1:0", "127.0.0.1:0" }, { "127.0.0.1:65536", "" },
		{ "127.0.0.1", "" }, { "[::1]80", "" }, { "::1:80", "" },
		{ "127.0.0.1:http", "" }, { "", "" },
	};
	struct addr	 a;
	char		 err[256];
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = util_parse_addr(t[i].s, &a, err, sizeof(err));

		if (t[i].want != NULL && t[i].want[0] == '\0') {
			ck_assert_msg(rc == -1, "address %s accepted", t[i].s);
			continue;
		}
		ck_assert_msg(rc == 0, "address %s: %s", t[i].s, err);
		if (t[i].want != NULL)
			ck_assert_str_eq(a.str, t[i].want);
	}
}
END_TEST

START_TEST(test_bool_uint)
{
	char		 err[128];
	int		 b;
	unsigned long	 u;

	ck_assert_int_eq(util_parse_bool("on", &b, err, sizeof(err)), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(util_parse_bool("Off", &b, err, sizeof(err)), 0);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(util_parse_bool("maybe", &b, err, sizeof(err)), -1);
	ck_assert_int_eq(util_parse_uint("10", 1, 10, &u, err, sizeof(err)),
	    0);
	ck_assert_int_eq(util_parse_uint("11", 1, 10, &u, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(util_parse_uint("0", 1, 10, &u, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(util_parse_uint("-1", 0, 10, &u, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(util_parse_uint("1e3", 0, 10000, &u, err,
	    sizeof(err)), -1);
}
END_TEST

static int
cidr_has(const char *net, const char *ip)
{
	struct cidr		 c;
	struct addr		 a;
	char			 err[256], buf[128];

	ck_assert_msg(util_parse_cidr(net, &c, err, sizeof(err)) == 0, "%s",
	    err);
	snprintf(buf, sizeof(buf), strchr(ip, ':') ? "[%s]:1" : "%s:1", ip);
	ck_assert_msg(util_parse_addr(buf, &a, err, sizeof(err)) == 0, "%s",
	    err);
	return util_cidr_match(&c, &a.ss);
}

START_TEST(test_cidr)
{
	struct cidr	 c;
	char		 err[256];

	ck_assert(cidr_has("127.0.0.0/8", "127.1.2.3"));
	ck_assert(!cidr_has("127.0.0.0/8", "128.0.0.1"));
	ck_assert(cidr_has("10.1.2.3", "10.1.2.3"));
	ck_assert(!cidr_has("10.1.2.3", "10.1.2.4"));
	ck_assert(cidr_has("192.168.0.0/23", "192.168.1.255"));
	ck_assert(!cidr_has("192.168.0.0/23", "192.168.2.0"));
	ck_assert(cidr_has("0.0.0.0/0", "8.8.8.8"));
	ck_assert(cidr_has("::1", "::1"));
	ck_assert(!cidr_has("::1", "::2"));
	ck_assert(cidr_has("2001:db8::/32", "2001:db8:ffff::1"));
	ck_assert(!cidr_has("2001:db8::/32", "127.0.0.1"));
	ck_assert(cidr_has("127.0.0.0/8", "::ffff:127.0.0.1"));
	ck_assert_int_eq(util_parse_cidr("10.0.0.0/33", &c, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(util_parse_cidr("10.0.0/8", &c, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(util_parse_cidr("/8", &c, err, sizeof(err)), -1);
	ck_assert_int_eq(util_parse_cidr("::1/129", &c, err, sizeof(err)),
	    -1);
}
END_TEST

START_TEST(test_append)
{
	char	 b[12], n[21];

	b[0] = '\0';
	ck_assert_uint_eq(util_append(b, sizeof(b), "ab", "", "cd",
	    (char *)NULL), 4);
	ck_assert_str_eq(b, "abcd");
	/* cut to fit, always terminated */
	ck_assert_uint_eq(util_append(b, sizeof(b), "0123456789",
	    (char *)NULL), 11);
	ck_assert_str_eq(b, "abcd0123456");
	ck_assert_uint_eq(util_append(b, sizeof(b), "x", (char *)NULL), 11);
	ck_assert_uint_eq(util_append(b, 0, "x", (char *)NULL), 0);

	ck_assert_str_eq(util_u64_dec(0, n), "0");
	ck_assert_str_eq(util_u64_dec(7, n), "7");
	ck_assert_str_eq(util_u64_dec(1000, n), "1000");
	ck_assert_str_eq(util_u64_dec(UINT64_MAX, n), "18446744073709551615");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("util");
	TCase	*tc = tcase_create("parse");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_size);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_addr);
	tcase_add_test(tc, test_bool_uint);
	tcase_add_test(tc, test_cidr);
	tcase_add_test(tc, test_append);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
