package dhcpopts_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sztp/sztp/dhcpopts"
)

// The engine's DHCP source: live leases when the agent owns the network (an
// initramfs), otherwise the leases the OS DHCP client already holds.
func ExampleDiscover() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leases, err := dhcpopts.Discover(ctx, dhcpopts.Config{Configure: true, Logger: slog.Default()})
	if err != nil {
		leases = nil
		for _, f := range dhcpopts.FindLeaseFiles() {
			ls, err := dhcpopts.ReadLeaseFile(f)
			if err == nil {
				leases = append(leases, ls...)
			}
		}
	}
	for _, l := range leases {
		for _, u := range l.URIs { // untrusted redirect information (C90)
			fmt.Println(l.Interface, l.Family, u)
		}
	}
}

func ExampleParse() {
	data := []byte("\x00\x18https://sztp.example.com\x00\x15http://192.0.2.1:8080")
	uris, warnings, err := dhcpopts.Parse(data)
	fmt.Println(uris, len(warnings), err)
	// Output: [https://sztp.example.com] 1 <nil>
}

func ExampleEncode() {
	data, _ := dhcpopts.Encode([]string{"https://sztp.example.com"})
	fmt.Printf("% x\n", data[:4])
	// Output: 00 18 68 74
}
