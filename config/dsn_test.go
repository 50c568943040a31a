package config

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRedactDSN(t *testing.T) {
	tests := []struct {
		name string
		dsn  string
		want string
	}{
		{"postgres url", "postgres://u:pw@h:5432/db", "postgres://u:xxxxx@h:5432/db"},
		{"postgresql url with query password", "postgresql://h/db?user=u&password=pw&sslmode=require", "postgresql://h/db?user=u&password=xxxxx&sslmode=require"},
		{"url with both passwords", "postgres://u:pw@h/db?sslpassword=kp", "postgres://u:xxxxx@h/db?sslpassword=xxxxx"},
		{"url without password", "postgres://u@h/db", "postgres://u@h/db"},
		{"url with empty password", "postgres://u:@h/db", "postgres://u:@h/db"},
		{"url percent-encoded password", "postgres://u:p%40ss@h/db", "postgres://u:xxxxx@h/db"},
		{"url user with @", "postgres://admin@srv:pw@h.example.com/db", "postgres://admin@srv:xxxxx@h.example.com/db"},
		{"url unescaped / in password", "postgres://u:p/w@h/db", "postgres://u:xxxxx@h/db"},
		{"url unescaped ? and # in password", "postgres://u:p?w#x@h/db", "postgres://u:xxxxx@h/db"},
		{"url multi-host", "postgres://u:pw@h1:5432,h2:5432/db", "postgres://u:xxxxx@h1:5432,h2:5432/db"},
		{"url @ in query only", "postgres://h:5432/db?user=a@b.com", "postgres://h:5432/db?user=a@b.com"},
		{"url cut short", "postgres://u:pw@", "postgres://u:xxxxx@"},
		{"key=value", "host=h user=u password=pw dbname=d", "host=h user=u password=xxxxx dbname=d"},
		{"key=value quoted", `password='p w\'x' host=h`, `password='xxxxx' host=h`},
		{"key=value spaces around =", "host=h password = pw dbname=d", "host=h password = xxxxx dbname=d"},
		{"key=value upper case", "host=h PASSWORD=pw", "host=h PASSWORD=xxxxx"},
		{"key=value unterminated quote", "host=h password='pw dbname=d", "host=h password='xxxxx"},
		{"key=value no password", "host=h user=u dbname=d", "host=h user=u dbname=d"},
		{"mysql", "u:pw@tcp(h:3306)/db?parseTime=true", "u:xxxxx@tcp(h:3306)/db?parseTime=true"},
		{"mysql password with @ / :", "u:p@s/s:x@tcp(h:3306)/db", "u:xxxxx@tcp(h:3306)/db"},
		{"mysql unix socket", "u:pw@unix(/run/mysqld/mysqld.sock)/db", "u:xxxxx@unix(/run/mysqld/mysqld.sock)/db"},
		{"mysql without password", "u@tcp(h:3306)/db", "u@tcp(h:3306)/db"},
		{"sqlite path", "/var/lib/viewgate/demo.db", "/var/lib/viewgate/demo.db"},
		{"sqlite uri", "file:demo.db?mode=ro&_pragma=busy_timeout(5000)", "file:demo.db?mode=ro&_pragma=busy_timeout(5000)"},
		{"sqlite absolute uri", "file:///data/demo.db?mode=ro", "file:///data/demo.db?mode=ro"},
		{"sqlite memory", ":memory:", ":memory:"},
		{"empty", "", ""},
		{"bare scheme separator", "://", "://"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, RedactDSN(tc.dsn)); diff != "" {
				t.Errorf("RedactDSN(%q) mismatch (-want +got):\n%s", tc.dsn, diff)
			}
		})
	}
}

