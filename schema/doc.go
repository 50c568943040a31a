// Package schema builds the GraphQL schema from the catalog.
//
// Each view becomes an object type, a connection type with nodes, edges, pageInfo and
// totalCount, a where input holding only the operators the catalog configures, and an orderBy
// input over its sortable columns. There is no Mutation and no Subscription type.
package schema
