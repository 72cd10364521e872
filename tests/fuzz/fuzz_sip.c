/*
 * libFuzzer target: SIP responses as the sip probe reads them
 * (probes/msg_sip.h): one UDP datagram and one TCP stream, the match
 * against our OPTIONS request, and the Server/User-Agent sanitizer.
 */
#include "config.h"

#include "probes/msg_sip.h"
#include "tests/fuzz/fuzz.h"

static const struct sip_request req = {
	.tcp = 0,
	.request_uri = "sip:127.0.0.2:5060",
	.from_uri = "sip:netprobed@127.0.0.1",
	.to_uri = "sip:127.0.0.2:5060",
	.contact_uri = NULL,
	.via_host = "127.0.0.1",
	.via_port = 5060,
	.branch = "z9hG4bKabcdefabcdefabcdefabcdef",
	.from_tag = "0123456789abcdef",
	.call_id = "0123456789abcdef0123456789abcdef@127.0.0.1",
	.cseq = 1,
	.user_agent = "netprobed",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_response	 r;
	char			 info[SIP_INFO_MAX + 1], *s;
	int			 stream;

	for (stream = 0; stream <= 1; stream++) {
		memset(&r, 0, sizeof(r));
		if (sip_response_parse((const char *)data, size, stream,
		    &r) != 0)
			continue;
		(void)sip_mismatch_str(sip_response_match(&r, &req));
		sip_info_sanitize(info, &r.server);
		sip_info_sanitize(info, &r.user_agent);
		sip_info_sanitize(info, &r.reason);
	}
	/* the config checks see the same bytes as option values */
	s = fuzz_strdup(data, size);
	(void)sip_uri_check(s);
	(void)sip_user_check(s);
	(void)sip_text_check(s);
	free(s);
	return (0);
}
