/*
 * msg_dns: DNS query encoder, strict response decoder, RR rendering and
 * TCP framing for the dns probe.  No I/O: everything here works on
 * buffers so it can be unit-tested and fuzzed.  The decoder trusts no
 * count and no length in the message; every read is checked against
 * the bytes actually present.
 */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/netprobed.h"
#include "probes/msg_dns.h"

static const char *const rcode_names[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI",
};

static const struct {
	uint16_t	 type;
	const char	*name;
} type_names[] = {
	{ DNS_T_A, "A" }, { DNS_T_NS, "NS" }, { DNS_T_CNAME, "CNAME" },
	{ DNS_T_SOA, "SOA" }, { DNS_T_PTR, "PTR" }, { DNS_T_MX, "MX" },
	{ DNS_T_TXT, "TXT" }, { DNS_T_AAAA, "AAAA" }, { DNS_T_SRV, "SRV" },
	{ 35, "NAPTR" }, { 39, "DNAME" }, { DNS_T_OPT, "OPT" },
	{ 43, "DS" }, { 46, "RRSIG" }, { 47, "NSEC" }, { 48, "DNSKEY" },
	{ 50, "NSEC3" }, { 51, "NSEC3PARAM" }, { 64, "SVCB" },
	{ 65, "HTTPS" }, { 255, "ANY" }, { 257, "CAA" },
};

static const char *const section_names[] = {
	[DNS_S_ANSWER] = "answer",
	[DNS_S_AUTHORITY] = "authority",
	[DNS_S_ADDITIONAL] = "additional",
};

/* ---- small helpers ------------------------------------------------- */

static uint16_t
get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
setwhy(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
setwhy(char *why, size_t len, const char *fmt, ...)
{
	va_list	ap;

	if (why == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* A bounded text appender: stops, and remembers it, when full. */
struct sbuf {
	char	*p;
	size_t	 len, off;
	int	 cut;
};

static void
sb_init(struct sbuf *sb, char *p, size_t len)
{
	sb->p = p;
	sb->len = len;
	sb->off = 0;
	sb->cut = 0;
	if (len > 0)
		p[0] = '\0';
}

static void
sb_mem(struct sbuf *sb, const char *s, size_t n)
{
	if (sb->cut || sb->len == 0)
		return;
	if (n >= sb->len - sb->off) {
		sb->cut = 1;
		return;
	}
	memcpy(sb->p + sb->off, s, n);
	sb->off += n;
	sb->p[sb->off] = '\0';
}

static void
sb_puts(struct sbuf *sb, const char *s)
{
	sb_mem(sb, s, strlen(s));
}

static void
sb_printf(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	char	tmp[128];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		sb->cut = 1;
	else
		sb_mem(sb, tmp, (size_t)n);
}

static void
sb_ddd(struct sbuf *sb, uint8_t c)
{
	sb_printf(sb, "\\%03u", c);
}

/* ---- names --------------------------------------------------------- */

int
dns_name_from_text(const char *text, uint8_t *wire, size_t *len,
    const char **why)
{
	size_t		 tlen, i, start, n = 0;
	unsigned char	 c;

	if (text == NULL || *text == '\0') {
		*why = "the name is empty";
		return (-1);
	}
	if (strcmp(text, ".") == 0) {
		if (wire != NULL)
			wire[0] = 0;
		if (len != NULL)
			*len = 1;
		return (0);
	}
	tlen = strlen(text);
	if (text[tlen - 1] == '.')
		tlen--;
	/* RFC 1035 section 2.3.4: 255 wire bytes = 253 characters */
	if (tlen > 253) {
		*why = "longer than 253 characters";
		return (-1);
	}
	for (start = 0, i = 0; i <= tlen; i++) {
		if (i == tlen || text[i] == '.') {
			if (i == start) {
				*why = "empty label (two dots in a row, or a "
				    "leading dot)";
				return (-1);
			}
			if (i - start > 63) {
				*why = "a label is longer than 63 characters";
				return (-1);
			}
			if (wire != NULL) {
				wire[n] = (uint8_t)(i - start);
				memcpy(wire + n + 1, text + start, i - start);
			}
			n += 1 + (i - start);
			start = i + 1;
			continue;
		}
		c = (unsigned char)text[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_')
			continue;
		*why = c >= 0x80 ? "not ASCII: write an internationalized "
		    "name in its xn-- (A-label) form" : "only letters, "
		    "digits, '-', '_' and dots between labels are allowed";
		return (-1);
	}
	if (wire != NULL)
		wire[n] = 0;
	if (len != NULL)
		*len = n + 1;
	return (0);
}

int
dns_reverse_name(const char *ip, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789abcdef";
	uint8_t			 a[16];
	struct sbuf		 sb;
	int			 i;

	sb_init(&sb, out, outlen);
	if (inet_pton(AF_INET, ip, a) == 1) {
		sb_printf(&sb, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1],
		    a[0]);
	} else if (inet_pton(AF_INET6, ip, a) == 1) {
		for (i = 15; i >= 0; i--) {
			char	nib[4] = { hex[a[i] & 0xf], '.',
				    hex[a[i] >> 4], '.' };

			sb_mem(&sb, nib, sizeof(nib));
		}
		sb_puts(&sb, "ip6.arpa");
	} else
		return (-1);
	return (sb.cut ? -1 : 0);
}

int
dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t	i;

	if (alen != blen)
		return (0);
	/* label lengths are < 0x40 and compare equal under the fold too;
	 * only letters are folded (RFC 4343 section 3) */
	for (i = 0; i < alen; i++) {
		uint8_t	x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y + 32);
		if (x != y)
			return (0);
	}
	return (1);
}

static void
label_text(struct sbuf *sb, const uint8_t *p, size_t n)
{
	size_t	i;
	uint8_t	c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (c <= 0x20 || c >= 0x7f)
			sb_ddd(sb, c);
		else if (strchr(".\\\"();@$", c) != NULL) {
			char	esc[2] = { '\\', (char)c };

			sb_mem(sb, esc, 2);
		} else
			sb_mem(sb, (const char *)&c, 1);
	}
}

