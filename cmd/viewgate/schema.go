package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/graphql-go/graphql"
	"github.com/viewgate/viewgate/config"
	"github.com/viewgate/viewgate/demo"
	"github.com/viewgate/viewgate/schema"
	"github.com/viewgate/viewgate/views"
)

const schemaUsage = `viewgate schema [-config file] [-env name] [-format json|sdl]

prints the GraphQL schema that serve answers for the catalog (with no config: the demo's),
without connecting to any database. Types, fields, arguments, input fields and enum values
are sorted by name, so the output changes only when the schema does.`

// printSchema prints the catalog's GraphQL schema as the standard introspection result (JSON)
// or in the schema definition language. It reads the config and the catalog, no database.
func printSchema(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("schema", schemaUsage)
	var path, env, format string
	fs.StringVar(&path, "config", "", "config file (default $VIEWGATE_CONFIG; none: the built-in demo)")
	fs.StringVar(&env, "env", "", "environment of the config (default $VIEWGATE_ENV, then the config's default_env)")
	fs.StringVar(&format, "format", "json", "json: the introspection result of the standard query (graphql-js getIntrospectionQuery);\nsdl: the schema definition language (graphql-js buildSchema reads it)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if format != "json" && format != "sdl" {
		return fmt.Errorf("schema: -format %q: want json or sdl", format)
	}
	if path == "" {
		path = getenv("VIEWGATE_CONFIG")
	}
	cat, err := schemaCatalog(path, env, getenv)
	if err != nil {
		return err
	}
	s, err := schema.New(cat, unresolved{})
	if err != nil {
		return err
	}
	if format == "sdl" {
		sdl, err := schema.SDL(ctx, s)
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, sdl)
		return err
	}
	data, err := schema.Introspect(ctx, s)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(data)
}

// schemaCatalog loads the catalog the config names, or the demo's when there is no config.
func schemaCatalog(path, env string, getenv func(string) string) (*views.Catalog, error) {
	if path == "" {
		cat, err := views.ParseCatalog(demo.Catalog())
		if err != nil {
			return nil, fmt.Errorf("demo catalog: %w", err)
		}
		return cat, nil
	}
	cfg, err := config.Load(path, env, getenv)
	if err != nil {
		return nil, err
	}
	return views.LoadCatalog(cfg.Catalog)
}

// unresolved stands in for the resolvers: introspection never calls a root field's resolver.
type unresolved struct{}

var errUnresolved = errors.New("viewgate schema runs no queries")

func (unresolved) Connection(*views.View) graphql.FieldResolveFn {
	return func(graphql.ResolveParams) (any, error) { return nil, errUnresolved }
}

func (unresolved) RawConnection(*views.View) graphql.FieldResolveFn {
	return func(graphql.ResolveParams) (any, error) { return nil, errUnresolved }
}

func (unresolved) RateLimit() graphql.FieldResolveFn {
	return func(graphql.ResolveParams) (any, error) { return nil, errUnresolved }
}
