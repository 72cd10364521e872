/*
 * Configuration: YAML (libyaml document API) into struct np_config.
 *
 * Every error is collected as "FILE:LINE:COL: message" from the node's
 * start mark and loading goes on, so one run reports them all.  A config
 * with any error is freed and never returned: nothing half-loaded runs.
 */
#include "config.h"

#include <net/if.h>

#include <errno.h>
#include <glob.h>
#include <pwd.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <yaml.h>

#include "netprobed.h"
#include "probes/probe.h"
#include "rules/labels.h"
#include "rules/rule_file.h"
#include "daemon/snmp.h"
#include "daemon/sweep.h"
#include "daemon/watcher.h"
#include "daemon/webconfig.h"
#include "daemon/yamldoc.h"

/*
 * Labels the daemon or a probe type sets itself (and Prometheus' own); a
 * user label may not take these names.
 */
static const char *const reserved_labels[] = {
	"probe", "type", "target", "result", "le", "instance", "job",
	"alertname", "alertstate", "site", "display_name", "outcome",
	"phase", "version", "key", "rcode", "message", "reason", "direction",
	"server", "user_agent", "interface", "gateway", "prefix", "verdict",
	"state",
};

struct cfg_ctx {
	struct yamldoc		 yd;		/* first: callbacks cast back */
	struct np_config	*conf;
	int			 defaults_bad;	/* reported once, not per probe */
};


void
cfg_error_at(struct cfg_errors *errs, const char *file, size_t line,
    size_t col, const char *fmt, va_list ap)
{
	char	*msg, *full;

	if (vasprintf(&msg, fmt, ap) < 0)
		fatalx("out of memory");
	xasprintf(&full, "%s:%zu:%zu: %s", file, line + 1, col + 1, msg);
	free(msg);
	errs->msg = xreallocarray(errs->msg, errs->n + 1, sizeof(char *));
	errs->msg[errs->n++] = full;
}

void
cfg_error_raw(struct cfg_errors *errs, const char *file, size_t line,
    size_t col, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	cfg_error_at(errs, file, line, col, fmt, ap);
	va_end(ap);
}

void
cfg_errors_free(struct cfg_errors *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	free(errs->msg);
	errs->msg = NULL;
	errs->n = 0;
}

/* Names of sites and probes: they become label values and log words. */
static int
valid_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return (0);
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.'))
			return (0);
	return (1);
}

static int
label_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct np_label *)a)->name,
	    ((const struct np_label *)b)->name));
}

static void
parse_labels(struct cfg_ctx *c, yaml_node_t *map, struct np_labels *out)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k, *v;
	const char		*name, *val;
	size_t			 i;

	if (yd_is_null(map))
		return;
	if (yd_mapping_expect(&c->yd, map, "'labels'") == -1)
		return;
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = yd_node(&c->yd, p->key);
		v = yd_node(&c->yd, p->value);
		if ((name = yd_scalar(&c->yd, k, "labels", "label names")) == NULL)
			continue;
		if (!valid_label_name(name)) {
			yd_error(&c->yd, k, "invalid label name '%s' (letters, "
			    "digits and '_', not starting with a digit or "
			    "'__')", name);
			continue;
		}
		for (i = 0; i < NP_NELEM(reserved_labels); i++)
			if (strcmp(name, reserved_labels[i]) == 0)
				break;
		if (i < NP_NELEM(reserved_labels)) {
			yd_error(&c->yd, k, "label name '%s' is reserved by "
			    "netprobed", name);
			continue;
		}
		for (i = 0; i < out->n; i++)
			if (strcmp(out->v[i].name, name) == 0)
				break;
		if (i < out->n) {
			yd_error(&c->yd, k, "duplicate label '%s'", name);
			continue;
		}
		if ((val = yd_scalar(&c->yd, v, name, "a string value")) == NULL)
			continue;
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		out->v[out->n].name = xstrdup(name);
		out->v[out->n].value = xstrdup(val);
		out->n++;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), label_cmp);
}

/* ---- site ---------------------------------------------------------- */

static void
site_key(struct yamldoc *yd, const char *key, yaml_node_t *v, yaml_node_t *k,
    void *arg)
{
	struct cfg_ctx	*c = (struct cfg_ctx *)yd;
	struct np_config	*conf = c->conf;
	const char		*s;

	if (strcmp(key, "labels") == 0) {
		parse_labels(c, v, &conf->site_labels);
		return;
	}
	if ((s = yd_scalar(&c->yd, v, key, "a string")) == NULL)
		return;
	if (strcmp(key, "name") == 0) {
		if (!valid_name(s)) {
			yd_error(&c->yd, v, "site name \"%s\" must be 1 to 64 "
			    "letters, digits, '-', '_' or '.'", s);
			return;
		}
		free(conf->site_name);
		conf->site_name = xstrdup(s);
	} else {
		free(conf->site_display_name);
		conf->site_display_name = xstrdup(s);
	}
}

static void
parse_site(struct cfg_ctx *c, yaml_node_t *n)
{
	static const char *const known[] = { "name", "display_name",
	    "labels" };

	if (yd_mapping_expect(&c->yd, n, "'site'") == -1)
		return;
	yd_mapping_walk(&c->yd, n, known, NP_NELEM(known), NULL, site_key, NULL,
	    "site", NULL);
}

/* ---- defaults ------------------------------------------------------ */

/* Probe intervals and timeouts: bounds shared by defaults and probes. */
#define INTERVAL_MIN_MS	100
#define INTERVAL_MAX_MS	(24ULL * 3600 * 1000)
#define TIMEOUT_MIN_MS	10
#define TIMEOUT_MAX_MS	(10ULL * 60 * 1000)

struct defaults_seen {
	yaml_node_t	*interval, *timeout;
};

