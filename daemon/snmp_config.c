/*
 * The `snmp:` block of the configuration:
 *
 *	snmp:
 *	  base_oid: 1.3.6.1.4.1.8072.9999.9999.7457
 *	  engine_id: 0x80001f8880...	  # ours, for v3 traps
 *	  state_dir: /var/lib/netprobed  # engineBoots survives restarts
 *	  alert_spacing: 30s		  # per alert, coalescing flaps
 *	  rate_limit: {rate: 5, burst: 20}  # notifications per second
 *	  agentx: tcp:127.0.0.1:705	  # serve the tables to a master
 *	  managers:
 *	    - name: bureau-nms
 *	      address: 192.0.2.10:162
 *	      version: 2c		  # or 3
 *	      community: public		  # or community_file
 *	      mode: inform		  # or trap
 *	      severities: [critical, warning]
 *	      match_labels: {component: mcu}
 *
 * Secrets (community, passphrases) may come from files, which must not
 * be readable by other users; they are never logged.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "daemon/msg_agentx.h"
#include "daemon/snmp.h"
#include "daemon/yamldoc.h"
#include "rules/labels.h"

#define QUEUE_MAX	100000

int
np_oid_parse(const char *s, uint32_t *oid, size_t *len, const char **why)
{
	unsigned long	 v;
	char		*end;
	size_t		 n = 0;

	if (*s == '.')
		s++;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s)) {
			*why = "expected digits separated by dots";
			return (-1);
		}
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno != 0 || v > 0xffffffffUL) {
			*why = "a part is larger than 4294967295";
			return (-1);
		}
		if (n == SNMP_MAX_OID) {
			*why = "more than 64 parts";
			return (-1);
		}
		oid[n++] = (uint32_t)v;
		s = end;
		if (*s == '.' && s[1] != '\0')
			s++;
		else if (*s != '\0') {
			*why = "expected digits separated by dots";
			return (-1);
		}
	}
	if (n < 2 || oid[0] > 2) {
		*why = "an OID has at least two parts and starts with 0, 1 "
		    "or 2";
		return (-1);
	}
	*len = n;
	return (0);
}

/* "0x8000..." (5 to 32 octets, as RFC 3411 SnmpEngineID) */
static int
parse_engine_id(struct yamldoc *yd, yaml_node_t *n, const char *key,
    uint8_t *out, size_t *len)
{
	const char	*s;
	size_t		 i, hex;

	if ((s = yd_scalar(yd, n, key, "an engine ID like 0x80001f8880...")) ==
	    NULL)
		return (-1);
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	hex = strlen(s);
	for (i = 0; i < hex; i++)
		if (!isxdigit((unsigned char)s[i]))
			break;
	if (i < hex || hex % 2 != 0 || hex / 2 < 5 ||
	    hex / 2 > SNMP_MAX_ENGINE_ID) {
		yd_error(yd, n, "'%s' expects 5 to 32 octets in hex, like "
		    "0x80001f8880aabbccddeeff0011", key);
		return (-1);
	}
	for (i = 0; i < hex / 2; i++) {
		unsigned int	b;

		sscanf(s + 2 * i, "%2x", &b);
		out[i] = (uint8_t)b;
	}
	*len = hex / 2;
	return (0);
}

/*
 * A secret from a file: its first line, at most 256 bytes; the file
 * checked as secret_read() does (no access for others).
 */
static char *
read_secret(struct yamldoc *yd, yaml_node_t *n, const char *key)
{
	const char	*path;
	char		*buf, *out, err[512];
	size_t		 len, line;

	if ((path = yd_scalar(yd, n, key, "a file name")) == NULL)
		return (NULL);
	if ((buf = secret_read(path, 4096, &len, err, sizeof(err))) == NULL) {
		yd_error(yd, n, "'%s': %s", key, err);
		return (NULL);
	}
	line = strcspn(buf, "\r\n");
	out = NULL;
	if (line > 256)
		yd_error(yd, n, "'%s': the secret in %s is longer than 256 "
		    "bytes", key, path);
	else if (line == 0)
		yd_error(yd, n, "'%s': %s is empty", key, path);
	else {
		buf[line] = '\0';
		out = xstrdup(buf);
	}
	secret_free(buf, len);
	return (out);
}

/* key or key_file: a secret given inline or in a file. */
static void
secret(struct yamldoc *yd, yaml_node_t *v, const char *key, char **out)
{
	const char	*s;
	size_t		 kl = strlen(key);

	free(*out);
	*out = NULL;
	if (kl > 5 && strcmp(key + kl - 5, "_file") == 0) {
		*out = read_secret(yd, v, key);
		return;
	}
	if ((s = yd_scalar(yd, v, key, "a string")) != NULL)
		*out = xstrdup(s);
}

