/*
 * The `watchers:` block of the configuration (see watcher.h):
 *
 *	watchers:
 *	  - name: segment
 *	    type: pcap				# the only type
 *	    interface: eth2
 *	    filter: "not arp"			# BPF, checked at load
 *	    segment: ["10.30.0.0/16", "fd00:30::/64"]
 *	    direction: both			# egress | ingress | both
 *	    allow:			# or {egress: [..], ingress: [..]}
 *	      - "10.20.0.10/32"			# any protocol and port
 *	      - "10.20.0.53/32 udp/53"
 *	      - "10.20.0.80/32 tcp/80-443"
 *	      - "10.20.0.1/32 icmp"
 *	    buffer_size: 2097152
 *	    snaplen: 256
 *	    promiscuous: false
 *	    top_n: 10
 *	    table_size: 1024
 *	    conference:
 *	      mcus: ["10.20.0.10"]
 *	      sip_ports: [5060, 5061]
 *	      h323_ports: [1720]
 *	      ras_ports: [1719]
 *	      listen_only_after: 30s
 *	      audio_payload_types: [0, 8, 9, 18]
 *
 * Every list is bounded and says its bound when over it.  The BPF filter
 * is compiled here, so a bad one is a config error at its line and
 * column; names in it are refused, because libpcap would resolve them
 * (blocking the loop on a reload, and netprobed never resolves names).
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "daemon/yamldoc.h"
#include "daemon/watcher.h"

/* ---- prefixes ---------------------------------------------------- */

int
np_prefix_parse(const char *s, struct nl_prefix *p, const char **why)
{
	if (netlink_prefix_parse(s, p, why) == -1)
		return (-1);
	/* 10.30.1.0/16 is a likely typo: say so, with the network */
	if (netlink_prefix_has_host_bits(p)) {
		netlink_prefix_mask(p);
		*why = "host bits are set";
		return (-2);
	}
	return (0);
}

/* ---- helpers --------------------------------------------------------- */

/* A sequence's items, or a scalar as a list of one.  NULL: reported. */
static yaml_node_item_t *
list_items(struct yamldoc *yd, yaml_node_t *n, const char *key,
    const char *like, size_t max, size_t *count)
{
	static yaml_node_item_t	 one;

	if (n->type == YAML_SEQUENCE_NODE) {
		*count = (size_t)(n->data.sequence.items.top -
		    n->data.sequence.items.start);
		if (*count > max) {
			yd_error(yd, n, "'%s' takes at most %zu entries, got "
			    "%zu", key, max, *count);
			return (NULL);
		}
		return (n->data.sequence.items.start);
	}
	if (n->type == YAML_SCALAR_NODE && !yd_is_null(n)) {
		/* the caller maps it back with yd_node(); see node_of() */
		*count = 1;
		one = 0;
		return (&one);
	}
	yd_error(yd, n, "'%s' expects a list like %s, got %s", key, like,
	    yd_is_null(n) ? "no value" : yd_kind(n));
	return (NULL);
}

/* The node of item i (0 in list_items' list of one: the scalar). */
static yaml_node_t *
node_of(struct yamldoc *yd, yaml_node_t *list, yaml_node_item_t *it)
{
	return (*it == 0 ? list : yd_node(yd, *it));
}