static void
defaults_key(struct yamldoc *yd, const char *key, yaml_node_t *v,
    yaml_node_t *k, void *arg)
{
	struct cfg_ctx		*c = (struct cfg_ctx *)yd;
	struct defaults_seen	*seen = arg;
	int			 on;

	if (strcmp(key, "evaluation_interval") == 0)
		(void)yd_duration(&c->yd, v, key, 1000, INTERVAL_MAX_MS,
		    &c->conf->evaluation_interval_ms);
	else if (strcmp(key, "histograms") == 0) {
		if (yd_bool(&c->yd, v, key, &on) == 0)
			c->conf->default_no_histograms = !on;
	} else if (strcmp(key, "interval") == 0) {
		if (yd_duration(&c->yd, v, key, INTERVAL_MIN_MS,
		    INTERVAL_MAX_MS, &c->conf->default_interval_ms) == 0)
			seen->interval = v;
	} else if (yd_duration(&c->yd, v, key, TIMEOUT_MIN_MS,
	    TIMEOUT_MAX_MS, &c->conf->default_timeout_ms) == 0)
		seen->timeout = v;
}

static void
parse_defaults(struct cfg_ctx *c, yaml_node_t *n)
{
	static const char *const known[] = { "interval", "timeout",
	    "evaluation_interval", "histograms" };
	struct defaults_seen	 seen = { NULL, NULL };
	char			 t[32], iv[32];

	if (yd_mapping_expect(&c->yd, n, "'defaults'") == -1)
		return;
	yd_mapping_walk(&c->yd, n, known, NP_NELEM(known), NULL, defaults_key, &seen,
	    "defaults", NULL);
	if ((seen.interval || seen.timeout) &&
	    c->conf->default_timeout_ms >= c->conf->default_interval_ms) {
		format_duration_ms(c->conf->default_timeout_ms, t,
		    sizeof(t));
		format_duration_ms(c->conf->default_interval_ms, iv,
		    sizeof(iv));
		yd_error(&c->yd, seen.timeout ? seen.timeout : seen.interval,
		    "default timeout (%s%s) must be shorter than the default "
		    "interval (%s%s)", t, seen.timeout ? "" : ", built in", iv,
		    seen.interval ? "" : ", built in");
		c->defaults_bad = 1;
	}
}

/* ---- probes -------------------------------------------------------- */

struct probe_parse {
	struct probe_cfg	*p;
	yaml_node_t		*entry;
	yaml_node_t		*targets;
	yaml_node_t		*interval, *timeout;
	yaml_node_t		*source;
	yaml_node_t		*expect, *control, *filter_hops, *sweep;
	int			 errors;
};

/* An interface or VRF device name as the kernel takes it. */
static int
valid_ifname(const char *s)
{
	return (*s != '\0' && strlen(s) < IFNAMSIZ && strpbrk(s, "/ \t:") ==
	    NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0);
}

static const struct opt_def *
type_opt(const struct probe_type *t, const char *key)
{
	size_t	i;

	for (i = 0; t != NULL && i < t->nopts; i++)
		if (strcmp(t->opts[i].name, key) == 0)
			return (&t->opts[i]);
	return (NULL);
}

static int
is_type_opt(const char *key, void *arg)
{
	struct probe_parse	*pp = arg;

	/* With an unknown type, don't pile "unknown key" on top. */
	return (pp->p->type == NULL || type_opt(pp->p->type, key) != NULL);
}

static const char *
opt_string(struct cfg_ctx *c, const struct opt_def *o, yaml_node_t *v)
{
	const char	*s;

	if ((s = yd_scalar(&c->yd, v, o->name, "a string")) == NULL)
		return (NULL);
	if (*s == '\0') {
		yd_error(&c->yd, v, "'%s' must not be empty", o->name);
		return (NULL);
	}
	/* for lists, max counts items, not bytes */
	if (o->kind == OPT_STRING && o->max != 0 && strlen(s) > o->max) {
		yd_error(&c->yd, v, "'%s' is longer than %llu bytes", o->name,
		    (unsigned long long)o->max);
		return (NULL);
	}
	return (s);
}

/* Compile one regex option value into r; -1 after reporting. */
static int
regex_compile(struct cfg_ctx *c, const struct opt_def *o, yaml_node_t *v,
    struct np_regex *r)
{
	const char	*s;
	char		 err[128];
	int		 rc;

	if ((s = opt_string(c, o, v)) == NULL)
		return (-1);
	if ((rc = regcomp(&r->re, s, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &r->re, err, sizeof(err));
		yd_error(&c->yd, v, "'%s': invalid regular expression \"%s\": %s",
		    o->name, s, err);
		return (-1);
	}
	r->src = xstrdup(s);
	return (0);
}

static int
opt_regexlist(struct cfg_ctx *c, const struct opt_def *o, yaml_node_t *v,
    struct np_regexlist *out)
{
	struct np_regex		 r;
	size_t			 n = 0, i, errors = c->yd.errs->n;

	if (v->type == YAML_SEQUENCE_NODE)
		n = (size_t)(v->data.sequence.items.top -
		    v->data.sequence.items.start);
	else if (v->type == YAML_SCALAR_NODE)
		n = 1;
	else {
		yd_error(&c->yd, v, "'%s' expects a regular expression or a list "
		    "of them, got %s", o->name, yd_kind(v));
		return (-1);
	}
	if (n == 0 || (o->max != 0 && n > o->max)) {
		yd_error(&c->yd, v, n == 0 ? "'%s' must not be empty" :
		    "'%s' takes at most %llu items", o->name,
		    (unsigned long long)o->max);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		if (regex_compile(c, o, v->type == YAML_SCALAR_NODE ? v :
		    yd_node(&c->yd, v->data.sequence.items.start[i]), &r) == -1)
			continue;
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		out->v[out->n++] = r;
	}
	return (c->yd.errs->n == errors ? 0 : -1);
}

static int
opt_regex(struct cfg_ctx *c, const struct opt_def *o, yaml_node_t *v,
    struct np_regex **out)
{
	struct np_regex	*r = xcalloc(1, sizeof(*r));

