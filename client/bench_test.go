package client_test

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
)

// BenchmarkBootstrap measures a full unsigned bootstrap (connect, get
// data, every onboarding step with fake hooks, verbose reports) per
// encoding, and reports it as a ratio of a baseline measured in the same
// run: one get-bootstrapping-data exchange over a fresh connection.
func BenchmarkBootstrap(b *testing.B) {
	for _, enc := range []conveyed.Encoding{conveyed.JSON, conveyed.XML} {
		b.Run(enc.String(), func(b *testing.B) {
			e := newEnv(b)
			s, err := sztptest.NewServer(sztptest.Options{Certificate: e.pki.Server.TLS(), ClientCAs: e.pki.ClientCAs()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), ContentEncoding: enc, ReportingLevel: conveyed.Verbose})
			cfg := client.Config{
				Identity: e.id, ServerTrustAnchors: []*x509.Certificate{e.pki.ServerCA.Cert},
				Sources: []client.Source{client.URLSource{Label: "bench", URLs: []string{s.URL}}},
				Image:   e.hooks, Config: e.hooks, Scripts: e.hooks, Images: e.hooks, Encoding: enc,
			}
			a, err := client.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			// Baseline: one exchange.
			const baseN = 20
			start := time.Now()
			for i := 0; i < baseN; i++ {
				if _, err := a.Get(ctx, s.URL); err != nil {
					b.Fatal(err)
				}
			}
			base := time.Since(start) / baseN
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := a.RunOnce(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			per := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(per)/float64(base), "x-one-exchange")
		})
	}
}
