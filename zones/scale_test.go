package zones

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// writeScaleZones writes count zone files of perZone A records each into
// dir, in the shape .ci/bench-scale serves: zone z<i>.privatelink.scale.example
// with names h<j>, and returns the zone names and files.
func writeScaleZones(tb testing.TB, dir string, count, perZone int) (names, files []string) {
	tb.Helper()
	for i := range count {
		name := fmt.Sprintf("z%d.privatelink.scale.example", i)
		file := filepath.Join(dir, name+".zone")
		f, err := os.Create(file)
		if err != nil {
			tb.Fatal(err)
		}
		w := bufio.NewWriter(f)
		fmt.Fprintf(w, "$TTL 10\n@ IN SOA azureprivatedns.net. azureprivatedns-host.microsoft.com. 1 3600 300 2419200 10\n@ IN NS ns.scale.example.\n")
		for j := range perZone {
			fmt.Fprintf(w, "h%d IN A 10.%d.%d.%d\n", j, i%250, j/250, j%250+1)
		}
		if err := w.Flush(); err != nil {
			tb.Fatal(err)
		}
		if err := f.Close(); err != nil {
			tb.Fatal(err)
		}
		names, files = append(names, name), append(files, file)
	}
	return names, files
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkLoadMillion loads 1,000,000 A records in 1,000 zone files, the
// scale of issue 9, and reports the live heap per record and the load time
// of all of them. It runs only under -bench (go test -run X -bench
// LoadMillion ./zones/); the files go to a temporary folder.
func BenchmarkLoadMillion(b *testing.B) {
	const count, perZone = 1000, 1000
	names, files := writeScaleZones(b, b.TempDir(), count, perZone)
	var kept []*Zone
	var took time.Duration
	var heap uint64
	for b.Loop() {
		kept = nil
		before := heapInUse()
		start := time.Now()
		for i := range files {
			kept = append(kept, mustLoad(b, names[i], files[i], nil))
		}
		took = time.Since(start)
		heap = heapInUse() - before
	}
	if kept[count-1].Lookup("h999.z999.privatelink.scale.example.", 1).Kind != Answer {
		b.Fatal("the last record is not found")
	}
	b.ReportMetric(float64(heap)/(count*perZone), "heap-B/record")
	b.ReportMetric(took.Seconds(), "load-s")
	runtime.KeepAlive(kept)
}