static struct nl_prefix *
parse_prefixes(struct yamldoc *yd, yaml_node_t *n, const char *key,
    size_t max, size_t *np)
{
	yaml_node_item_t	*items;
	struct nl_prefix	*v;
	const char		*s, *why;
	char			 net[INET6_ADDRSTRLEN + 8];
	size_t			 count, i, j;
	int			 r;

	*np = 0;
	if ((items = list_items(yd, n, key, "[\"10.30.0.0/16\"]", max,
	    &count)) == NULL)
		return (NULL);
	v = xcalloc(count + 1, sizeof(*v));
	for (i = 0; i < count; i++) {
		yaml_node_t	*e = node_of(yd, n, &items[i]);

		if ((s = yd_scalar(yd, e, key, "an address prefix like "
		    "10.30.0.0/16")) == NULL)
			continue;
		if ((r = np_prefix_parse(s, &v[*np], &why)) == -2) {
			netlink_prefix_format(&v[*np], net, sizeof(net));
			yd_error(yd, e, "'%s': \"%s\" has host bits set (did "
			    "you mean %s?)", key, s, net);
			continue;
		}
		if (r == -1) {
			yd_error(yd, e, "'%s': invalid prefix \"%s\": %s", key,
			    s, why);
			continue;
		}
		for (j = 0; j < *np; j++)
			if (v[j].family == v[*np].family &&
			    v[j].len == v[*np].len &&
			    memcmp(v[j].addr, v[*np].addr, 16) == 0)
				break;
		if (j < *np) {
			yd_error(yd, e, "'%s': \"%s\" is listed twice", key, s);
			continue;
		}
		(*np)++;
	}
	return (v);
}

static uint16_t *
parse_ports(struct yamldoc *yd, yaml_node_t *n, const char *key, size_t *np)
{
	yaml_node_item_t	*items;
	uint16_t		*v;
	uint64_t		 u;
	size_t			 count, i;

	*np = 0;
	if ((items = list_items(yd, n, key, "[5060, 5061]", WATCHER_MAX_PORTS,
	    &count)) == NULL)
		return (NULL);
	v = xcalloc(count + 1, sizeof(*v));
	for (i = 0; i < count; i++)
		if (yd_uint(yd, node_of(yd, n, &items[i]), key, 1, 65535,
		    &u) == 0)
			v[(*np)++] = (uint16_t)u;
	return (v);
}

static uint16_t *
ports_default(const uint16_t *d, size_t n, size_t *np)
{
	uint16_t	*v = xcalloc(n, sizeof(*v));

	memcpy(v, d, n * sizeof(*v));
	*np = n;
	return (v);
}

/* ---- allow entries ------------------------------------------------- */

static const struct {
	const char	*name;
	int		 proto;
} proto_names[] = {
	{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 },
	{ "ipv6-icmp", 58 }, { "sctp", 132 }, { "gre", 47 }, { "esp", 50 },
	{ "ah", 51 }, { "ospf", 89 }, { "igmp", 2 }, { "pim", 103 },
	{ "vrrp", 112 },
};

/* A protocol name or number 0..255; -1 if neither. */
static int
proto_parse(const char *s)
{
	char		*end;
	unsigned long	 u;
	size_t		 i;

	for (i = 0; i < NP_NELEM(proto_names); i++)
		if (strcmp(s, proto_names[i].name) == 0)
			return (proto_names[i].proto);
	if (!isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	u = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || u > 255)
		return (-1);
	return ((int)u);
}

static int
port_parse(const char *s, const char *end, uint16_t *out)
{
	unsigned long	 u = 0;
	const char	*p;

	if (s == end || end - s > 5)
		return (-1);
	for (p = s; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return (-1);
		u = u * 10 + (unsigned long)(*p - '0');
	}
	if (u < 1 || u > 65535)
		return (-1);
	*out = (uint16_t)u;
	return (0);
}

/*
 * "PREFIX [PROTO[/PORT[-PORT]]]".  0, or -1 with a reason in why (for
 * host bits, the network in sugg).
 */
