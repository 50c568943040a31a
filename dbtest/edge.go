package dbtest

import "testing"

// EdgePostgres returns the URL of a fresh Postgres database (Postgres) that also holds
// EdgeSQL's views.
func EdgePostgres(t testing.TB) string {
	t.Helper()
	dsn := Postgres(t)
	adminExec(t, "pgx", dsn, EdgeSQL)
	return dsn
}

// EdgeSQL creates, in a fresh Postgres database, a view of awkward values in every Postgres
// type the wire forms format (reader.Wire) and in the types they leave to the generic
// decoding, one value list per column cycled over 24 rows (v_edge); views of one value
// without a normal form each: an infinite timestamp (v_infinite), an infinite date
// (v_infinite_day) and a numeric NaN (v_nan); one of timestamps past the year 9999 and
// before year 1 between ordinary ones, with a decimal and a date to order by (v_far); and
// one of dates past 9999 and before year 1 between ordinary ones (v_far_day); and one whose
// second row holds a NaN and an infinite date (v_odd), ordered by either. EdgeCatalog
// declares them as edges, infinites, infiniteDays, nans, fars, farDays, oddsByAmount and
// oddsByDay. Tests of the fast paths compare them with the generic path on these.
const EdgeSQL = `
CREATE VIEW v_edge AS SELECT
  g::bigint AS id,
  (ARRAY[0, -32768, 32767, NULL, 7])[1 + g % 5]::smallint AS small,
  (ARRAY[0, -2147483648, 2147483647, NULL, 42])[1 + g % 5]::int AS medium,
  (ARRAY[0, -9223372036854775808, 9223372036854775807, NULL, 3000000000, -3000000000])[1 + g % 6]::bigint AS big,
  (ARRAY[0, 3000000000, -3000000001, NULL, 2147483647])[1 + g % 5]::bigint AS narrow,
  (ARRAY[NULL, '', 'plain', '"quoted", with comma', E'line\nbreak', E'cr\r\nlf', '=SUM(A1)', '+1', '-5', '@x',
         E'\ttab', E'\rcr', '#hash', 'hÄmä ☃ 😀', '<&>', E'\u2028\u2029', E'back\\slash', E'ctl\x01', ' spaced '])[1 + g % 19]::text AS note,
  (ARRAY['v', NULL, '', '=v', 'ünï'])[1 + g % 5]::varchar(10) AS code,
  (ARRAY['ab', NULL, 'abcde', ''])[1 + g % 4]::char(5) AS fixed,
  (ARRAY[0.5, NULL, -12345678.99, 0, 100, -0.01])[1 + g % 6]::numeric(12,2) AS amount,
  (ARRAY[1.005, -0.5, 2, NULL, 12345678901234567890.125, -0.001, 0, 0.995, -1.995, 7.10])[1 + g % 10]::numeric AS loose,
  (ARRAY[1.5, NULL, 1e-7, 1e21, 'NaN', 'Infinity', '-Infinity', -0.0, 123456789.125, 0.1])[1 + g % 10]::float8 AS ratio,
  (ARRAY[true, false, NULL])[1 + g % 3] AS flag,
  (ARRAY['2024-02-29 12:34:56.123456+00', NULL, '1900-01-01 00:00:00+00', '1969-12-31 23:59:59.999999+00',
         '0001-01-01 00:00:00+00', '9999-12-31 23:59:59.999999+00', '2000-01-01 00:00:00+05', '2021-06-01 10:00:00.5+00'])[1 + g % 8]::timestamptz AS at,
  (ARRAY['2024-02-29 12:34:56.123456', NULL, '1960-05-05 05:05:05.000001', '2000-01-01 00:00:00'])[1 + g % 4]::timestamp AS local,
  (ARRAY['2024-02-29', NULL, '1900-01-01', '0001-01-01', '9999-12-31', '1999-12-31', '2000-01-01', '2000-01-02'])[1 + g % 8]::date AS day,
  (ARRAY['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', NULL, '00000000-0000-0000-0000-000000000000',
         'ffffffffffffffffffffffffffffffff', '{01234567-89ab-cdef-0123-456789abcdef}'])[1 + g % 5]::uuid AS ref,
  (ARRAY['{"b": 1, "a": [1, 2]}', NULL, '"x"'])[1 + g % 3]::jsonb AS meta,
  (ARRAY['ann@example.com', NULL, ''])[1 + g % 3]::text AS email,
  (ARRAY['+41 79 000', NULL])[1 + g % 2]::text AS phone,
  (ARRAY[5, NULL])[1 + g % 2]::int AS secret
FROM generate_series(1, 24) g;
CREATE VIEW v_infinite AS SELECT 1::bigint AS id, 'infinity'::timestamptz AS at;
CREATE VIEW v_infinite_day AS SELECT 1::bigint AS id, 'infinity'::date AS day;
CREATE VIEW v_nan AS SELECT 1::bigint AS id, 'NaN'::numeric AS amount;
CREATE VIEW v_far AS SELECT g::bigint AS id, 'row ' || g AS note, (g % 3 * 1.25)::numeric(8,2) AS price,
  (ARRAY['2024-01-01 00:00:00+00', '10000-06-01 00:00:00+00', '2024-01-02 00:00:00+00', '0001-01-01 00:00:00+00 BC'])[1 + g % 4]::timestamptz AS at,
  (ARRAY['2024-01-01', '2024-01-05', '2024-01-02', '2024-01-03'])[1 + g % 4]::date AS due
FROM generate_series(1, 8) g;
CREATE VIEW v_odd AS SELECT g::bigint AS id,
  (CASE WHEN g = 2 THEN 'NaN' ELSE g::text END)::numeric AS amount,
  (CASE WHEN g = 2 THEN 'infinity' ELSE '2024-01-0' || g END)::date AS day
FROM generate_series(1, 3) g;
CREATE VIEW v_far_day AS SELECT g::bigint AS id,
  (ARRAY['2024-01-01', '10000-06-01', '1999-12-31', '0001-01-01 BC', '5874897-12-31'])[1 + g % 5]::date AS day
FROM generate_series(1, 10) g;
`

