// Package trust decides what the device may believe. It opens the three RFC
// 8572 artifacts (conveyed information, owner certificate, ownership voucher),
// decrypts CMS EnvelopedData and AuthEnvelopedData with a device key, and
// validates signed data in the strict order of RFC 8572 section 5.4 (digest
// 2.4): voucher signature and chain, voucher dates, assertion, serial number,
// idevid-issuer, nonce, pinned-domain-cert, owner certificate path,
// revocation, and finally the signature over the conveyed information. It
// also turns certs-only CMS trust anchors into certificate pools.
//
// Every failure is a *StepError naming the step that failed (StepOf reads
// it); after the first failure nothing else is checked.
//
// # Inputs
//
// DER and BER (indefinite lengths, constructed OCTET STRINGs) are accepted;
// anything but the shapes of RFC 8572 3.1 is rejected with an error naming
// what was found and what was expected. Encrypted artifacts may name the
// inner type in encryptedContentInfo (RFC 8572) or wrap a whole ContentInfo
// in id-data (the openssl command line). Decryption supports RSA key
// transport (PKCS#1 v1.5, OAEP) through a crypto.Decrypter, and
// ephemeral-static ECDH (RFC 5753, X9.63 KDF over SHA-1/224/256/384/512, AES
// key wrap) through ECDHKey, which a TPM can implement; content encryption is
// AES-CBC (EnvelopedData) or AES-GCM (AuthEnvelopedData, RFC 5083). A
// PKCS#1 v1.5 key transport that fails yields a random key (SessionKeyLen),
// and every wrong key fails the same way when the content is decrypted, so
// errors are no padding oracle.
//
// # Clock
//
// RFC 8572 9.1: a device whose clock cannot be trusted skips the
// clock-sensitive checks. The engine decides with ClockTrustworthy(now,
// BuildTime()) unless the operator forced it; Open then skips voucher dates,
// certificate validity and CRL freshness, logs a warning and sets
// Result.ClockSkipped.
//
// # Revocation
//
// When the voucher says domain-cert-revocation-checks true, every
// certificate of the owner chain below the pinned-domain-cert needs a
// fresh CRL from its issuer, stapled in the owner-certificate or voucher
// CMS, that covers it: delta, indirect and partitioned CRLs (RFC 5280
// 5.2.4, 5.2.5) and CRLs with unknown critical extensions are not status,
// though a listing on any fresh CRL of the issuer revokes. CRL distribution points and OCSP are not fetched: without a
// stapled CRL the owner certificate is rejected.
//
// # Voucher trust anchors
//
// Any certificate that chains to Options.VoucherAnchors can sign ownership
// vouchers. A voucher anchor must therefore issue only MASA (manufacturer)
// voucher-signing certificates: if it also issues IDevIDs or TLS
// certificates, every holder of such a key can sign a voucher for any
// device. VoucherAnchorAlsoIssues finds an anchor that issued the device's
// own IDevID chain; `sztp run` warns when it does.
//
// # Recipients
//
// Decryption considers only the recipients that may be this device's:
// a RecipientInfo (or, for key agreement, a RecipientEncryptedKey) whose
// identifier names another certificate than the one of the decryption key
// (issuer and serial number, or subject key identifier) is skipped without
// touching the key, as is one whose key type or size cannot be the device's.
// At most MaxRecipientTries of the rest are tried (each costs a TPM RSA
// decryption or ECDH), and Options.Context is checked before each.
//
// # Redirect trust anchors
//
// TrustAnchorPool implements RFC 8572 6.1's "the last certificate is the
// issuer" rule; use the pool only while trust-state is TRUE.
package trust
