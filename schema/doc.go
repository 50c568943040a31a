// Package schema builds the GraphQL schema from the catalog.
//
// Each view becomes an object type, a connection type with nodes, edges, pageInfo and
// totalCount, a where input holding only the operators the catalog configures, and an orderBy
// input over its sortable columns. A view with aggregate: in the catalog also gets an aggregate
// root field (aggregate.go): totals and groups typed by its measures and dimensions, a groupBy
// input with time buckets, and a group orderBy over keys and aggregates. There is no Mutation
// and no Subscription type.
package schema
