package fleet

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/sztp/sztp/client/sztptest"
)

func TestZZProbe(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("N"))
	sp, _ := time.ParseDuration(os.Getenv("SPREAD"))
	conc, _ := strconv.Atoi(os.Getenv("CONC"))
	st, _ := time.ParseDuration(os.Getenv("ST"))
	RaiseFileLimit(uint64(2*n + 1024))
	res, err := Run(context.Background(), Options{Agents: n, Capacity: sztptest.Capacity{MaxConcurrent: conc, ServiceTime: st}, Policy: AgentPolicy(), StartSpread: sp, Deadline: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	res.Report(&b)
	fmt.Print(b.String())
	for i := 0; i < len(res.Rate); i += 10 {
		fmt.Printf("%3ds:", i/10)
		for j := i; j < i+10 && j < len(res.Rate); j++ {
			fmt.Printf(" %4d", res.Rate[j])
		}
		fmt.Println()
	}
}
