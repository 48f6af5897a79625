package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// initPKI writes a fresh PKI: DIR/server-ca.pem is the device's server trust
// anchor, DIR/manufacturer-ca.pem its voucher trust anchor.
func initPKI(dir string) error {
	p, err := trusttest.New()
	if err != nil {
		return err
	}
	return p.WriteDir(dir)
}

// Scripts run in the guest's u-root initramfs, whose /bin/sh is gosh (shell
// builtins only). They print the marker of the kernel they run under, also
// on the console, where the test looks for it.
const (
	preScript  = scriptHead + `say "pre-configuration script ran under marker $marker"` + "\n"
	postScript = scriptHead + `say "post-configuration script ran under marker $marker"` + "\n" + eventlogCheck
	// eventlogCheck replays the measured-onboarding event log against the
	// vTPM's PCR from inside the guest (issue 12, measured onboarding).
	eventlogCheck = `for s in /bbin/sztp /bin/sztp; do if [ -x "$s" ]; then say "event log check: $($s tpm eventlog --verify --tpm /dev/tpmrm0 --state-dir /var/lib/sztp 2>&1)"; break; fi; done` + "\n"
	scriptHead    = `#!/bin/sh
read -r cmdline < /proc/cmdline
marker=none
for w in $cmdline; do case $w in sztp.e2e-marker=*) marker=${w#sztp.e2e-marker=};; esac; done
say() { echo "$1"; echo "$1" > /dev/console; }
`
	configuration = "hostname sztp-e2e-device\n"
)

// report is one line of the reports file.
type report struct {
	Time         time.Time `json:"time"`
	Serial       string    `json:"serial"`
	ProgressType string    `json:"progress-type"`
	Message      string    `json:"message,omitempty"`
}

func serveBootstrap(ctx context.Context, log *slog.Logger, o options) error {
	for name, v := range map[string]string{"-client-ca": o.clientCA, "-serial": o.serial, "-image": o.image,
		"-os-name": o.osName, "-os-version": o.osVersion, "-reports": o.reports} {
		if v == "" {
			return fmt.Errorf("%s is required with -pki", name)
		}
	}
	p, err := trusttest.ReadPKI(o.pki)
	if err != nil {
		return fmt.Errorf("reading the PKI: %w", err)
	}
	clientCAs, err := readPool(o.clientCA)
	if err != nil {
		return err
	}
	cert, key, err := p.IssueServer(o.listen)
	if err != nil {
		return err
	}
	tlsCert := tls.Certificate{Certificate: [][]byte{cert.Raw, p.ServerCA.Cert.Raw}, PrivateKey: key, Leaf: cert}

	// The boot image, over HTTPS from the same address (any port).
	image, err := os.ReadFile(o.image)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(image)
	imgLn, err := tls.Listen("tcp", net.JoinHostPort(o.listen, "0"), &tls.Config{Certificates: []tls.Certificate{tlsCert}})
	if err != nil {
		return err
	}
	imgSrv := &http.Server{Handler: logRequests(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/boot-image.tar" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-tar")
		http.ServeContent(w, r, "boot-image.tar", time.Time{}, bytes.NewReader(image))
	}))}
	go imgSrv.Serve(imgLn)
	defer imgSrv.Close()
	imageURL := "https://" + imgLn.Addr().String() + "/boot-image.tar"

	onboarding := &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		BootImage: &conveyed.BootImage{
			OSName: o.osName, OSVersion: o.osVersion,
			DownloadURIs:      []string{imageURL},
			ImageVerification: []conveyed.ImageVerification{{HashAlgorithm: conveyed.HashSHA256, HashValue: sum[:]}},
		},
		PreConfigurationScript:  []byte(preScript),
		ConfigurationHandling:   conveyed.Replace,
		Configuration:           []byte(configuration),
		PostConfigurationScript: []byte(postScript),
	}}
	doc, err := onboarding.Encode(conveyed.JSON)
	if err != nil {
		return err
	}
	srv, err := sztptest.NewServer(sztptest.Options{Certificate: tlsCert, ClientCAs: clientCAs, ListenIP: o.listen, Logger: log})
	if err != nil {
		return err
	}
	defer srv.Close()
	serverAnchor, err := p.ServerTrustAnchor()
	if err != nil {
		return err
	}
	signed := func(doc []byte, in *conveyed.GetBootstrappingDataInput, level conveyed.ReportingLevel) (*conveyed.GetBootstrappingDataOutput, error) {
		// Signed conveyed information with voucher and owner certificate
		// (RFC 8572 3.1), the voucher carrying the request's nonce if any.
		a, err := p.Artifacts(doc, trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: o.serial, Nonce: in.Nonce})
		if err != nil {
			return nil, err
		}
		return &conveyed.GetBootstrappingDataOutput{
			ReportingLevel:      level,
			ConveyedInformation: a.ConveyedInformation,
			OwnerCertificate:    a.OwnerCertificate,
			OwnershipVoucher:    a.OwnershipVoucher,
		}, nil
	}
	srv.SetResponse(o.serial, &sztptest.Response{Build: func(in *conveyed.GetBootstrappingDataInput) (*conveyed.GetBootstrappingDataOutput, error) {
		log.Info("get-bootstrapping-data", "serial", o.serial, "signed-data-preferred", in.SignedDataPreferred,
			"os-name", in.OSName, "os-version", in.OSVersion, "nonce", in.Nonce != nil)
		if in.SignedDataPreferred {
			// A device that found us through DHCP connects provisionally
			// (C90). Promote it (RFC 8572 appendix B): signed redirect
			// information back to this server, with the trust anchor of its
			// TLS certificate; the device reconnects trusted and then sends
			// progress reports.
			redirect := &conveyed.ConveyedInformation{Redirect: &conveyed.RedirectInformation{
				BootstrapServers: []conveyed.BootstrapServer{{Address: srv.Host, Port: srv.Port, TrustAnchor: serverAnchor}},
			}}
			doc, err := redirect.Encode(conveyed.JSON)
			if err != nil {
				return nil, err
			}
			return signed(doc, in, "")
		}
		return signed(doc, in, conveyed.Verbose)
	}})
	if o.csr {
		// RFC 9646: LDevID enrolment, unsigned onboarding information over
		// the trusted connection (the 400 csr-request cannot be signed).
		srv.SetResponse(o.serial, &sztptest.Response{CSR: &sztptest.CSRFlow{
			CA:        &sztptest.KeyPair{Cert: p.DeviceCA.Cert, Key: p.DeviceCA.Key},
			Algorithm: client.AlgECCP256, Onboarding: onboarding.Onboarding}})
	}
	log.Info("bootstrap server", "url", srv.URL, "image", imageURL, "serial", o.serial, "os-name", o.osName, "os-version", o.osVersion)
	if err := writeReady(o.ready, srv.URL); err != nil {
		return err
	}
	return recordReports(ctx, srv, o.reports)
}

// recordReports appends every progress report the server accepts to path,
// as JSON lines, until ctx ends.
func recordReports(ctx context.Context, srv *sztptest.Server, path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	seen := 0
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		reports := srv.Reports()
		for _, r := range reports[seen:] {
			if err := enc.Encode(report{Time: r.Time, Serial: r.Serial, ProgressType: string(r.ProgressType), Message: r.Message}); err != nil {
				return err
			}
		}
		seen = len(reports)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func readPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, errors.New(path + ": no certificates")
	}
	return pool, nil
}
