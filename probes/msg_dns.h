/*
 * msg_dns: the DNS wire format for the dns probe, with no I/O.
 *
 * A query encoder (one question, optional EDNS0 OPT record), a strict
 * response decoder (every length checked, name compression followed
 * only backwards and a bounded number of times), the text rendering of
 * resource records that answer regexes match against, the check that a
 * reply answers our query, and the RFC 1035 section 4.2.2 TCP framing.
 *
 * Nothing here allocates except dns_tcp_in_take() (see there); nothing
 * blocks; every function is safe on hostile input of any length.
 */
#ifndef MSG_DNS_H
#define MSG_DNS_H

#include <stddef.h>
#include <stdint.h>

/* RFC 1035 section 3.2.2, RFC 3596, RFC 2782, RFC 6891 */
#define DNS_T_A		1
#define DNS_T_NS	2
#define DNS_T_CNAME	5
#define DNS_T_SOA	6
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28
#define DNS_T_SRV	33
#define DNS_T_OPT	41

#define DNS_C_IN	1

/* RFC 1035 section 4.1.1, RFC 6891 section 9 (BADVERS, 12-bit) */
#define DNS_R_NOERROR	0
#define DNS_R_FORMERR	1
#define DNS_R_SERVFAIL	2
#define DNS_R_NXDOMAIN	3
#define DNS_R_NOTIMP	4
#define DNS_R_REFUSED	5
#define DNS_R_BADVERS	16

#define DNS_HDR_LEN	12
#define DNS_NAME_MAX	255	/* wire form, RFC 1035 section 2.3.4 */
#define DNS_QUERY_MAX	512	/* any query we build fits */
#define DNS_MSG_MAX	65535	/* TCP length prefix bound */
#define DNS_JUMPS_MAX	64	/* compression pointers per name */
/* A name as text: 255 wire bytes, each possibly \DDD, plus dots. */
#define DNS_NAME_TEXT	1100
/* One rendered RR; longer ones are cut (dns_rr.cut). */
#define DNS_RR_TEXT	4096

/* A question: the name in (uncompressed) wire form. */
struct dns_question {
	uint8_t		name[DNS_NAME_MAX];
	size_t		namelen;
	uint16_t	type;
	uint16_t	qclass;
};

/* A decoded response: header, its question, EDNS, SOA serial. */
struct dns_msg {
	uint16_t	id;
	int		qr, aa, tc, rd, ra, ad, cd;
	unsigned	opcode;
	unsigned	rcode;		/* 12 bits with an OPT record */
	uint16_t	qdcount, ancount, nscount, arcount;
	struct dns_question q;		/* when qdcount >= 1 */
	int		edns;		/* an OPT record was present */
	uint16_t	edns_udp;
	uint8_t		edns_version;
	int		has_serial;	/* an SOA was in the answer */
	uint32_t	serial;		/* of the first one */
	size_t		trailing;	/* bytes after the last RR */
};

enum dns_section {
	DNS_S_ANSWER,
	DNS_S_AUTHORITY,
	DNS_S_ADDITIONAL,
};

/*
 * One resource record as text, the form answer regexes see:
 *   "www.test. 300 IN A 192.0.2.10"
 * OWNER TTL CLASS TYPE RDATA separated by single spaces.  Names are
 * absolute (trailing dot) with the case the server sent; in a label,
 * printable ASCII stands for itself except . \ " ( ) ; @ $, which get a
 * backslash ("\."), and space, control and non-ASCII bytes are "\DDD"
 * (master file escapes, RFC 1035 section 5.1).  RDATA by type:
 *   A, AAAA	address (inet_ntop)
 *   NS, CNAME, PTR	name
 *   MX		"10 mail.test."
 *   SRV	"0 5 5060 www.test." (priority weight port target)
 *   SOA	"ns.test. hostmaster.test. 2024010101 1200 120 604800 600"
 *   TXT	each string in double quotes, space separated; '"' and '\'
 *		escaped with '\'; valid UTF-8 passes through unchanged,
 *		control bytes and invalid UTF-8 as "\DDD"
 *   OPT	"udp=1232 version=0 do=0 options=0" (owner ".", no TTL or
 *		class fields: ". OPT udp=...")
 *   others	RFC 3597 section 5: "TYPE99 \# 3 0a0b0c" (class too if
 *		unknown: "CLASS5")
 */
struct dns_rr {
	enum dns_section section;
	uint16_t	type;
	uint16_t	rclass;
	uint32_t	ttl;
	uint16_t	rdlen;
	size_t		rdata_at;	/* where RDATA starts in text */
	int		cut;		/* text longer than DNS_RR_TEXT */
	char		text[DNS_RR_TEXT];
};

/* Called for each RR in message order; must not keep rr. */
typedef void	(*dns_rr_fn)(void *arg, const struct dns_rr *rr);

/*
 * Check a domain name as written in the config ("www.test", "test.",
 * "_sip._udp.test", "." for the root): letters, digits, '-' and '_',
 * labels of 1 to 63 bytes, at most 253 bytes without the final dot.
 * On success stores the wire form (at most DNS_NAME_MAX bytes) in wire
 * and its length in *len and returns 0; else -1 with a static reason
 * in *why.  wire may be NULL to only check.
 */