/* Append a well-formed wire name; -1 if it is not well formed. */
static int
name_text(struct sbuf *sb, const uint8_t *w, size_t wlen)
{
	size_t	i = 0;

	if (wlen == 0 || wlen > DNS_NAME_MAX)
		return (-1);
	if (w[0] == 0) {
		sb_puts(sb, ".");
		return (wlen == 1 ? 0 : -1);
	}
	while (i < wlen && w[i] != 0) {
		if (w[i] > 63 || i + 1 + w[i] >= wlen)
			return (-1);
		label_text(sb, w + i + 1, w[i]);
		sb_puts(sb, ".");
		i += 1 + w[i];
	}
	return (i + 1 == wlen ? 0 : -1);
}

int
dns_name_to_text(const uint8_t *wire, size_t wlen, char *out, size_t len)
{
	struct sbuf	sb;

	sb_init(&sb, out, len);
	if (name_text(&sb, wire, wlen) == -1)
		return (-1);
	return (sb.cut ? -1 : 0);
}

/*
 * Read a possibly compressed name (RFC 1035 section 4.1.4) at *off into
 * wire form.  Labels read in place must end before limit; after the
 * first pointer *off is fixed just past it.  Each pointer must point
 * strictly before the previous target (the first: before the name's
 * own start), so the walk always ends; the 255-byte and DNS_JUMPS_MAX
 * bounds make that explicit.
 */
static const char *
name_read(const uint8_t *msg, size_t len, size_t *off, size_t limit,
    uint8_t *out, size_t *outlen)
{
	size_t		 pos = *off, lowest = *off, lim = limit, n = 0;
	unsigned	 jumps = 0;
	int		 jumped = 0;
	uint8_t		 c;

	for (;;) {
		if (pos >= lim)
			return ("name runs past the end of its data");
		c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t	ptr;

			if (pos + 1 >= lim)
				return ("compression pointer cut short");
			ptr = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			if (!jumped) {
				*off = pos + 2;
				jumped = 1;
			}
			if (ptr >= lowest)
				return ("compression pointer does not point "
				    "backwards");
			if (ptr < DNS_HDR_LEN)
				return ("compression pointer into the header");
			if (++jumps > DNS_JUMPS_MAX)
				return ("too many compression pointers");
			lowest = ptr;
			pos = ptr;
			lim = len;
			continue;
		}
		if ((c & 0xc0) != 0)
			return ("unknown label type");
		if (c == 0) {
			out[n++] = 0;
			if (!jumped)
				*off = pos + 1;
			*outlen = n;
			return (NULL);
		}
		if (pos + 1 + c > lim)
			return ("label runs past the end of its data");
		if (n + 1 + c + 1 > DNS_NAME_MAX)
			return ("name longer than 255 bytes");
		memcpy(out + n, msg + pos, 1 + (size_t)c);
		n += 1 + (size_t)c;
		pos += 1 + (size_t)c;
	}
}