static int
allow_parse(const char *s, struct watcher_allow *a, const char **why,
    char *sugg, size_t sugglen)
{
	char		 buf[160], *tok[2], *t, *slash, *dash, *save = NULL;
	size_t		 n = 0;
	int		 r;

	memset(a, 0, sizeof(*a));
	a->proto = -1;
	if (strlen(s) >= sizeof(buf)) {
		*why = "too long";
		return (-1);
	}
	strcpy(buf, s);
	for (t = strtok_r(buf, " \t", &save); t != NULL;
	    t = strtok_r(NULL, " \t", &save))
		if (n++ < 2)
			tok[n - 1] = t;
	if (n == 0 || n > 2) {
		*why = "expected PREFIX [PROTOCOL[/PORT[-PORT]]], like "
		    "\"10.20.0.53/32 udp/53\"";
		return (-1);
	}
	if ((r = np_prefix_parse(tok[0], &a->pfx, why)) != 0) {
		if (r == -2) {
			netlink_prefix_format(&a->pfx, sugg, sugglen);
			*why = NULL;
		}
		return (-1);
	}
	if (n == 1)
		return (0);
	if ((slash = strchr(tok[1], '/')) != NULL)
		*slash++ = '\0';
	if ((a->proto = proto_parse(tok[1])) == -1) {
		*why = "unknown protocol (tcp, udp, icmp, icmpv6, sctp, gre, "
		    "esp, ah or a number 0 to 255)";
		return (-1);
	}
	/* "icmp" toward an IPv6 prefix means ICMPv6 */
	if (a->proto == 1 && a->pfx.family == AF_INET6)
		a->proto = 58;
	if (a->proto == 58 && a->pfx.family == AF_INET) {
		*why = "icmpv6 needs an IPv6 prefix";
		return (-1);
	}
	if (slash == NULL)
		return (0);
	if (a->proto != 6 && a->proto != 17) {
		*why = "ports go only with tcp or udp";
		return (-1);
	}
	a->has_ports = 1;
	dash = strchr(slash, '-');
	if (port_parse(slash, dash ? dash : slash + strlen(slash),
	    &a->port_lo) == -1 || (dash != NULL &&
	    port_parse(dash + 1, dash + 1 + strlen(dash + 1),
	    &a->port_hi) == -1)) {
		*why = "a port is 1 to 65535, a range LOW-HIGH";
		return (-1);
	}
	if (dash == NULL)
		a->port_hi = a->port_lo;
	if (a->port_hi < a->port_lo) {
		*why = "the port range is backwards (LOW-HIGH)";
		return (-1);
	}
	return (0);
}

static void
parse_allow_list(struct yamldoc *yd, yaml_node_t *n, const char *key,
    struct watcher_allow **out, size_t *np)
{
	yaml_node_item_t	*items;
	const char		*s, *why;
	char			 sugg[INET6_ADDRSTRLEN + 8];
	size_t			 count, i;

	free(*out);
	*out = NULL;
	*np = 0;
	/* an empty list is a choice: nothing is allowed that way */
	if (n->type == YAML_SEQUENCE_NODE &&
	    n->data.sequence.items.top == n->data.sequence.items.start)
		return;
	if ((items = list_items(yd, n, key, "[\"10.20.0.53/32 udp/53\"]",
	    WATCHER_MAX_ALLOW, &count)) == NULL)
		return;
	*out = xcalloc(count, sizeof(**out));
	for (i = 0; i < count; i++) {
		yaml_node_t	*e = node_of(yd, n, &items[i]);

		if ((s = yd_scalar(yd, e, key, "an entry like \"10.20.0.53/32 "
		    "udp/53\"")) == NULL)
			continue;
		if (allow_parse(s, &(*out)[*np], &why, sugg,
		    sizeof(sugg)) == 0)
			(*np)++;
		else if (why == NULL)
			yd_error(yd, e, "'%s': \"%s\" has host bits set (did "
			    "you mean %s?)", key, s, sugg);
		else
			yd_error(yd, e, "'%s': invalid entry \"%s\": %s", key,
			    s, why);
	}
}

static void
allow_dir_key(struct yamldoc *yd, const char *key, yaml_node_t *v,
    yaml_node_t *k, void *arg)
{
	struct watcher_cfg	*w = arg;
	int			 i = strcmp(key, "egress") == 0 ? 0 : 1;
	char			 full[32];

	(void)k;
	snprintf(full, sizeof(full), "allow.%s", key);
	parse_allow_list(yd, v, full, &w->allow[i], &w->nallow[i]);
}

