package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/viewgate/viewgate/auth"
	"github.com/viewgate/viewgate/config"
)

const keysUsage = `usage: viewgate keys <create|list|revoke> [flags]

  create -roles r1,r2 -owner NAME [-tenant T] [-expires 90d] [-file keys.yaml]
         prints the new key once; the keys file keeps only its SHA-256; without
         -tenant the key reads only views without a tenant_column
  list   [-file keys.yaml]        id, tenant, roles, owner, expiry and days left
  revoke [-file keys.yaml] ID     the key stops working at the next reload

The keys file is -file, else the config's auth.keys_file (-config, $VIEWGATE_CONFIG); only
that key of the config is read, so no server secret is needed.`

// keys runs the keys subcommands; now is the clock (injected for tests).
func keys(args []string, getenv func(string) string, now func() time.Time, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("missing keys command\n%s", keysUsage)
	}
	switch args[0] {
	case "create":
		return keysCreate(args[1:], getenv, now, stdout, stderr)
	case "list":
		return keysList(args[1:], getenv, now, stdout, stderr)
	case "revoke":
		return keysRevoke(args[1:], getenv, now, stdout, stderr)
	case "help", "-h", "-help", "--h", "--help":
		fmt.Fprintln(stdout, keysUsage)
		return nil
	}
	return fmt.Errorf("unknown keys command %q\n%s", args[0], keysUsage)
}

// keysFlags are the flags every keys command takes.
type keysFlags struct {
	fs             *flag.FlagSet
	file, config   string
	tenant, roles  string
	owner, expires string
	positional     []string
	getenv         func(string) string
}

var keysCommandUsage = map[string]string{
	"create": "viewgate keys create -tenant T -roles r1,r2 -owner NAME [-expires 90d] [-file keys.yaml]\n\nprints the new key once; the keys file keeps only its SHA-256.",
	"list":   "viewgate keys list [-file keys.yaml]\n\nlists id, tenant, roles, owner, expiry and days left of every key.",
	"revoke": "viewgate keys revoke [-file keys.yaml] ID\n\nthe key stops working at the servers' next reload.",
}

func parseKeysFlags(name string, args []string, getenv func(string) string, stdout io.Writer) (*keysFlags, error) {
	f := &keysFlags{fs: newFlags("keys "+name, keysCommandUsage[name]), getenv: getenv}
	f.fs.StringVar(&f.file, "file", "", "keys file (default: the config's auth.keys_file)")
	f.fs.StringVar(&f.config, "config", "", "config file naming auth.keys_file (default $VIEWGATE_CONFIG)")
	if name == "create" {
		f.fs.StringVar(&f.tenant, "tenant", "", "tenant the key acts for (none: it reads only views without a tenant_column)")
		f.fs.StringVar(&f.roles, "roles", "", "comma-separated roles, e.g. reporting,pii (required)")
		f.fs.StringVar(&f.owner, "owner", "", "who holds the key: a person or an app (required)")
		f.fs.StringVar(&f.expires, "expires", "90d", "lifetime (90d, 36h) or a date (2027-03-01)")
	}
	// Flags may follow the positional id: parse until every argument is consumed.
	for {
		if err := parse(f.fs, args, stdout); err != nil {
			return nil, err
		}
		if f.fs.NArg() == 0 {
			return f, nil
		}
		f.positional = append(f.positional, f.fs.Arg(0))
		args = f.fs.Args()[1:]
	}
}

// read returns the keys file's path and content; a file that does not exist is an error, unless
// create is set, which starts an empty one.
func (f *keysFlags) read(create bool) (string, *auth.KeysFile, error) {
	path, err := f.path()
	if err != nil {
		return "", nil, err
	}
	file, err := auth.ReadKeysFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		return path, nil, nil
	case errors.Is(err, fs.ErrNotExist):
		return "", nil, fmt.Errorf("keys file %s does not exist: check -file or auth.keys_file (keys create makes it)", path)
	}
	return path, file, err
}

// path returns the keys file: -file, else the config's auth.keys_file.
func (f *keysFlags) path() (string, error) {
	if f.file != "" {
		return f.file, nil
	}
	cfgPath := f.config
	if cfgPath == "" {
		cfgPath = f.getenv("VIEWGATE_CONFIG")
	}
	if cfgPath == "" {
		return "", errors.New("no keys file: pass -file, or -config with auth.keys_file")
	}
	path, err := config.KeysFile(cfgPath, f.getenv)
	if err != nil {
		return "", fmt.Errorf("%w (or pass -file)", err)
	}
	if path == "" {
		return "", fmt.Errorf("%s sets no auth.keys_file; pass -file", cfgPath)
	}
	return path, nil
}