/* ---- names of things ----------------------------------------------- */

const char *
dns_rcode_name(unsigned rcode, char *buf, size_t len)
{
	if (rcode < NP_NELEM(rcode_names))
		return (rcode_names[rcode]);
	if (rcode == DNS_R_BADVERS)
		return ("BADVERS");
	snprintf(buf, len, "RCODE%u", rcode);
	return (buf);
}

int
dns_rcode_from_name(const char *name)
{
	size_t	i;

	for (i = 0; i < NP_NELEM(rcode_names); i++)
		if (strcasecmp(name, rcode_names[i]) == 0)
			return ((int)i);
	if (strcasecmp(name, "BADVERS") == 0)
		return (DNS_R_BADVERS);
	return (-1);
}

const char *
dns_type_name(uint16_t type, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < NP_NELEM(type_names); i++)
		if (type_names[i].type == type)
			return (type_names[i].name);
	snprintf(buf, len, "TYPE%u", type);
	return (buf);
}

static void
class_text(struct sbuf *sb, uint16_t c)
{
	switch (c) {
	case DNS_C_IN:
		sb_puts(sb, "IN");
		break;
	case 3:
		sb_puts(sb, "CH");
		break;
	case 4:
		sb_puts(sb, "HS");
		break;
	default:
		sb_printf(sb, "CLASS%u", c);
		break;
	}
}

/* ---- query --------------------------------------------------------- */

size_t
dns_query_build(uint8_t *buf, size_t len, uint16_t id,
    const struct dns_question *q, int rd, uint16_t edns_udp)
{
	size_t	need, off;
	int	edns = edns_udp >= 512;

	if (q->namelen == 0 || q->namelen > DNS_NAME_MAX)
		return (0);
	need = DNS_HDR_LEN + q->namelen + 4 + (edns ? 11 : 0);
	if (need > len)
		return (0);
	memset(buf, 0, need);
	/* RFC 1035 section 4.1.1: QR 0, opcode QUERY, RD as asked */
	put16(buf, id);
	buf[2] = rd ? 0x01 : 0x00;
	put16(buf + 4, 1);
	put16(buf + 10, edns ? 1 : 0);
	off = DNS_HDR_LEN;
	memcpy(buf + off, q->name, q->namelen);
	off += q->namelen;
	put16(buf + off, q->type);
	put16(buf + off + 2, q->qclass);
	off += 4;
	if (edns) {
		/* RFC 6891 section 6.1.2: root owner, TYPE OPT, CLASS the
		 * UDP payload size, TTL 0 (ext. rcode, version 0, DO 0),
		 * no options */
		buf[off] = 0;
		put16(buf + off + 1, DNS_T_OPT);
		put16(buf + off + 3, edns_udp);
		off += 11;
	}
	return (off);
}

/* ---- decoding ------------------------------------------------------ */

static int
utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t	c = p[0];
	size_t	need, i;
	uint8_t	lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return (0);
	if (n < need + 1)
		return (0);
	if (p[1] < lo || p[1] > hi)
		return (0);
	for (i = 2; i <= need; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return (0);
	return ((int)need + 1);
}

static void
txt_string(struct sbuf *sb, const uint8_t *p, size_t n)
{
	size_t	i = 0;
	int	u;

	sb_puts(sb, "\"");
	while (i < n) {
		if (p[i] == '"' || p[i] == '\\') {
			char	esc[2] = { '\\', (char)p[i] };

			sb_mem(sb, esc, 2);
			i++;
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			sb_mem(sb, (const char *)p + i, 1);
			i++;
		} else if (p[i] >= 0x80 && (u = utf8_seq(p + i, n - i)) > 0) {
			sb_mem(sb, (const char *)p + i, (size_t)u);
			i += (size_t)u;
		} else
			sb_ddd(sb, p[i++]);
	}
	sb_puts(sb, "\"");
}

/* Append a name read from RDATA; NULL or why not. */
static const char *
rdata_name(struct sbuf *sb, const uint8_t *msg, size_t len, size_t *pos,
    size_t end)
{
	uint8_t		 w[DNS_NAME_MAX];
	size_t		 wl;
	const char	*why;

	if ((why = name_read(msg, len, pos, end, w, &wl)) != NULL)
		return (why);
	name_text(sb, w, wl);
	return (NULL);
}