struct mgr_ctx {
	struct snmp_manager_cfg	*m;
	yaml_node_t		*entry;
	yaml_node_t		*auth, *priv, *engine, *mode_n;
	int			 have_version, have_addr, have_community;
};

static void
manager_key(struct yamldoc *yd, const char *key, yaml_node_t *v,
    yaml_node_t *k, void *arg)
{
	struct mgr_ctx		*mc = arg;
	struct snmp_manager_cfg	*m = mc->m;
	const char		*s, *why;
	uint64_t		 u;
	yaml_node_item_t	*it;

	(void)k;
	if (strcmp(key, "match_labels") == 0) {
		yaml_node_pair_t	*p;

		if (yd_mapping_expect(yd, v, "'match_labels'") == -1)
			return;
		for (p = v->data.mapping.pairs.start;
		    p < v->data.mapping.pairs.top; p++) {
			const char	*ln, *lv;

			ln = yd_scalar(yd, yd_node(yd, p->key), "match_labels",
			    "label names");
			lv = yd_scalar(yd, yd_node(yd, p->value),
			    "match_labels", "a label value");
			if (ln != NULL && lv != NULL)
				rl_labels_set(&m->match, ln, lv);
		}
		return;
	}
	if (strcmp(key, "severities") == 0) {
		if (v->type != YAML_SEQUENCE_NODE) {
			yd_error(yd, v, "'severities' expects a list like "
			    "[critical, warning], got %s", yd_kind(v));
			return;
		}
		for (it = v->data.sequence.items.start;
		    it < v->data.sequence.items.top; it++) {
			if ((s = yd_scalar(yd, yd_node(yd, *it), "severities",
			    "a severity")) == NULL)
				continue;
			m->severities = xreallocarray(m->severities,
			    m->nseverities + 1, sizeof(char *));
			m->severities[m->nseverities++] = xstrdup(s);
		}
		return;
	}
	if (strcmp(key, "timeout") == 0) {
		(void)yd_duration(yd, v, key, 100, 60000, &m->timeout_ms);
		return;
	}
	if (strcmp(key, "retry_max") == 0) {
		(void)yd_duration(yd, v, key, 1000, 3600000, &m->retry_max_ms);
		return;
	}
	if (strcmp(key, "queue_size") == 0) {
		if (yd_uint(yd, v, key, 1, QUEUE_MAX, &u) == 0)
			m->queue_size = (size_t)u;
		return;
	}
	if (strcmp(key, "engine_id") == 0) {
		if (parse_engine_id(yd, v, key, m->engine_id,
		    &m->engine_id_len) == 0)
			mc->engine = v;
		return;
	}
	if (strncmp(key, "community", 9) == 0) {
		mc->have_community = 1;
		secret(yd, v, key, &m->community);
		return;
	}
	if (strncmp(key, "auth_passphrase", 15) == 0) {
		secret(yd, v, key, &m->auth_pass);
		return;
	}
	if (strncmp(key, "priv_passphrase", 15) == 0) {
		secret(yd, v, key, &m->priv_pass);
		return;
	}
	if ((s = yd_scalar(yd, v, key, "a string")) == NULL)
		return;
	if (strcmp(key, "name") == 0) {
		free(m->name);
		m->name = xstrdup(s);
	} else if (strcmp(key, "address") == 0) {
		mc->have_addr = 1;
		if (parse_addr(s, NP_PORT_REQUIRED, &m->addr, &why) == -1)
			yd_error(yd, v, "'address': invalid address \"%s\": %s",
			    s, why);
	} else if (strcmp(key, "version") == 0) {
		if (strcmp(s, "2c") == 0)
			m->version = 2;
		else if (strcmp(s, "3") == 0)
			m->version = 3;
		else
			yd_error(yd, v, "'version' expects 2c or 3, got \"%s\"",
			    s);
		mc->have_version = 1;
	} else if (strcmp(key, "mode") == 0) {
		if (strcmp(s, "trap") == 0)
			m->inform = 0;
		else if (strcmp(s, "inform") == 0)
			m->inform = 1;
		else
			yd_error(yd, v, "'mode' expects trap or inform, got "
			    "\"%s\"", s);
		mc->mode_n = v;
	} else if (strcmp(key, "user") == 0) {
		free(m->user);
		m->user = xstrdup(s);
	} else if (strcmp(key, "auth_protocol") == 0) {
		mc->auth = v;
		if (strcasecmp(s, "SHA") == 0 || strcasecmp(s, "SHA-1") == 0)
			m->auth = SNMP_AUTH_SHA;
		else if (strcasecmp(s, "SHA-256") == 0 ||
		    strcasecmp(s, "SHA256") == 0)
			m->auth = SNMP_AUTH_SHA256;
		else
			yd_error(yd, v, "'auth_protocol' expects SHA or "
			    "SHA-256, got \"%s\"", s);
	} else if (strcmp(key, "priv_protocol") == 0) {
		mc->priv = v;
		if (strcasecmp(s, "AES") == 0 || strcasecmp(s, "AES-128") == 0)
			m->priv = SNMP_PRIV_AES;
		else
			yd_error(yd, v, "'priv_protocol' expects AES, got "
			    "\"%s\"", s);
	}
}