static void
parse_allow(struct yamldoc *yd, yaml_node_t *v, struct watcher_cfg *w)
{
	static const char *const known[] = { "egress", "ingress" };

	if (v->type == YAML_MAPPING_NODE) {
		yd_mapping_walk(yd, v, known, NP_NELEM(known), NULL,
		    allow_dir_key, w, "allow", NULL);
		return;
	}
	/* one list for both directions: the remote ends, either way */
	parse_allow_list(yd, v, "allow", &w->allow[0], &w->nallow[0]);
	if (w->nallow[0] > 0) {
		w->allow[1] = xcalloc(w->nallow[0], sizeof(*w->allow[1]));
		memcpy(w->allow[1], w->allow[0],
		    w->nallow[0] * sizeof(*w->allow[1]));
	}
	w->nallow[1] = w->nallow[0];
}

/* ---- the BPF filter ------------------------------------------------ */

/*
 * The words of pcap-filter(7).  Any other identifier in a filter would
 * be taken by libpcap as a host, network, port or ethernet name and
 * resolved.
 */
static const char *const bpf_words[] = {
	"aarp", "action", "addr1", "addr2", "addr3", "addr4", "address1",
	"address2", "address3", "address4", "ah", "and", "arp", "atalk",
	"bcc", "broadcast", "byte", "carp", "clnp", "connectmsg", "csnp",
	"ctl", "data", "decnet", "dir", "direction", "dpc", "dst", "es-is",
	"esis", "esp", "ether", "fddi", "fisu", "gateway", "geneve", "greater",
	"hdpc", "hfisu", "hlssu", "hopc", "host", "hsio", "hsls", "icmp",
	"icmp6", "icmp6code", "icmp6type", "icmpcode", "icmptype", "ifindex",
	"ifname", "igmp", "igrp", "iih", "ilmic", "inbound", "ip", "ip6",
	"ipx", "is-is", "isis", "iso", "l1", "l2", "lane", "lat", "len",
	"less", "link", "llc", "lsp", "lssu", "lsu", "mask", "metac",
	"metaconnect", "mgt", "mopdl", "moprc", "mpls", "multicast", "net",
	"netbeui", "not", "oam", "oamf4", "oamf4ec", "oamf4sc", "on", "opc",
	"or", "outbound", "pim", "port", "portrange", "ppp", "pppoed",
	"pppoes", "proto", "protochain", "psnp", "ra", "radio", "rarp",
	"reason", "rnr", "rset", "rulenum", "sc", "sca", "sctp", "sio", "slip",
	"sls", "snp", "src", "srnr", "stp", "subrulenum", "subtype", "ta",
	"tcp", "tcpflags", "tr", "type", "udp", "vci", "vlan", "vpi", "vrrp",
	"vxlan", "wlan",
	"icmp-echoreply", "icmp-unreach", "icmp-sourcequench",
	"icmp-redirect", "icmp-echo", "icmp-routeradvert",
	"icmp-routersolicit", "icmp-timxceed", "icmp-paramprob",
	"icmp-tstamp", "icmp-tstampreply", "icmp-ireq", "icmp-ireqreply",
	"icmp-maskreq", "icmp-maskreply",
	"icmp6-destinationunreach", "icmp6-packettoobig",
	"icmp6-timeexceeded", "icmp6-parameterproblem", "icmp6-echo",
	"icmp6-echoreply", "icmp6-multicastlistenerquery",
	"icmp6-multicastlistenerreportv1", "icmp6-multicastlistenerdone",
	"icmp6-routersolicit", "icmp6-routeradvert", "icmp6-neighborsolicit",
	"icmp6-neighboradvert", "icmp6-redirect", "icmp6-routerrenum",
	"icmp6-nodeinformationquery", "icmp6-nodeinformationresponse",
	"icmp6-ineighbordiscoverysolicit", "icmp6-ineighbordiscoveryadvert",
	"icmp6-multicastlistenerreportv2", "icmp6-homeagentdiscoveryrequest",
	"icmp6-homeagentdiscoveryreply", "icmp6-mobileprefixsolicit",
	"icmp6-mobileprefixadvert", "icmp6-certpathsolicit",
	"icmp6-certpathadvert", "icmp6-multicastrouteradvert",
	"icmp6-multicastroutersolicit", "icmp6-multicastrouterterm",
	"tcp-fin", "tcp-syn", "tcp-rst", "tcp-push", "tcp-ack", "tcp-urg",
	"tcp-ece", "tcp-cwr",
};