	if (regex_compile(c, o, v, r) == -1) {
		free(r);
		return (-1);
	}
	if (*out != NULL) {
		regfree(&(*out)->re);
		free((*out)->src);
		free(*out);
	}
	*out = r;
	return (0);
}

static int
opt_enum(struct cfg_ctx *c, const struct opt_def *o, yaml_node_t *v, int *out)
{
	const char	*s;
	char		 list[256];
	size_t		 i, off = 0;

	if ((s = yd_scalar(&c->yd, v, o->name, "a word")) == NULL)
		return (-1);
	for (i = 0; o->choices[i] != NULL; i++)
		if (strcmp(s, o->choices[i]) == 0) {
			*out = (int)i;
			return (0);
		}
	list[0] = '\0';
	for (i = 0; o->choices[i] != NULL && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
		    i ? ", " : "", o->choices[i]);
	yd_error(&c->yd, v, "'%s' must be one of %s, got \"%s\"", o->name, list,
	    s);
	return (-1);
}

/* A scalar or a sequence of scalars: strings or whole numbers. */
static int
opt_list(struct cfg_ctx *c, const struct opt_def *o, yaml_node_t *v,
    void *out)
{
	yaml_node_item_t	*it, *first, *top;
	yaml_node_t		*n;
	struct np_uintlist	*ul = out;
	char			***sl = out, **strs = NULL;
	uint64_t		*nums = NULL, u, max = o->max;
	size_t			 count = 0, errors = c->yd.errs->n;
	const char		*s;

	if (v->type == YAML_SCALAR_NODE) {
		first = top = NULL;
	} else if (v->type == YAML_SEQUENCE_NODE) {
		first = v->data.sequence.items.start;
		top = v->data.sequence.items.top;
	} else {
		yd_error(&c->yd, v, "'%s' expects a value or a list, got %s",
		    o->name, yd_kind(v));
		return (-1);
	}
	for (it = first; first == NULL || it < top; it++) {
		n = first == NULL ? v : yd_node(&c->yd, *it);
		if (o->kind == OPT_UINTLIST) {
			if (yd_uint(&c->yd, n, o->name, o->min, max, &u) ==
			    0) {
				nums = xreallocarray(nums, count + 1,
				    sizeof(*nums));
				nums[count++] = u;
			}
		} else if ((s = yd_scalar(&c->yd, n, o->name, "a string")) != NULL) {
			if (o->max != 0 && count == o->max) {
				yd_error(&c->yd, n, "'%s' takes at most %llu items",
				    o->name, (unsigned long long)o->max);
				break;
			}
			strs = xreallocarray(strs, count + 2, sizeof(*strs));
			strs[count++] = xstrdup(s);
			strs[count] = NULL;
		}
		if (first == NULL)
			break;
	}
	if (count == 0 && c->yd.errs->n == errors)
		yd_error(&c->yd, v, "'%s' must not be empty", o->name);
	if (o->kind == OPT_UINTLIST) {
		free(ul->v);
		ul->v = nums;
		ul->n = count;
	} else {
		if (*sl != NULL) {
			for (count = 0; (*sl)[count] != NULL; count++)
				free((*sl)[count]);
			free(*sl);
		}
		*sl = strs;
	}
	return (c->yd.errs->n == errors ? 0 : -1);
}

static void
opt_map(struct cfg_ctx *c, const struct opt_def *o, yaml_node_t *map,
    struct np_labels *out)
{
	yaml_node_pair_t	*p;
	const char		*k, *val;

	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		if ((k = yd_scalar(&c->yd, yd_node(&c->yd, p->key), o->name, "keys")) == NULL ||
		    (val = yd_scalar(&c->yd, yd_node(&c->yd, p->value), k, "a string")) == NULL)
			continue;
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		out->v[out->n].name = xstrdup(k);
		out->v[out->n].value = xstrdup(val);
		out->n++;
	}
}

static int
parse_opt(struct cfg_ctx *c, const struct opt_def *o, yaml_node_t *v,
    void *opts)
{
	char		*base = opts;
	uint64_t	 u;
	int		 b;
	const char	*s, *why;

	switch (o->kind) {
	case OPT_UINT:
		if (yd_uint(&c->yd, v, o->name, o->min, o->max, &u) == -1)
			return (-1);
		*(uint64_t *)(base + o->off) = u;
		return (0);
	case OPT_DURATION:
		if (yd_duration(&c->yd, v, o->name, o->min, o->max, &u) == -1)
			return (-1);
		*(uint64_t *)(base + o->off) = u;
		return (0);
	case OPT_BOOL:
		if (yd_bool(&c->yd, v, o->name, &b) == -1)
			return (-1);
		*(int *)(base + o->off) = b;
		return (0);
	case OPT_ADDR:
		if ((s = yd_scalar(&c->yd, v, o->name, "an IP address")) == NULL)
			return (-1);
		if (parse_addr(s, NP_PORT_NONE, (struct np_addr *)(base +
		    o->off), &why) == -1) {
			yd_error(&c->yd, v, "'%s': invalid address \"%s\": %s",
			    o->name, s, why);
			return (-1);
		}
		return (0);
	case OPT_STRING:
		if ((s = opt_string(c, o, v)) == NULL)
			return (-1);
		free(*(char **)(base + o->off));
		*(char **)(base + o->off) = xstrdup(s);
		return (0);
	case OPT_REGEX:
		return (opt_regex(c, o, v, (struct np_regex **)(base + o->off)));
	case OPT_REGEXLIST:
		return (opt_regexlist(c, o, v,
		    (struct np_regexlist *)(base + o->off)));
	case OPT_ENUM:
		return (opt_enum(c, o, v, (int *)(base + o->off)));
	case OPT_STRLIST:
	case OPT_UINTLIST:
		return (opt_list(c, o, v, base + o->off));
	case OPT_MAP:
		if (yd_mapping_expect(&c->yd, v, o->name) == -1)
			return (-1);
		opt_map(c, o, v, (struct np_labels *)(base + o->off));
		return (0);
	}
	return (-1);
}

