// Command sztp-e2e-server is the host side of the QEMU end-to-end test. The
// test runs it inside its network namespace (`ip netns exec`), where the
// guest reaches it over the tap device.
//
//	sztp-e2e-server -init-pki DIR
//	    makes a throw-away RFC 8572 PKI (manufacturer/voucher, owner, server
//	    CA) with trust/trusttest and writes it to DIR; the test bakes
//	    DIR/server-ca.pem and DIR/manufacturer-ca.pem into the initramfs.
//	sztp-e2e-server -pki DIR -listen IP -client-ca F -serial SN -image F
//	    -os-name N -os-version V -reports F -ready F
//	    serves signed onboarding information (voucher, owner certificate,
//	    CMS-signed conveyed information) for device SN with client/sztptest:
//	    the boot image F (served over HTTPS from the same address), a pre-
//	    and a post-configuration script and a configuration. Every progress
//	    report is appended to the reports file as a JSON line; the bootstrap
//	    server URI is written to the ready file once it listens.
//	sztp-e2e-server -pki DIR -serial SN -stick OUT
//	    writes the files of a USB stick for device SN into OUT (stick.go):
//	    signed onboarding information in OUT/sztp/ and unsigned onboarding
//	    information in OUT/sztp/SN/, which the device must refuse first.
//	sztp-e2e-server -files DIR -listen IP -ready F
//	    serves the files of DIR over plain HTTP (the harness self-test).
//
// It stops on SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/sztp/sztp/internal/atomicfile"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "sztp-e2e-server:", err)
		os.Exit(1)
	}
}

type options struct {
	initPKI, pki, listen, clientCA, serial, image, osName, osVersion, reports, ready, files, stick string
	csr                                                                                            bool
}

func run(args []string) error {
	var o options
	fs := flag.NewFlagSet("sztp-e2e-server", flag.ContinueOnError)
	fs.StringVar(&o.initPKI, "init-pki", "", "write a fresh PKI to this directory and exit")
	fs.StringVar(&o.pki, "pki", "", "serve bootstrapping data signed with the PKI in this directory")
	fs.StringVar(&o.listen, "listen", "127.0.0.1", "IP address to listen on (ports are ephemeral)")
	fs.StringVar(&o.clientCA, "client-ca", "", "PEM file of the CA that issued the device's IDevID")
	fs.StringVar(&o.serial, "serial", "", "serial number of the device")
	fs.StringVar(&o.image, "image", "", "boot image file (a kernel + initrd + cmdline tar for the kexec hook)")
	fs.StringVar(&o.osName, "os-name", "", "os-name of the boot image")
	fs.StringVar(&o.osVersion, "os-version", "", "os-version of the boot image")
	fs.StringVar(&o.reports, "reports", "", "append every progress report to this file (JSON lines)")
	fs.StringVar(&o.ready, "ready", "", "write the server's URI to this file once it listens")
	fs.StringVar(&o.files, "files", "", "serve the files of this directory over plain HTTP")
	fs.BoolVar(&o.csr, "csr", false, "ask a device that offers csr-support for a CSR (RFC 9646) and issue an LDevID from the PKI's device CA, in the configuration's ietf-keystore")
	fs.StringVar(&o.stick, "stick", "", "with -pki and -serial: write a USB stick's sztp/ tree into this directory and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	switch {
	case o.stick != "":
		return writeStick(o)
	case o.initPKI != "":
		return initPKI(o.initPKI)
	case o.pki != "":
		return serveBootstrap(ctx, log, o)
	case o.files != "":
		return serveFiles(ctx, log, o)
	}
	return errors.New("give -init-pki, -pki or -files")
}

// serveFiles serves a directory over plain HTTP.
func serveFiles(ctx context.Context, log *slog.Logger, o options) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(o.listen, "0"))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: logRequests(log, http.FileServer(http.Dir(o.files)))}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	url := "http://" + ln.Addr().String()
	log.Info("serving files", "dir", o.files, "url", url)
	if err := writeReady(o.ready, url); err != nil {
		return err
	}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func writeReady(path, url string) error {
	if path == "" {
		return nil
	}
	return atomicfile.WriteFile(path, []byte(url+"\n"), 0o644)
}

func logRequests(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Info("request", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		h.ServeHTTP(w, r)
	})
}
