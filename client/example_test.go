package client_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sztp/sztp/boot"
	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
)

// Bootstrap a device against an in-process bootstrap server: the server is
// authenticated with its CA, answers with unsigned onboarding information,
// and the configuration lands in a file through the boot package's file
// hook.
func Example() {
	pki, _ := sztptest.NewPKI("SN-42")
	srv, _ := sztptest.NewServer(sztptest.Options{Certificate: pki.Server.TLS(), ClientCAs: pki.ClientCAs()})
	defer srv.Close()
	srv.SetResponse("SN-42", &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{
		Onboarding: &conveyed.OnboardingInformation{ConfigurationHandling: conveyed.Replace, Configuration: []byte("hostname sn-42\n")},
	}})

	dir, _ := os.MkdirTemp("", "sztp-example-*")
	defer os.RemoveAll(dir)
	cfgHook, _ := boot.NewConfigHook("file:"+filepath.Join(dir, "running.cfg"), boot.Options{})
	agent, err := client.New(client.Config{
		Identity:           &client.Identity{Certificate: pki.Device.Cert, Chain: []*x509.Certificate{pki.DeviceCA.Cert}, Signer: pki.Device.Key},
		ServerTrustAnchors: []*x509.Certificate{pki.ServerCA.Cert},
		Sources:            []client.Source{client.URLSource{Label: "example", URLs: []string{srv.URL}}},
		Config:             cfgHook,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := agent.RunOnce(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	running, _ := os.ReadFile(filepath.Join(dir, "running.cfg"))
	fmt.Println(out.Result)
	fmt.Print(string(running))
	fmt.Println(srv.ProgressTypes())
	// Output:
	// success
	// hostname sn-42
	// [bootstrap-initiated bootstrap-warning bootstrap-complete]
}
