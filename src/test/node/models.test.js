// GET /v1/models through the official OpenAI Node SDK (openai 6.49.0, pinned in package.json).
// Run by io.spindle.http.NodeSdkTest, which starts Spindle (no models file: the catch-all alone) and sets
// SPINDLE_BASE_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = process.env.SPINDLE_BASE_URL;
if (!baseURL) {
  throw new Error('SPINDLE_BASE_URL is not set: run these tests through NodeSdkTest');
}
const client = new OpenAI({ baseURL, apiKey: process.env.SPINDLE_API_KEY ?? 'unused', maxRetries: 0, timeout: 60_000 });

test('models.list: the catch-all names no model, so the list is empty', async () => {
  const models = [];
  for await (const model of client.models.list()) {
    models.push(model);
  }
  assert.deepEqual(models, []);
});

test('models.retrieve: any model goes to the catch-all route, "default"', async () => {
  const model = await client.models.retrieve('llama3.1:8b');
  assert.equal(model.id, 'llama3.1:8b');
  assert.equal(model.object, 'model');
  assert.equal(model.owned_by, 'default');
  assert.ok(Number.isInteger(model.created) && model.created > 0);
});
