// Package rtnl is the little rtnetlink the DHCP client needs: bring a link
// up, add an address, add a route. It talks to the kernel directly through
// golang.org/x/sys/unix, which keeps the static agent small (a general
// netlink library costs over 1 MiB of binary).
package rtnl
