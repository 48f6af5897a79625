package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"time"
)

// validation runs the RFC 8572 5.4 steps over parsed artifacts.
type validation struct {
	opts     *Options
	res      *Result
	voucher  *voucherArtifact
	owner    *ownerArtifact
	conveyed *signed

	now        time.Time
	v          *Voucher
	pinned     *x509.Certificate
	ownerCert  *x509.Certificate
	ownerChain []*x509.Certificate
}

func (val *validation) run() error {
	val.now = val.opts.Now()
	if val.opts.ClockUntrusted {
		val.res.ClockSkipped = true
		val.opts.Logger.Warn("clock not trusted: skipping voucher created-on/expires-on, certificate validity and CRL freshness checks (RFC 8572 9.1)")
	}
	for _, step := range []struct {
		name Step
		fn   func() error
	}{
		{StepVoucherSignature, val.voucherSignature},
		{StepVoucherDates, val.voucherDates},
		{StepAssertion, val.assertion},
		{StepSerialNumber, val.serialNumber},
		{StepIDevIDIssuer, val.idevidIssuer},
		{StepNonce, val.nonce},
		{StepPinnedDomainCert, val.pinnedDomainCert},
		{StepOwnerCertificate, val.ownerCertificate},
		{StepRevocation, val.revocation},
		{StepConveyedInformationSignature, val.conveyedSignature},
	} {
		if err := step.fn(); err != nil {
			var se *StepError
			if errors.As(err, &se) {
				return err
			}
			return &StepError{Step: step.name, Err: err}
		}
		val.opts.Logger.Debug("signed data validation step passed", "step", step.name)
	}
	val.res.OwnerCertificate = val.ownerCert
	val.res.Voucher = val.v
	return nil
}

// 2.4.1: the voucher's CMS signature and its chain to a voucher anchor.
func (val *validation) voucherSignature() error {
	sd := val.voucher.sd
	if len(val.opts.VoucherAnchors) == 0 {
		return errors.New("no voucher trust anchors are configured")
	}
	if len(sd.signers) != 1 {
		return fmt.Errorf("voucher SignedData has %d signers, expected 1", len(sd.signers))
	}
	si := sd.signers[0]
	cert := findSigner(si, sd.certs)
	if cert == nil {
		cert = findSigner(si, val.opts.VoucherAnchors)
	}
	if cert == nil {
		return fmt.Errorf("voucher signer (%s) is not among the voucher's certificates or the voucher trust anchors", describeSID(si.SID))
	}
	if err := verifySigner(sd, si, cert); err != nil {
		return fmt.Errorf("voucher signature: %w", err)
	}
	if _, err := val.verifyChain(cert, sd.certs, val.opts.VoucherAnchors); err != nil {
		return fmt.Errorf("voucher signer %q does not chain to a voucher trust anchor: %w", cert.Subject, err)
	}
	v, err := ParseVoucher(sd.content)
	if err != nil {
		// Content whose signature verified but does not decode.
		return &StepError{Step: StepParse, Err: fmt.Errorf("ownership-voucher content: %w", err)}
	}
	val.v = v
	return nil
}

// 2.4.2: created-on in the past, expires-on in the future.
func (val *validation) voucherDates() error {
	if val.opts.ClockUntrusted {
		val.opts.Logger.Warn("clock not trusted: voucher created-on and expires-on not checked",
			"created-on", val.v.CreatedOn.Format(time.RFC3339), "expires-on", formatOptTime(val.v.ExpiresOn))
		return nil
	}
	if val.v.CreatedOn.After(val.now) {
		return fmt.Errorf("voucher created-on %s is in the future (now %s)", val.v.CreatedOn.Format(time.RFC3339), val.now.UTC().Format(time.RFC3339))
	}
	if !val.v.ExpiresOn.IsZero() && !val.now.Before(val.v.ExpiresOn) {
		return fmt.Errorf("voucher expired at %s (now %s)", val.v.ExpiresOn.Format(time.RFC3339), val.now.UTC().Format(time.RFC3339))
	}
	return nil
}

