// Command sztp-e2e-server is the host side of the QEMU end-to-end test. The
// test runs it inside its network namespace (`ip netns exec`), where the
// guest reaches it over the tap device.
//
// With -files DIR it serves the files of DIR over plain HTTP (the harness
// self-test downloads its kexec bundle from it). It stops on SIGTERM.
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

func run(args []string) error {
	fs := flag.NewFlagSet("sztp-e2e-server", flag.ContinueOnError)
	files := fs.String("files", "", "serve the files of this directory over plain HTTP")
	filesListen := fs.String("files-listen", "127.0.0.1:0", "address of the plain HTTP file server")
	ready := fs.String("ready", "", "write the file server's URL to this file once it listens")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if *files == "" {
		return errors.New("nothing to serve: give -files")
	}
	ln, err := net.Listen("tcp", *filesListen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: logRequests(log, http.FileServer(http.Dir(*files)))}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	url := "http://" + ln.Addr().String()
	log.Info("serving files", "dir", *files, "url", url)
	if *ready != "" {
		if err := atomicfile.WriteFile(*ready, []byte(url+"\n"), 0o644); err != nil {
			return err
		}
	}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func logRequests(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Info("request", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		h.ServeHTTP(w, r)
	})
}