static void
probe_key(struct yamldoc *yd, const char *key, yaml_node_t *v, yaml_node_t *k,
    void *arg)
{
	struct cfg_ctx	*c = (struct cfg_ctx *)yd;
	struct probe_parse	*pp = arg;
	struct probe_cfg	*p = pp->p;
	const struct opt_def	*o;
	const char		*s, *why;
	uint64_t		 u;
	size_t			 before = c->yd.errs->n;

	if (strcmp(key, "name") == 0 || strcmp(key, "type") == 0)
		return;		/* done first, in parse_probe() */
	if (strcmp(key, "targets") == 0 || strcmp(key, "target") == 0) {
		if (pp->targets != NULL)
			yd_error(&c->yd, k, "give either 'target' or 'targets', "
			    "not both");
		else
			pp->targets = v;
	} else if (strcmp(key, "interval") == 0) {
		if (yd_duration(&c->yd, v, key, INTERVAL_MIN_MS,
		    INTERVAL_MAX_MS, &p->interval_ms) == 0)
			pp->interval = v;
	} else if (strcmp(key, "timeout") == 0) {
		if (yd_duration(&c->yd, v, key, TIMEOUT_MIN_MS,
		    TIMEOUT_MAX_MS, &p->timeout_ms) == 0)
			pp->timeout = v;
	} else if (strcmp(key, "labels") == 0) {
		parse_labels(c, v, &p->labels);
	} else if (strcmp(key, "source") == 0) {
		if ((s = yd_scalar(&c->yd, v, key, "an IP address")) != NULL &&
		    parse_addr(s, NP_PORT_NONE, &p->net.source, &why) == -1)
			yd_error(&c->yd, v, "'source': invalid address \"%s\": %s",
			    s, why);
		else if (s != NULL)
			pp->source = v;
	} else if (strcmp(key, "interface") == 0) {
		if ((s = yd_scalar(&c->yd, v, key, "an interface name")) == NULL)
			;
		else if (!valid_ifname(s))
			yd_error(&c->yd, v, "'interface': \"%s\" is not an interface "
			    "name (1 to 15 characters, no '/', ':' or spaces)",
			    s);
		else
			snprintf(p->net.ifname, sizeof(p->net.ifname), "%s", s);
	} else if (strcmp(key, "fwmark") == 0) {
		if (yd_uint(&c->yd, v, key, 1, UINT32_MAX, &u) == 0)
			p->net.fwmark = (uint32_t)u;
	} else if (strcmp(key, "vrf") == 0) {
		if ((s = yd_scalar(&c->yd, v, key, "a VRF device name")) == NULL)
			;
		else if (!valid_ifname(s))
			yd_error(&c->yd, v, "'vrf': \"%s\" is not a device name "
			    "(1 to 15 characters, no '/', ':' or spaces)", s);
		else
			snprintf(p->net.vrf, sizeof(p->net.vrf), "%s", s);
	} else if (strcmp(key, "netns") == 0) {
		if ((s = yd_scalar(&c->yd, v, key, "a network namespace name")) ==
		    NULL)
			;
		else if (!valid_name(s) || strcmp(s, ".") == 0 ||
		    strcmp(s, "..") == 0)
			yd_error(&c->yd, v, "'netns': \"%s\" is not a namespace "
			    "name (1 to 64 letters, digits, '-', '_' or '.'; "
			    "one of ip netns list)", s);
		else
			snprintf(p->net.netns, sizeof(p->net.netns), "%s", s);
	} else if (strcmp(key, "expect") == 0 &&
	    (o = type_opt(p->type, key)) != NULL && !(v->type ==
	    YAML_SCALAR_NODE && strcmp((const char *)v->data.scalar.value,
	    "blocked") == 0)) {
		/* a type's own expectation (route: present or absent) */
		parse_opt(c, o, v, p->opts);
	} else if (strcmp(key, "expect") == 0) {
		if ((s = yd_scalar(&c->yd, v, key, "reachable or blocked")) ==
		    NULL)
			;
		else if (strcmp(s, "blocked") == 0)
			p->iso.blocked = 1;
		else if (strcmp(s, "reachable") != 0)
			yd_error(&c->yd, v, "'expect': \"%s\" is neither "
			    "reachable nor blocked", s);
		pp->expect = v;
	} else if (strcmp(key, "control") == 0) {
		if ((s = yd_scalar(&c->yd, v, key, "a probe name")) != NULL) {
			free(p->iso.control);
			p->iso.control = xstrdup(s);
		}
		pp->control = v;
	} else if (strcmp(key, "sweep") == 0) {
		pp->sweep = v;		/* once the type is known: below */
	} else if (strcmp(key, "histograms") == 0) {
		int	on;

		if (yd_bool(&c->yd, v, key, &on) == 0)
			p->no_histograms = !on;
	} else if (strcmp(key, "filter_hops") == 0) {
		if (yd_uint(&c->yd, v, key, 1, 64, &u) == 0)
			p->iso.filter_hops = (unsigned)u;
		pp->filter_hops = v;
	} else if ((o = type_opt(p->type, key)) != NULL) {
		parse_opt(c, o, v, p->opts);
	}
	pp->errors += (int)(c->yd.errs->n - before);
}