func formatOptTime(t time.Time) string {
	if t.IsZero() {
		return "absent"
	}
	return t.Format(time.RFC3339)
}

// 2.4.3: assertion allowed by local policy.
func (val *validation) assertion() error {
	if !slices.Contains(val.opts.Assertions, val.v.Assertion) {
		return fmt.Errorf("voucher assertion %q is not accepted by local policy (accepted: %q)", val.v.Assertion, val.opts.Assertions)
	}
	return nil
}

// 2.4.4: serial-number equals the device's.
func (val *validation) serialNumber() error {
	if val.opts.SerialNumber == "" {
		return errors.New("the device serial number is not known")
	}
	if val.v.SerialNumber != val.opts.SerialNumber {
		return fmt.Errorf("voucher serial-number %q is not this device's %q", val.v.SerialNumber, val.opts.SerialNumber)
	}
	return nil
}

// 2.4.5: idevid-issuer, when present, names the IDevID's issuer key. Both
// the keyIdentifier octets and the whole AKI extension value are accepted
// (draft-ietf-anima-rfc8366bis).
func (val *validation) idevidIssuer() error {
	want := val.v.IDevIDIssuer
	if want == nil {
		return nil
	}
	id := val.opts.IDevID
	if id == nil {
		return errors.New("voucher has idevid-issuer but the device's IDevID certificate is not known")
	}
	if len(id.AuthorityKeyId) > 0 && bytes.Equal(want, id.AuthorityKeyId) {
		return nil
	}
	for _, ext := range id.Extensions {
		if ext.Id.Equal(oidAuthorityKeyID) && bytes.Equal(want, ext.Value) {
			return nil
		}
	}
	return fmt.Errorf("voucher idevid-issuer %x does not match the IDevID authority key identifier %x", want, id.AuthorityKeyId)
}

var oidAuthorityKeyID = asn1.ObjectIdentifier{2, 5, 29, 35}

// 2.4.6: nonce, when present, equals the nonce of this request.
func (val *validation) nonce() error {
	if val.v.Nonce == nil {
		return nil
	}
	if val.opts.Nonce == nil {
		return errors.New("voucher carries a nonce but this request sent none (a nonce voucher cannot come from removable storage or DNS)")
	}
	if !bytes.Equal(val.v.Nonce, val.opts.Nonce) {
		return fmt.Errorf("voucher nonce %x is not the nonce %x sent in this request", val.v.Nonce, val.opts.Nonce)
	}
	return nil
}

// 2.4.7: extract pinned-domain-cert.
func (val *validation) pinnedDomainCert() error {
	if len(val.v.PinnedDomainCert) == 0 {
		return errors.New("voucher has no pinned-domain-cert")
	}
	c, err := x509.ParseCertificate(val.v.PinnedDomainCert)
	if err != nil {
		return fmt.Errorf("voucher pinned-domain-cert: %w", err)
	}
	val.pinned = c
	return nil
}

// 2.4.8: the owner certificate chains to pinned-domain-cert.
func (val *validation) ownerCertificate() error {
	oc, err := leafOf(val.owner.certs)
	if err != nil {
		return fmt.Errorf("owner certificate: %w", err)
	}
	if oc.KeyUsage != 0 && oc.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return fmt.Errorf("owner certificate %q has a KeyUsage without digitalSignature (RFC 8572 3.2)", oc.Subject)
	}
	chain, err := val.verifyChain(oc, val.owner.certs, []*x509.Certificate{val.pinned})
	if err != nil {
		return fmt.Errorf("owner certificate %q does not chain to the pinned-domain-cert %q: %w", oc.Subject, val.pinned.Subject, err)
	}
	val.ownerCert, val.ownerChain = oc, chain
	return nil
}

// leafOf picks the owner certificate from the certs-only bag: the first
// certificate that issued none of the others.
func leafOf(certs []*x509.Certificate) (*x509.Certificate, error) {
	bottom, err := issuedNone(certs, (*x509.Certificate).CheckSignatureFrom)
	if err != nil {
		return nil, err
	}
	if len(bottom) > 0 {
		return bottom[0], nil
	}
	return certs[0], nil
}