// EdgeCatalog is the catalog of EdgeSQL's views, on source s for role r.
const EdgeCatalog = `views:
  - name: Edge
    field: edges
    source: s
    relation: v_edge
    key: [id]
    default_order: [{column: id}]
    roles: [r]
    export: true
    columns:
      - {name: id, type: bigint, nullable: false}
      - {name: small, type: int}
      - {name: medium, type: int}
      - {name: big, type: bigint}
      - {name: narrow, type: int}
      - {name: note, type: text}
      - {name: code, type: text}
      - {name: fixed, type: text}
      - {name: amount, type: decimal, scale: 2}
      - {name: loose, type: decimal, scale: 2}
      - {name: ratio, type: float}
      - {name: flag, type: bool}
      - {name: at, type: timestamp}
      - {name: local, type: timestamp}
      - {name: day, type: date}
      - {name: ref, type: uuid}
      - {name: meta, type: json}
      - {name: email, type: text, pii: mask}
      - {name: phone, type: text, pii: hash}
      - {name: secret, type: int, pii: mask}
  - name: Infinite
    field: infinites
    source: s
    relation: v_infinite
    key: [id]
    roles: [r]
    export: true
    columns:
      - {name: id, type: bigint, nullable: false}
      - {name: at, type: timestamp}
  - name: InfiniteDay
    field: infiniteDays
    source: s
    relation: v_infinite_day
    key: [id]
    roles: [r]
    export: true
    columns:
      - {name: id, type: bigint, nullable: false}
      - {name: day, type: date}
  - name: NaN
    field: nans
    source: s
    relation: v_nan
    key: [id]
    roles: [r]
    export: true
    columns:
      - {name: id, type: bigint, nullable: false}
      - {name: amount, type: decimal, scale: 2}
  - name: OddByAmount
    field: oddsByAmount
    source: s
    relation: v_odd
    key: [id]
    default_order: [{column: amount}, {column: id}]
    roles: [r]
    export: true
    columns: &odd
      - {name: id, type: bigint, nullable: false}
      - {name: amount, type: decimal, scale: 2, sort: true}
      - {name: day, type: date, sort: true}
  - name: OddByDay
    field: oddsByDay
    source: s
    relation: v_odd
    key: [id]
    default_order: [{column: day}, {column: id}]
    roles: [r]
    export: true
    columns: *odd
  - name: FarDay
    field: farDays
    source: s
    relation: v_far_day
    key: [id]
    default_order: [{column: id}]
    roles: [r]
    export: true
    columns:
      - {name: id, type: bigint, nullable: false}
      - {name: day, type: date, sort: true}
  - name: Far
    field: fars
    source: s
    relation: v_far
    key: [id]
    default_order: [{column: id}]
    roles: [r]
    columns:
      - {name: id, type: bigint, nullable: false}
      - {name: note, type: text}
      - {name: price, type: decimal, scale: 2, sort: true}
      - {name: at, type: timestamp}
      - {name: due, type: date, sort: true}
`
