package zones

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestLargeRRsetsMergeDuplicatesLikeSmallOnes: past bigRRset records an
// RRset finds duplicates through its index; the result must be the scan's.
func TestLargeRRsetsMergeDuplicatesLikeSmallOnes(t *testing.T) {
	var inline []string
	for i := range 2 * bigRRset {
		inline = append(inline, fmt.Sprintf("@ IN MX %d Mail%d.example.com.", i, i))
	}
	inline = append(inline,
		"@ IN MX 40 MAIL40.example.com.", // a duplicate differing in case: merged
		"@ IN MX 40 mail40.example.org.", // another name: kept
		"t IN TXT \"A\"",
	)
	for i := range 2 * bigRRset {
		inline = append(inline, fmt.Sprintf("t IN TXT \"x%d\"", i))
	}
	inline = append(inline, "t IN TXT \"a\"", "t IN TXT \"A\"") // TXT data keeps its case: "a" kept, "A" merged
	z := mustLoad(t, "example.com", "", inline)
	if got := len(z.Lookup("example.com.", dns.TypeMX).Records); got != 2*bigRRset+1 {
		t.Errorf("MX records = %d, want %d", got, 2*bigRRset+1)
	}
	txt := rrStrings(z.Lookup("t.example.com.", dns.TypeTXT).Records)
	if len(txt) != 2*bigRRset+2 || !strings.HasSuffix(txt[len(txt)-1], `"a"`) {
		t.Errorf("TXT records = %d, last %q; want %d ending with \"a\"", len(txt), txt[len(txt)-1], 2*bigRRset+2)
	}
}

// TestOneHugeRRsetLoadsInLinearTime: a scan per record took tens of
// seconds for one $GENERATE line of 65536 records.
func TestOneHugeRRsetLoadsInLinearTime(t *testing.T) {
	file := writeZone(t, "$GENERATE 0-65535 @ TXT $", "$GENERATE 0-65535 @ TXT $")
	start := time.Now()
	z := mustLoad(t, "example.com", file, nil)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v", took)
	}
	if got := len(z.Lookup("example.com.", dns.TypeTXT).Records); got != 65536 {
		t.Errorf("TXT records = %d, want 65536 (the second line's merged)", got)
	}
}