// 2.4.9: revocation of the owner certificate chain. With
// domain-cert-revocation-checks true every certificate below the pinned
// cert needs fresh status (C33-C35); false means the device MUST NOT check;
// absent means normal PKIX behaviour, which here is: stapled CRLs that are
// fresh and signed by the issuer are honoured, missing status is not an
// error.
func (val *validation) revocation() error {
	rc := val.v.RevocationChecks
	if rc != nil && !*rc {
		return nil
	}
	required := rc != nil
	crls := append(slices.Clone(val.owner.crls), val.voucher.sd.crls...)
	if !required && len(crls) == 0 {
		return nil
	}
	for i := 0; i+1 < len(val.ownerChain); i++ {
		cert, issuer := val.ownerChain[i], val.ownerChain[i+1]
		err := val.checkRevocation(cert, issuer, crls)
		if err == nil {
			continue
		}
		var revoked *revokedError
		if required || errors.As(err, &revoked) {
			return err
		}
		val.opts.Logger.Debug("no revocation status (domain-cert-revocation-checks absent)", "certificate", cert.Subject.String(), "reason", err)
	}
	if len(val.ownerChain) == 1 && required {
		val.opts.Logger.Info("owner certificate is the pinned-domain-cert itself: no revocation status to check")
	}
	return nil
}

// revokedError says a certificate is listed on a valid CRL.
type revokedError struct{ msg string }

func (e *revokedError) Error() string { return e.msg }

// checkRevocation looks at every CRL of issuer: the certificate is revoked
// when any valid one lists it, and has fresh status when at least one
// valid one exists.
func (val *validation) checkRevocation(cert, issuer *x509.Certificate, crls []*x509.RevocationList) error {
	var stale error
	fresh := false
	for _, crl := range crls {
		if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
			continue
		}
		if err := crl.CheckSignatureFrom(issuer); err != nil {
			stale = fmt.Errorf("CRL from %q has a bad signature: %w", issuer.Subject, err)
			continue
		}
		if !val.opts.ClockUntrusted {
			if val.now.Before(crl.ThisUpdate) {
				stale = fmt.Errorf("CRL from %q is not yet valid (thisUpdate %s)", issuer.Subject, crl.ThisUpdate.Format(time.RFC3339))
				continue
			}
			if crl.NextUpdate.IsZero() || !val.now.Before(crl.NextUpdate) {
				stale = fmt.Errorf("CRL from %q is not fresh (nextUpdate %s)", issuer.Subject, formatOptTime(crl.NextUpdate))
				continue
			}
		}
		// A listing on any fresh CRL of the issuer revokes, a partial or
		// delta one too; only a CRL that covers cert is status for it.
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(cert.SerialNumber) == 0 && e.ReasonCode != reasonRemoveFromCRL {
				return &revokedError{fmt.Sprintf("certificate %q (serial %s) is revoked since %s", cert.Subject, cert.SerialNumber, e.RevocationTime.Format(time.RFC3339))}
			}
		}
		if why := crlScope(crl, cert); why != "" {
			stale = fmt.Errorf("CRL from %q does not cover %q: %s", issuer.Subject, cert.Subject, why)
			continue
		}
		fresh = true
	}
	if fresh {
		return nil
	}
	if stale != nil {
		return fmt.Errorf("no fresh revocation status for %q: %w", cert.Subject, stale)
	}
	return fmt.Errorf("no fresh revocation status for %q: no CRL from %q in the owner-certificate or voucher CMS, and domain-cert-revocation-checks is true", cert.Subject, issuer.Subject)
}

// reasonRemoveFromCRL is the CRLReason of a delta CRL entry that lifts a
// hold (RFC 5280 5.3.1): not a revocation.
const reasonRemoveFromCRL = 8

var (
	oidExtCRLNumber                = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidExtDeltaCRLIndicator        = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidExtIssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}
)