static int
all_of(const char *s, size_t n, const char *set)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strchr(set, s[i]) == NULL)
			return (0);
	return (1);
}

/*
 * The first word of the filter libpcap would resolve as a name (copied
 * into word), or 0 if there is none.  Numbers, dotted quads, IPv6 and
 * MAC addresses (with ':') and the filter words pass; a word after a
 * backslash is a protocol name, looked up in local tables only.
 */
static int
filter_has_name(const char *f, char *word, size_t wordlen)
{
	const char	*p = f, *s;
	size_t		 n, i;
	int		 esc;

	while (*p != '\0') {
		if (!isalnum((unsigned char)*p)) {
			p++;
			continue;
		}
		esc = p > f && p[-1] == '\\';
		s = p;
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '.' ||
		    *p == '-' || *p == ':')
			p++;
		n = (size_t)(p - s);
		if (esc)
			continue;
		if (isdigit((unsigned char)*s)) {
			if (all_of(s, n, "0123456789."))
				continue;
			if (n > 2 && s[0] == '0' && (s[1] == 'x' ||
			    s[1] == 'X') && all_of(s + 2, n - 2,
			    "0123456789abcdefABCDEF"))
				continue;
		}
		if (memchr(s, ':', n) != NULL &&
		    all_of(s, n, "0123456789abcdefABCDEF:."))
			continue;
		for (i = 0; i < NP_NELEM(bpf_words); i++)
			if (strlen(bpf_words[i]) == n &&
			    strncmp(bpf_words[i], s, n) == 0)
				break;
		if (i < NP_NELEM(bpf_words))
			continue;
		snprintf(word, wordlen, "%.*s", (int)(n > 64 ? 64 : n), s);
		return (1);
	}
	return (0);
}

static void
check_filter(struct yamldoc *yd, yaml_node_t *n, const char *f, int snaplen)
{
	struct bpf_program	 prog;
	pcap_t			*p;
	char			 word[80];

	if (filter_has_name(f, word, sizeof(word))) {
		yd_error(yd, n, "'filter': \"%s\" is not a filter word and "
		    "libpcap would resolve it as a name; write addresses, "
		    "port and protocol numbers", word);
		return;
	}
	if ((p = pcap_open_dead(DLT_EN10MB, snaplen)) == NULL) {
		yd_error(yd, n, "'filter': cannot check it (libpcap)");
		return;
	}
	if (pcap_compile(p, &prog, f, 1, PCAP_NETMASK_UNKNOWN) == -1)
		yd_error(yd, n, "'filter': invalid BPF filter \"%s\": %s", f,
		    pcap_geterr(p));
	else
		pcap_freecode(&prog);
	pcap_close(p);
}

/* ---- conference ---------------------------------------------------- */

static const uint16_t	sip_default[] = { 5060, 5061 };
static const uint16_t	h323_default[] = { 1720 };
static const uint16_t	ras_default[] = { 1719 };

/*
 * RFC 3551 table 4, the static audio payload types, but not 13 (CN):
 * comfort noise is what a silent endpoint sends, and a site that only
 * sends it is the listen-only site the check looks for.
 */
static const uint8_t	audio_default[] = { 0, 3, 4, 5, 6, 7, 8, 9, 10, 11,
			    12, 14, 15, 16, 17, 18 };

struct conf_ctx {
	struct watcher_conference *c;
	int			 have_mcus, have_sip, have_h323, have_ras,
				 have_pt;
};

