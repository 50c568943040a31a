// Package views holds the catalog of exposed database views and compiles what a caller asks of
// one view into a single SQL SELECT, the same on Postgres, MySQL/MariaDB and SQLite.
//
// The catalog is the contract: [Catalog] lists each [View] (its relation, source, roles,
// tenant_column, key, default order and page cap) and each [Column] (its [Type], the filter
// operators it allows, whether it sorts, and how it is masked as [PII]). [LoadCatalog] and
// [ParseCatalog] decode and validate a YAML catalog; every problem is reported together in a
// [ValidationError] with its line and key path, and nothing outside the catalog is reachable.
//
// A request becomes a [Query]: the requested columns, a [Filter] from [ParseWhere] (the
// where argument, with and/or/not), a search text, an ordering ([OrderTerm]), a page size,
// an after cursor and the caller's tenant. A [Builder], made of a [Dialect] (from [DialectFor])
// and [Cursors], compiles it with squirrel into a [Statement]: [Builder.Select] for a page and
// [Builder.Count] for totalCount. Identifiers come only from the catalog and are quoted per
// dialect, every value is a placeholder, LIMIT is bound, and a view with a tenant_column always
// gets the tenant predicate ([ErrNoTenant] without a tenant). Paging is keyset on the ordering
// plus the view's key; [Cursors] signs the opaque cursors with an HMAC and binds each to the
// view, ordering, filter, search and tenant it was issued for.
//
// Values travel in one normal form per type whatever the engine (text, uuid, bigint and decimal
// as string; int64; float64; bool; time.Time in UTC; json.RawMessage): a [Statement] scans
// its rows with [Statement.Dests] and turns them into that form with [Statement.Decode], and
// [Statement.Cursor] resumes after a row, so answers and cursors are byte-identical across
// engines. Engine differences (quoting, collation, NULL ordering, row comparisons, IN lists,
// casts) live in the dialect, not in branches spread through the package.
//
// Errors about caller input wrap [ErrBadFilter], [ErrBadCursor], [ErrBadOrder], [ErrBadPageSize]
// or [ErrBadValue], which the server's error table answers as 400 BAD_USER_INPUT.
package views