static void
parse_targets(struct cfg_ctx *c, struct probe_parse *pp)
{
	struct probe_cfg	*p = pp->p;
	yaml_node_t		*seq = pp->targets, *t;
	yaml_node_item_t	*it, *first, *top;
	const char		*s, *why;
	char			 buf[256];
	int			 single = 0;
	struct strindex		 seen;

	memset(&seen, 0, sizeof(seen));
	if (seq->type == YAML_SCALAR_NODE) {
		single = 1;
		first = top = NULL;
	} else if (seq->type == YAML_SEQUENCE_NODE) {
		first = seq->data.sequence.items.start;
		top = seq->data.sequence.items.top;
		if (first == top) {
			yd_error(&c->yd, seq, "probe '%s' has an empty target "
			    "list", p->name);
			pp->errors++;
			return;
		}
	} else {
		yd_error(&c->yd, seq, "'targets' expects an address or a list of "
		    "addresses, got %s", yd_kind(seq));
		pp->errors++;
		return;
	}
	for (it = first; single || it < top; it++) {
		t = single ? seq : yd_node(&c->yd, *it);
		if ((s = yd_scalar(&c->yd, t, "targets", "an address")) == NULL) {
			pp->errors++;
			goto next;
		}
		p->addrs = xreallocarray(p->addrs, p->ntargets + 1,
		    sizeof(*p->addrs));
		if ((why = probe_target_parse(p->type, p->opts, s,
		    &p->addrs[p->ntargets], buf, sizeof(buf))) != NULL) {
			yd_error(&c->yd, t, "invalid %s target \"%s\": %s",
			    p->type->name, s, why);
			pp->errors++;
			goto next;
		}
		if (p->net.source.ss.ss_family != 0 &&
		    p->addrs[p->ntargets].len != 0 &&
		    p->addrs[p->ntargets].ss.ss_family !=
		    p->net.source.ss.ss_family) {
			yd_error(&c->yd, pp->source, "probe '%s': target %s is not "
			    "of the source address's family", p->name, buf);
			pp->errors++;
			goto next;
		}
		p->targets = xreallocarray(p->targets, p->ntargets + 1,
		    sizeof(char *));
		p->targets[p->ntargets] = xstrdup(buf);
		if (strindex_add(&seen, p->targets[p->ntargets],
		    p->ntargets) != -1) {
			free(p->targets[p->ntargets]);
			yd_error(&c->yd, t, "duplicate target \"%s\" in probe "
			    "'%s'", s, p->name);
			pp->errors++;
			goto next;
		}
		p->ntargets++;
next:
		if (single)
			break;
	}
	strindex_free(&seen);
}

/*
 * sweep: instead of targets, for a negative probe whose targets are
 * addresses; the range as written is its one target (label).
 */
static void
parse_sweep(struct cfg_ctx *c, struct probe_parse *pp)
{
	struct probe_cfg	*p = pp->p;
	char			 canon[256];

	if (pp->targets != NULL) {
		yd_error(&c->yd, pp->sweep, "probe '%s': give either 'targets' "
		    "or 'sweep', not both", p->name);
		return;
	}
	if (!p->iso.blocked) {
		yd_error(&c->yd, pp->sweep, "probe '%s': 'sweep' is for negative "
		    "probes (expect: blocked)", p->name);
		return;
	}
	if (p->type->target_parse != NULL) {
		yd_error(&c->yd, pp->sweep, "probe '%s': a %s probe's targets "
		    "are not addresses; it cannot sweep", p->name,
		    p->type->name);
		return;
	}
	if ((p->iso.sweep = sweep_parse(&c->yd, pp->sweep,
	    p->type->target_port != NP_PORT_NONE, canon,
	    sizeof(canon))) == NULL)
		return;
	p->targets = xcalloc(1, sizeof(char *));
	p->targets[0] = xstrdup(canon);
	p->addrs = xcalloc(1, sizeof(*p->addrs));	/* len 0: per run */
	p->ntargets = 1;
}