static void
parse_manager(struct yamldoc *yd, yaml_node_t *n, struct snmp_manager_cfg *m)
{
	static const char *const known[] = { "name", "address", "version",
	    "mode", "community", "community_file", "user", "auth_protocol",
	    "auth_passphrase", "auth_passphrase_file", "priv_protocol",
	    "priv_passphrase", "priv_passphrase_file", "engine_id", "timeout",
	    "retry_max", "queue_size", "severities", "match_labels" };
	struct mgr_ctx	mc;

	memset(&mc, 0, sizeof(mc));
	mc.m = m;
	mc.entry = n;
	m->version = 2;
	m->inform = 1;
	m->timeout_ms = 2000;
	m->retry_max_ms = 60000;
	m->queue_size = 1000;
	if (yd_mapping_expect(yd, n, "a manager") == -1)
		return;
	yd_mapping_walk(yd, n, known, NP_NELEM(known), NULL, manager_key, &mc,
	    "a manager", NULL);
	if (!mc.have_addr)
		yd_error(yd, n, "a manager needs 'address' (IP:port)");
	if (m->name == NULL) {
		char	a[64];

		/* the address is its name, as an operator would call it */
		format_addr(&m->addr, 1, a, sizeof(a));
		m->name = xstrdup(m->addr.len ? a : "?");
	}
	if (m->version == 2 && !mc.have_community)
		yd_error(yd, n, "manager %s: version 2c needs 'community' or "
		    "'community_file'", m->name);
	if (m->version == 3) {
		if (m->user == NULL)
			yd_error(yd, n, "manager %s: version 3 needs 'user'",
			    m->name);
		if (m->auth != SNMP_AUTH_NONE && m->auth_pass == NULL)
			yd_error(yd, mc.auth, "manager %s: 'auth_protocol' "
			    "needs 'auth_passphrase' or 'auth_passphrase_file'",
			    m->name);
		if (m->priv != SNMP_PRIV_NONE && m->auth == SNMP_AUTH_NONE)
			yd_error(yd, mc.priv, "manager %s: privacy needs "
			    "authentication ('auth_protocol')", m->name);
		if (m->priv != SNMP_PRIV_NONE && m->priv_pass == NULL)
			yd_error(yd, mc.priv, "manager %s: 'priv_protocol' "
			    "needs 'priv_passphrase' or 'priv_passphrase_file'",
			    m->name);
		if ((m->auth_pass != NULL && strlen(m->auth_pass) < 8) ||
		    (m->priv_pass != NULL && strlen(m->priv_pass) < 8))
			yd_error(yd, n, "manager %s: USM passphrases must be "
			    "at least 8 characters (RFC 3414)", m->name);
		/* discovery of the manager's engine would block the loop */
		if (m->inform && m->engine_id_len == 0)
			yd_error(yd, mc.mode_n ? mc.mode_n : n, "manager %s: "
			    "v3 informs need the manager's 'engine_id'",
			    m->name);
	}
	if (m->version == 2 && (m->user != NULL || m->auth != SNMP_AUTH_NONE))
		yd_error(yd, n, "manager %s: 'user' and USM settings need "
		    "version: 3", m->name);
}

static void
rate_key(struct yamldoc *yd, const char *key, yaml_node_t *v, yaml_node_t *k,
    void *arg)
{
	struct snmp_cfg	*sc = arg;
	uint64_t	 u;

	(void)k;
	if (yd_uint(yd, v, key, 1, 10000, &u) == -1)
		return;
	if (strcmp(key, "rate") == 0)
		sc->rate = (double)u;
	else
		sc->burst = (double)u;
}