struct rr_ctx {
	struct dns_msg	*m;
	int		 seen_opt;
};

/* Decode and render RDATA at [pos, end); NULL or why it is malformed. */
static const char *
rdata_text(struct rr_ctx *x, struct dns_rr *rr, struct sbuf *sb,
    const uint8_t *msg, size_t len, size_t pos, size_t end)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 addr[INET6_ADDRSTRLEN];
	const char		*why;
	size_t			 n = end - pos, i;
	unsigned		 nopt = 0;

	switch (rr->rclass == DNS_C_IN || (rr->type != DNS_T_A &&
	    rr->type != DNS_T_AAAA) ? rr->type : 0) {
	case DNS_T_A:
		if (n != 4)
			return ("A RDATA is not 4 bytes");
		inet_ntop(AF_INET, msg + pos, addr, sizeof(addr));
		sb_puts(sb, addr);
		return (NULL);
	case DNS_T_AAAA:
		if (n != 16)
			return ("AAAA RDATA is not 16 bytes");
		inet_ntop(AF_INET6, msg + pos, addr, sizeof(addr));
		sb_puts(sb, addr);
		return (NULL);
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		if ((why = rdata_name(sb, msg, len, &pos, end)) != NULL)
			return (why);
		break;
	case DNS_T_MX:
		if (n < 3)
			return ("MX RDATA too short");
		sb_printf(sb, "%u ", get16(msg + pos));
		pos += 2;
		if ((why = rdata_name(sb, msg, len, &pos, end)) != NULL)
			return (why);
		break;
	case DNS_T_SRV:
		/* RFC 2782: priority, weight, port, target */
		if (n < 7)
			return ("SRV RDATA too short");
		sb_printf(sb, "%u %u %u ", get16(msg + pos),
		    get16(msg + pos + 2), get16(msg + pos + 4));
		pos += 6;
		if ((why = rdata_name(sb, msg, len, &pos, end)) != NULL)
			return (why);
		break;
	case DNS_T_SOA:
		/* RFC 1035 section 3.3.13 */
		if ((why = rdata_name(sb, msg, len, &pos, end)) != NULL)
			return (why);
		sb_puts(sb, " ");
		if ((why = rdata_name(sb, msg, len, &pos, end)) != NULL)
			return (why);
		if (end - pos != 20)
			return ("SOA RDATA is not two names and 20 bytes");
		sb_printf(sb, " %u %u %u %u %u", get32(msg + pos),
		    get32(msg + pos + 4), get32(msg + pos + 8),
		    get32(msg + pos + 12), get32(msg + pos + 16));
		if (rr->section == DNS_S_ANSWER && !x->m->has_serial) {
			x->m->has_serial = 1;
			x->m->serial = get32(msg + pos);
		}
		pos = end;
		break;
	case DNS_T_TXT:
		/* RFC 1035 section 3.3.14: one or more strings */
		if (n == 0)
			return ("TXT RDATA is empty");
		while (pos < end) {
			if (pos + 1 + msg[pos] > end)
				return ("TXT string runs past its RDATA");
			if (sb->off > rr->rdata_at)
				sb_puts(sb, " ");
			txt_string(sb, msg + pos + 1, msg[pos]);
			pos += 1 + (size_t)msg[pos];
		}
		break;
	case DNS_T_OPT:
		/* RFC 6891 section 6.1.2: options are code, length, data */
		while (pos < end) {
			if (end - pos < 4 || end - pos - 4 < get16(msg +
			    pos + 2))
				return ("OPT option runs past its RDATA");
			pos += 4 + (size_t)get16(msg + pos + 2);
			nopt++;
		}
		sb_printf(sb, "udp=%u version=%u do=%u options=%u",
		    rr->rclass, (rr->ttl >> 16) & 0xff, (rr->ttl >> 15) & 1,
		    nopt);
		break;
	default:
		/* RFC 3597 section 5 */
		sb_printf(sb, "\\# %zu", n);
		if (n > 0)
			sb_puts(sb, " ");
		for (i = 0; i < n && !sb->cut; i++) {
			char	h[2] = { hex[msg[pos + i] >> 4],
				    hex[msg[pos + i] & 0xf] };

			sb_mem(sb, h, 2);
		}
		pos = end;
		break;
	}
	if (pos != end)
		return ("RDATA longer than its content");
	return (NULL);
}