static void
conference_key(struct yamldoc *yd, const char *key, yaml_node_t *v,
    yaml_node_t *k, void *arg)
{
	struct conf_ctx			*cc = arg;
	struct watcher_conference	*c = cc->c;
	yaml_node_item_t		*items;
	size_t				 count, i;
	uint64_t			 u;

	(void)k;
	if (strcmp(key, "mcus") == 0) {
		cc->have_mcus = 1;
		c->mcus = parse_prefixes(yd, v, key, WATCHER_MAX_MCUS,
		    &c->nmcus);
		if (c->nmcus == 0 && v->type == YAML_SEQUENCE_NODE &&
		    v->data.sequence.items.top == v->data.sequence.items.start)
			yd_error(yd, v, "'mcus' must list at least one MCU");
	} else if (strcmp(key, "sip_ports") == 0) {
		cc->have_sip = 1;
		c->sip_ports = parse_ports(yd, v, key, &c->nsip);
	} else if (strcmp(key, "h323_ports") == 0) {
		cc->have_h323 = 1;
		c->h323_ports = parse_ports(yd, v, key, &c->nh323);
	} else if (strcmp(key, "ras_ports") == 0) {
		cc->have_ras = 1;
		c->ras_ports = parse_ports(yd, v, key, &c->nras);
	} else if (strcmp(key, "listen_only_after") == 0) {
		(void)yd_duration(yd, v, key, 1000, 3600000,
		    &c->listen_only_after_ms);
	} else if (strcmp(key, "audio_payload_types") == 0) {
		cc->have_pt = 1;
		if ((items = list_items(yd, v, key, "[0, 8, 9, 18]", 128,
		    &count)) == NULL)
			return;
		for (i = 0; i < count; i++)
			if (yd_uint(yd, node_of(yd, v, &items[i]), key, 0, 127,
			    &u) == 0)
				c->audio_pt[u] = 1;
	}
}

static struct watcher_conference *
parse_conference(struct yamldoc *yd, yaml_node_t *n)
{
	static const char *const known[] = { "mcus", "sip_ports",
	    "h323_ports", "ras_ports", "listen_only_after",
	    "audio_payload_types" };
	struct watcher_conference	*c = xcalloc(1, sizeof(*c));
	struct conf_ctx			 cc;
	size_t				 i;

	memset(&cc, 0, sizeof(cc));
	cc.c = c;
	c->listen_only_after_ms = WATCHER_DEFAULT_LISTEN_ONLY_MS;
	if (yd_mapping_expect(yd, n, "'conference'") == 0)
		yd_mapping_walk(yd, n, known, NP_NELEM(known), NULL,
		    conference_key, &cc, "conference", NULL);
	if (!cc.have_mcus && n->type == YAML_MAPPING_NODE)
		yd_error(yd, n, "'conference' needs 'mcus', the allowed MCU "
		    "addresses");
	if (!cc.have_sip)
		c->sip_ports = ports_default(sip_default,
		    NP_NELEM(sip_default), &c->nsip);
	if (!cc.have_h323)
		c->h323_ports = ports_default(h323_default,
		    NP_NELEM(h323_default), &c->nh323);
	if (!cc.have_ras)
		c->ras_ports = ports_default(ras_default,
		    NP_NELEM(ras_default), &c->nras);
	if (!cc.have_pt)
		for (i = 0; i < NP_NELEM(audio_default); i++)
			c->audio_pt[audio_default[i]] = 1;
	return (c);
}

static void
conference_free(struct watcher_conference *c)
{
	if (c == NULL)
		return;
	free(c->mcus);
	free(c->sip_ports);
	free(c->h323_ports);
	free(c->ras_ports);
	free(c);
}

/* ---- one entry ------------------------------------------------------ */

