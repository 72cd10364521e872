/*
 * libFuzzer target: DNS responses as the dns probe decodes them
 * (probes/msg_dns.h): the whole message with every RR rendered, the
 * check against our question, and the TCP framing fed in small reads.
 */
#include "config.h"

#include "probes/msg_dns.h"
#include "tests/fuzz/fuzz.h"

static void
rr_cb(void *arg, const struct dns_rr *rr)
{
	size_t	*n = arg;

	/* the text is what answer regexes read: it must be a C string */
	*n += strlen(rr->text) + rr->rdata_at;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_question	 q;
	struct dns_msg		 m;
	struct dns_tcp_in	 in;
	char			 why[256], text[DNS_NAME_TEXT];
	const char		*w;
	size_t			 n = 0, off;
	long			 used;

	memset(&q, 0, sizeof(q));
	if (dns_name_from_text("www.example.com", q.name, &q.namelen,
	    &w) == -1)
		abort();
	q.type = DNS_T_A;
	q.qclass = DNS_C_IN;
	(void)dns_parse_head(data, size, &m, why, sizeof(why));
	if (dns_parse(data, size, &m, rr_cb, &n, why, sizeof(why)) == 0)
		(void)dns_reply_matches(&m, 0x1234, &q, why, sizeof(why));
	(void)dns_name_to_text(data, size, text, sizeof(text));

	/* the same bytes as a TCP stream, read 5 bytes at a time */
	memset(&in, 0, sizeof(in));
	for (off = 0; off < size && !in.done; off += (size_t)used) {
		used = dns_tcp_in_take(&in, data + off,
		    size - off < 5 ? size - off : 5, &w);
		if (used <= 0)
			break;
	}
	if (in.done)
		(void)dns_parse(in.msg, in.have, &m, rr_cb, &n, why,
		    sizeof(why));
	dns_tcp_in_free(&in);
	return (0);
}