static const char *
rr_read(struct rr_ctx *x, const uint8_t *msg, size_t len, size_t *off,
    struct dns_rr *rr)
{
	uint8_t		 owner[DNS_NAME_MAX];
	size_t		 olen, end;
	struct sbuf	 sb;
	const char	*why;
	char		 tb[16];

	if ((why = name_read(msg, len, off, len, owner, &olen)) != NULL)
		return (why);
	if (len - *off < 10)
		return ("record header cut short");
	rr->type = get16(msg + *off);
	rr->rclass = get16(msg + *off + 2);
	rr->ttl = get32(msg + *off + 4);
	rr->rdlen = get16(msg + *off + 8);
	*off += 10;
	if (len - *off < rr->rdlen)
		return ("RDATA runs past the end of the message");
	end = *off + rr->rdlen;

	sb_init(&sb, rr->text, sizeof(rr->text));
	name_text(&sb, owner, olen);
	if (rr->type == DNS_T_OPT) {
		/* RFC 6891 section 6.1.1 */
		if (rr->section != DNS_S_ADDITIONAL)
			return ("OPT record outside the additional section");
		if (olen != 1)
			return ("OPT record with an owner other than the "
			    "root");
		if (x->seen_opt++)
			return ("more than one OPT record");
		x->m->edns = 1;
		x->m->edns_udp = rr->rclass;
		x->m->edns_version = (uint8_t)(rr->ttl >> 16);
		/* RFC 6891 section 6.1.3: the upper 8 bits of the rcode */
		x->m->rcode |= (rr->ttl >> 24) << 4;
		sb_puts(&sb, " OPT ");
	} else {
		sb_printf(&sb, " %u ", rr->ttl);
		class_text(&sb, rr->rclass);
		sb_printf(&sb, " %s ", dns_type_name(rr->type, tb,
		    sizeof(tb)));
	}
	rr->rdata_at = sb.off;
	if ((why = rdata_text(x, rr, &sb, msg, len, *off, end)) != NULL)
		return (why);
	rr->cut = sb.cut;
	*off = end;
	return (NULL);
}

static int
head_read(const uint8_t *buf, size_t len, struct dns_msg *m, size_t *off,
    char *why, size_t whylen)
{
	const char	*w;
	uint16_t	 fl;

	memset(m, 0, sizeof(*m));
	if (buf == NULL || len < DNS_HDR_LEN) {
		setwhy(why, whylen, "%zu bytes, shorter than a DNS header",
		    buf == NULL ? 0 : len);
		return (-1);
	}
	/* RFC 1035 section 4.1.1 */
	m->id = get16(buf);
	fl = get16(buf + 2);
	m->qr = fl >> 15;
	m->opcode = (fl >> 11) & 0xf;
	m->aa = (fl >> 10) & 1;
	m->tc = (fl >> 9) & 1;
	m->rd = (fl >> 8) & 1;
	m->ra = (fl >> 7) & 1;
	m->ad = (fl >> 5) & 1;	/* RFC 4035 section 3.2 */
	m->cd = (fl >> 4) & 1;
	m->rcode = fl & 0xf;
	m->qdcount = get16(buf + 4);
	m->ancount = get16(buf + 6);
	m->nscount = get16(buf + 8);
	m->arcount = get16(buf + 10);
	*off = DNS_HDR_LEN;
	if (m->qdcount == 0)
		return (0);
	/* RFC 1035 section 4.1.2 */
	if ((w = name_read(buf, len, off, len, m->q.name, &m->q.namelen)) !=
	    NULL) {
		setwhy(why, whylen, "question: %s", w);
		return (-1);
	}
	if (len - *off < 4) {
		setwhy(why, whylen, "question cut short");
		return (-1);
	}
	m->q.type = get16(buf + *off);
	m->q.qclass = get16(buf + *off + 2);
	*off += 4;
	return (0);
}

int
dns_parse_head(const uint8_t *buf, size_t len, struct dns_msg *m, char *why,
    size_t whylen)
{
	size_t	off;

	return (head_read(buf, len, m, &off, why, whylen));
}