// issuingDistributionPoint is the RFC 5280 5.2.5 CRL extension.
type issuingDistributionPoint struct {
	DistributionPoint          asn1.RawValue  `asn1:"optional,tag:0"`
	OnlyContainsUserCerts      bool           `asn1:"optional,tag:1"`
	OnlyContainsCACerts        bool           `asn1:"optional,tag:2"`
	OnlySomeReasons            asn1.BitString `asn1:"optional,tag:3"`
	IndirectCRL                bool           `asn1:"optional,tag:4"`
	OnlyContainsAttributeCerts bool           `asn1:"optional,tag:5"`
}

// crlScope says why crl cannot give the status of cert, or "" when it
// can: a delta CRL, a CRL partitioned away from cert (RFC 5280 5.2.5), or
// one with a critical extension this package does not know. Go's parser
// accepts all of them, and taking one for a complete CRL would let a
// stapled partial CRL hide a revocation.
func crlScope(crl *x509.RevocationList, cert *x509.Certificate) string {
	for _, ext := range crl.Extensions {
		switch {
		case ext.Id.Equal(oidExtDeltaCRLIndicator):
			return "it is a delta CRL"
		case ext.Id.Equal(oidExtIssuingDistributionPoint):
			var idp issuingDistributionPoint
			if rest, err := asn1.Unmarshal(ext.Value, &idp); err != nil || len(rest) != 0 {
				return "its issuing distribution point is malformed"
			}
			switch {
			case idp.OnlySomeReasons.BitLength > 0:
				return "it lists only some revocation reasons"
			case idp.IndirectCRL:
				return "it is an indirect CRL"
			case idp.OnlyContainsAttributeCerts:
				return "it lists only attribute certificates"
			case idp.OnlyContainsUserCerts && cert.IsCA:
				return "it lists only end-entity certificates"
			case idp.OnlyContainsCACerts && !cert.IsCA:
				return "it lists only CA certificates"
			}
		case ext.Critical && !ext.Id.Equal(oidAuthorityKeyID) && !ext.Id.Equal(oidExtCRLNumber):
			return fmt.Sprintf("it has an unknown critical extension %v", ext.Id)
		}
	}
	return ""
}

// 2.4.10: the conveyed information is signed by the owner certificate.
func (val *validation) conveyedSignature() error {
	for _, si := range val.conveyed.signers {
		if !sidMatches(si.SID, val.ownerCert) {
			continue
		}
		if err := verifySigner(val.conveyed, si, val.ownerCert); err != nil {
			return fmt.Errorf("conveyed-information signature: %w", err)
		}
		return nil
	}
	return fmt.Errorf("conveyed information is signed by %s, not by the owner certificate %q", describeSID(val.conveyed.signers[0].SID), val.ownerCert.Subject)
}

// maxClockTries bounds the times verifyChain tries with an untrusted clock.
const maxClockTries = 8

// verifyChain validates leaf to one of anchors, with intermediates. With an
// untrusted clock, validity periods are not enforced: the chain is checked
// at the notBefore of each certificate inside the leaf's validity in turn,
// one of which lies in every certificate's validity whenever those periods
// overlap at all.
func (val *validation) verifyChain(leaf *x509.Certificate, intermediates, anchors []*x509.Certificate) ([]*x509.Certificate, error) {
	roots := x509.NewCertPool()
	for _, a := range anchors {
		roots.AddCert(a)
	}
	inter := x509.NewCertPool()
	for _, c := range intermediates {
		if c != leaf {
			inter.AddCert(c)
		}
	}
	times := []time.Time{val.now}
	if val.opts.ClockUntrusted {
		// At most maxClockTries chain builds: honest bags are small, and
		// hostile ones must not cost 66 of them (each may check 100 signatures).
		for _, c := range append(append([]*x509.Certificate{leaf}, intermediates...), anchors...) {
			if len(times) == maxClockTries {
				break
			}
			if c.NotBefore.After(leaf.NotBefore) && c.NotBefore.Before(leaf.NotAfter) || c == leaf {
				if !slices.ContainsFunc(times, c.NotBefore.Equal) {
					times = append(times, c.NotBefore)
				}
			}
		}
	}
	var first error
	for _, t := range times {
		chains, err := leaf.Verify(x509.VerifyOptions{
			Roots: roots, Intermediates: inter, CurrentTime: t,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		if err == nil {
			return chains[0], nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}
