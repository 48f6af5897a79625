package dnssrc

import (
	"bufio"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
)

// ReadResolvConf returns the name servers (host:53) and the search domains
// of a resolv.conf file (its nameserver, search and domain lines), at most
// MaxServers and MaxDomains of them. A missing file gives nothing.
func ReadResolvConf(path string) (servers, domains []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") || strings.HasPrefix(fields[0], ";") {
			continue
		}
		switch fields[0] {
		case "nameserver":
			if a, err := netip.ParseAddr(fields[1]); err == nil && len(servers) < MaxServers {
				servers = append(servers, net.JoinHostPort(a.String(), "53"))
			}
		case "search", "domain":
			for _, d := range fields[1:] {
				if d = strings.TrimSuffix(d, "."); d != "" && len(domains) < MaxDomains {
					domains = append(domains, d)
				}
			}
		}
	}
	return servers, domains, sc.Err()
}
