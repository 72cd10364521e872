/*
 * libFuzzer target: H.323 replies as the h323 probe reads them
 * (probes/msg_h225.h): a RAS message (one UDP datagram), and Q.931 call
 * signalling both bare and behind its TPKT header (RFC 1006).
 */
#include "config.h"

#include "probes/msg_h225.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct h225_ras		 ras;
	struct h225_q931	 q;
	const char		*why;
	size_t			 payload;
	char			*s;

	if (h225_ras_parse(data, size, &ras, &why) == 0 &&
	    (strlen(h225_ras_name(ras.type)) == 0 ||
	    strlen(ras.gk_id) >= sizeof(ras.gk_id)))
		abort();
	if (h225_q931_parse(data, size, &q, &why) == 0) {
		(void)h225_q931_name(q.type);
		(void)h225_cause_name(q.cause);
		(void)h225_uu_body_for(q.type);
	}
	if (size >= H225_TPKT_HDR &&
	    h225_tpkt_check(data, &payload, &why) == 0 &&
	    payload <= size - H225_TPKT_HDR)
		(void)h225_q931_parse(data + H225_TPKT_HDR, payload, &q, &why);
	s = fuzz_strdup(data, size);
	(void)h225_alias_check(s);
	(void)h225_number_check(s);
	free(s);
	return (0);
}
