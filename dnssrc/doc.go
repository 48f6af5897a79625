// Package dnssrc is the DNS source of RFC 8572 section 4.2: it asks
// multicast DNS (RFC 6762) and then unicast DNS (RFC 1035, RFC 7766) for the
// device-specific TXT record <serial-number>._sztp.<domain> (keys ci, oc and
// ov carrying binary CMS artifacts, C93) and then for the device-independent
// SRV record _sztp._tcp.<domain> (a list of bootstrap servers ordered by
// priority and weight, RFC 2782, C94).
//
// Everything DNS says is untrusted, DNSSEC or not: the caller hands TXT
// artifacts to the RFC 8572 section 5.4 validation and contacts SRV-learned
// servers provisionally. The package only finds and decodes the records,
// with every size, count and wait capped: messages are at most 65535 octets
// (9000 for mDNS), records per answer and servers per SRV set are counted,
// every query has a timeout, and a truncated UDP answer is asked again over
// TCP (C95).
//
// The wire format is golang.org/x/net/dns/dnsmessage.
package dnssrc