static void
parse_probe(struct cfg_ctx *c, yaml_node_t *n, struct probe_cfg *p)
{
	static const char *const known[] = { "name", "type", "targets",
	    "target", "interval", "timeout", "labels", "source",
	    "interface", "fwmark", "vrf", "netns", "expect", "control",
	    "filter_hops", "sweep", "histograms" };
	struct probe_parse	 pp;
	yaml_node_pair_t	*kv;
	yaml_node_t		*k, *v, *namenode = NULL, *typenode = NULL;
	const char		*s, *msg, *blame = NULL;
	char			 types[1024], buf[256], t[32], iv[32];
	char			 where[96], opts[768];
	size_t			 before = c->yd.errs->n, i, off;

	memset(&pp, 0, sizeof(pp));
	pp.p = p;
	pp.entry = n;
	p->line = (int)n->start_mark.line + 1;
	p->interval_ms = c->conf->default_interval_ms;
	p->timeout_ms = c->conf->default_timeout_ms;
	p->no_histograms = c->conf->default_no_histograms;
	if (yd_mapping_expect(&c->yd, n, "a probe entry") == -1) {
		p->name = xstrdup("?");
		return;
	}

	/* name and type first: the type decides which keys are valid */
	for (kv = n->data.mapping.pairs.start; kv < n->data.mapping.pairs.top;
	    kv++) {
		k = yd_node(&c->yd, kv->key);
		v = yd_node(&c->yd, kv->value);
		if (k->type != YAML_SCALAR_NODE)
			continue;
		s = (const char *)k->data.scalar.value;
		if (strcmp(s, "name") == 0 && namenode == NULL)
			namenode = v;
		else if (strcmp(s, "type") == 0 && typenode == NULL)
			typenode = v;
	}
	if (namenode == NULL)
		yd_error(&c->yd, n, "probe entry has no 'name'");
	else if ((s = yd_scalar(&c->yd, namenode, "name", "a string")) != NULL) {
		if (!valid_name(s))
			yd_error(&c->yd, namenode, "probe name \"%s\" must be 1 to "
			    "64 letters, digits, '-', '_' or '.'", s);
		else
			p->name = xstrdup(s);
	}
	if (typenode == NULL)
		yd_error(&c->yd, n, "probe entry has no 'type'");
	else if ((s = yd_scalar(&c->yd, typenode, "type", "a probe type")) != NULL) {
		if ((p->type = probe_type_find(s)) == NULL) {
			probe_type_list(types, sizeof(types));
			yd_error(&c->yd, typenode, "unknown probe type \"%s\" "
			    "(known types: %s)", s, types);
		} else {
			p->opts = xcalloc(1, p->type->opts_size);
			if (p->type->opts_default != NULL)
				p->type->opts_default(p->opts);
		}
	}
	if (p->name == NULL)
		p->name = xstrdup("?");

	where[0] = opts[0] = '\0';
	snprintf(where, sizeof(where), "probe '%s'", p->name);
	for (i = 0, off = 0; p->type != NULL && i < p->type->nopts &&
	    off < sizeof(opts); i++)
		off += (size_t)snprintf(opts + off, sizeof(opts) - off,
		    "%s%s", i ? ", " : "; " , p->type->opts[i].name);
	if (p->type != NULL && p->type->nopts > 0)
		snprintf(types, sizeof(types), "; %s options: %s",
		    p->type->name, opts + 2);
	else
		types[0] = '\0';
	yd_mapping_walk(&c->yd, n, known, NP_NELEM(known), is_type_opt, probe_key, &pp,
	    where, types);
	if (p->type == NULL)
		return;
	if (pp.sweep != NULL)
		parse_sweep(c, &pp);
	else if (pp.targets == NULL)
		yd_error(&c->yd, n, "probe '%s' has no 'targets'", p->name);
	else
		parse_targets(c, &pp);
	if (p->timeout_ms >= p->interval_ms &&
	    (pp.timeout || pp.interval || !c->defaults_bad)) {
		format_duration_ms(p->timeout_ms, t, sizeof(t));
		format_duration_ms(p->interval_ms, iv, sizeof(iv));
		yd_error(&c->yd, pp.timeout ? pp.timeout : pp.interval ?
		    pp.interval : n, "probe '%s': timeout (%s) must be "
		    "shorter than interval (%s)", p->name, t, iv);
	}
	if (p->net.ifname[0] != '\0' && p->net.vrf[0] != '\0')
		yd_error(&c->yd, yd_mapping_value(&c->yd, n, "vrf"), "probe '%s': "
		    "give either 'interface' or 'vrf', not both", p->name);
	if (p->iso.blocked && (strcmp(p->type->name, "link") == 0 ||
	    strcmp(p->type->name, "route") == 0))
		yd_error(&c->yd, pp.expect, "probe '%s': a %s probe sends no "
		    "packets and cannot be a negative probe (expect: blocked); "
		    "use a route probe's expect: absent", p->name, p->type->name);
	if (!p->iso.blocked && (pp.control != NULL || pp.filter_hops != NULL))
		yd_error(&c->yd, pp.control ? pp.control : pp.filter_hops,
		    "probe '%s': '%s' is for negative probes (expect: blocked)",
		    p->name, pp.control ? "control" : "filter_hops");
	if (c->yd.errs->n == before && p->type->check != NULL &&
	    (msg = p->type->check(p, buf, sizeof(buf), &blame)) != NULL)
		yd_error(&c->yd, blame ? yd_mapping_value(&c->yd, n, blame) : n,
		    "probe '%s': %s", p->name, msg);
}

static void
probe_cfg_free(struct probe_cfg *p)
{
	size_t	i;

	free(p->name);
	for (i = 0; i < p->ntargets; i++)
		free(p->targets[i]);
	free(p->targets);
	free(p->addrs);
	free(p->iso.control);
	sweep_cfg_free(p->iso.sweep);
	rl_labels_free(&p->labels);
	if (p->type != NULL)
		probe_opts_free(p->type, p->opts);
	else
		free(p->opts);
}

/*
 * A negative probe's positive control: another probe, itself positive,
 * whose packets leave the same way (same source, interface, VRF, fwmark
 * and namespace), so its failure means the way out is down.
 */
static void
check_control(struct cfg_ctx *c, yaml_node_t *entry, const struct probe_cfg *p)
{
	const struct probe_cfg	*ctl;
	yaml_node_t		*v;

	if (p->iso.control == NULL)
		return;
	v = yd_mapping_value(&c->yd, entry, "control");
	if ((ctl = config_find_probe(c->conf, p->iso.control)) == NULL)
		yd_error(&c->yd, v, "probe '%s': control \"%s\" is not a "
		    "configured probe", p->name, p->iso.control);
	else if (ctl == p)
		yd_error(&c->yd, v, "probe '%s': a probe cannot be its own "
		    "control", p->name);
	else if (ctl->iso.blocked)
		yd_error(&c->yd, v, "probe '%s': control '%s' is itself a "
		    "negative probe (expect: blocked); the control must be "
		    "one that should succeed", p->name, ctl->name);
	else if (memcmp(&ctl->net, &p->net, sizeof(p->net)) != 0)
		yd_error(&c->yd, v, "probe '%s': control '%s' leaves by another "
		    "way (source, interface, vrf, fwmark or netns differ); it "
		    "must share the negative probe's egress", p->name,
		    ctl->name);
}

static void
parse_probes(struct cfg_ctx *c, yaml_node_t *n)
{
	struct np_config	*conf = c->conf;
	yaml_node_item_t	*it;
	size_t			 i, count;
	struct strindex		 names;

	memset(&names, 0, sizeof(names));
	if (n->type == YAML_SCALAR_NODE && yd_is_null(n))
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		yd_error(&c->yd, n, "'probes' must be a sequence of probe entries, "
		    "got %s", yd_kind(n));
		return;
	}
	count = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	conf->probes = xcalloc(count, sizeof(*conf->probes));
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		struct probe_cfg	*p = &conf->probes[conf->nprobes++];
		long			 first;

		parse_probe(c, yd_node(&c->yd, *it), p);
		if (strcmp(p->name, "?") != 0 && (first = strindex_add(&names,
		    p->name, conf->nprobes - 1)) != -1)
			yd_error(&c->yd, yd_node(&c->yd, *it), "duplicate probe "
			    "name '%s' (first defined at line %d)",
			    p->name, conf->probes[first].line);
	}
	strindex_free(&names);
	for (i = 0, it = n->data.sequence.items.start; i < conf->nprobes;
	    i++, it++)
		check_control(c, yd_node(&c->yd, *it), &conf->probes[i]);
}