static void
snmp_key(struct yamldoc *yd, const char *key, yaml_node_t *v, yaml_node_t *k,
    void *arg)
{
	static const char *const rate_known[] = { "rate", "burst" };
	struct snmp_cfg		*sc = arg;
	const char		*s, *why;
	yaml_node_item_t	*it;
	size_t			 i, j;

	(void)k;
	if (strcmp(key, "managers") == 0) {
		if (v->type != YAML_SEQUENCE_NODE) {
			yd_error(yd, v, "'managers' expects a list, got %s",
			    yd_kind(v));
			return;
		}
		sc->managers = xcalloc((size_t)(v->data.sequence.items.top -
		    v->data.sequence.items.start) + 1, sizeof(*sc->managers));
		for (it = v->data.sequence.items.start;
		    it < v->data.sequence.items.top; it++)
			parse_manager(yd, yd_node(yd, *it),
			    &sc->managers[sc->nmanagers++]);
		/* (an entry with errors may have no name: already reported) */
		for (i = 0; i < sc->nmanagers; i++)
			for (j = 0; j < i; j++)
				if (sc->managers[i].name != NULL &&
				    sc->managers[j].name != NULL &&
				    strcmp(sc->managers[i].name,
				    sc->managers[j].name) == 0)
					yd_error(yd, yd_node(yd,
					    v->data.sequence.items.start[i]),
					    "duplicate manager name '%s'",
					    sc->managers[i].name);
		return;
	}
	if (strcmp(key, "rate_limit") == 0) {
		if (yd_mapping_expect(yd, v, "'rate_limit'") == 0)
			yd_mapping_walk(yd, v, rate_known, NP_NELEM(rate_known),
			    NULL, rate_key, sc, "rate_limit", NULL);
		return;
	}
	if (strcmp(key, "alert_spacing") == 0) {
		(void)yd_duration(yd, v, key, 0, 3600000,
		    &sc->alert_spacing_ms);
		return;
	}
	if (strcmp(key, "engine_id") == 0) {
		(void)parse_engine_id(yd, v, key, sc->engine_id,
		    &sc->engine_id_len);
		return;
	}
	if ((s = yd_scalar(yd, v, key, "a string")) == NULL)
		return;
	if (strcmp(key, "base_oid") == 0) {
		if (np_oid_parse(s, sc->base, &sc->base_len, &why) == -1)
			yd_error(yd, v, "'base_oid': invalid OID \"%s\": %s", s,
			    why);
	} else if (strcmp(key, "state_dir") == 0) {
		free(sc->state_dir);
		sc->state_dir = xstrdup(s);
	} else if (strcmp(key, "agentx") == 0) {
		if ((why = agentx_master_check(s)) != NULL)
			yd_error(yd, v, "'agentx': invalid master agent "
			    "address \"%s\": %s", s, why);
		free(sc->agentx_master);
		sc->agentx_master = xstrdup(s);
	}
}

struct snmp_cfg *
snmp_config_parse(struct yamldoc *yd, yaml_node_t *n)
{
	static const char *const known[] = { "base_oid", "engine_id",
	    "state_dir", "alert_spacing", "rate_limit", "agentx", "managers" };
	struct snmp_cfg	*sc = xcalloc(1, sizeof(*sc));
	const char	*why;

	if (np_oid_parse(SNMP_DEFAULT_BASE, sc->base, &sc->base_len,
	    &why) == -1)
		fatalx("bad built-in SNMP base OID");
	sc->alert_spacing_ms = 0;
	if (yd_mapping_expect(yd, n, "'snmp'") == 0)
		yd_mapping_walk(yd, n, known, NP_NELEM(known), NULL, snmp_key,
		    sc, "snmp", NULL);
	if (sc->rate == 0 && sc->burst > 0)
		yd_error(yd, n, "'rate_limit' needs 'rate' with 'burst'");
	if (sc->rate > 0 && sc->burst == 0)
		sc->burst = sc->rate;
	return (sc);
}

static void
secret_str_free(char *s)
{
	secret_free(s, s != NULL ? strlen(s) : 0);
}

void
snmp_manager_cfg_copy(struct snmp_manager_cfg *d,
    const struct snmp_manager_cfg *c)
{
	size_t	i;

	*d = *c;
	d->name = xstrdup(c->name);
	d->community = c->community ? xstrdup(c->community) : NULL;
	d->user = c->user ? xstrdup(c->user) : NULL;
	d->auth_pass = c->auth_pass ? xstrdup(c->auth_pass) : NULL;
	d->priv_pass = c->priv_pass ? xstrdup(c->priv_pass) : NULL;
	d->severities = c->nseverities ? xcalloc(c->nseverities,
	    sizeof(char *)) : NULL;
	for (i = 0; i < c->nseverities; i++)
		d->severities[i] = xstrdup(c->severities[i]);
	rl_labels_copy(&d->match, &c->match);
}

void
snmp_manager_cfg_clear(struct snmp_manager_cfg *m)
{
	size_t	i;

	free(m->name);
	secret_str_free(m->community);
	free(m->user);
	secret_str_free(m->auth_pass);
	secret_str_free(m->priv_pass);
	for (i = 0; i < m->nseverities; i++)
		free(m->severities[i]);
	free(m->severities);
	rl_labels_free(&m->match);
}

void
snmp_cfg_free(struct snmp_cfg *sc)
{
	size_t	i;

	if (sc == NULL)
		return;
	for (i = 0; i < sc->nmanagers; i++)
		snmp_manager_cfg_clear(&sc->managers[i]);
	free(sc->managers);
	free(sc->state_dir);
	free(sc->agentx_master);
	free(sc);
}