func TestCheckDSN(t *testing.T) {
	tests := []struct {
		driver string
		dsn    string
		want   string // substring of the reason; "" for valid
	}{
		{"postgres", "postgres://u:pw@h:5432/db?sslmode=disable", ""},
		{"postgres", "postgresql://u@h1:5432,h2:5433/db", ""},
		{"postgres", "postgres:///db?host=/run/postgresql", ""},
		{"postgres", "postgres://u:p%2Fw@h/db", ""},
		{"postgres", "host=h port=5432 user=u password='a b' dbname=db", ""},
		{"postgres", "  dbname = db  ", ""},
		{"postgres", "postgres://u:p/w@h/db", "not a valid postgres URL"},
		{"postgres", "postgres://u:12/w@h/db", "not a valid postgres URL"},
		{"postgres", "postgres://u:pw@h:port/db", "not a valid postgres URL"},
		{"postgres", "mysql://u@h/db", "a URL must start with postgres://"},
		{"postgres", "host=h password=a b", "not a valid postgres DSN"},
		{"postgres", "host=h password='unterminated", "not a valid postgres DSN"},
		{"postgres", "host=h 'x'=y", "a key is not a parameter name"},
		{"postgres", "just-a-word", "not a valid postgres DSN"},
		{"mysql", "u:pw@tcp(h:3306)/db?parseTime=true&loc=Europe%2FParis", ""},
		{"mysql", "u@tcp(h)/db", ""},
		{"mysql", "u:pw@tcp([::1]:3306)/", ""},
		{"mysql", "u:pw@unix(/run/mysqld/mysqld.sock)/db", ""},
		{"mysql", "u:pw@tcp(h:3306)", "missing /dbname"},
		{"mysql", "tcp(h:3306)/db", "missing user@"},
		{"mysql", ":pw@tcp(h:3306)/db", "missing user name"},
		{"mysql", "u:pw@h:3306/db", "want a protocol and address"},
		{"mysql", "u:pw@udp(h:3306)/db", "unknown protocol (allowed: tcp, tcp4, tcp6, unix)"},
		{"mysql", "u:pw@tcp()/db", "tcp() needs host"},
		{"mysql", "u:pw@tcp(h:x)/db", "numeric port"},
		{"mysql", "u:pw@unix()/db", "unix() needs a socket path"},
		{"mysql", "u:pw@tcp(h:3306)/db?x=%zz", "bad ?params"},
		{"sqlite", "demo.db", ""},
		{"sqlite", ":memory:", ""},
		{"sqlite", "file:demo.db?mode=ro", ""},
		{"sqlite", "file:?mode=ro", "file: URI needs a path"},
		{"sqlite", "file:x.db?a=%zz", "bad ?params"},
		{"sqlite", "x\x00.db", "NUL"},
	}
	for _, tc := range tests {
		t.Run(tc.driver+"/"+tc.dsn, func(t *testing.T) {
			got := checkDSN(tc.driver, tc.dsn)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("checkDSN(%q, %q) = %q, want %q", tc.driver, tc.dsn, got, tc.want)
			}
			if strings.Contains(got, "pw") {
				t.Errorf("checkDSN(%q, %q) quotes the password: %q", tc.driver, tc.dsn, got)
			}
		})
	}
}

func TestSQLitePath(t *testing.T) {
	tests := []struct {
		dsn, dir, want string
	}{
		{"demo.db", "conf", "conf/demo.db"},
		{"./data/demo.db?_pragma=x", "conf", "conf/data/demo.db?_pragma=x"},
		{"file:demo.db?mode=ro", "conf", "file:conf/demo.db?mode=ro"},
		{"file:demo.db", "conf", "file:conf/demo.db"},
		{"/abs/demo.db", "conf", "/abs/demo.db"},
		{"file:/abs/demo.db?mode=ro", "conf", "file:/abs/demo.db?mode=ro"},
		{"file:///abs/demo.db", "conf", "file:///abs/demo.db"},
		{":memory:", "conf", ":memory:"},
		{"file::memory:?cache=shared", "conf", "file::memory:?cache=shared"},
		{"demo.db", "", "demo.db"},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, sqlitePath(tc.dsn, tc.dir)); diff != "" {
			t.Errorf("sqlitePath(%q, %q) mismatch (-want +got):\n%s", tc.dsn, tc.dir, diff)
		}
	}
}

// FuzzRedactDSN checks that RedactDSN never panics and that, for DSNs built the way each driver
// expects, its output does not depend on the password.
func FuzzRedactDSN(f *testing.F) {
	f.Add("viewgate", "hunter2", "db.example.com")
	f.Add("u", "p@ss:w/rd?#&='\\ x", "h")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, user, pw, host string) {
		RedactDSN(user + ":" + pw + "@" + host) // must not panic on anything
		if pw == "" || !isName(user, ".") || !isName(host, ".") {
			return
		}
		kvQuote := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
		builders := map[string]func(pw string) string{
			"url": func(pw string) string {
				return "postgres://" + url.UserPassword(user, pw).String() + "@" + host + ":5432/db?sslmode=disable"
			},
			"url query": func(pw string) string {
				return "postgres://" + host + "/db?user=" + user + "&password=" + url.QueryEscape(pw) + "&sslmode=disable"
			},
			"key=value": func(pw string) string {
				return "host=" + host + " user=" + user + " password='" + kvQuote.Replace(pw) + "' dbname=db"
			},
			"mysql": func(pw string) string {
				return user + ":" + pw + "@tcp(" + host + ":3306)/db?parseTime=true"
			},
		}
		for name, build := range builders {
			got, want := RedactDSN(build(pw)), RedactDSN(build("placeholder"))
			if got != want {
				t.Errorf("%s: RedactDSN(%q) = %q, want %q", name, build(pw), got, want)
			}
		}
	})
}
