// Checks with graphql-js that the SDL and the introspection JSON viewgate printed for one
// schema are valid and describe the same schema, and that every default value reads back.
// Usage: node graphqljs.cjs CI_JS_DIR SCHEMA.graphql INTROSPECTION.json; prints "ok" or fails.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

const [dir, sdlFile, jsonFile] = process.argv.slice(2);
const g = createRequire(path.resolve(dir, 'package.json'))('graphql');

function fail(msg) {
  console.error(msg);
  process.exit(1);
}

function valid(name, schema) {
  const errors = g.validateSchema(schema);
  if (errors.length > 0) fail(`${name}: ${errors.map(String).join('\n')}`);
  return schema;
}

// graphql-go reports a missing description as "", graphql-js as null.
function nullDescriptions(v) {
  if (Array.isArray(v)) return v.forEach(nullDescriptions);
  if (v === null || typeof v !== 'object') return;
  for (const k of Object.keys(v)) {
    if (k === 'description' && v[k] === '') v[k] = null;
    else nullDescriptions(v[k]);
  }
}

const fromSDL = valid('SDL', g.buildSchema(fs.readFileSync(sdlFile, 'utf8')));
const data = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
nullDescriptions(data);
const fromJSON = valid('introspection', g.buildClientSchema(data));

const a = g.printSchema(g.lexicographicSortSchema(fromSDL));
const b = g.printSchema(g.lexicographicSortSchema(fromJSON));
if (a !== b) {
  const la = a.split('\n'), lb = b.split('\n');
  const i = la.findIndex((l, i) => l !== lb[i]);
  fail(`SDL and introspection differ at line ${i + 1}:\n  SDL:           ${la[i]}\n  introspection: ${lb[i]}`);
}

// graphql-js silently drops a default it cannot read as a value of its type.
let defaults = 0;
for (const t of data.__schema.types) {
  const named = fromJSON.getType(t.name);
  const check = (where, iv, built) => {
    if (iv.defaultValue == null) return;
    defaults++;
    if (built === undefined || built.defaultValue === undefined) {
      fail(`${where}: default ${iv.defaultValue} is not a value of ${JSON.stringify(iv.type)}`);
    }
  };
  for (const f of t.inputFields || []) check(`${t.name}.${f.name}`, f, named.getFields()[f.name]);
  for (const f of t.fields || []) {
    for (const arg of f.args) {
      check(`${t.name}.${f.name}(${arg.name})`, arg, named.getFields()[f.name].args.find((x) => x.name === arg.name));
    }
  }
}
console.log(`ok: ${Object.keys(fromSDL.getTypeMap()).length} types, ${defaults} default values`);
