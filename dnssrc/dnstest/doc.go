// Package dnstest runs DNS servers for tests of the DNS source: NSD (a real
// authoritative server from the distribution) on loopback from a zone file,
// and a small responder of our own for what a real server will not send
// (SERVFAIL on demand, a truncated answer, an answer for another name, an
// mDNS answer with binary TXT).
package dnstest
