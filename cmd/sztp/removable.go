package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/spf13/pflag"
	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/removable"
)

// removableFlags select the removable-storage source (RFC 8572 4.1).
type removableFlags struct {
	path    string
	timeout time.Duration
}

func (f *removableFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.path, "removable-storage", "", "read bootstrapping data from removable storage first: 'auto' (removable and USB block devices, present or appearing), a block device or partition, or a directory where the medium is mounted (layout: sztp/<serial-number>/ then sztp/, with conveyed-information.cms, owner-certificate.cms, ownership-voucher.cms)")
	fs.DurationVar(&f.timeout, "removable-storage-timeout", 10*time.Second, "with --removable-storage auto, how long to wait for a medium with SZTP data to appear, in each pass over the sources")
}

// source is the removable-storage source. What it reads is untrusted
// (C96): the engine acts on it only as signed data that validates (RFC 8572
// 5.4), or follows unsigned redirect information provisionally; unsigned
// onboarding information is refused. serial points at the device's serial
// number, known once the identity is loaded (sztp/<serial-number>/).
func (f *removableFlags) source(serial *string, log *slog.Logger) client.Source {
	return client.FuncSource{Label: "removable-storage", Func: func(ctx context.Context) ([]client.Candidate, error) {
		data, err := removable.Read(ctx, removable.Config{Path: f.path, SerialNumber: *serial, Timeout: f.timeout, Logger: log})
		if err != nil {
			return nil, err
		}
		out := make([]client.Candidate, len(data))
		for i, d := range data {
			a := d.Artifacts
			log.Info("bootstrapping data on removable storage", "medium", d.Medium, "dir", d.Dir,
				"owner-certificate", a.OwnerCertificate != nil, "ownership-voucher", a.OwnershipVoucher != nil)
			out[i] = client.Candidate{Artifacts: &a, Label: d.String()}
		}
		return out, nil
	}}
}
