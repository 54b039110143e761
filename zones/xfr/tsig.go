package xfr

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// fudge is the TSIG time window of the messages privdns signs (RFC 8945
// recommends 300 s).
const fudge = 300

// Key is a TSIG key (RFC 8945).
type Key struct {
	Name      string // lower-case FQDN, as on the wire
	Algorithm string // dns.HmacSHA256 or dns.HmacSHA512
	Secret    string // base64
	raw       []byte
}

// NewKey checks a key as configured: algorithm "hmac-sha256" or
// "hmac-sha512" (a trailing dot allowed), secret base64.
func NewKey(name, algorithm, secret string) (*Key, error) {
	alg := dns.CanonicalName(algorithm)
	if alg != dns.HmacSHA256 && alg != dns.HmacSHA512 {
		return nil, fmt.Errorf("TSIG key %s: algorithm %q is not hmac-sha256 or hmac-sha512", name, algorithm)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(secret))
	if err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("TSIG key %s: the secret is not base64", name)
	}
	return &Key{Name: dns.CanonicalName(name), Algorithm: alg, Secret: strings.TrimSpace(secret), raw: raw}, nil
}

// Sign adds a TSIG record for k to m, to be completed by whatever sends
// m with a Keyring holding k (a dns.Client, dns.Transfer or server).
func (k *Key) Sign(m *dns.Msg, now time.Time) {
	m.SetTsig(k.Name, k.Algorithm, fudge, now.Unix())
}

func (k *Key) mac(msg []byte) []byte {
	var h func() hash.Hash = sha256.New
	if k.Algorithm == dns.HmacSHA512 {
		h = sha512.New
	}
	m := hmac.New(h, k.raw)
	m.Write(msg)
	return m.Sum(nil)
}

// Keyring is the dns.TsigProvider of a set of keys. Unlike miekg/dns's
// secret map it holds each key to its algorithm: a request signed with
// the right secret under another algorithm is BADKEY (RFC 8945 §5.2.1).
type Keyring map[string]*Key

var _ dns.TsigProvider = Keyring(nil)

// NewKeyring indexes keys by name; nil keys are skipped.
func NewKeyring(keys ...*Key) Keyring {
	kr := Keyring{}
	for _, k := range keys {
		if k != nil {
			kr[k.Name] = k
		}
	}
	return kr
}

func (kr Keyring) key(t *dns.TSIG) (*Key, error) {
	k, ok := kr[dns.CanonicalName(t.Hdr.Name)]
	switch {
	case !ok:
		return nil, dns.ErrSecret
	case dns.CanonicalName(t.Algorithm) != k.Algorithm:
		return nil, dns.ErrKeyAlg
	}
	return k, nil
}

// Generate implements dns.TsigProvider.
func (kr Keyring) Generate(msg []byte, t *dns.TSIG) ([]byte, error) {
	k, err := kr.key(t)
	if err != nil {
		return nil, err
	}
	return k.mac(msg), nil
}

// Verify implements dns.TsigProvider.
func (kr Keyring) Verify(msg []byte, t *dns.TSIG) error {
	k, err := kr.key(t)
	if err != nil {
		return err
	}
	mac, err := hex.DecodeString(t.MAC)
	if err != nil || !hmac.Equal(mac, k.mac(msg)) {
		return dns.ErrSig
	}
	return nil
}

// tsigErrorCode maps miekg/dns's verification errors to RFC 8945 codes.
func tsigErrorCode(err error) uint16 {
	switch {
	case errors.Is(err, dns.ErrSecret), errors.Is(err, dns.ErrKeyAlg):
		return dns.RcodeBadKey
	case errors.Is(err, dns.ErrTime):
		return dns.RcodeBadTime
	default:
		return dns.RcodeBadSig
	}
}
