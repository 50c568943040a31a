package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// KeyPrefix starts every generated API key, so secret scanners can recognise one.
const KeyPrefix = "vgk_"

// keyEntropy is the random part of a generated key, in bytes (256 bits).
const keyEntropy = 32

// b32 is lower-case base32 without padding: URL- and header-safe, no ambiguous case.
var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// StoredKey is one key of a keys file: everything but the secret, which is kept only as a hash.
type StoredKey struct {
	ID      string     `yaml:"id"`
	Tenant  string     `yaml:"tenant,omitempty"` // "": reads only views without a tenant_column
	Roles   []string   `yaml:"roles,flow"`
	Owner   string     `yaml:"owner"`
	Created time.Time  `yaml:"created"`
	Expires time.Time  `yaml:"expires"`
	Revoked *time.Time `yaml:"revoked,omitempty"`
	SHA256  string     `yaml:"sha256"` // hex SHA-256 of the whole key string
}

// KeysFile is the content of a keys file.
type KeysFile struct {
	Keys []StoredKey `yaml:"keys"`
}

// NewSecret returns a fresh API key: KeyPrefix, 256 bits from crypto/rand in base32, "_", and a
// CRC-32 of the random part, so a scanner (or viewgate itself) can tell a typo from a real key
// without a lookup.
func NewSecret() (string, error) {
	b := make([]byte, keyEntropy)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate API key: %w", err)
	}
	body := b32.EncodeToString(b)
	return KeyPrefix + body + "_" + checksum(body), nil
}

func checksum(body string) string {
	var c [4]byte
	sum := crc32.ChecksumIEEE([]byte(body))
	c[0], c[1], c[2], c[3] = byte(sum>>24), byte(sum>>16), byte(sum>>8), byte(sum)
	return b32.EncodeToString(c[:])
}

// wellFormed reports whether s has the shape and checksum of a generated key.
func wellFormed(s string) bool {
	rest, ok := strings.CutPrefix(s, KeyPrefix)
	if !ok {
		return false
	}
	body, sum, ok := strings.Cut(rest, "_")
	return ok && len(body) == b32.EncodedLen(keyEntropy) && sum == checksum(body)
}

// HashSecret returns the hex SHA-256 of a key, as a keys file stores it.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// NewKeyID returns a random key id like "k-3fa9c2d1e0b7".
func NewKeyID() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate key id: %w", err)
	}
	return "k-" + hex.EncodeToString(b), nil
}

// ReadKeysFile parses the keys file at path; a missing file is an error wrapping fs.ErrNotExist.
// It fails on unknown fields, duplicate ids or hashes, and entries without id, expiry or a
// 64-hex-digit hash. A key without a tenant reads only views without a tenant_column.
func ReadKeysFile(path string) (*KeysFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read keys file: %w", err)
	}
	return ParseKeysFile(b)
}

// ParseKeysFile parses and checks the content of a keys file (see ReadKeysFile).
func ParseKeysFile(b []byte) (*KeysFile, error) {
	var f KeysFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && len(bytes.TrimSpace(b)) > 0 {
		return nil, fmt.Errorf("keys file: %w", err)
	}
	ids, hashes := map[string]bool{}, map[string]bool{}
	for i, k := range f.Keys {
		var problem string
		switch {
		case k.ID == "":
			problem = "id is required"
		case ids[k.ID]:
			problem = "duplicate id " + k.ID
		case k.Expires.IsZero():
			problem = "expires is required"
		case len(k.SHA256) != 64 || strings.Trim(k.SHA256, "0123456789abcdef") != "":
			problem = "sha256 must be 64 lower-case hex digits"
		case hashes[k.SHA256]:
			problem = "duplicate sha256"
		}
		if problem != "" {
			return nil, fmt.Errorf("keys file: keys[%d]: %s", i, problem)
		}
		ids[k.ID], hashes[k.SHA256] = true, true
	}
	return &f, nil
}

// WriteKeysFile writes f to path atomically (a temporary file renamed over it), mode 0600.
func WriteKeysFile(path string, f *KeysFile) error {
	var buf bytes.Buffer
	buf.WriteString("# viewgate API keys: SHA-256 hashes only. Managed by `viewgate keys`.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("encode keys file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keys-*.yaml")
	if err != nil {
		return fmt.Errorf("write keys file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write keys file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write keys file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write keys file: %w", err)
	}
	return nil
}

// Find returns the key with id, or nil.
func (f *KeysFile) Find(id string) *StoredKey {
	i := slices.IndexFunc(f.Keys, func(k StoredKey) bool { return k.ID == id })
	if i < 0 {
		return nil
	}
	return &f.Keys[i]
}

// keyIndex is one loaded keys file: keys by the SHA-256 of their secret.
type keyIndex map[[32]byte]indexed

type indexed struct {
	key *StoredKey
	p   *Principal
}

func newKeyIndex(f *KeysFile) keyIndex {
	idx := make(keyIndex, len(f.Keys))
	for i := range f.Keys {
		k := &f.Keys[i]
		var h [32]byte
		_, _ = hex.Decode(h[:], []byte(k.SHA256))
		idx[h] = indexed{key: k, p: &Principal{Tenant: k.Tenant, CredentialID: k.ID, Subject: k.Owner, Roles: slices.Clone(k.Roles)}}
	}
	return idx
}

// lookup returns the principal of secret at now, or ErrUnknownKey, ErrKeyRevoked or ErrKeyExpired.
//
// The map is indexed by the secret's SHA-256, so the time a lookup takes depends on the digest,
// not on the secret: learning digest bits through timing does not help find a preimage.
func (idx keyIndex) lookup(secret string, now time.Time) (*Principal, error) {
	if !wellFormed(secret) {
		return nil, ErrUnknownKey
	}
	h := sha256.Sum256([]byte(secret))
	e, ok := idx[h]
	if !ok {
		return nil, ErrUnknownKey
	}
	k := e.key
	var stored [32]byte
	_, _ = hex.Decode(stored[:], []byte(k.SHA256))
	if subtle.ConstantTimeCompare(stored[:], h[:]) != 1 {
		return nil, ErrUnknownKey
	}
	switch {
	case k.Revoked != nil && !now.Before(*k.Revoked):
		return nil, fmt.Errorf("%w (key %s)", ErrKeyRevoked, k.ID)
	case !now.Before(k.Expires):
		return nil, fmt.Errorf("%w (key %s)", ErrKeyExpired, k.ID)
	}
	return e.p, nil
}
