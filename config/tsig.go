package config

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/viper"
)

// TSIGKey is a shared secret that signs zone transfers, SOA checks and
// NOTIFY (RFC 8945).
type TSIGKey struct {
	// Name is the key's DNS name, lower-case and fully qualified ("xfr."),
	// as it goes on the wire; references to the key are rewritten to it.
	Name      string
	Algorithm string // "hmac-sha256" | "hmac-sha512"
	// Secret is the base64 secret, read from SecretFile when one is named.
	Secret     string
	SecretFile string // absolute path of the file holding Secret; "" = inline
}

// tsigAlgorithms are the algorithms privdns signs with; SHA-1 and MD5 are
// left out on purpose (RFC 8945 §6 deprecates them).
var tsigAlgorithms = []string{"hmac-sha256", "hmac-sha512"}

func decodeTSIGKeys(items []node) []TSIGKey {
	if len(items) == 0 {
		return nil
	}
	out := make([]TSIGKey, len(items))
	for i, n := range items {
		out[i] = TSIGKey{
			Name:       n.str("name"),
			Algorithm:  n.str("algorithm"),
			Secret:     n.str("secret"),
			SecretFile: n.str("secretFile"),
		}
	}
	return out
}

// keyIndex maps a key's wire name to its key path, for references.
type keyIndex map[string]string

// ref resolves a reference to a TSIG key and returns the key's wire name.
func (ki keyIndex) ref(r *report, key, name string) string {
	fqdn, err := domainName(name, false)
	if err != nil {
		r.errorf(key, "%v", err)
		return name
	}
	if _, ok := ki[fqdn]; !ok {
		r.errorf(key, "unknown TSIG key %q (declare it under tsigKeys)", name)
	}
	return fqdn
}

// validateTSIGKeys checks the keys, reads secret files relative to dir
// (the configuration file's folder) and returns the index of good names.
func validateTSIGKeys(r *report, keys []TSIGKey, dir string) keyIndex {
	idx := keyIndex{}
	for i := range keys {
		k := &keys[i]
		key := fmt.Sprintf("tsigKeys[%d]", i)
		name, err := domainName(k.Name, false)
		switch {
		case err != nil:
			r.errorf(key+".name", "%v", err)
		case idx[name] != "":
			r.errorf(key+".name", "TSIG key %q is declared twice (%s)", k.Name, idx[name])
		default:
			idx[name] = key
		}
		if name != "" {
			k.Name = name
		}
		alg := strings.TrimSuffix(k.Algorithm, ".")
		if alg == "" {
			r.errorf(key+".algorithm", "required: %s", strings.Join(tsigAlgorithms, " or "))
		} else {
			k.Algorithm = oneOf(r, key+".algorithm", alg, tsigAlgorithms...)
		}
		readSecret(r, key, k, dir)
	}
	return idx
}

// readSecret checks the inline secret or reads the secret file. Messages
// never quote a secret.
func readSecret(r *report, key string, k *TSIGKey, dir string) {
	switch {
	case k.Secret != "" && k.SecretFile != "":
		r.errorf(key+".secretFile", "give secret or secretFile, not both")
		return
	case k.Secret == "" && k.SecretFile == "":
		r.errorf(key+".secret", "required: a base64 secret, or secretFile naming a file that holds one")
		return
	case k.SecretFile != "":
		file := k.SecretFile
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		abs, err := filepath.Abs(file)
		if err != nil {
			r.errorf(key+".secretFile", "absolute path of %q: %v", file, err)
			return
		}
		data, err := os.ReadFile(abs)
		if err != nil {
			r.errorf(key+".secretFile", "cannot read %s: %v", file, unwrapPathError(err))
			return
		}
		k.SecretFile, k.Secret = abs, strings.TrimSpace(string(data))
		if msg := secretProblem(k.Secret); msg != "" {
			r.errorf(key+".secretFile", "%s holds %s", file, msg)
		}
		return
	}
	k.Secret = strings.TrimSpace(k.Secret)
	if msg := secretProblem(k.Secret); msg != "" {
		r.errorf(key+".secret", "is %s", msg)
	}
}

// secretProblem says what is wrong with a base64 secret, or "".
func secretProblem(s string) string {
	raw, err := base64.StdEncoding.DecodeString(s)
	switch {
	case s == "":
		return "empty: want a base64 secret"
	case err != nil:
		return "not valid base64 (generate one with `tsig-keygen` or `openssl rand -base64 32`)"
	case len(raw) < 16:
		return fmt.Sprintf("a %d-byte secret: give at least 16 bytes (RFC 8945 §6 asks for the hash's length)", len(raw))
	}
	return ""
}

// unwrapPathError drops the path from an *os.PathError, which the message
// names already.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// secretFiles lists the secret files of the tsigKeys that v holds, as
// absolute paths relative to dir, leaving out those already in have: a
// rotated secret must reload like an edited zone file.
func secretFiles(v *viper.Viper, dir string, have []string) []string {
	var out []string
	keys, _ := v.Get("tsigkeys").([]any)
	for _, k := range keys {
		m, _ := k.(map[string]any)
		f, ok := m["secretfile"].(string)
		if !ok || f == "" {
			continue
		}
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		if f = filepath.Clean(f); !slices.Contains(have, f) && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
