package xfr

import (
	"fmt"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/zones"
)

// NextServed returns the zone to serve after a load of a zone privdns
// serves itself, given the one served before (nil at the first load with
// no copy in dataDir): served serials only grow (R12).
//
//   - The file's serial is ahead of the served one: loaded as it is.
//   - The records (SOA fields other than the serial included) are the
//     same: the served serial is kept, whatever the file says.
//   - They changed, but the file's serial is not ahead: one above the
//     served serial, and a warning to log.
func NextServed(prev, loaded *zones.Zone) (served *zones.Zone, warning string) {
	if prev == nil {
		return loaded, ""
	}
	was, file := prev.SOA().Serial, loaded.SOA().Serial
	if SerialLess(was, file) {
		return loaded, ""
	}
	del, add := Diff(prev.Records(), loaded.Records())
	if len(del) == 0 && len(add) == 0 && sameSOA(prev.SOA(), loaded.SOA()) {
		if file == was {
			return loaded, ""
		}
		return loaded.WithSerial(was), ""
	}
	next := was + 1
	return loaded.WithSerial(next), fmt.Sprintf("zone %s changed but its serial %d is not above the served serial %d: serving it with serial %d (raise the serial in the file)", loaded.Name(), file, was, next)
}

// sameSOA compares two SOA records but for their serials.
func sameSOA(a, b *dns.SOA) bool {
	x, y := *a, *b
	x.Serial, y.Serial = 0, 0
	return x.String() == y.String()
}
