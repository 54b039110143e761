package datadir

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// ZoneCopy is the last data of a zone kept across restarts: for a
// secondary zone what its primary sent, for a zone privdns serves itself
// the records it served (so a restart knows whether a reload changed
// them).
type ZoneCopy struct {
	Zone    string   // apex, FQDN
	Serial  uint32   // the served serial
	Records []dns.RR // every record, SOA included, as sent or served
	// Checked is when the data was last confirmed current: the last
	// successful check against a primary, or when it was saved. Expiry
	// (R12) counts from it, across restarts.
	Checked time.Time
}

// The copy's text is a master file with absolute names between a header
// and an end line. The end line, with the record count, tells a complete
// copy from a truncated one (a file copied by hand, a disk that lied).
const (
	copyMagic = ";; privdns zone copy 1"
	copyEnd   = ";; end "
)

func (s *Store) zonePath(key, ext string) (string, error) {
	name, err := fileName(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.zonesDir(), name+ext), nil
}

// SaveZone replaces the copy kept under key (a zone name, or anything
// that tells two zones of one name apart) atomically.
func (s *Store) SaveZone(key string, c ZoneCopy) error {
	if s.readOnly {
		return errReadOnly
	}
	path, err := s.zonePath(key, ".zone")
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n;; zone %s\n;; serial %d\n;; checked %s\n", copyMagic, c.Zone, c.Serial, c.Checked.UTC().Format(time.RFC3339Nano))
	for _, rr := range c.Records {
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%s%d\n", copyEnd, len(c.Records))
	if err := writeAtomic(path, b.Bytes()); err != nil {
		return fmt.Errorf("datadir: save zone %s: %w", key, err)
	}
	// An older check time beside the new copy would only ever be earlier:
	// drop it so LoadZone need not compare.
	if err := os.Remove(strings.TrimSuffix(path, ".zone") + ".checked"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("datadir: save zone %s: %w", key, err)
	}
	return nil
}

// SaveChecked records that the copy under key was confirmed current at t,
// without rewriting its records: what a refresh that finds the serial
// unchanged does, every SOA refresh interval.
func (s *Store) SaveChecked(key string, t time.Time) error {
	if s.readOnly {
		return errReadOnly
	}
	path, err := s.zonePath(key, ".checked")
	if err != nil {
		return err
	}
	if err := writeAtomic(path, []byte(t.UTC().Format(time.RFC3339Nano)+"\n")); err != nil {
		return fmt.Errorf("datadir: save check time of %s: %w", key, err)
	}
	return nil
}

// LoadZone reads the copy kept under key. With none, the error satisfies
// errors.Is(err, fs.ErrNotExist); a damaged copy is an error naming its
// file.
func (s *Store) LoadZone(key string) (ZoneCopy, error) {
	path, err := s.zonePath(key, ".zone")
	if err != nil {
		return ZoneCopy{}, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ZoneCopy{}, fmt.Errorf("datadir: zone %s: %w", key, err)
	}
	c, err := parseCopy(data)
	if err != nil {
		return ZoneCopy{}, fmt.Errorf("datadir: %s: %w", path, err)
	}
	if raw, err := os.ReadFile(strings.TrimSuffix(path, ".zone") + ".checked"); err == nil {
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(raw))); err == nil && t.After(c.Checked) {
			c.Checked = t
		}
	}
	return c, nil
}

func parseCopy(data []byte) (ZoneCopy, error) {
	var c ZoneCopy
	header, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok || string(header) != copyMagic {
		return c, errors.New("not a privdns zone copy")
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for range 3 {
		if !sc.Scan() {
			return c, errors.New("header cut short")
		}
		field, value, _ := strings.Cut(strings.TrimPrefix(sc.Text(), ";; "), " ")
		var err error
		switch field {
		case "zone":
			c.Zone = value
		case "serial":
			var n uint64
			n, err = strconv.ParseUint(value, 10, 32)
			c.Serial = uint32(n)
		case "checked":
			c.Checked, err = time.Parse(time.RFC3339Nano, value)
		default:
			err = fmt.Errorf("unknown header field %q", field)
		}
		if err != nil {
			return c, fmt.Errorf("header: %w", err)
		}
	}
	trimmed := bytes.TrimRight(data, "\n")
	last := trimmed[bytes.LastIndexByte(trimmed, '\n')+1:]
	count, err := strconv.Atoi(strings.TrimPrefix(string(last), copyEnd))
	if !bytes.HasPrefix(last, []byte(copyEnd)) || err != nil {
		return c, errors.New("no end line: the copy is cut short")
	}
	zp := dns.NewZoneParser(bytes.NewReader(body), ".", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		c.Records = append(c.Records, rr)
	}
	if err := zp.Err(); err != nil {
		return c, err
	}
	if len(c.Records) != count {
		return c, fmt.Errorf("%d records where the end line says %d", len(c.Records), count)
	}
	return c, nil
}
