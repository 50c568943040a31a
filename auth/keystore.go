package auth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// KeyStoreOptions configures a KeyStore.
type KeyStoreOptions struct {
	Path       string           // the keys file
	WarnWithin time.Duration    // log a warning for keys expiring within this (0: 14 days)
	Log        *slog.Logger     // reload errors and expiry warnings
	Now        func() time.Time // nil: time.Now
}

// KeyStore authenticates API keys from a keys file, which it reloads when the file changes: a new
// and an old key both work until the old one expires or is revoked.
type KeyStore struct {
	o      KeyStoreOptions
	cur    atomic.Pointer[keyState]
	mu     sync.Mutex        // serialises reloads and warnings
	warned map[string]string // key id → the day (UTC) it was last warned about
}

type keyState struct {
	idx   keyIndex
	file  *KeysFile
	mtime time.Time
	size  int64
}

// NewKeyStore loads the keys file at o.Path (a missing file holds no keys); it returns an error if
// the file cannot be read or is invalid.
func NewKeyStore(o KeyStoreOptions) (*KeyStore, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.WarnWithin == 0 {
		o.WarnWithin = 14 * 24 * time.Hour
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	s := &KeyStore{o: o, warned: map[string]string{}}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(o.Path); errors.Is(err, fs.ErrNotExist) {
		o.Log.Warn("keys file does not exist yet: it holds no keys until viewgate keys create makes it", "path", o.Path)
	}
	return s, nil
}

// Lookup returns the principal of an API key, or ErrUnknownKey, ErrKeyRevoked or ErrKeyExpired.
func (s *KeyStore) Lookup(secret string) (*Principal, error) {
	return s.cur.Load().idx.lookup(secret, s.o.Now())
}

// Len returns the number of keys loaded, expired and revoked ones included.
func (s *KeyStore) Len() int { return len(s.cur.Load().file.Keys) }

// Reload reads the keys file now; on an error the keys loaded before stay in force.
func (s *KeyStore) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reload()
}

func (s *KeyStore) reload() error {
	st := &keyState{}
	if fi, err := os.Stat(s.o.Path); err == nil {
		st.mtime, st.size = fi.ModTime(), fi.Size()
	}
	f, err := ReadKeysFile(s.o.Path)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = &KeysFile{}, nil // none yet: the poll loads it once viewgate keys create makes it
	}
	if err != nil {
		return err
	}
	st.file, st.idx = f, newKeyIndex(f)
	s.cur.Store(st)
	return nil
}

// Check reloads the keys file if its modification time or size changed, and logs warnings for
// keys that expire soon (once per key per day). A bad file is logged and the old keys stay.
func (s *KeyStore) Check() {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur.Load()
	if fi, err := os.Stat(s.o.Path); err == nil && (!fi.ModTime().Equal(old.mtime) || fi.Size() != old.size) {
		if err := s.reload(); err != nil {
			s.o.Log.Error("keys file not reloaded; the previous keys stay in force", "path", s.o.Path, "error", err.Error())
			// Remember the bad version, so it is reported once, not at every tick.
			bad := *old
			bad.mtime, bad.size = fi.ModTime(), fi.Size()
			s.cur.Store(&bad)
		} else {
			s.o.Log.Info("keys file reloaded", "path", s.o.Path, "keys", len(s.cur.Load().file.Keys))
		}
	}
	s.warnExpiring()
}

// warnExpiring logs each live key that expires within WarnWithin, at most once per key per day.
func (s *KeyStore) warnExpiring() {
	now := s.o.Now()
	day := now.UTC().Format(time.DateOnly)
	for _, k := range s.cur.Load().file.Keys {
		left := k.Expires.Sub(now)
		if k.Revoked != nil || left <= 0 || left > s.o.WarnWithin || s.warned[k.ID] == day {
			continue
		}
		s.warned[k.ID] = day
		s.o.Log.Warn("API key expires soon: create a new key and hand it over", "keyId", k.ID,
			"owner", k.Owner, "tenant", k.Tenant, "daysLeft", DaysLeft(k.Expires, now), "expires", k.Expires.UTC().Format(time.RFC3339))
	}
}

// Run calls Check at every tick until ctx ends.
func (s *KeyStore) Run(ctx context.Context, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			s.Check()
		}
	}
}

// DaysLeft returns the whole days from now until expires, rounded up; 0 or less means expired.
func DaysLeft(expires, now time.Time) int {
	return int(math.Ceil(expires.Sub(now).Hours() / 24))
}

// String describes the store for logs.
func (s *KeyStore) String() string { return fmt.Sprintf("keys file %s (%d keys)", s.o.Path, s.Len()) }