func keysCreate(args []string, getenv func(string) string, now func() time.Time, stdout, stderr io.Writer) error {
	f, err := parseKeysFlags("create", args, getenv, stdout)
	if err != nil {
		return err
	}
	roles := splitRoles(f.roles)
	switch {
	case len(f.positional) > 0:
		return fmt.Errorf("unexpected arguments: %v", f.positional)
	case len(roles) == 0 || f.owner == "":
		return errors.New("keys create needs -roles and -owner (and -tenant for tenant-scoped views)")
	}
	t := now().UTC().Truncate(time.Second)
	expires, err := parseExpiry(f.expires, t)
	if err != nil {
		return err
	}
	path, file, err := f.read(true)
	if err != nil {
		return err
	}
	if file == nil {
		file = &auth.KeysFile{}
		fmt.Fprintf(stderr, "created keys file %s\n", path)
	}
	secret, err := auth.NewSecret()
	if err != nil {
		return err
	}
	id, err := auth.NewKeyID()
	if err != nil {
		return err
	}
	file.Keys = append(file.Keys, auth.StoredKey{ID: id, Tenant: f.tenant, Roles: roles, Owner: f.owner,
		Created: t, Expires: expires, SHA256: auth.HashSecret(secret)})
	if err := auth.WriteKeysFile(path, file); err != nil {
		return err
	}
	tenant := "tenant " + f.tenant
	if f.tenant == "" {
		tenant = "no tenant: it reads only views without a tenant_column"
	}
	fmt.Fprintf(stderr, "created key %s for %s (%s; roles %s), expires %s (%d days); it is shown only once:\n",
		id, f.owner, tenant, strings.Join(roles, ","), expires.Format(time.DateOnly), auth.DaysLeft(expires, t))
	fmt.Fprintln(stdout, secret)
	return nil
}

func splitRoles(s string) []string {
	var out []string
	for r := range strings.SplitSeq(s, ",") {
		if r = strings.TrimSpace(r); r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// parseExpiry reads "90d", a Go duration ("36h") or a date ("2027-03-01", midnight UTC).
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n >= 1 && n <= 3650 {
			return now.AddDate(0, 0, n), nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d >= time.Minute {
		return now.Add(d), nil
	} else if t, err := time.Parse(time.DateOnly, s); err == nil && t.After(now) {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("-expires %q: want days like 90d (1..3650), a duration like 36h, or a future date like 2027-03-01", s)
}

func keysList(args []string, getenv func(string) string, now func() time.Time, stdout, stderr io.Writer) error {
	f, err := parseKeysFlags("list", args, getenv, stdout)
	if err != nil {
		return err
	}
	_, file, err := f.read(false)
	if err != nil {
		return err
	}
	t := now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tOWNER\tTENANT\tROLES\tCREATED\tEXPIRES\tDAYS LEFT\tSTATUS")
	for _, k := range file.Keys {
		status, left := "active", strconv.Itoa(auth.DaysLeft(k.Expires, t))
		switch {
		case k.Revoked != nil:
			status, left = "revoked "+k.Revoked.UTC().Format(time.DateOnly), "-"
		case !t.Before(k.Expires):
			status, left = "expired", "0"
		}
		tenant := k.Tenant
		if tenant == "" {
			tenant = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Owner, tenant, strings.Join(k.Roles, ","),
			k.Created.UTC().Format(time.DateOnly), k.Expires.UTC().Format(time.DateOnly), left, status)
	}
	return tw.Flush()
}

func keysRevoke(args []string, getenv func(string) string, now func() time.Time, stdout, stderr io.Writer) error {
	f, err := parseKeysFlags("revoke", args, getenv, stdout)
	if err != nil {
		return err
	}
	if len(f.positional) != 1 {
		return errors.New("keys revoke needs exactly one key id (see keys list)")
	}
	path, file, err := f.read(false)
	if err != nil {
		return err
	}
	k := file.Find(f.positional[0])
	if k == nil {
		return fmt.Errorf("no key %q in %s", f.positional[0], path)
	}
	if k.Revoked == nil {
		t := now().UTC().Truncate(time.Second)
		k.Revoked = &t
	}
	if err := auth.WriteKeysFile(path, file); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked %s (owner %s); servers stop accepting it at their next reload\n", k.ID, k.Owner)
	return nil
}
