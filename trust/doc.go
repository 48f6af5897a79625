// Package trust decides what the device may believe. It opens the three RFC
// 8572 artifacts (conveyed information, owner certificate, ownership voucher),
// decrypts CMS EnvelopedData with a device key, and validates signed data in
// the strict order of RFC 8572 section 5.4 (digest 2.4): voucher signature and
// chain, voucher dates, assertion, serial number, idevid-issuer, nonce,
// pinned-domain-cert, owner certificate path, revocation, and finally the
// signature over the conveyed information. It also turns certs-only CMS trust
// anchors into certificate pools.
//
// Every failure is a typed error naming the step that failed.
package trust