int		 dns_name_from_text(const char *text, uint8_t *wire,
		    size_t *len, const char **why);

/*
 * The reverse-lookup name of an IP literal (RFC 1035 section 3.5,
 * RFC 3596 section 2.5): "10.2.0.192.in-addr.arpa" or the 72-byte
 * nibble form under ip6.arpa.  Returns 0, or -1 if ip is not an IPv4
 * or IPv6 literal or out is too small (90 bytes always suffice).
 */
int		 dns_reverse_name(const char *ip, char *out, size_t outlen);

/*
 * Build a query (RFC 1035 section 4.1): id, RD if rd, one question,
 * and, when edns_udp >= 512, an OPT record advertising that UDP
 * payload size (RFC 6891 section 6.1.2, version 0, no options).
 * Returns the length written to buf, or 0 if it does not fit in len.
 */
size_t		 dns_query_build(uint8_t *buf, size_t len, uint16_t id,
		    const struct dns_question *q, int rd, uint16_t edns_udp);

/*
 * Decode the header and the first question only: enough to match a
 * reply to its query and to see TC (a truncated reply's RR sections
 * are not decoded, RFC 2181 section 9).  Returns 0, or -1 with why
 * (NUL-terminated, at most whylen bytes) saying what is wrong; fields
 * of m decoded before the error are set, the rest zero.
 */
int		 dns_parse_head(const uint8_t *buf, size_t len,
		    struct dns_msg *m, char *why, size_t whylen);

/*
 * Decode a whole message: header, every question, and every RR of
 * the answer, authority and additional sections, checking every
 * length, every name (compression pointers must point strictly
 * before the previous target, at most DNS_JUMPS_MAX of them, names at
 * most 255 bytes), the RDATA of the types listed at struct dns_rr
 * (exact lengths, names inside their RDATA), and OPT rules (only in
 * the additional section, owner root, at most one).  Calls fn (if not
 * NULL) for each RR as it goes; on a later error the caller must
 * discard what fn saw.  Returns 0, or -1 with why.  Bytes after the
 * last RR are allowed and counted in m->trailing.
 */
int		 dns_parse(const uint8_t *buf, size_t len, struct dns_msg *m,
		    dns_rr_fn fn, void *arg, char *why, size_t whylen);

/*
 * Does the decoded reply m answer the query with this id and question?
 * A response (QR set), opcode QUERY, the same id, exactly one question
 * with the same type and class and the same name compared without
 * regard to ASCII case (RFC 4343; resolvers may vary it, the "0x20"
 * trick).  Returns 0, or -1 with why.
 */
int		 dns_reply_matches(const struct dns_msg *m, uint16_t id,
		    const struct dns_question *q, char *why, size_t whylen);

/* Wire-form names equal without regard to ASCII case?  1 or 0. */
int		 dns_name_equal(const uint8_t *a, size_t alen,
		    const uint8_t *b, size_t blen);

/*
 * Render a wire-form name (as dns_name_from_text or a decoded
 * question gives) as text, escaped as described at struct dns_rr.
 * Always NUL-terminates out (len > 0); returns 0, or -1 if it was
 * cut or the name is not well formed.
 */
int		 dns_name_to_text(const uint8_t *wire, size_t wlen, char *out,
		    size_t len);

/*
 * Names of rcodes ("NOERROR", "NXDOMAIN", ...) and types ("A", "MX",
 * ...).  For a value without a name these write "RCODE23"/"TYPE99"
 * into buf and return buf.
 */
const char	*dns_rcode_name(unsigned rcode, char *buf, size_t len);
const char	*dns_type_name(uint16_t type, char *buf, size_t len);
/* The rcode for a name, any case ("nxdomain" too); -1 if unknown. */
int		 dns_rcode_from_name(const char *name);

/*
 * TCP framing, RFC 1035 section 4.2.2: a two-byte length in network
 * order before each message.  dns_tcp_frame writes it and the message
 * into out; returns the length, or 0 if msglen is 0, above
 * DNS_MSG_MAX, or does not fit in outlen.
 */
size_t		 dns_tcp_frame(uint8_t *out, size_t outlen,
		    const uint8_t *msg, size_t msglen);

/*
 * Reassembly of one framed message from reads of any size.  Start
 * from a zeroed struct.  dns_tcp_in_take consumes bytes from data and
 * returns how many it used (never more than the one message needs);
 * it returns -1 with why if the announced length is shorter than a
 * DNS header.  Once the prefix is complete it allocates msg (xmalloc:
 * exactly the announced length, at most DNS_MSG_MAX); done becomes 1
 * when have == want.  dns_tcp_in_free releases msg and zeroes the
 * struct; call it in every case.
 */
struct dns_tcp_in {
	uint8_t		 prefix[2];
	size_t		 nprefix;
	uint8_t		*msg;
	size_t		 want, have;
	int		 done;
};
long		 dns_tcp_in_take(struct dns_tcp_in *, const uint8_t *data,
		    size_t len, const char **why);
void		 dns_tcp_in_free(struct dns_tcp_in *);

#endif /* MSG_DNS_H */
