/*
 * config_int.h - what config.c and config_sections.c share while parsing.
 * Not for other modules: they see struct config only.
 */
#ifndef CONFIG_INT_H
#define CONFIG_INT_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

enum config_section {
	S_NONE = 0,
	S_PORTER,
	S_LISTEN,
	S_POOL,
	S_ROUTE,
	S_ADMIN,
	S_CACHE,
	S_WAF,
	S_BAD
};

#define CFG_MAX_KEYS	160

enum cfg_type {
	T_UINT = 0,
	T_SIZE,
	T_DURATION,
	T_BOOL,
	T_STRING,
	T_LOGLEVEL,
	T_OFFSTRING,	/* a path, or "off" for NULL */
	T_SPECIAL	/* handled by cfg_special() */
};

/* The table of keys (config.c): {section, name, type, offset}. */
struct cfg_key {
	enum config_section section;
	const char	*name;
	enum cfg_type	 type;
	size_t		 offset;
	unsigned long	 min, max;
};

extern const struct cfg_key config_keys[];
extern const size_t config_nkeys;


#define CFG_INCLUDE_DEPTH	16	/* include within include ... */

struct cfg_frame;

struct config_parse {
	struct config	*c;
	FILE		*fp;		/* the file being read */
	const char	*file;
	unsigned	 cur_file;	/* its index in c->files */
	int		 cur_line;
	int		 lineno;	/* CONFIG_POS(cur_file, cur_line) */
	struct cfg_frame *frames;	/* includes being read */
	int		 depth;
	int		*posmap;	/* position of each line inih saw */
	size_t		 nposmap, capposmap;
	enum config_section sec;
	void		*obj;		/* struct being filled */
	int		 sec_line;
	int		 porter_line;
	unsigned char	 seen[CFG_MAX_KEYS];
	int		 key_line[CFG_MAX_KEYS];	/* [porter] keys */
	char		*err;
	size_t		 errlen, erroff;
	int		 nerr;
};

void	 config_error(struct config_parse *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	*config_grow(void *arr, size_t n, size_t size);
char	*config_strdup(const char *);
int	 config_valid_name(const char *);
void	 config_list_add(char ***list, size_t *n, const char *s);
int	 config_field_name(const char *s, size_t len);
int	 config_name_value(const char *v, char *name, size_t nlen,
	    const char **value);
void	 config_append(char **lines, const char *name, const char *value);

/* config_sections.c: the keys of [pool], [route] and error_page. */
void	 config_server(struct config_parse *, struct pool_config *,
	    const char *value);
void	 config_pool_special(struct config_parse *, struct pool_config *,
	    const char *name, const char *value);
/* config_waf.c */
void	 config_waf_section(struct config_parse *);
int	 config_waf_special(struct config_parse *, const char *, const char *);
void	 config_waf_validate(struct config_parse *);
void	 config_waf_free(struct config *);
int	 config_route_special(struct config_parse *, struct route_config *,
	    const char *name, const char *value);
void	 config_error_page(struct config_parse *, const char *value);
void	 config_ring(struct pool_config *);
/* The compression* keys: defaults, the type list, the checks at the end. */
void	 config_compress_defaults(struct compress_config *);
void	 config_compress_types(struct config_parse *,
	    struct compress_config *, const char *value);
void	 config_compress_check(struct config_parse *);

#endif /* CONFIG_INT_H */