/* Watcher names become label values and log words. */
static int
valid_watcher_name(const char *s)
{
	size_t	n = strlen(s);

	return (n >= 1 && n <= 64 && all_of(s, n, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"));
}

struct w_ctx {
	struct watcher_cfg	*w;
	yaml_node_t		*filter;
	int			 have_if, have_segment, have_name;
};

static void
watcher_key(struct yamldoc *yd, const char *key, yaml_node_t *v,
    yaml_node_t *k, void *arg)
{
	struct w_ctx		*wc = arg;
	struct watcher_cfg	*w = wc->w;
	const char		*s;
	uint64_t		 u;
	int			 b;

	(void)k;
	if (strcmp(key, "segment") == 0) {
		wc->have_segment = 1;
		free(w->segment);
		w->segment = parse_prefixes(yd, v, key, WATCHER_MAX_SEGMENT,
		    &w->nsegment);
		if (w->nsegment == 0 && v->type == YAML_SEQUENCE_NODE &&
		    v->data.sequence.items.top == v->data.sequence.items.start)
			yd_error(yd, v, "'segment' must list at least one "
			    "prefix");
		return;
	}
	if (strcmp(key, "allow") == 0) {
		parse_allow(yd, v, w);
		return;
	}
	if (strcmp(key, "conference") == 0) {
		conference_free(w->conference);
		w->conference = parse_conference(yd, v);
		return;
	}
	if (strcmp(key, "buffer_size") == 0) {
		(void)yd_uint(yd, v, key, 65536, 256 * 1024 * 1024,
		    &w->buffer_size);
		return;
	}
	if (strcmp(key, "snaplen") == 0) {
		(void)yd_uint(yd, v, key, 128, 65535, &w->snaplen);
		return;
	}
	if (strcmp(key, "top_n") == 0) {
		if (yd_uint(yd, v, key, 0, 100, &u) == 0)
			w->top_n = (size_t)u;
		return;
	}
	if (strcmp(key, "table_size") == 0) {
		if (yd_uint(yd, v, key, 16, 65536, &u) == 0)
			w->table_size = (size_t)u;
		return;
	}
	if (strcmp(key, "promiscuous") == 0) {
		if (yd_bool(yd, v, key, &b) == 0)
			w->promiscuous = b;
		return;
	}
	if ((s = yd_scalar(yd, v, key, strcmp(key, "filter") == 0 ?
	    "a BPF filter" : "a string")) == NULL)
		return;
	if (strcmp(key, "name") == 0) {
		wc->have_name = 1;
		if (!valid_watcher_name(s))
			yd_error(yd, v, "watcher name \"%s\" must be 1 to 64 "
			    "letters, digits, '-', '_' or '.'", s);
		else {
			free(w->name);
			w->name = xstrdup(s);
		}
	} else if (strcmp(key, "type") == 0) {
		if (strcmp(s, "pcap") != 0)
			yd_error(yd, v, "unknown watcher type \"%s\" (known "
			    "types: pcap)", s);
	} else if (strcmp(key, "interface") == 0) {
		wc->have_if = 1;
		if (strlen(s) >= sizeof(w->ifname) || strpbrk(s, "/ \t:") !=
		    NULL || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
			yd_error(yd, v, "'interface': \"%s\" is not an "
			    "interface name (1 to 15 characters, no '/', ':' "
			    "or spaces)", s);
		else
			snprintf(w->ifname, sizeof(w->ifname), "%s", s);
	} else if (strcmp(key, "filter") == 0) {
		if (*s == '\0')
			yd_error(yd, v, "'filter' must not be empty (leave it "
			    "out to capture everything)");
		else if (strlen(s) > WATCHER_MAX_FILTER)
			yd_error(yd, v, "'filter' is longer than %d bytes",
			    WATCHER_MAX_FILTER);
		else {
			free(w->filter);
			w->filter = xstrdup(s);
			wc->filter = v;
		}
	} else if (strcmp(key, "direction") == 0) {
		if (strcmp(s, "egress") == 0)
			w->direction = WATCHER_DIR_EGRESS;
		else if (strcmp(s, "ingress") == 0)
			w->direction = WATCHER_DIR_INGRESS;
		else if (strcmp(s, "both") == 0)
			w->direction = WATCHER_DIR_BOTH;
		else
			yd_error(yd, v, "'direction' must be one of egress, "
			    "ingress, both, got \"%s\"", s);
	}
}

static void
watcher_cfg_free(struct watcher_cfg *w)
{
	if (w == NULL)
		return;
	free(w->name);
	free(w->filter);
	free(w->segment);
	free(w->allow[0]);
	free(w->allow[1]);
	conference_free(w->conference);
	free(w);
}

static struct watcher_cfg *
parse_watcher(struct yamldoc *yd, yaml_node_t *n)
{
	static const char *const known[] = { "name", "type", "interface",
	    "filter", "segment", "direction", "allow", "buffer_size",
	    "snaplen", "promiscuous", "top_n", "table_size", "conference" };
	struct watcher_cfg	*w = xcalloc(1, sizeof(*w));
	struct w_ctx		 wc;
	char			 where[96];

	memset(&wc, 0, sizeof(wc));
	wc.w = w;
	w->line = (int)n->start_mark.line + 1;
	w->direction = WATCHER_DIR_BOTH;
	w->buffer_size = WATCHER_DEFAULT_BUFFER;
	w->snaplen = WATCHER_DEFAULT_SNAPLEN;
	w->top_n = WATCHER_DEFAULT_TOP_N;
	w->table_size = WATCHER_DEFAULT_TABLE;
	if (yd_mapping_expect(yd, n, "a watcher entry") == -1) {
		w->name = xstrdup("?");	/* as a missing name: no duplicate */
		return (w);
	}
	/* the name first, for the other messages */
	{
		yaml_node_t	*nn = yd_mapping_value(yd, n, "name");

		if (nn != n && nn->type == YAML_SCALAR_NODE &&
		    valid_watcher_name((const char *)nn->data.scalar.value))
			snprintf(where, sizeof(where), "watcher '%s'",
			    (const char *)nn->data.scalar.value);
		else
			snprintf(where, sizeof(where), "a watcher entry");
	}
	yd_mapping_walk(yd, n, known, NP_NELEM(known), NULL, watcher_key, &wc,
	    where, NULL);
	if (!wc.have_name)
		yd_error(yd, n, "watcher entry has no 'name'");
	if (w->name != NULL)
		snprintf(where, sizeof(where), "watcher '%s'", w->name);
	else {
		snprintf(where, sizeof(where), "watcher entry");
		w->name = xstrdup("?");
	}
	if (!wc.have_if)
		yd_error(yd, n, "%s has no 'interface'", where);
	if (!wc.have_segment)
		yd_error(yd, n, "%s has no 'segment' (the protected segment's "
		    "own prefixes)", where);
	if (wc.filter != NULL)
		check_filter(yd, wc.filter, w->filter, (int)w->snaplen);
	return (w);
}

struct watcher_cfg **
watchers_config_parse(struct yamldoc *yd, yaml_node_t *n, size_t *np)
{
	struct watcher_cfg	**v;
	yaml_node_item_t	 *it;
	size_t			  count, i, j, nerr = yd->errs->n;

	*np = 0;
	if (yd_is_null(n))
		return (NULL);
	if (n->type != YAML_SEQUENCE_NODE) {
		yd_error(yd, n, "'watchers' must be a sequence of watcher "
		    "entries, got %s", yd_kind(n));
		return (NULL);
	}
	count = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (count > WATCHER_MAX) {
		yd_error(yd, n, "'watchers' takes at most %d entries, got %zu",
		    WATCHER_MAX, count);
		return (NULL);
	}
	if (count == 0)
		return (NULL);
	v = xcalloc(count, sizeof(*v));
	for (i = 0, it = n->data.sequence.items.start; i < count; i++, it++) {
		v[i] = parse_watcher(yd, yd_node(yd, *it));
		for (j = 0; j < i; j++)
			if (strcmp(v[j]->name, v[i]->name) == 0 &&
			    strcmp(v[i]->name, "?") != 0) {
				yd_error(yd, yd_node(yd, *it), "duplicate "
				    "watcher name '%s' (first defined at line "
				    "%d)", v[i]->name, v[j]->line);
				break;
			}
	}
	if (yd->errs->n != nerr) {
		watcher_cfgs_free(v, count);
		return (NULL);
	}
	*np = count;
	return (v);
}

void
watcher_cfgs_free(struct watcher_cfg **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		watcher_cfg_free(v[i]);
	free(v);
}
