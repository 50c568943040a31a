package quota

import (
	"context"
	"strconv"
	"testing"

	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/dbtest"
)

// BenchmarkCharge times one lookup charge (4 peeks and 4 increments) on each store, spread over
// 1000 tenants so no window fills up within 20000 charges.
func BenchmarkCharge(b *testing.B) {
	q := config.DefaultQuota()
	for _, store := range []string{"memory", "redis"} {
		b.Run(store, func(b *testing.B) {
			o := Options{}
			if store == "redis" {
				url, prefix := dbtest.Redis(b)
				q.RedisURL, o.KeyPrefix = url, prefix
			}
			l, err := New(q, o)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			ctx := context.Background()
			subjects := make([]Subject, 1000)
			for i := range subjects {
				subjects[i] = Subject{Tenant: "t" + strconv.Itoa(i), Credential: "c" + strconv.Itoa(i)}
			}
			costs := map[Class]int64{Lookup: 1}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := l.Charge(ctx, subjects[i%len(subjects)], costs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