/* ---- top level ----------------------------------------------------- */

/* ---- rule_files --------------------------------------------------- */

static void
rule_file_add(struct cfg_ctx *c, yaml_node_t *n, const char *path)
{
	struct np_config	*conf = c->conf;
	struct cfg_errors	 rerrs;
	struct rule_file	*rf;
	size_t			 i;

	for (i = 0; i < conf->nrule_files; i++)
		if (strcmp(conf->rule_files[i]->path, path) == 0)
			return;		/* two globs, one file */
	if (conf->nrule_files == NP_MAX_RULE_FILES) {
		yd_error(&c->yd, n, "'rule_files': more than %d files",
		    NP_MAX_RULE_FILES);
		return;
	}
	rf = rule_file_load(path, &rerrs);
	/* the rule file's own FILE:LINE:COL messages, as they are */
	for (i = 0; i < rerrs.n; i++) {
		c->yd.errs->msg = xreallocarray(c->yd.errs->msg, c->yd.errs->n + 1,
		    sizeof(char *));
		c->yd.errs->msg[c->yd.errs->n++] = rerrs.msg[i];
	}
	free(rerrs.msg);
	if (rf == NULL)
		return;
	conf->rule_files = xreallocarray(conf->rule_files,
	    conf->nrule_files + 1, sizeof(*conf->rule_files));
	conf->rule_files[conf->nrule_files++] = rf;
}

/*
 * One entry of rule_files: a path or glob(7) pattern, relative to the
 * config file's directory.  A pattern that matches nothing is fine (as in
 * Prometheus); a plain path that does not exist is a mistake worth an
 * error, since nothing else would ever show it.
 */
/* A path as written, relative to the directory of the config file. */
char *
cfg_relative_path(const char *config_file, const char *path)
{
	char	*dir, *full;

	if (*path == '/')
		return (xstrdup(path));
	dir = xstrdup(config_file);
	xasprintf(&full, "%s/%s", dirname(dir), path);
	free(dir);
	return (full);
}

static void
rule_glob(struct cfg_ctx *c, yaml_node_t *n)
{
	const char	*pat;
	char		*full;
	glob_t		 g;
	size_t		 i;
	int		 rc;

	if ((pat = yd_scalar(&c->yd, n, "rule_files", "a file name or pattern")) ==
	    NULL)
		return;
	full = cfg_relative_path(c->yd.file, pat);
	memset(&g, 0, sizeof(g));
	rc = glob(full, GLOB_ERR, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		if (strpbrk(pat, "*?[") == NULL)
			yd_error(&c->yd, n, "'rule_files': no such file: %s", full);
	} else if (rc != 0)
		yd_error(&c->yd, n, "'rule_files': cannot read %s: %s", full,
		    rc == GLOB_NOSPACE ? "out of memory" : strerror(errno));
	else
		for (i = 0; i < g.gl_pathc; i++)
			rule_file_add(c, n, g.gl_pathv[i]);
	globfree(&g);
	free(full);
}

static void
parse_rule_files(struct cfg_ctx *c, yaml_node_t *n)
{
	yaml_node_item_t	*it;

	if (n->type == YAML_SCALAR_NODE) {
		rule_glob(c, n);
		return;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		yd_error(&c->yd, n, "'rule_files' expects a list of file names or "
		    "patterns, got %s", yd_kind(n));
		return;
	}
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++)
		rule_glob(c, yd_node(&c->yd, *it));
}

static void
top_key(struct yamldoc *yd, const char *key, yaml_node_t *v, yaml_node_t *k,
    void *arg)
{
	struct cfg_ctx	*c = (struct cfg_ctx *)yd;
	const char	*s, *why;

	if (yd_is_null(v) && strcmp(key, "listen") != 0)
		return;		/* "site:" alone: nothing to set */
	if (strcmp(key, "site") == 0)
		parse_site(c, v);
	else if (strcmp(key, "defaults") == 0)
		parse_defaults(c, v);
	else if (strcmp(key, "rule_files") == 0)
		parse_rule_files(c, v);
	else if (strcmp(key, "snmp") == 0) {
		snmp_cfg_free(c->conf->snmp);
		c->conf->snmp = snmp_config_parse(&c->yd, v);
	} else if (strcmp(key, "watchers") == 0) {
		watcher_cfgs_free(c->conf->watchers, c->conf->nwatchers);
		c->conf->watchers = watchers_config_parse(&c->yd, v,
		    &c->conf->nwatchers);
	} else if (strcmp(key, "user") == 0) {
		if ((s = yd_scalar(&c->yd, v, key, "a user name")) == NULL)
			return;
		errno = 0;
		if (getpwnam(s) == NULL)
			yd_error(&c->yd, v, "'user': no such user \"%s\"%s%s", s,
			    errno ? ": " : "", errno ? strerror(errno) : "");
		else {
			free(c->conf->user);
			c->conf->user = xstrdup(s);
		}
	} else if (strcmp(key, "web_config_file") == 0) {
		char	*path;

		if ((path = yd_path(&c->yd, v, key)) == NULL)
			return;
		web_config_free(c->conf->web);
		c->conf->web = web_config_load(&c->yd, v, path);
		free(path);
	} else if (strcmp(key, "state_file") == 0) {
		free(c->conf->state_path);
		c->conf->state_path = yd_path(&c->yd, v, key);
	} else if (strcmp(key, "audit_log") == 0) {
		free(c->conf->audit_path);
		c->conf->audit_path = yd_path(&c->yd, v, key);
	} else if (strcmp(key, "listen") == 0) {
		if ((s = yd_scalar(&c->yd, v, key, "ADDRESS:PORT")) == NULL)
			return;
		if (parse_addr(s, NP_PORT_REQUIRED, &c->conf->listen, &why) ==
		    -1)
			yd_error(&c->yd, v, "'listen': invalid address \"%s\": %s",
			    s, why);
	}
	/* probes come last, once defaults are known (see config_parse) */
}

