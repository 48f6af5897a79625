package client

import (
	"crypto"
	"crypto/tls"
	"io"
	"sync/atomic"
)

// countingSigner counts the signatures the device's key makes: with a TPM
// each costs 50 to 300 ms, and keep-alive plus TLS session resumption keep
// it to one per bootstrap server in a run.
type countingSigner struct {
	crypto.Signer
	n atomic.Int64
}

func (s *countingSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.n.Add(1)
	return s.Signer.Sign(rand, digest, opts)
}

// SignatureSchemes passes on the schemes of a signer that lists them.
func (s *countingSigner) SignatureSchemes() []tls.SignatureScheme {
	if sl, ok := s.Signer.(SchemeLister); ok {
		return sl.SignatureSchemes()
	}
	return nil
}

// Signatures returns how many signatures the agent's identity key has
// made (TLS client authentication), over the agent's lifetime.
func (a *Agent) Signatures() int64 {
	if a.signer == nil {
		return 0
	}
	return a.signer.n.Load()
}
