// Runs graphql-http's GraphQL-over-HTTP server audits against a running viewgate and prints one
// JSON line per audit: {id, name, status, reason?, httpStatus?, body?}. The Go test
// (cmd/viewgate, TestGraphQLOverHTTPAudit) reads them and fails on any status but "ok".
//
//   node audit.mjs URL API_KEY
import { serverAudits } from 'graphql-http';

const [url, key] = process.argv.slice(2);
if (!url || !key) {
  console.error('usage: node audit.mjs URL API_KEY');
  process.exit(2);
}

// Every audit request carries the key: viewgate answers 401 to a request without a credential.
function fetchWithKey(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('X-API-Key', key);
  return fetch(input, { ...init, headers, signal: AbortSignal.timeout(10000) });
}

for (const audit of serverAudits({ url, fetchFn: fetchWithKey })) {
  const result = await audit.fn();
  const line = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    line.reason = result.reason;
    if (result.response) {
      line.httpStatus = result.response.status;
      line.body = (await result.response.text().catch(() => '')).slice(0, 500);
    }
  }
  console.log(JSON.stringify(line));
}