static void
config_parse(struct cfg_ctx *c, yaml_node_t *root)
{
	static const char *const known[] = { "site", "listen", "defaults",
	    "probes", "rule_files", "snmp", "watchers", "audit_log", "user",
	    "web_config_file", "state_file" };
	yaml_node_pair_t	*p;
	yaml_node_t		*k;
	const char		*why;

	if (parse_addr(NP_DEFAULT_LISTEN, NP_PORT_REQUIRED, &c->conf->listen,
	    &why) == -1)
		fatalx("bad built-in listen address");
	c->conf->default_interval_ms = NP_DEFAULT_INTERVAL_MS;
	c->conf->default_timeout_ms = NP_DEFAULT_TIMEOUT_MS;
	c->conf->evaluation_interval_ms = NP_DEFAULT_EVAL_MS;

	if (root->type != YAML_MAPPING_NODE) {
		yd_error(&c->yd, root, "the configuration must be a mapping of "
		    "keys (site, listen, defaults, probes, rule_files, snmp, "
		    "watchers, audit_log, user, web_config_file, state_file), "
		    "got %s",
		    yd_kind(root));
		return;
	}
	yd_mapping_walk(&c->yd, root, known, NP_NELEM(known), NULL, top_key, NULL,
	    "the configuration", NULL);
	for (p = root->data.mapping.pairs.start;
	    p < root->data.mapping.pairs.top; p++) {
		k = yd_node(&c->yd, p->key);
		if (k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, "probes") == 0) {
			parse_probes(c, yd_node(&c->yd, p->value));
			break;
		}
	}
	if (c->conf->site_name == NULL)
		c->conf->site_name = xstrdup("default");
}

static void
config_root(struct yamldoc *yd, yaml_node_t *root)
{
	config_parse((struct cfg_ctx *)yd, root);
}

/* The digest the audit trail records for the configuration in force. */
static void
sha256_hex(const char *text, size_t len, char out[65])
{
	unsigned char	md[SHA256_DIGEST_LENGTH];
	size_t		i;

	SHA256((const unsigned char *)text, len, md);
	for (i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

struct np_config *
config_load_string(const char *name, const char *text, size_t len,
    struct cfg_errors *errs)
{
	struct cfg_ctx		 c;
	struct np_config	*conf;

	memset(errs, 0, sizeof(*errs));
	conf = xcalloc(1, sizeof(*conf));
	conf->path = xstrdup(name);
	sha256_hex(text, len, conf->sha256);
	memset(&c, 0, sizeof(c));
	c.yd.file = name;
	c.yd.errs = errs;
	c.conf = conf;
	if (yd_load(&c.yd, text, len, config_root) == 1)
		cfg_error_raw(errs, name, 0, 0, "the configuration is empty");
	if (errs->n > 0) {
		config_free(conf);
		return (NULL);
	}
	return (conf);
}

/* Config and rule files are small; refuse anything absurd. */
#define CONFIG_MAX_BYTES	(8 * 1024 * 1024)

char *
cfg_read_file(const char *path, size_t *lenp, struct cfg_errors *errs)
{
	FILE	*f;
	char	*buf;
	size_t	 len = 0, cap = 65536, n;

	if ((f = fopen(path, "r")) == NULL) {
		cfg_error_raw(errs, path, 0, 0, "cannot open: %s",
		    strerror(errno));
		return (NULL);
	}
	buf = xmalloc(cap);
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			if (cap >= CONFIG_MAX_BYTES) {
				cfg_error_raw(errs, path, 0, 0, "file larger "
				    "than %d bytes", CONFIG_MAX_BYTES);
				fclose(f);
				free(buf);
				return (NULL);
			}
			cap *= 2;
			buf = xreallocarray(buf, cap, 1);
		}
	}
	if (ferror(f)) {
		cfg_error_raw(errs, path, 0, 0, "read error: %s",
		    strerror(errno));
		fclose(f);
		free(buf);
		return (NULL);
	}
	fclose(f);
	*lenp = len;
	return (buf);
}

struct np_config *
config_load_file(const char *path, struct cfg_errors *errs)
{
	struct np_config	*conf;
	char			*buf;
	size_t			 len;

	memset(errs, 0, sizeof(*errs));
	if ((buf = cfg_read_file(path, &len, errs)) == NULL)
		return (NULL);
	conf = config_load_string(path, buf, len, errs);
	free(buf);
	return (conf);
}

void
config_free(struct np_config *conf)
{
	size_t	i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nprobes; i++)
		probe_cfg_free(&conf->probes[i]);
	free(conf->probes);
	for (i = 0; i < conf->nrule_files; i++)
		rule_file_free(conf->rule_files[i]);
	free(conf->rule_files);
	snmp_cfg_free(conf->snmp);
	watcher_cfgs_free(conf->watchers, conf->nwatchers);
	free(conf->audit_path);
	free(conf->user);
	web_config_free(conf->web);
	free(conf->state_path);
	rl_labels_free(&conf->site_labels);
	free(conf->site_name);
	free(conf->site_display_name);
	free(conf->path);
	free(conf);
}

const struct probe_cfg *
config_find_probe(const struct np_config *conf, const char *name)
{
	size_t	i;

	for (i = 0; i < conf->nprobes; i++)
		if (strcmp(conf->probes[i].name, name) == 0)
			return (&conf->probes[i]);
	return (NULL);
}
