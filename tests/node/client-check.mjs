// Drives the fake cluster with Elastic's official Node.js client and prints what it saw as one
// JSON object: tests/test-fake-node.sh asserts on it. Usage:
//   node client-check.mjs MODULE_DIR URL API_KEY
// where MODULE_DIR is the node_modules folder holding @elastic/elasticsearch.
import { createRequire } from 'node:module';
import path from 'node:path';

const [moduleDir, url, apiKey] = process.argv.slice(2);
const require = createRequire(path.join(moduleDir, 'x.js'));
const { Client, errors } = require('@elastic/elasticsearch');

const client = new Client({ node: url, auth: { apiKey }, maxRetries: 0, requestTimeout: 10000 });
const out = {};

async function step(name, fn) {
  try {
    out[name] = await fn();
  } catch (e) {
    out[name] = { error: e.name, status: e.meta ? e.meta.statusCode : null, message: e.message };
  }
}

await step('info', async () => (await client.info()).version.number);
await step('list', async () => {
  const r = await client.connector.list({ from: 0, size: 2 });
  return { count: r.count, ids: r.results.map((c) => c.id) };
});
await step('list_all', async () => {
  const ids = [];
  for (let from = 0; ; from += 2) {
    const r = await client.connector.list({ from, size: 2 });
    ids.push(...r.results.map((c) => c.id));
    if (from + 2 >= r.count) break;
  }
  return ids;
});
await step('delete', async () => client.connector.delete({ connector_id: 'orphan-1', delete_sync_jobs: true }));
await step('delete_missing', async () => client.connector.delete({ connector_id: 'orphan-1' }));
await step('after', async () => (await client.connector.list({ size: 100 })).results.map((c) => c.id));
out.not_found_class = out.delete_missing && out.delete_missing.error;
out.product_error = errors.ProductNotSupportedError.name;
await client.close();
console.log(JSON.stringify(out));