int
dns_parse(const uint8_t *buf, size_t len, struct dns_msg *m, dns_rr_fn fn,
    void *arg, char *why, size_t whylen)
{
	struct dns_rr		 rr;
	struct rr_ctx		 x;
	struct dns_question	 extra;
	const char		*w;
	size_t			 off;
	unsigned		 i, s, count;

	if (head_read(buf, len, m, &off, why, whylen) == -1)
		return (-1);
	for (i = 1; i < m->qdcount; i++) {
		if ((w = name_read(buf, len, &off, len, extra.name,
		    &extra.namelen)) != NULL || len - off < 4) {
			setwhy(why, whylen, "question %u: %s", i + 1,
			    w != NULL ? w : "cut short");
			return (-1);
		}
		off += 4;
	}
	x.m = m;
	x.seen_opt = 0;
	for (s = DNS_S_ANSWER; s <= DNS_S_ADDITIONAL; s++) {
		count = s == DNS_S_ANSWER ? m->ancount : s ==
		    DNS_S_AUTHORITY ? m->nscount : m->arcount;
		for (i = 0; i < count; i++) {
			memset(&rr, 0, offsetof(struct dns_rr, text));
			rr.section = (enum dns_section)s;
			if ((w = rr_read(&x, buf, len, &off, &rr)) != NULL) {
				setwhy(why, whylen, "%s record %u of %u: %s",
				    section_names[s], i + 1, count, w);
				return (-1);
			}
			if (fn != NULL)
				fn(arg, &rr);
		}
	}
	m->trailing = len - off;
	return (0);
}

int
dns_reply_matches(const struct dns_msg *m, uint16_t id,
    const struct dns_question *q, char *why, size_t whylen)
{
	char	a[16], b[16], name[DNS_NAME_TEXT];

	if (!m->qr) {
		setwhy(why, whylen, "not a response (QR clear)");
		return (-1);
	}
	if (m->id != id) {
		setwhy(why, whylen, "id 0x%04x, expected 0x%04x", m->id, id);
		return (-1);
	}
	if (m->opcode != 0) {
		setwhy(why, whylen, "opcode %u, not QUERY", m->opcode);
		return (-1);
	}
	/* RFC 5452 section 9.1: the question must be ours */
	if (m->qdcount != 1) {
		setwhy(why, whylen, "%u questions, expected ours alone",
		    m->qdcount);
		return (-1);
	}
	if (m->q.type != q->type || m->q.qclass != q->qclass) {
		setwhy(why, whylen, "question type %s class %u, expected %s "
		    "class %u", dns_type_name(m->q.type, a, sizeof(a)),
		    m->q.qclass, dns_type_name(q->type, b, sizeof(b)),
		    q->qclass);
		return (-1);
	}
	if (!dns_name_equal(m->q.name, m->q.namelen, q->name, q->namelen)) {
		dns_name_to_text(m->q.name, m->q.namelen, name, sizeof(name));
		setwhy(why, whylen, "question for %s, not ours", name);
		return (-1);
	}
	return (0);
}

/* ---- TCP framing --------------------------------------------------- */

size_t
dns_tcp_frame(uint8_t *out, size_t outlen, const uint8_t *msg, size_t msglen)
{
	if (msglen == 0 || msglen > DNS_MSG_MAX || outlen < 2 ||
	    outlen - 2 < msglen)
		return (0);
	put16(out, (uint16_t)msglen);
	memmove(out + 2, msg, msglen);
	return (msglen + 2);
}

long
dns_tcp_in_take(struct dns_tcp_in *t, const uint8_t *data, size_t len,
    const char **why)
{
	size_t	used = 0, n;

	if (t->done)
		return (0);
	while (t->nprefix < 2 && used < len)
		t->prefix[t->nprefix++] = data[used++];
	if (t->nprefix < 2)
		return ((long)used);
	if (t->msg == NULL) {
		t->want = get16(t->prefix);
		if (t->want < DNS_HDR_LEN) {
			*why = "the length prefix announces less than a DNS "
			    "header";
			return (-1);
		}
		t->msg = xmalloc(t->want);
	}
	n = len - used;
	if (n > t->want - t->have)
		n = t->want - t->have;
	if (n > 0)
		memcpy(t->msg + t->have, data + used, n);
	t->have += n;
	used += n;
	if (t->have == t->want)
		t->done = 1;
	return ((long)used);
}

void
dns_tcp_in_free(struct dns_tcp_in *t)
{
	free(t->msg);
	memset(t, 0, sizeof(*t));
}
